// A BlockStore that forwards every call to another store: the base of test
// stores that change one behaviour (fail commits, hold them at a gate).
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/block_store.h"

namespace powchain {

class ForwardingBlockStore : public BlockStore {
 public:
  explicit ForwardingBlockStore(BlockStore& inner) : inner_(inner) {}

  Status Commit(const WriteBatch& batch) override { return inner_.Commit(batch); }
  Result<std::optional<Block>> ReadBlock(const Hash32& hash) const override {
    return inner_.ReadBlock(hash);
  }
  Result<std::vector<Block>> ReadBlocks(
      std::span<const Hash32> hashes,
      std::size_t max_data_bytes = std::numeric_limits<std::size_t>::max()) const override {
    return inner_.ReadBlocks(hashes, max_data_bytes);
  }
  Result<std::optional<std::string>> ReadBlockJson(const Hash32& hash) const override {
    return inner_.ReadBlockJson(hash);
  }
  Result<JsonRun> AppendBlocksJson(
      std::span<const Hash32> hashes, std::string& out,
      std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) const override {
    return inner_.AppendBlocksJson(hashes, out, max_bytes);
  }
  Result<std::optional<Hash32>> ReadTip() const override { return inner_.ReadTip(); }
  Result<std::optional<Hash32>> ReadCoinsTip() const override { return inner_.ReadCoinsTip(); }
  Status Flush() override { return inner_.Flush(); }
  std::optional<std::uint64_t> AvailableBytes() const override { return inner_.AvailableBytes(); }
  Status ForEachHeader(
      const std::function<void(const Hash32&, const BlockHeader&)>& fn) const override {
    return inner_.ForEachHeader(fn);
  }
  Result<std::optional<Coin>> ReadCoin(const OutPoint& outpoint) const override {
    return inner_.ReadCoin(outpoint);
  }
  Result<std::optional<BlockUndo>> ReadUndo(const Hash32& block) const override {
    return inner_.ReadUndo(block);
  }
  Result<std::optional<TxLocation>> FindTx(const Hash32& txid) const override {
    return inner_.FindTx(txid);
  }
  Result<AddressSummary> ReadAddressSummary(const XOnlyPubKey& key) const override {
    return inner_.ReadAddressSummary(key);
  }
  Result<std::vector<AddressTx>> ReadAddressTxs(const XOnlyPubKey& key, std::size_t offset,
                                                std::size_t limit) const override {
    return inner_.ReadAddressTxs(key, offset, limit);
  }
  Result<std::vector<AddressCoin>> ReadAddressCoins(const XOnlyPubKey& key, std::size_t offset,
                                                    std::size_t limit) const override {
    return inner_.ReadAddressCoins(key, offset, limit);
  }
  Status ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn) const override {
    return inner_.ForEachCoin(fn);
  }

 protected:
  BlockStore& inner() const { return inner_; }

 private:
  BlockStore& inner_;  // not owned
};

}  // namespace powchain
