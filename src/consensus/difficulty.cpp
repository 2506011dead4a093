#include "consensus/difficulty.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <vector>

namespace powchain {

std::uint32_t NextDifficulty(const BlockHeader& parent, std::uint64_t timestamp,
                             const Params& params) {
  const bool fast =
      timestamp < parent.timestamp || timestamp - parent.timestamp < params.mine_rate_ms;
  std::uint32_t next = parent.difficulty;
  if (fast) {
    if (next < params.max_difficulty) ++next;
  } else if (next > 0) {
    --next;
  }
  return std::clamp(next, params.min_difficulty, params.max_difficulty);
}

std::uint64_t MedianTimePast(std::span<const std::uint64_t> timestamps) {
  assert(!timestamps.empty());
  // A window of mtp_window timestamps (11) is ordered in a buffer on the
  // stack: this runs once per block accepted, so it should not allocate.
  constexpr std::size_t kStackWindow = 64;
  std::array<std::uint64_t, kStackWindow> stack_copy;
  std::vector<std::uint64_t> heap_copy;
  std::span<std::uint64_t> sorted;
  if (timestamps.size() <= stack_copy.size()) {
    std::copy(timestamps.begin(), timestamps.end(), stack_copy.begin());
    sorted = std::span(stack_copy.data(), timestamps.size());
  } else {
    heap_copy.assign(timestamps.begin(), timestamps.end());
    sorted = heap_copy;
  }
  auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), mid, sorted.end());
  return *mid;
}

}  // namespace powchain
