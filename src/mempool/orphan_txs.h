// Transactions from peers whose inputs name a transaction not seen yet
// (docs/mempool.md, "Orphans"): held a short while in case the parent
// arrives, then tried again. Nothing about them is checked beyond the
// context-free rules, so the pool is small and bounded by count and bytes;
// when full, a random one is dropped. Not thread-safe: the Mempool guards
// it with its own lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "primitives/transaction.h"
#include "util/hash_map.h"

namespace powchain {

using TxRef = std::shared_ptr<const Transaction>;

class OrphanTxs {
 public:
  struct Orphan {
    TxRef tx;
    Hash32 txid{};
    std::size_t size = 0;
    std::uint64_t peer = 0;  // who sent it
    std::uint64_t expires_ms = 0;
  };

  OrphanTxs(std::size_t max_count, std::size_t max_bytes, std::uint64_t expiry_ms)
      : max_count_(max_count), max_bytes_(max_bytes), expiry_ms_(expiry_ms) {}

  // Holds `tx`, waiting for the transactions `missing` (the txids of its
  // inputs that nothing knows). False when it is held already or larger
  // than the pool; otherwise it is held, possibly after evicting others.
  bool Add(TxRef tx, const Hash32& txid, std::size_t size, std::uint64_t peer,
           const std::vector<Hash32>& missing, std::uint64_t now_ms);

  // Removes and returns the orphans waiting for `parent`.
  std::vector<Orphan> TakeChildren(const Hash32& parent);

  // Drops the orphans whose time is up.
  void Expire(std::uint64_t now_ms);

  bool Contains(const Hash32& txid) const { return orphans_.contains(txid); }
  std::size_t size() const { return orphans_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::uint64_t evicted() const { return evicted_; }

 private:
  struct Held {
    Orphan orphan;
    std::vector<Hash32> missing;
  };
  void Erase(const Hash32& txid);

  const std::size_t max_count_;
  const std::size_t max_bytes_;
  const std::uint64_t expiry_ms_;
  std::unordered_map<Hash32, Held, Hash32Hasher> orphans_;
  // Missing parent -> the orphans waiting for it.
  std::unordered_multimap<Hash32, Hash32, Hash32Hasher> waiting_;
  std::size_t bytes_ = 0;
  std::uint64_t evicted_ = 0;
  std::mt19937_64 rng_{0x6f7270686e73ULL};
};

}  // namespace powchain
