#include "storage/memory_store.h"

namespace powchain {

Status MemoryBlockStore::Commit(const WriteBatch& batch) {
  MutexLock lock(mutex_);
  if (fail_commits_ > 0) {
    --fail_commits_;
    return Error{"injected I/O error on commit"};
  }
  for (const Block* b : batch.blocks) {
    if (blocks_.emplace(b->hash, *b).second) order_.push_back(b->hash);
  }
  if (batch.tip) tip_ = batch.tip;
  for (const ChainStep& step : batch.disconnected) {
    undo_.erase(step.block->hash);
    for (const Hash32& txid : *step.txids) txs_.erase(txid);
    for (const auto& [key, row] : AddressIndexRows(step)) {
      address_txs_[key].erase({row.height, row.index});
    }
  }
  for (const ChainStep& step : batch.connected) {
    undo_[step.block->hash] = *step.undo;
    for (std::size_t i = 0; i < step.txids->size(); ++i) {
      txs_[(*step.txids)[i]] =
          TxLocation{step.block->hash, step.block->header.height, static_cast<std::uint32_t>(i)};
    }
    for (const auto& [key, row] : AddressIndexRows(step)) {
      address_txs_[key][{row.height, row.index}] = row.txid;
    }
  }
  for (const CoinChange& c : batch.coins) {
    if (c.coin.has_value()) {
      coins_[c.outpoint] = *c.coin;
    } else {
      coins_.erase(c.outpoint);
    }
  }
  ++commits_;
  return {};
}

Result<std::optional<Coin>> MemoryBlockStore::ReadCoin(const OutPoint& outpoint) const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  auto it = coins_.find(outpoint);
  if (it == coins_.end()) return std::optional<Coin>();
  return std::optional<Coin>(it->second);
}

Result<std::optional<BlockUndo>> MemoryBlockStore::ReadUndo(const Hash32& block) const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  auto it = undo_.find(block);
  if (it == undo_.end()) return std::optional<BlockUndo>();
  return std::optional<BlockUndo>(it->second);
}

Result<std::optional<TxLocation>> MemoryBlockStore::FindTx(const Hash32& txid) const {
  MutexLock lock(mutex_);
  auto it = txs_.find(txid);
  if (it == txs_.end()) return std::optional<TxLocation>();
  return std::optional<TxLocation>(it->second);
}

Result<AddressSummary> MemoryBlockStore::ReadAddressSummary(const XOnlyPubKey& key) const {
  MutexLock lock(mutex_);
  AddressSummary s;
  for (const auto& [outpoint, coin] : coins_) {
    if (coin.key != key) continue;
    s.balance += coin.amount;
    ++s.coin_count;
  }
  if (auto it = address_txs_.find(key); it != address_txs_.end()) s.tx_count = it->second.size();
  return s;
}

Result<std::vector<AddressTx>> MemoryBlockStore::ReadAddressTxs(const XOnlyPubKey& key,
                                                                std::size_t offset,
                                                                std::size_t limit) const {
  MutexLock lock(mutex_);
  std::vector<AddressTx> out;
  auto it = address_txs_.find(key);
  if (it == address_txs_.end()) return out;
  std::size_t skipped = 0;
  for (auto r = it->second.rbegin(); r != it->second.rend() && out.size() < limit; ++r) {
    if (skipped++ < offset) continue;
    out.push_back(AddressTx{r->second, r->first.first, r->first.second});
  }
  return out;
}

Result<std::vector<AddressCoin>> MemoryBlockStore::ReadAddressCoins(const XOnlyPubKey& key,
                                                                    std::size_t offset,
                                                                    std::size_t limit) const {
  MutexLock lock(mutex_);
  std::vector<AddressCoin> all;
  for (const auto& [outpoint, coin] : coins_) {
    if (coin.key == key) all.push_back(AddressCoin{outpoint, coin});
  }
  // Newest first, as the SQLite store orders them.
  std::stable_sort(all.begin(), all.end(), [](const AddressCoin& a, const AddressCoin& b) {
    return a.coin.height > b.coin.height;
  });
  if (offset >= all.size()) return std::vector<AddressCoin>();
  all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(offset));
  if (all.size() > limit) all.resize(limit);
  return all;
}

Status MemoryBlockStore::ForEachCoin(
    const std::function<bool(const OutPoint&, const Coin&)>& fn) const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  for (const auto& [outpoint, coin] : coins_) {
    if (!fn(outpoint, coin)) break;
  }
  return {};
}

Result<std::optional<Block>> MemoryBlockStore::ReadBlock(const Hash32& hash) const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  auto it = blocks_.find(hash);
  if (it == blocks_.end()) return std::optional<Block>();
  return std::optional<Block>(it->second);
}

Result<std::optional<Hash32>> MemoryBlockStore::ReadTip() const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  return tip_;
}

Status MemoryBlockStore::ForEachHeader(
    const std::function<void(const Hash32&, const BlockHeader&)>& fn) const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  for (const Hash32& h : order_) fn(h, blocks_.at(h).header);
  return {};
}

void MemoryBlockStore::FailNextCommits(std::size_t n) {
  MutexLock lock(mutex_);
  fail_commits_ = n;
}

void MemoryBlockStore::SetFailReads(bool fail) {
  MutexLock lock(mutex_);
  fail_reads_ = fail;
}

void MemoryBlockStore::SetAvailableBytes(std::optional<std::uint64_t> bytes) {
  MutexLock lock(mutex_);
  available_ = bytes;
}

std::optional<std::uint64_t> MemoryBlockStore::AvailableBytes() const {
  MutexLock lock(mutex_);
  return available_;
}

std::size_t MemoryBlockStore::BlockCount() const {
  MutexLock lock(mutex_);
  return blocks_.size();
}

std::size_t MemoryBlockStore::CommitCount() const {
  MutexLock lock(mutex_);
  return commits_;
}

}  // namespace powchain
