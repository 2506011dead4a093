// Coins and undo data (docs/consensus.md, "Transactions and coins";
// docs/storage.md for how they are stored).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "primitives/transaction.h"
#include "util/result.h"

namespace powchain {

// An unspent output: what a transaction spending it needs to know.
struct Coin {
  std::uint64_t amount = 0;
  XOnlyPubKey key{};
  std::uint64_t height = 0;  // of the block that created it
  bool coinbase = false;
  friend bool operator==(const Coin&, const Coin&) = default;
};

// The coin an output becomes.
inline Coin CoinOf(const TxOut& out, std::uint64_t height, bool coinbase) {
  return Coin{out.amount, out.key, height, coinbase};
}

// What disconnecting a block needs that the block does not hold: the coins
// its transactions spent, in the order they spent them.
struct BlockUndo {
  std::vector<std::pair<OutPoint, Coin>> spent;
  friend bool operator==(const BlockUndo&, const BlockUndo&) = default;
};

// Serialized undo: per spent coin txid(32) vout(4) amount(8) key(32)
// height(8) coinbase(1), integers little-endian.
std::vector<std::uint8_t> SerializeUndo(const BlockUndo& undo);
Result<BlockUndo> DeserializeUndo(std::span<const std::uint8_t> bytes);

}  // namespace powchain
