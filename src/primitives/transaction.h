// Transactions (docs/consensus.md, "Transactions and coins"): their form,
// canonical bytes, txid and signature hash. Rules about which transactions
// are valid live in consensus/tx_check.h.
//
// JSON form (members in canonical order):
//   {"inputs":[{"sig":"<128 hex>","txid":"<64 hex>","vout":0}],
//    "outputs":[{"address":"powrt1p...","amount":5000000000}],"version":1}
// A coinbase has "inputs":[] and one more member, "coinbase":<height>,
// which sorts first. No other members are allowed anywhere.
//
// The canonical bytes are that object in canonical JSON (canonical_json.h);
// since every member is an ASCII string or an integer written as plain
// digits, they are produced here directly, without a general JSON value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/schnorr.h"
#include "primitives/json.h"
#include "primitives/json_writer.h"
#include "util/bytes.h"
#include "util/hash_map.h"
#include "util/result.h"

namespace powchain {

// One coin is 10^8 units; amounts are whole units.
inline constexpr std::uint64_t kCoin = 100'000'000;
// No amount or sum of amounts exceeds this (21 million coins, below 2^53,
// so every amount is exact as a JSON number).
inline constexpr std::uint64_t kMaxMoney = 21'000'000 * kCoin;
inline constexpr std::uint32_t kTxVersion = 1;
// Largest canonical size of one transaction.
inline constexpr std::size_t kMaxTxBytes = 100'000;

inline bool MoneyRange(std::uint64_t amount) { return amount <= kMaxMoney; }

// An output of an earlier transaction: its txid and index in `outputs`.
struct OutPoint {
  Hash32 txid{};
  std::uint32_t vout = 0;
  friend bool operator==(const OutPoint&, const OutPoint&) = default;
  friend auto operator<=>(const OutPoint&, const OutPoint&) = default;
};

struct OutPointHasher {
  std::size_t operator()(const OutPoint& o) const noexcept {
    // Txids are SHA-256 digests: their bytes are uniform already.
    return Hash32Hasher{}(o.txid) ^ (static_cast<std::size_t>(o.vout) * 0x9E3779B97F4A7C15ULL);
  }
};

struct TxIn {
  OutPoint prevout;
  SchnorrSig sig{};
  friend bool operator==(const TxIn&, const TxIn&) = default;
};

struct TxOut {
  // The address as written in the canonical form: lower-case Bech32m, with
  // the human-readable part of the network it was made for.
  std::string address;
  // The key the address names (kept beside it so that checks need not
  // decode the address again).
  XOnlyPubKey key{};
  std::uint64_t amount = 0;
  friend bool operator==(const TxOut&, const TxOut&) = default;
};

// An output paying `amount` to `key` on the network with address prefix `hrp`.
TxOut MakeTxOut(std::string_view hrp, const XOnlyPubKey& key, std::uint64_t amount);

struct Transaction {
  std::uint32_t version = kTxVersion;
  // The block height a coinbase names; nullopt for any other transaction.
  std::optional<std::uint64_t> coinbase;
  std::vector<TxIn> inputs;
  std::vector<TxOut> outputs;

  bool IsCoinbase() const { return coinbase.has_value(); }
  friend bool operator==(const Transaction&, const Transaction&) = default;
};

// The canonical bytes, signatures included (what the txid hashes and what a
// block's size counts).
std::string CanonicalTxBytes(const Transaction& tx);
// Their length, computed without writing them.
std::size_t CanonicalTxSize(const Transaction& tx);
// The canonical bytes with every input's "sig" member removed (what the
// signature hash commits to).
std::string UnsignedTxBytes(const Transaction& tx);

// SHA-256 of the canonical bytes.
Hash32 ComputeTxid(const Transaction& tx);

// TaggedHash(tag, m) = SHA-256(SHA-256(tag) || SHA-256(tag) || m).
Hash32 TaggedHash(std::string_view tag, ByteSpan msg);

// The message input `i` signs: TaggedHash("powchain/sighash", genesis_hash
// || SHA-256(UnsignedTxBytes(tx)) || u32le(i)). SighashContext computes the
// part shared by all inputs once.
class SighashContext {
 public:
  SighashContext(const Transaction& tx, const Hash32& genesis_hash);
  Hash32 ForInput(std::uint32_t index) const;

 private:
  Hash32 genesis_hash_;
  Hash32 unsigned_hash_;
};
Hash32 SignatureHash(const Transaction& tx, std::uint32_t index, const Hash32& genesis_hash);

// Writes the JSON form (the canonical bytes) as the next value of `w`.
void WriteTxJson(JsonWriter& w, const Transaction& tx);

// Reads a transaction from a parsed JSON value: every member required with
// its exact type (integers as plain digits, hex of the exact length,
// addresses Bech32m of any network prefix), no member beyond those of the
// form. Rules on values (amount ranges, the network's prefix, ...) are
// consensus checks, not parse errors.
Result<Transaction> TxFromJson(const JsonValue& value);
// ParseJson + TxFromJson.
Result<Transaction> TxFromJsonText(std::string_view text, const JsonLimits& limits = {});

// The largest canonical size of a coinbase with one output paying an
// address of prefix `hrp`: what a miner's coinbase may add to a block.
std::size_t MaxCoinbaseSize(std::string_view hrp);

// A block's transactions as one canonical JSON array (how the store keeps
// them), and back.
std::string TxsToJson(const std::vector<Transaction>& txs);
Result<std::vector<Transaction>> TxsFromJsonText(std::string_view text);

}  // namespace powchain
