// Blocks whose parent's data has not arrived yet, held until it does. The
// chain puts only blocks whose header is already in its tree here (a header
// chain proved their work), so nothing cheap is held. Bounded by count and
// by bytes; when full, the block highest up is evicted: the one needed
// last, fetched again if still wanted. Not thread-safe: ChainState guards it
// with its own lock.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <vector>

#include "primitives/block.h"
#include "util/hash_map.h"

namespace powchain {

class OrphanPool {
 public:
  static constexpr std::size_t kDefaultMaxBlocks = 100;
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{16} * 1024 * 1024;

  OrphanPool(std::size_t max_blocks, std::size_t max_bytes)
      : max_blocks_(max_blocks), max_bytes_(max_bytes) {}

  // Adds `block` (keyed by block.hash, which the caller has verified).
  // Returns false when it was already present or is larger than the pool.
  bool Add(Block block);

  // Removes and returns every held block whose lastHash is `parent`.
  std::vector<Block> TakeChildren(const Hash32& parent);

  bool Contains(const Hash32& hash) const { return blocks_.contains(hash); }
  std::size_t size() const { return blocks_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  // Removes the held block with the greatest height (O(n), only when full).
  void EvictHighest();

  std::size_t max_blocks_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<Hash32, Block, Hash32Hasher> blocks_;
  std::unordered_multimap<Hash32, Hash32, Hash32Hasher> by_parent_;  // lastHash -> hash
};

}  // namespace powchain
