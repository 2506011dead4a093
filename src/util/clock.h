// Clock interface: the only way code below the node reads time. Consensus
// code never reads a clock; callers pass `now` in.
#pragma once

#include <cstdint>

namespace powchain {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch. Thread-safe.
  virtual std::uint64_t NowMs() const = 0;
};

// A clock stopped at one instant: for building blocks at chosen times
// (benchmarks, tests).
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::uint64_t now_ms) : now_ms_(now_ms) {}
  std::uint64_t NowMs() const override { return now_ms_; }

 private:
  std::uint64_t now_ms_;
};

}  // namespace powchain
