#include "mempool/orphan_txs.h"

#include <algorithm>
#include <iterator>

namespace powchain {

bool OrphanTxs::Add(TxRef tx, const Hash32& txid, std::size_t size, std::uint64_t peer,
                    const std::vector<Hash32>& missing, std::uint64_t now_ms) {
  if (max_count_ == 0 || size > max_bytes_ || orphans_.contains(txid)) return false;
  while (!orphans_.empty() && (orphans_.size() + 1 > max_count_ || bytes_ + size > max_bytes_)) {
    // A random victim: an attacker cannot choose which orphans survive.
    auto victim = orphans_.begin();
    std::advance(victim, static_cast<std::ptrdiff_t>(rng_() % orphans_.size()));
    Erase(victim->first);
    ++evicted_;
  }
  Held held{Orphan{std::move(tx), txid, size, peer, now_ms + expiry_ms_}, missing};
  for (const Hash32& parent : missing) waiting_.emplace(parent, txid);
  orphans_.emplace(txid, std::move(held));
  bytes_ += size;
  return true;
}

std::vector<OrphanTxs::Orphan> OrphanTxs::TakeChildren(const Hash32& parent) {
  std::vector<Hash32> txids;
  auto [first, last] = waiting_.equal_range(parent);
  for (auto it = first; it != last; ++it) txids.push_back(it->second);
  std::vector<Orphan> out;
  for (const Hash32& txid : txids) {
    auto it = orphans_.find(txid);
    if (it == orphans_.end()) continue;
    out.push_back(it->second.orphan);
    Erase(txid);
  }
  return out;
}

void OrphanTxs::Expire(std::uint64_t now_ms) {
  std::vector<Hash32> due;
  for (const auto& [txid, held] : orphans_) {
    if (held.orphan.expires_ms <= now_ms) due.push_back(txid);
  }
  for (const Hash32& txid : due) Erase(txid);
}

void OrphanTxs::Erase(const Hash32& txid) {
  auto it = orphans_.find(txid);
  if (it == orphans_.end()) return;
  for (const Hash32& parent : it->second.missing) {
    auto [first, last] = waiting_.equal_range(parent);
    for (auto w = first; w != last; ++w) {
      if (w->second == txid) {
        waiting_.erase(w);
        break;
      }
    }
  }
  bytes_ -= it->second.orphan.size;
  orphans_.erase(it);
}

}  // namespace powchain
