// A bounded cache of runs of blocks in their JSON form (comma-separated, as
// BlockStore::AppendBlocksJson writes them), least recently used out first:
// what lets GET /blocks serve a chain it has served before from memory.
//
// A run is named by the height of its first block and the hash of its last:
// that hash fixes every block below it, so a cached run is never stale and
// nothing is invalidated. When the chain moves on, runs of the old tip are
// simply not asked for again and age out.
//
// Runs are shared, immutable strings: a hit costs a reference count, not a
// copy, and a run being written to a client stays alive if it is evicted
// meanwhile. Thread-safe, with its own lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "util/bytes.h"
#include "util/hash_map.h"
#include "util/lru_cache.h"

namespace powchain {

class RunCache {
 public:
  using Run = std::shared_ptr<const std::string>;

  // What a run is charged beyond its bytes (the string, the list and map
  // nodes).
  static constexpr std::size_t kOverheadBytes = 160;

  // Holds at most `max_bytes`. A run that would take more than a quarter of
  // that is not cached. 0 disables the cache.
  explicit RunCache(std::size_t max_bytes) : cache_(max_bytes, 4) {}

  // The run of blocks from height `first` to the block `last`, which
  // becomes the most recently used; null when not cached.
  Run Get(std::uint64_t first, const Hash32& last) {
    return cache_.Get(Key{first, last}).value_or(nullptr);
  }
  // Adds the run as the most recently used, evicting the least recently
  // used runs to stay within the bound.
  void Put(std::uint64_t first, const Hash32& last, Run run) {
    if (run != nullptr) cache_.Put(Key{first, last}, std::move(run));
  }

  std::size_t size() const { return cache_.size(); }    // runs held
  std::size_t bytes() const { return cache_.bytes(); }  // bytes charged
  std::size_t max_bytes() const { return cache_.max_bytes(); }

 private:
  struct Key {
    std::uint64_t first = 0;
    Hash32 last{};
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHasher {
    std::size_t operator()(const Key& k) const noexcept {
      return Hash32Hasher{}(k.last) ^ (k.first * 0x9e3779b97f4a7c15ULL);
    }
  };
  static std::size_t Charge(const Run& run) { return run->size() + kOverheadBytes; }

  LruCache<Key, Run, KeyHasher, &RunCache::Charge> cache_;
};

}  // namespace powchain
