#pragma once

#include <cstdint>
#include <span>

#include "consensus/params.h"
#include "primitives/block.h"

namespace powchain {

// The difficulty a child of `parent` with `timestamp` must carry (rule 4):
// parent.difficulty + 1 when timestamp - parent.timestamp < mineRate (a
// timestamp before the parent's counts as fast), else parent.difficulty - 1;
// clamped to [min_difficulty, max_difficulty].
std::uint32_t NextDifficulty(const BlockHeader& parent, std::uint64_t timestamp,
                             const Params& params);

// Median of `timestamps` (the last mtpWindow timestamps ending at the parent,
// in any order): the element at index size/2 once sorted, so the upper of
// the two middle values when the count is even. Requires a non-empty span.
std::uint64_t MedianTimePast(std::span<const std::uint64_t> timestamps);

}  // namespace powchain
