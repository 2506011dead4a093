// The active chain's coin set as the chain checks blocks against it: a
// bounded map of coins in front of the store (BlockStore::ReadCoin).
//
// The store is always up to date (coins are written with their block, in
// one transaction), so the cache holds only copies: a coin read from the
// store, or one created by a committed block (likely spent soon). When it
// is full it is emptied and fills again from use. Checks read it through a
// CacheView of their own, which remembers a failed store read so that the
// caller can tell it from a missing coin before blaming a block.
//
// Thread-safe.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "consensus/coins.h"
#include "storage/block_store.h"
#include "util/mutex.h"

namespace powchain {

class CoinsCache {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 1'000'000;

  CoinsCache(const BlockStore& store, std::size_t max_entries = kDefaultMaxEntries)
      : store_(store), max_entries_(max_entries) {}

  // nullopt when the coin does not exist or is spent; an error when the
  // store could not be read.
  Result<std::optional<Coin>> Read(const OutPoint& outpoint) const EXCLUDES(mutex_);

  // After a commit: the changes it made to the coin set.
  void Apply(const CoinsOverlay& committed) EXCLUDES(mutex_);
  // Forgets every coin (after a failed commit, say).
  void Clear() EXCLUDES(mutex_);

  struct Stats {
    std::size_t entries = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;  // read from the store
  };
  Stats stats() const EXCLUDES(mutex_);

 private:
  void PutLocked(const OutPoint& outpoint, const Coin& coin) const REQUIRES(mutex_);

  const BlockStore& store_;
  const std::size_t max_entries_;
  mutable Mutex mutex_;
  mutable boost::unordered_flat_map<OutPoint, Coin, OutPointHasher> coins_ GUARDED_BY(mutex_);
  mutable std::uint64_t hits_ GUARDED_BY(mutex_) = 0;
  mutable std::uint64_t misses_ GUARDED_BY(mutex_) = 0;
};

// One check's view of the cache: a failed read reports the coin missing and
// is kept in error().
class CacheView final : public CoinView {
 public:
  explicit CacheView(const CoinsCache& cache) : cache_(cache) {}
  std::optional<Coin> GetCoin(const OutPoint& outpoint) const override {
    auto read = cache_.Read(outpoint);
    if (read) return *read;
    if (!error_.has_value()) error_ = read.error();
    return std::nullopt;
  }
  const std::optional<std::string>& error() const { return error_; }

 private:
  const CoinsCache& cache_;
  mutable std::optional<std::string> error_;
};

}  // namespace powchain
