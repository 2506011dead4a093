// How the chain tells the rest of the node that its tip moved. The chain
// never knows who listens (miner, peers, HTTP waiters).
#pragma once

#include <cstdint>
#include <vector>

#include "consensus/validation.h"
#include "consensus/work.h"
#include "primitives/block.h"
#include "util/bytes.h"

namespace powchain {

struct ChainTip {
  // header, hash and median time past: all a miner needs to build on it.
  ParentContext context;
  Work work = 0;  // cumulative work of the chain ending here
  std::uint64_t height() const { return context.header.height; }
  const Hash32& hash() const { return context.hash; }
};

// Where a block came from, for logs and for relay decisions.
enum class BlockOrigin { kUnknown, kMined, kPeer };

// Who handed the chain its blocks, carried through to the tip change so
// that relay can skip the peer a block came from.
struct BlockSource {
  BlockSource(BlockOrigin o = BlockOrigin::kUnknown, std::uint64_t peer_id = 0)  // NOLINT: implicit
      : origin(o), peer(peer_id) {}
  BlockOrigin origin;
  std::uint64_t peer;  // the sending peer's id when origin is kPeer (p2p's PeerId), else 0
};

struct TipChange {
  BlockSource source;  // of the block(s) that caused the change
  ChainTip old_tip;
  ChainTip new_tip;
  // Blocks that left the active chain (tip first) and that joined it
  // (fork point side first). `disconnected` is empty unless this is a
  // reorganization.
  std::vector<Hash32> disconnected;
  std::vector<Hash32> connected;
  // The same blocks with their txids, in the same orders. They point into
  // the chain's working state: valid only during OnTipChanged.
  struct BlockRef {
    const Block* block = nullptr;
    const std::vector<Hash32>* txids = nullptr;
  };
  std::vector<BlockRef> disconnected_blocks;
  std::vector<BlockRef> connected_blocks;
};

class ChainObserver {
 public:
  virtual ~ChainObserver() = default;
  // Called after the change is committed to the store, in commit order,
  // from the thread that wrote it. The chain's tree lock is not held, so
  // the observer may read the chain (Tip(), BlockByHash(), ...), but a
  // write is in progress until it returns: it must return quickly and must
  // not write to the chain (AcceptBlock) or remove an observer.
  virtual void OnTipChanged(const TipChange& change) = 0;
};

}  // namespace powchain
