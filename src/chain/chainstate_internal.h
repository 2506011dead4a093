// ChainState's working state of one write, shared by its source files
// (chainstate.cpp, tip_move.cpp). Not for other users.
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/coins.h"

namespace powchain {

// Fork choice (docs/consensus.md): more cumulative work wins; on a tie, the
// block stored first.
inline bool IsBetterEntry(const BlockIndex& a, const BlockIndex& b) {
  if (a.chain_work != b.chain_work) return a.chain_work > b.chain_work;
  return a.sequence < b.sequence;
}

struct ChainState::Staged {
  std::vector<Block> blocks;             // in staging order, parents first
  std::vector<BlockIndex*> entries;      // entries[i] belongs to blocks[i]
  std::vector<std::size_t> first_entry;  // per block given: its first index into entries
  const BlockIndex* old_tip = nullptr;   // the active tip before
  const BlockIndex* best = nullptr;      // the best of old_tip and entries still valid
  // Blocks that broke rule 7 as they connected, with the reason.
  std::vector<std::pair<const BlockIndex*, ValidationResult>> invalid;
  // Txids the context-free checks computed, by entry (not for blocks that
  // were held waiting for a parent: those are computed when they connect).
  std::unordered_map<const BlockIndex*, std::vector<Hash32>> txids;
};

// A block leaving or joining the active chain.
struct ChainState::MoveStep {
  const BlockIndex* entry = nullptr;
  const Block* block = nullptr;  // staged, or `owned` when read from the store
  std::unique_ptr<Block> owned;
  std::vector<Hash32> txids;
  BlockUndo undo;
};

struct ChainState::TipMove {
  using Step = MoveStep;
  std::vector<std::unique_ptr<Step>> disconnect;  // tip first
  std::vector<std::unique_ptr<Step>> connect;     // fork side first
  // The coin set's changes, over the cache.
  std::unique_ptr<CacheView> base;
  std::unique_ptr<CoinsOverlay> coins;

  bool empty() const { return disconnect.empty() && connect.empty(); }
};

}  // namespace powchain
