#include "http/events.h"

#include <algorithm>
#include <utility>

namespace powchain::http {

std::string FormatEvent(std::string_view type, std::string_view data) {
  std::string out;
  out.reserve(type.size() + data.size() + 16);
  out.append("event: ").append(type).append("\ndata: ").append(data).append("\n\n");
  return out;
}

std::optional<std::uint64_t> EventHub::Subscribe(Deliver deliver) {
  MutexLock lock(mutex_);
  if (subscribers_.size() >= options_.max_clients) {
    ++stats_.refused;
    return std::nullopt;
  }
  const std::uint64_t id = next_id_++;
  subscribers_.push_back(Subscriber{id, std::move(deliver)});
  return id;
}

void EventHub::Unsubscribe(std::uint64_t id) {
  Deliver gone;  // destroyed after the lock is released
  MutexLock lock(mutex_);
  const auto it = std::find_if(subscribers_.begin(), subscribers_.end(),
                               [id](const Subscriber& s) { return s.id == id; });
  if (it == subscribers_.end()) return;
  gone = std::move(it->deliver);
  subscribers_.erase(it);
}

void EventHub::Publish(std::string_view type, std::string_view data) {
  Send(std::make_shared<const std::string>(FormatEvent(type, data)), true);
}

void EventHub::Heartbeat() { Send(std::make_shared<const std::string>(": keep-alive\n\n"), false); }

void EventHub::Send(const EventFrame& frame, bool count_event) {
  std::vector<Deliver> dropped;  // destroyed after the lock is released
  MutexLock lock(mutex_);
  if (count_event) ++stats_.published;
  auto keep = subscribers_.begin();
  for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
    if (it->deliver(frame)) {
      ++stats_.delivered;
      if (keep != it) *keep = std::move(*it);
      ++keep;
    } else {
      ++stats_.dropped;
      dropped.push_back(std::move(it->deliver));
    }
  }
  subscribers_.erase(keep, subscribers_.end());
}

EventHub::Stats EventHub::GetStats() const {
  MutexLock lock(mutex_);
  Stats out = stats_;
  out.clients = subscribers_.size();
  return out;
}

}  // namespace powchain::http
