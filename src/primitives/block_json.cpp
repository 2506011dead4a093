#include "primitives/block_json.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "primitives/canonical_json.h"
#include "primitives/transaction.h"
#include "util/hex.h"

namespace powchain {
namespace {

Result<std::uint64_t> ReadUInt(const JsonValue& obj, std::string_view name, std::uint64_t max) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr) return Error{"block field '" + std::string(name) + "' is missing"};
  const auto n = v->AsU64();
  if (!n || *n > max) {
    return Error{"block field '" + std::string(name) + "' must be an integer from 0 to " +
                 std::to_string(max)};
  }
  return *n;
}

Result<Hash32> ReadHash(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr) return Error{"block field '" + std::string(name) + "' is missing"};
  if (!v->is_string()) return Error{"block field '" + std::string(name) + "' must be a string"};
  const auto h = HexToHash32(v->as_string());
  if (!h) return Error{"block field '" + std::string(name) + "' must be 64 hex digits"};
  return *h;
}

// The header fields and "hash", inside an object being written.
void WriteHeaderFields(JsonWriter& w, const BlockHeader& h, const Hash32& block_hash) {
  w.Member("version", h.version);
  w.Member("height", h.height);
  w.Member("lastHash", h.last_hash);
  w.Member("dataHash", h.data_hash);
  w.Member("timestamp", h.timestamp);
  w.Member("difficulty", h.difficulty);
  w.Member("nonce", h.nonce);
  w.Member("hash", block_hash);
}

// The header fields and "hash" of a block or header object.
Result<HashedHeader> ReadHeaderFields(const JsonValue& value) {
  constexpr std::uint64_t kU32Max = std::numeric_limits<std::uint32_t>::max();
  constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

  auto version = ReadUInt(value, "version", kU32Max);
  if (!version) return Error{version.error()};
  auto height = ReadUInt(value, "height", kU64Max);
  if (!height) return Error{height.error()};
  auto last_hash = ReadHash(value, "lastHash");
  if (!last_hash) return Error{last_hash.error()};
  auto data_hash = ReadHash(value, "dataHash");
  if (!data_hash) return Error{data_hash.error()};
  auto timestamp = ReadUInt(value, "timestamp", kU64Max);
  if (!timestamp) return Error{timestamp.error()};
  auto difficulty = ReadUInt(value, "difficulty", kU32Max);
  if (!difficulty) return Error{difficulty.error()};
  auto nonce = ReadUInt(value, "nonce", kU64Max);
  if (!nonce) return Error{nonce.error()};
  auto hash = ReadHash(value, "hash");
  if (!hash) return Error{hash.error()};

  HashedHeader out;
  out.header.version = static_cast<std::uint32_t>(*version);
  out.header.height = *height;
  out.header.last_hash = *last_hash;
  out.header.data_hash = *data_hash;
  out.header.timestamp = *timestamp;
  out.header.difficulty = static_cast<std::uint32_t>(*difficulty);
  out.header.nonce = *nonce;
  out.hash = *hash;
  return out;
}

}  // namespace

// "txs" is the last member: the SQLite store reads a block's transactions
// from its stored JSON form as the array after the last "txs" key
// (docs/storage.md).
void WriteBlockJson(JsonWriter& w, const Block& block) {
  w.BeginObject();
  WriteHeaderFields(w, block.header, block.hash);
  w.Key("data").Raw(block.data);
  w.Key("txs").BeginArray();
  for (const Transaction& tx : block.txs) WriteTxJson(w, tx);
  w.EndArray();
  w.EndObject();
}

std::string BlockToJson(const Block& block) {
  std::string out;
  out.reserve(block.data.size() + 320);
  JsonWriter w(out);
  WriteBlockJson(w, block);
  return out;
}

void WriteHeaderJson(JsonWriter& w, const HashedHeader& header) {
  w.BeginObject();
  WriteHeaderFields(w, header.header, header.hash);
  w.EndObject();
}

std::string HeaderToJson(const HashedHeader& header) {
  std::string out;
  out.reserve(320);
  JsonWriter w(out);
  WriteHeaderJson(w, header);
  return out;
}

Result<HashedHeader> HeaderFromJson(const JsonValue& value) {
  if (!value.is_object()) return Error{"a header must be a JSON object"};
  return ReadHeaderFields(value);
}

Result<Block> BlockFromJson(const JsonValue& value) {
  if (!value.is_object()) return Error{"a block must be a JSON object"};
  auto fields = ReadHeaderFields(value);
  if (!fields) return Error{fields.error()};
  const JsonValue* data = value.Find("data");
  if (data == nullptr) return Error{"block field 'data' is missing"};
  auto canonical = CanonicalJson(*data);
  if (!canonical) return Error{"block field 'data': " + canonical.error()};

  Block b;
  b.header = fields->header;
  b.hash = fields->hash;
  b.data = std::move(canonical).value();
  if (const JsonValue* txs = value.Find("txs"); txs != nullptr) {
    if (!txs->is_array()) return Error{"block field 'txs' must be an array"};
    b.txs.reserve(txs->items().size());
    for (std::size_t i = 0; i < txs->items().size(); ++i) {
      auto tx = TxFromJson(txs->items()[i]);
      if (!tx) return Error{"block field 'txs[" + std::to_string(i) + "]': " + tx.error()};
      b.txs.push_back(std::move(*tx));
    }
  }
  return b;
}

Result<Block> BlockFromJsonText(std::string_view text, const JsonLimits& limits) {
  auto parsed = ParseJson(text, limits);
  if (!parsed) return Error{parsed.error()};
  return BlockFromJson(*parsed);
}

}  // namespace powchain
