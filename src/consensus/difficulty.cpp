#include "consensus/difficulty.h"

#include <algorithm>
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
  std::vector<std::uint64_t> sorted(timestamps.begin(), timestamps.end());
  auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), mid, sorted.end());
  return *mid;
}

}  // namespace powchain
