// One node of the block tree, with skip pointers for logarithmic ancestor
// lookups.
//
// Every node has a `parent` and a `skip` pointer to an ancestor further
// back, at a height chosen by SkipHeight() so that any ancestor is reached
// in O(log n) steps, whatever the branch: walking back from a block 1M
// deep on a side branch costs about as much as from the active tip. The
// same scheme as Bitcoin Core's CBlockIndex::pskip.
//
// Not thread-safe on its own: ChainState owns every BlockIndex and guards
// the mutable fields (status, sequence) with its lock. Nodes never move and
// are never freed while the tree lives.
#pragma once

#include <cstdint>

#include "consensus/work.h"
#include "primitives/block.h"
#include "util/bytes.h"

namespace powchain {

struct BlockIndex {
  // What is known of the block beyond its valid header.
  enum Status : std::uint8_t {
    kHeaderOnly = 0,
    kHaveData = 1 << 0,  // the block is in the store (and so is every ancestor's)
    kFailed = 1 << 1,    // the block, or an ancestor, breaks a rule only its data shows
  };

  Hash32 hash;
  BlockHeader header;
  Work chain_work;         // cumulative work of the chain ending here
  BlockIndex* parent;      // nullptr for genesis
  BlockIndex* skip;        // an ancestor at SkipHeight(height); nullptr for genesis
  std::uint64_t sequence;  // order in which the data was stored (the fork-choice tie break)
  std::uint8_t status;     // Status bits

  std::uint64_t height() const { return header.height; }
  bool has_data() const { return (status & kHaveData) != 0; }
  bool failed() const { return (status & kFailed) != 0; }

  // The ancestor at `height` (this node for its own height); nullptr when
  // `height` is above this node. O(log n) steps.
  const BlockIndex* GetAncestor(std::uint64_t height) const;
  BlockIndex* GetAncestor(std::uint64_t height);

  // Sets `skip` from `parent`; call once, when the node joins the tree.
  void BuildSkip();
};

// The height the skip pointer of a node at `height` points to: always
// below `height` (0 for heights 0 and 1), spread so that ancestor lookups
// take O(log n) steps.
std::uint64_t SkipHeight(std::uint64_t height);

// Pointer steps taken by GetAncestor on this thread since the counter was
// last reset (by assigning 0): for tests and benchmarks of the walks' bound.
std::uint64_t& AncestorSteps();

}  // namespace powchain
