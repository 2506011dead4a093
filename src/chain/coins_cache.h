// The active chain's coin set as the chain checks blocks against it: a
// bounded map of coins in front of the store (BlockStore::ReadCoin).
//
// The store is always up to date (coins are written with their block, in
// one transaction), so the cache holds only copies: a coin read from the
// store, or one created by a committed block (likely spent soon). When it
// is full it is emptied and fills again from use. A store read that fails
// is remembered (error()) and the coin reported missing; the caller must
// check error() before blaming the block.
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

class CoinsCache final : public CoinView {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 1'000'000;

  CoinsCache(const BlockStore& store, std::size_t max_entries = kDefaultMaxEntries)
      : store_(store), max_entries_(max_entries) {}

  std::optional<Coin> GetCoin(const OutPoint& outpoint) const override EXCLUDES(mutex_);

  // After a commit: the changes it made to the coin set.
  void Apply(const CoinsOverlay& committed) EXCLUDES(mutex_);
  // Forgets every coin (after a failed commit, say).
  void Clear() EXCLUDES(mutex_);

  // The first store read that failed since the last TakeError, if any.
  std::optional<std::string> TakeError() EXCLUDES(mutex_);

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
  mutable std::optional<std::string> error_ GUARDED_BY(mutex_);
  mutable std::uint64_t hits_ GUARDED_BY(mutex_) = 0;
  mutable std::uint64_t misses_ GUARDED_BY(mutex_) = 0;
};

}  // namespace powchain
