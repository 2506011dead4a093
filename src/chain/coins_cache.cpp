#include "chain/coins_cache.h"

namespace powchain {

void CoinsCache::PutLocked(const OutPoint& outpoint, const Coin& coin) const {
  if (max_entries_ == 0) return;
  if (coins_.size() >= max_entries_) coins_.clear();
  coins_.insert_or_assign(outpoint, coin);
}

Result<std::optional<Coin>> CoinsCache::Read(const OutPoint& outpoint) const {
  MutexLock lock(mutex_);
  if (auto it = coins_.find(outpoint); it != coins_.end()) {
    ++hits_;
    return std::optional<Coin>(it->second);
  }
  ++misses_;
  // The store has its own lock and never calls back: reading under ours
  // keeps the copy from racing an Apply.
  auto read = store_.ReadCoin(outpoint);
  if (read && read->has_value()) PutLocked(outpoint, **read);
  return read;
}

void CoinsCache::Apply(const CoinsOverlay& committed) {
  MutexLock lock(mutex_);
  for (const auto& [outpoint, coin] : committed.changes()) {
    if (coin.has_value()) {
      PutLocked(outpoint, *coin);
    } else {
      coins_.erase(outpoint);
    }
  }
}

void CoinsCache::Clear() {
  MutexLock lock(mutex_);
  coins_.clear();
}

CoinsCache::Stats CoinsCache::stats() const {
  MutexLock lock(mutex_);
  return Stats{coins_.size(), hits_, misses_};
}

}  // namespace powchain
