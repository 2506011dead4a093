#include "chain/block_index.h"

#include <utility>

namespace powchain {
namespace {

thread_local std::uint64_t tls_ancestor_steps = 0;

// n with its lowest set bit cleared.
constexpr std::uint64_t ClearLowestBit(std::uint64_t n) { return n & (n - 1); }

}  // namespace

std::uint64_t SkipHeight(std::uint64_t height) {
  if (height < 2) return 0;
  // Even heights jump to the height with the lowest set bit cleared; odd
  // heights to one more than that of (height - 1) with two bits cleared.
  // The mix keeps every jump below `height` while letting a walk reach any
  // target height in a logarithmic number of jumps.
  return (height & 1) != 0 ? ClearLowestBit(ClearLowestBit(height - 1)) + 1
                           : ClearLowestBit(height);
}

std::uint64_t& AncestorSteps() { return tls_ancestor_steps; }

const BlockIndex* BlockIndex::GetAncestor(std::uint64_t target) const {
  if (target > height()) return nullptr;
  const BlockIndex* walk = this;
  std::uint64_t at = height();
  while (at > target) {
    ++tls_ancestor_steps;
    const std::uint64_t skip_to = SkipHeight(at);
    const std::uint64_t parent_skip_to = SkipHeight(at - 1);
    // Jump when it lands on the target, or when it does not overshoot and
    // is not beaten by stepping to the parent and jumping from there (the
    // parent's jump may land closer to the target from above).
    const bool jump =
        walk->skip != nullptr &&
        (skip_to == target ||
         (skip_to > target && !(parent_skip_to + 2 < skip_to && parent_skip_to >= target)));
    if (jump) {
      walk = walk->skip;
      at = skip_to;
    } else {
      walk = walk->parent;
      --at;
    }
  }
  return walk;
}

BlockIndex* BlockIndex::GetAncestor(std::uint64_t target) {
  return const_cast<BlockIndex*>(std::as_const(*this).GetAncestor(target));
}

void BlockIndex::BuildSkip() {
  skip = parent != nullptr ? parent->GetAncestor(SkipHeight(height())) : nullptr;
}

}  // namespace powchain
