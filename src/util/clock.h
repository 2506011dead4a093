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

}  // namespace powchain
