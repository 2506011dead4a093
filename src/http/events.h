// Live events for GET /events (Server-Sent Events, docs/api.md): the node
// publishes "tip", "reorg", "tx" and "peer" events; every subscribed
// connection gets each one as an SSE frame.
//
// A frame is formatted once and shared by every subscriber. Each
// subscriber has a bound on the bytes queued for it and not yet written;
// a client that reads too slowly to stay under it is dropped (its
// connection closed), so a slow or stalled client costs the node one
// bounded queue and never slows the publisher or the other clients.
// Publish() itself never waits for a socket: it hands each subscriber the
// frame and returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/mutex.h"

namespace powchain::http {

struct EventOptions {
  static constexpr std::size_t kDefaultMaxClients = 32;
  static constexpr std::size_t kDefaultMaxQueuedBytes = std::size_t{1} << 20;
  // Connections subscribed at once; a further GET /events is answered 503.
  // Each also holds one of the server's connection slots.
  std::size_t max_clients = kDefaultMaxClients;
  // Bytes queued for one client and not yet written; past this the client
  // is dropped.
  std::size_t max_queued_bytes = kDefaultMaxQueuedBytes;
};

using EventFrame = std::shared_ptr<const std::string>;

// "event: <type>\ndata: <data>\n\n". `data` must not contain a line break
// (compact JSON never does).
std::string FormatEvent(std::string_view type, std::string_view data);

class EventHub {
 public:
  // Takes one frame; returns false when the subscriber is over its bound
  // (or gone) and must be dropped. Called from the publishing thread, with
  // the hub's lock held: it must only queue (post to the connection's
  // strand), never block or call back into the hub.
  using Deliver = std::function<bool(const EventFrame&)>;

  explicit EventHub(EventOptions options = {}) : options_(options) {}
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  const EventOptions& options() const { return options_; }

  // Registers a subscriber; nullopt when max_clients are subscribed. The id
  // is for Unsubscribe.
  std::optional<std::uint64_t> Subscribe(Deliver deliver) EXCLUDES(mutex_);
  // Idempotent.
  void Unsubscribe(std::uint64_t id) EXCLUDES(mutex_);

  // Formats the event once and hands it to every subscriber; drops those
  // whose Deliver returns false.
  void Publish(std::string_view type, std::string_view data) EXCLUDES(mutex_);
  // A comment line (": keep-alive"), so that idle connections show traffic
  // to proxies and a vanished client is found by a failed write.
  void Heartbeat() EXCLUDES(mutex_);

  struct Stats {
    std::size_t clients = 0;
    std::uint64_t published = 0;  // events
    std::uint64_t delivered = 0;  // frames handed to subscribers
    std::uint64_t dropped = 0;    // subscribers dropped for falling behind
    std::uint64_t refused = 0;    // subscriptions refused at max_clients
  };
  Stats GetStats() const EXCLUDES(mutex_);

 private:
  void Send(const EventFrame& frame, bool count_event) EXCLUDES(mutex_);

  const EventOptions options_;
  mutable Mutex mutex_;
  struct Subscriber {
    std::uint64_t id;
    Deliver deliver;
  };
  std::vector<Subscriber> subscribers_ GUARDED_BY(mutex_);
  std::uint64_t next_id_ GUARDED_BY(mutex_) = 1;
  Stats stats_ GUARDED_BY(mutex_);
};

}  // namespace powchain::http
