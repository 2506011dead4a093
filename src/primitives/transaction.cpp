#include "primitives/transaction.h"

#include <algorithm>
#include <limits>

#include "crypto/sha256.h"
#include "primitives/address.h"
#include "util/hex.h"

namespace powchain {
namespace {

constexpr std::string_view kSighashTag = "powchain/sighash";
// The largest integer canonical JSON carries exactly (2^53 - 1): a larger
// amount or height would have no canonical form to hash.
constexpr std::uint64_t kMaxExactInteger = (std::uint64_t{1} << 53) - 1;

std::size_t DigitCount(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Inputs with or without their "sig" members.
void WriteInputs(JsonWriter& w, const Transaction& tx, bool with_sigs) {
  w.Key("inputs").BeginArray();
  for (const TxIn& in : tx.inputs) {
    w.BeginObject();
    if (with_sigs) w.Key("sig").Hex(ByteSpan(in.sig));
    w.Member("txid", in.prevout.txid);
    w.Member("vout", in.prevout.vout);
    w.EndObject();
  }
  w.EndArray();
}

void WriteTx(JsonWriter& w, const Transaction& tx, bool with_sigs) {
  w.BeginObject();
  if (tx.coinbase.has_value()) w.Member("coinbase", *tx.coinbase);
  WriteInputs(w, tx, with_sigs);
  w.Key("outputs").BeginArray();
  for (const TxOut& out : tx.outputs) {
    w.BeginObject();
    w.Key("address").String(out.address);
    w.Member("amount", out.amount);
    w.EndObject();
  }
  w.EndArray();
  w.Member("version", tx.version);
  w.EndObject();
}

std::string Serialize(const Transaction& tx, bool with_sigs) {
  std::string out;
  out.reserve(64 + tx.inputs.size() * 190 + tx.outputs.size() * 100);
  JsonWriter w(out);
  WriteTx(w, tx, with_sigs);
  return out;
}

// --- Reading ---

std::string Where(std::string_view what, std::size_t index) {
  return std::string(what) + "[" + std::to_string(index) + "]";
}

// Fails unless every member of `obj` is one of `allowed`.
Status OnlyMembers(const JsonValue& obj, std::initializer_list<std::string_view> allowed,
                   std::string_view where) {
  for (const auto& [key, value] : obj.members()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Error{std::string(where) + ": unknown member '" + key + "'"};
    }
  }
  return {};
}

Result<std::uint64_t> ReadUInt(const JsonValue& obj, std::string_view name, std::uint64_t max,
                               std::string_view where) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr)
    return Error{std::string(where) + ": member '" + std::string(name) + "' is missing"};
  const auto n = v->AsU64();
  if (!n || *n > max) {
    return Error{std::string(where) + ": '" + std::string(name) +
                 "' must be an integer from 0 to " + std::to_string(max) + " in plain digits"};
  }
  return *n;
}

// Lower-case hex of exactly `size` bytes: the canonical form, so that one
// transaction has one txid.
Result<std::vector<std::uint8_t>> ReadHex(const JsonValue& obj, std::string_view name,
                                          std::size_t size, std::string_view where) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr)
    return Error{std::string(where) + ": member '" + std::string(name) + "' is missing"};
  const std::string bad = std::string(where) + ": '" + std::string(name) + "' must be " +
                          std::to_string(2 * size) + " lower-case hex digits";
  if (!v->is_string() || v->as_string().size() != 2 * size) return Error{bad};
  const std::string& s = v->as_string();
  if (std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'F'; })) {
    return Error{bad};
  }
  auto bytes = HexDecode(s);
  if (!bytes) return Error{bad};
  return std::move(*bytes);
}

Result<TxIn> ReadInput(const JsonValue& v, std::size_t index) {
  const std::string where = Where("inputs", index);
  if (!v.is_object()) return Error{where + ": must be an object"};
  if (Status s = OnlyMembers(v, {"sig", "txid", "vout"}, where); !s) return Error{s.error()};
  auto sig = ReadHex(v, "sig", 64, where);
  if (!sig) return Error{sig.error()};
  auto txid = ReadHex(v, "txid", 32, where);
  if (!txid) return Error{txid.error()};
  auto vout = ReadUInt(v, "vout", std::numeric_limits<std::uint32_t>::max(), where);
  if (!vout) return Error{vout.error()};
  TxIn in;
  std::copy(sig->begin(), sig->end(), in.sig.begin());
  std::copy(txid->begin(), txid->end(), in.prevout.txid.begin());
  in.prevout.vout = static_cast<std::uint32_t>(*vout);
  return in;
}

Result<TxOut> ReadOutput(const JsonValue& v, std::size_t index) {
  const std::string where = Where("outputs", index);
  if (!v.is_object()) return Error{where + ": must be an object"};
  if (Status s = OnlyMembers(v, {"address", "amount"}, where); !s) return Error{s.error()};
  const JsonValue* address = v.Find("address");
  if (address == nullptr || !address->is_string()) {
    return Error{where + ": 'address' must be a string"};
  }
  const std::string& text = address->as_string();
  auto decoded = DecodeAddress(text);
  if (!decoded) return Error{where + ": " + decoded.error()};
  // Upper case is refused here (though addresses are read in either case
  // elsewhere): the canonical bytes are what the sender hashed, and two
  // spellings of one output would give one transaction two txids.
  if (std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Error{where + ": an address in a transaction must be written in lower case"};
  }
  auto amount = ReadUInt(v, "amount", kMaxExactInteger, where);
  if (!amount) return Error{amount.error()};
  TxOut out;
  out.address = text;
  out.key = decoded->key;
  out.amount = *amount;
  return out;
}

template <typename T>
Status ReadArray(const JsonValue& tx, std::string_view name, std::vector<T>& out,
                 Result<T> (*read)(const JsonValue&, std::size_t)) {
  const JsonValue* v = tx.Find(name);
  if (v == nullptr || !v->is_array()) {
    return Error{"transaction member '" + std::string(name) + "' must be an array"};
  }
  out.reserve(v->items().size());
  for (std::size_t i = 0; i < v->items().size(); ++i) {
    auto item = read(v->items()[i], i);
    if (!item) return Error{item.error()};
    out.push_back(std::move(*item));
  }
  return {};
}

}  // namespace

TxOut MakeTxOut(std::string_view hrp, const XOnlyPubKey& key, std::uint64_t amount) {
  return TxOut{EncodeAddress(hrp, key), key, amount};
}

std::string CanonicalTxBytes(const Transaction& tx) { return Serialize(tx, true); }

std::string UnsignedTxBytes(const Transaction& tx) { return Serialize(tx, false); }

std::size_t CanonicalTxSize(const Transaction& tx) {
  // {"inputs":[...],"outputs":[...],"version":V}
  std::size_t n =
      std::string_view(R"({"inputs":[],"outputs":[],"version":})").size() + DigitCount(tx.version);
  if (tx.coinbase.has_value())
    n += std::string_view(R"("coinbase":,)").size() + DigitCount(*tx.coinbase);
  // {"sig":"<128>","txid":"<64>","vout":N}
  constexpr std::size_t kInputFixed =
      std::string_view(R"({"sig":"","txid":"","vout":})").size() + 128 + 64;
  for (const TxIn& in : tx.inputs) n += kInputFixed + DigitCount(in.prevout.vout);
  // {"address":"A","amount":N}
  constexpr std::size_t kOutputFixed = std::string_view(R"({"address":"","amount":})").size();
  for (const TxOut& out : tx.outputs)
    n += kOutputFixed + out.address.size() + DigitCount(out.amount);
  // Commas between array items.
  if (!tx.inputs.empty()) n += tx.inputs.size() - 1;
  if (!tx.outputs.empty()) n += tx.outputs.size() - 1;
  return n;
}

Hash32 ComputeTxid(const Transaction& tx) {
  const std::string bytes = CanonicalTxBytes(tx);
  return Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

namespace {

Hash32 TaggedHashWith(const Hash32& tag_hash, ByteSpan msg) {
  std::vector<std::uint8_t> buf;
  buf.reserve(64 + msg.size());
  buf.insert(buf.end(), tag_hash.begin(), tag_hash.end());
  buf.insert(buf.end(), tag_hash.begin(), tag_hash.end());
  buf.insert(buf.end(), msg.begin(), msg.end());
  return Sha256(buf);
}

Hash32 TagHash(std::string_view tag) {
  return Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(tag.data()), tag.size()));
}

}  // namespace

Hash32 TaggedHash(std::string_view tag, ByteSpan msg) { return TaggedHashWith(TagHash(tag), msg); }

SighashContext::SighashContext(const Transaction& tx, const Hash32& genesis_hash)
    : genesis_hash_(genesis_hash) {
  const std::string bytes = UnsignedTxBytes(tx);
  unsigned_hash_ =
      Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

Hash32 SighashContext::ForInput(std::uint32_t index) const {
  std::array<std::uint8_t, 32 + 32 + 4> msg{};
  std::copy(genesis_hash_.begin(), genesis_hash_.end(), msg.begin());
  std::copy(unsigned_hash_.begin(), unsigned_hash_.end(), msg.begin() + 32);
  WriteLE32(msg.data() + 64, index);
  // Every input of every transaction hashes the same tag: once per process.
  static const Hash32 kSighashTagHash = TagHash(kSighashTag);
  return TaggedHashWith(kSighashTagHash, msg);
}

Hash32 SignatureHash(const Transaction& tx, std::uint32_t index, const Hash32& genesis_hash) {
  return SighashContext(tx, genesis_hash).ForInput(index);
}

void WriteTxJson(JsonWriter& w, const Transaction& tx) { WriteTx(w, tx, true); }

Result<Transaction> TxFromJson(const JsonValue& value) {
  if (!value.is_object()) return Error{"a transaction must be a JSON object"};
  if (Status s = OnlyMembers(value, {"coinbase", "inputs", "outputs", "version"}, "transaction");
      !s) {
    return Error{s.error()};
  }
  Transaction tx;
  auto version =
      ReadUInt(value, "version", std::numeric_limits<std::uint32_t>::max(), "transaction");
  if (!version) return Error{version.error()};
  tx.version = static_cast<std::uint32_t>(*version);
  if (value.Find("coinbase") != nullptr) {
    auto height = ReadUInt(value, "coinbase", kMaxExactInteger, "transaction");
    if (!height) return Error{height.error()};
    tx.coinbase = *height;
  }
  if (Status s = ReadArray<TxIn>(value, "inputs", tx.inputs, &ReadInput); !s)
    return Error{s.error()};
  if (Status s = ReadArray<TxOut>(value, "outputs", tx.outputs, &ReadOutput); !s) {
    return Error{s.error()};
  }
  return tx;
}

Result<Transaction> TxFromJsonText(std::string_view text, const JsonLimits& limits) {
  auto parsed = ParseJson(text, limits);
  if (!parsed) return Error{parsed.error()};
  return TxFromJson(*parsed);
}

std::string TxsToJson(const std::vector<Transaction>& txs) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  for (const Transaction& tx : txs) WriteTxJson(w, tx);
  w.EndArray();
  return out;
}

Result<std::vector<Transaction>> TxsFromJsonText(std::string_view text) {
  JsonLimits limits;
  limits.max_bytes = std::max(limits.max_bytes, text.size());
  auto parsed = ParseJson(text, limits);
  if (!parsed) return Error{parsed.error()};
  if (!parsed->is_array()) return Error{"transactions must be a JSON array"};
  std::vector<Transaction> txs;
  txs.reserve(parsed->items().size());
  for (std::size_t i = 0; i < parsed->items().size(); ++i) {
    auto tx = TxFromJson(parsed->items()[i]);
    if (!tx) return Error{"txs[" + std::to_string(i) + "]: " + tx.error()};
    txs.push_back(std::move(*tx));
  }
  return txs;
}

std::size_t MaxCoinbaseSize(std::string_view hrp) {
  Transaction coinbase;
  coinbase.coinbase = std::numeric_limits<std::uint64_t>::max();
  coinbase.outputs.push_back(MakeTxOut(hrp, XOnlyPubKey{}, kMaxMoney));
  return CanonicalTxSize(coinbase);
}

}  // namespace powchain
