// Connecting and disconnecting a block's transactions to and from a coin
// set (docs/consensus.md, rule 7 and "Transactions and coins"). Pure: the
// coin set is a CoinView below an in-memory CoinsOverlay that collects the
// changes; the caller writes them out and checks the signatures.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "consensus/params.h"
#include "consensus/tx_check.h"
#include "consensus/validation.h"
#include "primitives/block.h"
#include "util/result.h"

namespace powchain {

// Changes to a coin set, over a base view that is left alone: an entry is
// either a coin added or a coin removed (nullopt).
class CoinsOverlay : public CoinView {
 public:
  explicit CoinsOverlay(const CoinView& base) : base_(&base) {}

  std::optional<Coin> GetCoin(const OutPoint& outpoint) const override;
  void Add(const OutPoint& outpoint, const Coin& coin) { changes_[outpoint] = coin; }
  void Spend(const OutPoint& outpoint) { changes_[outpoint] = std::nullopt; }
  // Room for `more` changes, grown geometrically: a block's thousands of
  // changes then rehash the map once, not at every doubling.
  void Reserve(std::size_t more);

  // Every change; a nullopt value is a coin to remove from the base (it may
  // also be one added and removed again above it).
  const boost::unordered_flat_map<OutPoint, std::optional<Coin>, OutPointHasher>& changes() const {
    return changes_;
  }
  std::size_t size() const { return changes_.size(); }

 private:
  const CoinView* base_;
  boost::unordered_flat_map<OutPoint, std::optional<Coin>, OutPointHasher> changes_;
};

// A whole coin set in memory, in outpoint order: what `powchain verify`
// replays into, and what tests check against.
class MapCoinView final : public CoinView {
 public:
  std::optional<Coin> GetCoin(const OutPoint& outpoint) const override;
  // Applies an overlay's changes.
  void Apply(const CoinsOverlay& overlay);
  std::map<OutPoint, Coin> coins;
};

// What connecting a block found: fees, and the signatures still to check.
struct ConnectResult {
  ValidationResult validation;
  std::uint64_t fees = 0;
  std::vector<SigCheck> sig_checks;
  // sig_owner[i] is the index in txs of the transaction sig_checks[i] belongs to.
  std::vector<std::uint32_t> sig_owner;
};

// Applies the block's transactions, in order, to `coins` (rule 7): each
// spends existing mature coins, pays at most its inputs, and the coinbase
// pays at most subsidy plus fees. `txids` are the block's (ComputeTxids).
// Fills `undo`. On failure `coins` holds a partial application: the caller
// drops it. Signatures are not checked here (see ConnectResult); a
// transaction i with `verified[i]` set (when `verified` is not empty) is
// known to carry valid signatures and gets no SigCheck.
ConnectResult ConnectBlockCoins(const Block& block, std::span<const Hash32> txids,
                                CoinsOverlay& coins, const Hash32& genesis_hash,
                                const Params& params, BlockUndo* undo,
                                std::span<const std::uint8_t> verified = {});

// Undoes ConnectBlockCoins: removes the block's outputs and restores the
// coins in `undo`. An error means the coin set does not match the block
// (a damaged store).
Status DisconnectBlockCoins(const Block& block, std::span<const Hash32> txids,
                            const BlockUndo& undo, CoinsOverlay& coins);

}  // namespace powchain
