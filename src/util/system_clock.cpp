#include "util/system_clock.h"

#include <chrono>

namespace powchain {

std::uint64_t SystemClock::NowMs() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace powchain
