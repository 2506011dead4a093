// The one timer of a connection: whatever phase it is in (reading a header,
// writing, closing), one deadline applies, and re-arming it replaces the
// last. Lives on the connection's strand and is used only there.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <utility>

namespace powchain::net {

class Deadline {
 public:
  explicit Deadline(const boost::asio::any_io_executor& strand) : timer_(strand) {}
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // After `timeout`, runs `on_expiry` on the strand, unless Arm or Disarm is
  // called first; an expiry already queued when they are is dropped too.
  // `on_expiry` should hold what keeps the connection (and so this
  // Deadline) alive, typically a shared_ptr to it.
  template <typename Handler>
  void Arm(std::chrono::milliseconds timeout, Handler on_expiry) {
    const std::uint64_t generation = ++generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([this, generation, on_expiry = std::move(on_expiry)](
                          const boost::system::error_code& ec) mutable {
      if (ec || generation != generation_) return;
      on_expiry();
    });
  }

  void Disarm() {
    ++generation_;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  std::uint64_t generation_ = 0;
};

}  // namespace powchain::net
