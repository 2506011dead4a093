// A token bucket: tokens flow in at `rate` a second up to `burst`, and each
// event spends one. Used to rate-limit what a peer may send. Not
// thread-safe; the caller's lock guards it. Time is passed in, so tests and
// callers decide the clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace powchain {

class TokenBucket {
 public:
  TokenBucket() = default;
  // Starts full at `now_ms`.
  TokenBucket(double rate_per_second, double burst, std::uint64_t now_ms)
      : rate_per_ms_(rate_per_second / 1000.0), burst_(burst), tokens_(burst), last_ms_(now_ms) {}

  // Spends one token if there is one. A clock that steps back adds nothing.
  bool Take(std::uint64_t now_ms) {
    if (now_ms > last_ms_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_ms_);
      last_ms_ = now_ms;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  double tokens() const { return tokens_; }

 private:
  double rate_per_ms_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  std::uint64_t last_ms_ = 0;
};

}  // namespace powchain
