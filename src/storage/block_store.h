// Where the chain's blocks live. ChainState writes through this interface
// and treats a block as known only once Commit has returned ok, so a store
// that makes each commit durable (the SQLite store) gives the guarantee that
// nothing is acknowledged, served or relayed before it is on disk.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "primitives/block.h"
#include "util/bytes.h"
#include "util/result.h"

namespace powchain {

struct WriteBatch {
  // Blocks to add, parents before children. Not owned.
  std::vector<const Block*> blocks;
  // The new active tip, when it changes.
  std::optional<Hash32> tip;
};

class BlockStore {
 public:
  virtual ~BlockStore() = default;

  // Applies the whole batch or nothing. On ok the batch must survive a crash
  // (for a durable store) and be visible to every reader. After an error the
  // store's previous contents are intact; the caller stops writing.
  virtual Status Commit(const WriteBatch& batch) = 0;

  // nullopt when the block is not stored. An error means the store could not
  // be read, not that the block is unknown.
  virtual Result<std::optional<Block>> ReadBlock(const Hash32& hash) const = 0;

  // The blocks with these hashes, in order, stopping before the first one
  // that is not stored, and after the one whose data brings the total data
  // read to `max_data_bytes` or more (the first block is always read); so
  // the result may be shorter than `hashes` (the caller compares the
  // sizes). An error means the store could not be read. Meant for runs of
  // blocks (a chain streamed over HTTP, a batch for a peer), which a store
  // may read together more cheaply; this default reads them one by one.
  virtual Result<std::vector<Block>> ReadBlocks(
      std::span<const Hash32> hashes,
      std::size_t max_data_bytes = std::numeric_limits<std::size_t>::max()) const {
    std::vector<Block> out;
    std::size_t bytes = 0;
    for (const Hash32& hash : hashes) {
      if (!out.empty() && bytes >= max_data_bytes) break;
      auto block = ReadBlock(hash);
      if (!block) return Error{block.error()};
      if (!block->has_value()) break;
      bytes += (*block)->data.size();
      out.push_back(std::move(**block));
    }
    return out;
  }

  // Bytes the store may still grow by (free space on its disk); nullopt
  // when it cannot tell. The chain refuses side-branch data when it runs
  // low, so that only the active chain can fill the disk.
  virtual std::optional<std::uint64_t> AvailableBytes() const { return std::nullopt; }

  // The tip of the last commit that set one; nullopt for an empty store.
  virtual Result<std::optional<Hash32>> ReadTip() const = 0;

  // Calls `fn` for every stored block's header and hash, in commit order
  // (so a parent always comes before its children). Used at start-up to
  // rebuild the block index without reading block data.
  virtual Status ForEachHeader(
      const std::function<void(const Hash32& hash, const BlockHeader& header)>& fn) const = 0;
};

}  // namespace powchain
