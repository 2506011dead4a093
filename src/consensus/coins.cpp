#include "consensus/coins.h"

#include <algorithm>
#include <cstring>

#include "util/hash_map.h"
#include "util/hex.h"

namespace powchain {

std::optional<Coin> CoinsOverlay::GetCoin(const OutPoint& outpoint) const {
  if (auto it = changes_.find(outpoint); it != changes_.end()) return it->second;
  return base_->GetCoin(outpoint);
}

void CoinsOverlay::Reserve(std::size_t more) { MakeRoomFor(changes_, more); }

std::optional<Coin> MapCoinView::GetCoin(const OutPoint& outpoint) const {
  auto it = coins.find(outpoint);
  if (it == coins.end()) return std::nullopt;
  return it->second;
}

void MapCoinView::Apply(const CoinsOverlay& overlay) {
  for (const auto& [outpoint, coin] : overlay.changes()) {
    if (coin.has_value()) {
      coins[outpoint] = *coin;
    } else {
      coins.erase(outpoint);
    }
  }
}

ConnectResult ConnectBlockCoins(const Block& block, std::span<const Hash32> txids,
                                CoinsOverlay& coins, const Hash32& genesis_hash,
                                const Params& params, BlockUndo* undo,
                                std::span<const std::uint8_t> verified) {
  ConnectResult result;
  const std::uint64_t height = block.header.height;
  std::size_t inputs = 0;
  std::size_t outputs = 0;
  for (const Transaction& tx : block.txs) {
    inputs += tx.inputs.size();
    outputs += tx.outputs.size();
  }
  coins.Reserve(inputs + outputs);
  undo->spent.reserve(undo->spent.size() + inputs);
  for (std::size_t i = 0; i < block.txs.size(); ++i) {
    const Transaction& tx = block.txs[i];
    if (!tx.IsCoinbase()) {
      std::uint64_t fee = 0;
      const bool known = i < verified.size() && verified[i] != 0;
      TxResult r = CheckTxInputs(tx, coins, height, genesis_hash, params, &fee,
                                 known ? nullptr : &result.sig_checks, &undo->spent);
      if (!r.ok()) {
        result.validation = ValidationResult::BadTx(i, std::move(r));
        return result;
      }
      result.sig_owner.resize(result.sig_checks.size(), static_cast<std::uint32_t>(i));
      result.fees += fee;  // each fee is below maxMoney: the sum fits
      for (const TxIn& in : tx.inputs) coins.Spend(in.prevout);
    }
    for (std::uint32_t v = 0; v < tx.outputs.size(); ++v) {
      coins.Add(OutPoint{txids[i], v}, CoinOf(tx.outputs[v], height, tx.IsCoinbase()));
    }
  }
  if (!block.txs.empty() && block.txs[0].IsCoinbase()) {
    std::uint64_t paid = 0;
    for (const TxOut& out : block.txs[0].outputs) paid += out.amount;
    const std::uint64_t allowed = BlockSubsidy(height, params) + result.fees;
    if (paid > allowed) {
      result.validation = ValidationResult::BadTx(
          0, TxResult::Fail(TxError::kCoinbaseTooLarge,
                            "the coinbase pays " + std::to_string(paid) + ", more than the " +
                                std::to_string(allowed) + " of subsidy and fees"));
    }
  }
  return result;
}

Status DisconnectBlockCoins(const Block& block, std::span<const Hash32> txids,
                            const BlockUndo& undo, CoinsOverlay& coins) {
  std::size_t inputs = 0;
  for (const Transaction& tx : block.txs) inputs += tx.inputs.size();
  if (inputs != undo.spent.size()) {
    return Error{"block " + HexEncode(block.hash) + ": undo data holds " +
                 std::to_string(undo.spent.size()) + " coins for " + std::to_string(inputs) +
                 " inputs"};
  }
  // Last transaction first, so that an output spent later in the block is
  // back before the transaction that created it is undone.
  std::size_t next = undo.spent.size();  // one past the last undo entry not yet used
  for (std::size_t i = block.txs.size(); i-- > 0;) {
    const Transaction& tx = block.txs[i];
    for (std::uint32_t v = 0; v < tx.outputs.size(); ++v) {
      const OutPoint o{txids[i], v};
      if (!coins.GetCoin(o).has_value()) {
        return Error{"block " + HexEncode(block.hash) + ": output " + HexEncode(o.txid) + ":" +
                     std::to_string(v) + " is not in the coin set"};
      }
      coins.Spend(o);
    }
    next -= tx.inputs.size();
    for (std::size_t k = 0; k < tx.inputs.size(); ++k) {
      const auto& [outpoint, coin] = undo.spent[next + k];
      if (outpoint != tx.inputs[k].prevout) {
        return Error{"block " + HexEncode(block.hash) + ": undo data does not match input " +
                     std::to_string(k) + " of transaction " + std::to_string(i)};
      }
      coins.Add(outpoint, coin);
    }
  }
  return {};
}

}  // namespace powchain
