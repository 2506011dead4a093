// The coin set, undo data and index changes that commits made since the
// last time they were written to the store's tables: the durable store
// writes a block and the tip at once, and these in batches (docs/storage.md,
// "Deferred writes").
//
// Each table's changes are kept as their net effect per row, so a coin
// created and spent again before the next write never reaches the file,
// and the order of writing rows does not matter. Reads of the store look
// here first. Not thread-safe: the store holds it under its lock.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "storage/block_store.h"
#include "util/hash_map.h"

namespace powchain {

class PendingWrites {
 public:
  // A transaction index row's pending change, applied to the row the
  // table holds: `put` replaces it; else `erase` removes it; else it is
  // removed if it places the transaction in one of `erase_if_block` (a
  // disconnected block removes only its own rows).
  struct TxChange {
    std::optional<TxLocation> put;
    bool erase = false;
    std::vector<Hash32> erase_if_block;
    // The row after this change, given the one the table holds.
    std::optional<TxLocation> Apply(const std::optional<TxLocation>& stored) const;
  };
  // An address index row's key.
  struct AddressRow {
    XOnlyPubKey key{};
    std::uint64_t height = 0;
    std::uint32_t index = 0;
    friend bool operator==(const AddressRow&, const AddressRow&) = default;
  };
  struct AddressRowHasher {
    std::size_t operator()(const AddressRow& r) const noexcept {
      return Hash32Hasher{}(r.key) ^ (r.height * 0x9E3779B97F4A7C15ULL) ^ r.index;
    }
  };

  // Takes in a committed batch's changes (its steps and coins), after the
  // ones already held.
  void Add(const WriteBatch& batch);
  // About how many bytes Add(batch) would hold.
  static std::size_t Estimate(const WriteBatch& batch);

  bool empty() const {
    return coins_.empty() && undo_.empty() && txs_.empty() && addresses_.empty();
  }
  // About how many bytes of memory the changes hold.
  std::size_t bytes() const;
  void Clear();

  // A coin's pending state (nullopt inside: removed); nullptr when none.
  const std::optional<Coin>* FindCoin(const OutPoint& outpoint) const;
  // A block's pending undo data, serialized (nullopt inside: removed).
  const std::optional<std::vector<std::uint8_t>>* FindUndo(const Hash32& block) const;
  const TxChange* FindTx(const Hash32& txid) const;

  const boost::unordered_flat_map<OutPoint, std::optional<Coin>, OutPointHasher>& coins() const {
    return coins_;
  }
  const boost::unordered_flat_map<Hash32, std::optional<std::vector<std::uint8_t>>, Hash32Hasher>&
  undo() const {
    return undo_;
  }
  const boost::unordered_flat_map<Hash32, TxChange, Hash32Hasher>& txs() const { return txs_; }
  const boost::unordered_flat_map<AddressRow, std::optional<Hash32>, AddressRowHasher>& addresses()
      const {
    return addresses_;
  }

 private:
  void AddStep(const ChainStep& step, bool connect);

  boost::unordered_flat_map<OutPoint, std::optional<Coin>, OutPointHasher> coins_;
  boost::unordered_flat_map<Hash32, std::optional<std::vector<std::uint8_t>>, Hash32Hasher> undo_;
  boost::unordered_flat_map<Hash32, TxChange, Hash32Hasher> txs_;
  boost::unordered_flat_map<AddressRow, std::optional<Hash32>, AddressRowHasher> addresses_;
  std::size_t undo_bytes_ = 0;  // of the serialized undo data held
};

}  // namespace powchain
