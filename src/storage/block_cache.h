// A bounded cache of whole blocks by hash, least recently used out first,
// for a store whose reads are dear (SqliteBlockStore). Blocks never change
// once stored, so a cached block is never stale and nothing is invalidated.
//
// Thread-safe, with its own lock, so a hit never waits for the store (a
// commit holds the store's lock through its fsync).
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>

#include "primitives/block.h"
#include "util/bytes.h"
#include "util/hash_map.h"
#include "util/mutex.h"

namespace powchain {

class BlockCache {
 public:
  // What a cached block is charged beyond its data: the Block itself and
  // the list and map nodes that hold it.
  static constexpr std::size_t kOverheadBytes = sizeof(Block) + 96;

  // Holds at most `max_bytes` (data plus kOverheadBytes a block). A block
  // that would take more than an eighth of that is not cached, so that one
  // large block cannot empty the cache. 0 disables the cache.
  explicit BlockCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A copy of the cached block, which becomes the most recently used.
  std::optional<Block> Get(const Hash32& hash) EXCLUDES(mutex_);
  // Adds `block` as the most recently used (or refreshes it), evicting the
  // least recently used blocks to stay within the bound.
  void Put(const Block& block) EXCLUDES(mutex_);

  std::size_t size() const EXCLUDES(mutex_);   // blocks held
  std::size_t bytes() const EXCLUDES(mutex_);  // bytes charged
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  static std::size_t Charge(const Block& block) { return block.data.size() + kOverheadBytes; }

  const std::size_t max_bytes_;
  mutable Mutex mutex_;
  std::list<Block> lru_ GUARDED_BY(mutex_);  // most recently used first
  std::unordered_map<Hash32, std::list<Block>::iterator, Hash32Hasher> map_ GUARDED_BY(mutex_);
  std::size_t bytes_ GUARDED_BY(mutex_) = 0;
};

}  // namespace powchain
