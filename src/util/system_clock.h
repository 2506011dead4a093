#pragma once

#include "util/clock.h"

namespace powchain {

// Wall-clock time from std::chrono::system_clock.
class SystemClock final : public Clock {
 public:
  std::uint64_t NowMs() const override;
};

}  // namespace powchain
