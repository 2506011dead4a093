// The one timer of a connection: whatever phase it is in (reading a header,
// writing, closing), one deadline applies, and re-arming it replaces the
// last. Lives on the connection's strand and is used only there.
//
// A connection re-arms its deadline several times per request (idle, header,
// body, write), nearly always to a later time than the one pending. Moving a
// waiting timer costs a cancelled handler and, when it was the earliest
// timer of the io_context, a system call. So the deadline is lazy: re-arming
// it to a later time only records the new time; when the pending wait ends
// early, it waits again for the rest. Only a deadline earlier than the
// pending wait moves the timer. Expiry is exact either way: never before the
// time armed last, and as soon after it as the timer fires.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace powchain::net {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `on_expiry` runs on the strand when an armed deadline passes. It may use
  // its owner's `this`: it runs only from a wait that holds the owner (see
  // Arm).
  Deadline(const boost::asio::any_io_executor& strand, std::function<void()> on_expiry)
      : timer_(strand), on_expiry_(std::move(on_expiry)) {}
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // After `timeout`, runs on_expiry unless Arm, Disarm or Cancel is called
  // first. `owner` (typically the connection's shared_ptr) is held by the
  // pending wait, so the connection lives while its deadline can fire.
  void Arm(std::chrono::milliseconds timeout, const std::shared_ptr<void>& owner) {
    due_ = Clock::now() + timeout;
    if (waiting_ && wait_until_ <= due_) return;  // the wait will re-wait
    StartWait(owner);
  }

  // No expiry until the next Arm. Cheap: a pending wait stays until its
  // time (holding its owner at most that long), then ends without firing.
  void Disarm() { due_ = Clock::time_point::max(); }

  // Disarms and ends a pending wait now, releasing its owner: for closing
  // a connection.
  void Cancel() {
    Disarm();
    if (!waiting_) return;
    waiting_ = false;
    ++generation_;
    timer_.cancel();
  }

  // Waits started on the timer so far (a test's view of the laziness).
  std::uint64_t waits_started() const { return waits_started_; }

 private:
  void StartWait(std::shared_ptr<void> owner) {
    const std::uint64_t generation = ++generation_;
    waiting_ = true;
    wait_until_ = due_;
    ++waits_started_;
    timer_.expires_at(due_);  // cancels a pending wait, whose generation is stale
    timer_.async_wait(
        [this, generation, owner = std::move(owner)](const boost::system::error_code& ec) mutable {
          if (generation != generation_) return;  // replaced or cancelled
          waiting_ = false;
          if (ec || due_ == Clock::time_point::max()) return;
          if (Clock::now() < due_) return StartWait(std::move(owner));  // re-armed later
          due_ = Clock::time_point::max();
          on_expiry_();
        });
  }

  boost::asio::steady_timer timer_;
  const std::function<void()> on_expiry_;
  Clock::time_point due_ = Clock::time_point::max();  // max: disarmed
  bool waiting_ = false;                              // a wait is pending
  Clock::time_point wait_until_{};                    // ...until then
  std::uint64_t generation_ = 0;                      // of the current wait
  std::uint64_t waits_started_ = 0;
};

}  // namespace powchain::net
