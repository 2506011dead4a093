// A bounded cache of whole blocks by hash, least recently used out first,
// for a store whose reads are dear (SqliteBlockStore). Blocks never change
// once stored, so a cached block is never stale and nothing is invalidated.
//
// Thread-safe, with its own lock, so a hit never waits for the store (a
// commit holds the store's lock through its fsync).
#pragma once

#include <cstddef>
#include <optional>

#include "primitives/block.h"
#include "util/bytes.h"
#include "util/hash_map.h"
#include "util/lru_cache.h"

namespace powchain {

class BlockCache {
 public:
  // What a cached block is charged beyond its data and transactions: the
  // Block itself and the list and map nodes that hold it.
  static constexpr std::size_t kOverheadBytes = sizeof(Block) + 96;

  // Holds at most `max_bytes` (data, transactions at their canonical size,
  // and kOverheadBytes a block). A block that would take more than an
  // eighth of that is not cached, so that one large block cannot empty the
  // cache. 0 disables the cache.
  explicit BlockCache(std::size_t max_bytes) : cache_(max_bytes, 8) {}

  // A copy of the cached block, which becomes the most recently used.
  std::optional<Block> Get(const Hash32& hash) { return cache_.Get(hash); }
  // Adds `block` as the most recently used (or refreshes it), evicting the
  // least recently used blocks to stay within the bound.
  void Put(const Block& block) { cache_.Put(block.hash, block); }

  std::size_t size() const { return cache_.size(); }    // blocks held
  std::size_t bytes() const { return cache_.bytes(); }  // bytes charged
  std::size_t max_bytes() const { return cache_.max_bytes(); }

 private:
  // The transactions count too: without them a block of thousands was
  // charged as an empty one, and the bound held nothing back.
  static std::size_t Charge(const Block& block) {
    return block.SerializedSize() - kHeaderSize + kOverheadBytes;
  }

  LruCache<Hash32, Block, Hash32Hasher, &BlockCache::Charge> cache_;
};

}  // namespace powchain
