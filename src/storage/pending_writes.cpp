#include "storage/pending_writes.h"

#include <algorithm>

namespace powchain {
namespace {

// Rough sizes of one entry of each map, key, value and the map's own
// overhead together: what bytes() and Estimate() count.
constexpr std::size_t kCoinEntryBytes = 112;
constexpr std::size_t kTxEntryBytes = 144;
constexpr std::size_t kAddressEntryBytes = 112;
constexpr std::size_t kUndoEntryBytes = 96;
// Bytes of one spent coin in serialized undo data.
constexpr std::size_t kUndoCoinBytes = 85;

}  // namespace

std::optional<TxLocation> PendingWrites::TxChange::Apply(
    const std::optional<TxLocation>& stored) const {
  if (put.has_value()) return put;
  if (erase || !stored.has_value()) return std::nullopt;
  const bool dropped = std::find(erase_if_block.begin(), erase_if_block.end(), stored->block) !=
                       erase_if_block.end();
  return dropped ? std::nullopt : stored;
}

void PendingWrites::AddStep(const ChainStep& step, bool connect) {
  const Block& block = *step.block;
  auto& undo = undo_[block.hash];
  if (undo.has_value()) undo_bytes_ -= undo->size();
  if (connect) {
    undo = SerializeUndo(*step.undo);
    undo_bytes_ += undo->size();
  } else {
    undo.reset();
  }
  for (std::size_t i = 0; i < step.txids->size(); ++i) {
    TxChange& change = txs_[(*step.txids)[i]];
    if (connect) {
      change.put = TxLocation{block.hash, block.header.height, static_cast<std::uint32_t>(i)};
      change.erase = false;
      change.erase_if_block.clear();
    } else if (change.put.has_value()) {
      // The row this change writes is the one removed, or it stays.
      if (change.put->block == block.hash) {
        change.put.reset();
        change.erase = true;
      }
    } else if (!change.erase) {
      change.erase_if_block.push_back(block.hash);
    }
  }
  for (const auto& [key, row] : AddressIndexRows(step)) {
    auto& entry = addresses_[AddressRow{key, row.height, row.index}];
    if (connect) {
      entry = row.txid;
    } else {
      entry.reset();
    }
  }
}

void PendingWrites::Add(const WriteBatch& batch) {
  std::size_t txs = 0;
  std::size_t steps = 0;
  for (const auto* list : {&batch.disconnected, &batch.connected}) {
    for (const ChainStep& step : *list) txs += step.txids->size();
    steps += list->size();
  }
  MakeRoomFor(coins_, batch.coins.size());
  MakeRoomFor(undo_, steps);
  MakeRoomFor(txs_, txs);
  // An address row or two for each transaction, mostly.
  MakeRoomFor(addresses_, 2 * txs);
  // The order of the store's own writes: the steps leaving, those joining,
  // then the coin set's net change.
  for (const ChainStep& step : batch.disconnected) AddStep(step, false);
  for (const ChainStep& step : batch.connected) AddStep(step, true);
  for (const CoinChange& c : batch.coins) coins_[c.outpoint] = c.coin;
}

std::size_t PendingWrites::Estimate(const WriteBatch& batch) {
  std::size_t bytes = batch.coins.size() * kCoinEntryBytes;
  for (const auto* steps : {&batch.disconnected, &batch.connected}) {
    for (const ChainStep& step : *steps) {
      // An address row or two for each transaction, mostly.
      bytes += kUndoEntryBytes + step.txids->size() * (kTxEntryBytes + 2 * kAddressEntryBytes);
      if (step.undo != nullptr) bytes += step.undo->spent.size() * kUndoCoinBytes;
    }
  }
  return bytes;
}

std::size_t PendingWrites::bytes() const {
  return coins_.size() * kCoinEntryBytes + txs_.size() * kTxEntryBytes +
         addresses_.size() * kAddressEntryBytes + undo_.size() * kUndoEntryBytes + undo_bytes_;
}

void PendingWrites::Clear() {
  coins_.clear();
  undo_.clear();
  txs_.clear();
  addresses_.clear();
  undo_bytes_ = 0;
}

const std::optional<Coin>* PendingWrites::FindCoin(const OutPoint& outpoint) const {
  auto it = coins_.find(outpoint);
  return it == coins_.end() ? nullptr : &it->second;
}

const std::optional<std::vector<std::uint8_t>>* PendingWrites::FindUndo(const Hash32& block) const {
  auto it = undo_.find(block);
  return it == undo_.end() ? nullptr : &it->second;
}

const PendingWrites::TxChange* PendingWrites::FindTx(const Hash32& txid) const {
  auto it = txs_.find(txid);
  return it == txs_.end() ? nullptr : &it->second;
}

}  // namespace powchain
