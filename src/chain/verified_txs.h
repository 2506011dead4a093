// Transactions whose signatures have been verified: a bounded set of txids
// that lets a block whose transactions the mempool already checked connect
// without verifying them again (docs/consensus.md, "Signature cache").
//
// Sound because a txid fixes everything a signature check reads: the
// transaction (its canonical bytes, signatures included), the coins its
// inputs name (an outpoint is a txid and an index, and that txid fixes the
// output's address), and the genesis hash (one per node). So a txid whose
// checks passed once passes them again, on any branch.
//
// Thread-safe. When full, the oldest txid is forgotten.
#pragma once

#include <boost/unordered/unordered_flat_set.hpp>
#include <cstddef>
#include <deque>

#include "util/bytes.h"
#include "util/hash_map.h"
#include "util/mutex.h"

namespace powchain {

class VerifiedTxs {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 200'000;

  explicit VerifiedTxs(std::size_t max_entries = kDefaultMaxEntries) : max_entries_(max_entries) {}

  bool Contains(const Hash32& txid) const EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return set_.contains(txid);
  }
  void Insert(const Hash32& txid) EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    if (max_entries_ == 0 || !set_.insert(txid).second) return;
    order_.push_back(txid);
    while (order_.size() > max_entries_) {
      set_.erase(order_.front());
      order_.pop_front();
    }
  }
  std::size_t size() const EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return set_.size();
  }

 private:
  const std::size_t max_entries_;
  mutable Mutex mutex_;
  boost::unordered_flat_set<Hash32, Hash32Hasher> set_ GUARDED_BY(mutex_);
  std::deque<Hash32> order_ GUARDED_BY(mutex_);  // insertion order, oldest first
};

}  // namespace powchain
