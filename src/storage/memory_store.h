// An in-memory BlockStore for tests, with fault injection. Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "storage/block_store.h"
#include "util/hash_map.h"
#include "util/mutex.h"

namespace powchain {

class MemoryBlockStore final : public BlockStore {
 public:
  Status Commit(const WriteBatch& batch) override;
  Result<std::optional<Block>> ReadBlock(const Hash32& hash) const override;
  Result<std::optional<Hash32>> ReadTip() const override;
  Status ForEachHeader(
      const std::function<void(const Hash32&, const BlockHeader&)>& fn) const override;
  Result<std::optional<Coin>> ReadCoin(const OutPoint& outpoint) const override;
  Result<std::optional<BlockUndo>> ReadUndo(const Hash32& block) const override;
  Result<std::optional<TxLocation>> FindTx(const Hash32& txid) const override;
  Result<AddressSummary> ReadAddressSummary(const XOnlyPubKey& key) const override;
  Result<std::vector<AddressTx>> ReadAddressTxs(const XOnlyPubKey& key, std::size_t offset,
                                                std::size_t limit) const override;
  Result<std::vector<AddressCoin>> ReadAddressCoins(const XOnlyPubKey& key, std::size_t offset,
                                                    std::size_t limit) const override;
  Status ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn) const override;

  // Fault injection: the next `n` commits fail with an I/O error and write
  // nothing.
  void FailNextCommits(std::size_t n);
  // Fault injection: every read fails while set.
  void SetFailReads(bool fail);
  // What AvailableBytes() reports (nullopt, the default: unknown).
  void SetAvailableBytes(std::optional<std::uint64_t> bytes);
  std::optional<std::uint64_t> AvailableBytes() const override;

  std::size_t BlockCount() const;
  std::size_t CommitCount() const;

 private:
  mutable Mutex mutex_;
  std::unordered_map<Hash32, Block, Hash32Hasher> blocks_ GUARDED_BY(mutex_);
  std::vector<Hash32> order_ GUARDED_BY(mutex_);  // commit order
  std::optional<Hash32> tip_ GUARDED_BY(mutex_);
  std::map<OutPoint, Coin> coins_ GUARDED_BY(mutex_);
  std::unordered_map<Hash32, BlockUndo, Hash32Hasher> undo_ GUARDED_BY(mutex_);
  std::unordered_map<Hash32, TxLocation, Hash32Hasher> txs_ GUARDED_BY(mutex_);
  // Address index rows: key, then (height, index) newest last.
  std::map<XOnlyPubKey, std::map<std::pair<std::uint64_t, std::uint32_t>, Hash32>> address_txs_
      GUARDED_BY(mutex_);
  std::size_t fail_commits_ GUARDED_BY(mutex_) = 0;
  bool fail_reads_ GUARDED_BY(mutex_) = false;
  std::optional<std::uint64_t> available_;
  std::size_t commits_ = 0;
};

}  // namespace powchain
