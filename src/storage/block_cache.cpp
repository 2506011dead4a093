#include "storage/block_cache.h"

namespace powchain {

std::optional<Block> BlockCache::Get(const Hash32& hash) {
  if (max_bytes_ == 0) return std::nullopt;
  MutexLock lock(mutex_);
  auto it = map_.find(hash);
  if (it == map_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return *it->second;
}

void BlockCache::Put(const Block& block) {
  const std::size_t charge = Charge(block);
  if (charge > max_bytes_ / 8) return;
  MutexLock lock(mutex_);
  if (auto it = map_.find(block.hash); it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  while (!lru_.empty() && bytes_ + charge > max_bytes_) {
    bytes_ -= Charge(lru_.back());
    map_.erase(lru_.back().hash);
    lru_.pop_back();
  }
  lru_.push_front(block);
  map_.emplace(block.hash, lru_.begin());
  bytes_ += charge;
}

std::size_t BlockCache::size() const {
  MutexLock lock(mutex_);
  return map_.size();
}

std::size_t BlockCache::bytes() const {
  MutexLock lock(mutex_);
  return bytes_;
}

}  // namespace powchain
