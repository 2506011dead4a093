#include "primitives/coin.h"

#include <cstring>

namespace powchain {

namespace {
constexpr std::size_t kUndoEntryBytes = 32 + 4 + 8 + 32 + 8 + 1;
}  // namespace

std::vector<std::uint8_t> SerializeUndo(const BlockUndo& undo) {
  std::vector<std::uint8_t> out(undo.spent.size() * kUndoEntryBytes);
  std::uint8_t* p = out.data();
  for (const auto& [outpoint, coin] : undo.spent) {
    std::memcpy(p, outpoint.txid.data(), 32);
    WriteLE32(p + 32, outpoint.vout);
    WriteLE64(p + 36, coin.amount);
    std::memcpy(p + 44, coin.key.data(), 32);
    WriteLE64(p + 76, coin.height);
    p[84] = coin.coinbase ? 1 : 0;
    p += kUndoEntryBytes;
  }
  return out;
}

Result<BlockUndo> DeserializeUndo(std::span<const std::uint8_t> bytes) {
  if (bytes.size() % kUndoEntryBytes != 0) {
    return Error{"undo data of " + std::to_string(bytes.size()) +
                 " bytes is not a whole number of " + std::to_string(kUndoEntryBytes) +
                 "-byte entries"};
  }
  BlockUndo undo;
  undo.spent.reserve(bytes.size() / kUndoEntryBytes);
  for (const std::uint8_t* p = bytes.data(); p != bytes.data() + bytes.size();
       p += kUndoEntryBytes) {
    OutPoint o;
    Coin c;
    std::memcpy(o.txid.data(), p, 32);
    o.vout = ReadLE32(p + 32);
    c.amount = ReadLE64(p + 36);
    std::memcpy(c.key.data(), p + 44, 32);
    c.height = ReadLE64(p + 76);
    if (p[84] > 1) return Error{"undo data has a bad coinbase flag"};
    c.coinbase = p[84] == 1;
    undo.spent.emplace_back(o, c);
  }
  return undo;
}

}  // namespace powchain
