#include "p2p/protocol.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>
#include <utility>
#include <variant>
#include <vector>

#include "primitives/block_json.h"
#include "primitives/json.h"
#include "primitives/json_writer.h"
#include "util/hex.h"
#include "util/memory.h"
#include "util/url.h"

// Encode writes what it is given: a message that breaks a limit (port 0, an
// empty locator, a list that is too long, ...) is encoded as is and refused by
// the receiver. Two things are repaired instead, so that any text a node sends
// is valid JSON: a string that is not valid UTF-8 has each bad sequence
// replaced by U+FFFD, and "agent" and "reason" are cut to their limits at a
// character boundary. For every message within the limits,
// Decode(Encode(m)) == m.

namespace powchain::p2p {
namespace {

constexpr std::uint64_t kU16Max = std::numeric_limits<std::uint16_t>::max();
constexpr std::uint64_t kU32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

// Nesting that a message adds around block data: the message object, the
// "blocks" array and the block object. The reader allows that much on top of
// kMaxDepth, and block data itself is then held to kMaxDepth, so a block is
// readable in a "block" message exactly when it is readable in a "blocks"
// message, and a block whose data came through the HTTP API (nested at most
// 64 levels with the body around it) can always be relayed.
constexpr std::size_t kEnvelopeDepth = 3;

// The longest "nodeId" accepted.
constexpr std::size_t kMaxNodeIdLength = 64;

// How much of an unknown "type" a failure message quotes.
constexpr std::size_t kMaxQuotedType = 32;

// ---------------------------------------------------------------------------
// Writing

void WriteHashes(JsonWriter& w, const std::vector<Hash32>& hashes) {
  w.BeginArray();
  for (const Hash32& h : hashes) w.Hex(h);
  w.EndArray();
}

// The members of each message after "type".
struct Encoder {
  JsonWriter& w;

  void operator()(const Hello& m) const {
    w.Key("version").UInt(m.version);
    w.Key("genesis").Hex(m.genesis);
    w.Key("height").UInt(m.height);
    w.Key("tip").Hex(m.tip);
    w.Key("work").String(WorkToHex(m.work));
    w.Key("port");
    if (m.port) {
      w.UInt(*m.port);
    } else {
      w.Null();
    }
    w.Key("agent").String(m.agent, ProtocolLimits::kMaxAgentLength);
    if (!m.node_id.empty()) w.Key("nodeId").String(m.node_id);
  }
  void operator()(const BlockMsg& m) const {
    w.out().reserve(w.out().size() + m.block.data.size() + 330);
    WriteBlockJson(w.Key("block"), m.block);
  }
  void Locator(const std::vector<Hash32>& locator, std::uint32_t limit) const {
    WriteHashes(w.Key("locator"), locator);
    w.Key("limit").UInt(limit);
  }
  void operator()(const GetHeaders& m) const { Locator(m.locator, m.limit); }
  void operator()(const Headers& m) const {
    w.out().reserve(w.out().size() + m.headers.size() * 330 + 2);
    w.Key("headers").BeginArray();
    for (const HashedHeader& h : m.headers) WriteHeaderJson(w, h);
    w.EndArray();
  }
  void operator()(const GetData& m) const { WriteHashes(w.Key("hashes"), m.hashes); }
  void operator()(const GetBlocks& m) const { Locator(m.locator, m.limit); }
  void operator()(const Blocks& m) const {
    std::size_t bytes = 2;
    for (const Block& b : m.blocks) bytes += b.data.size() + 331;
    w.out().reserve(w.out().size() + bytes);
    w.Key("blocks").BeginArray();
    for (const Block& b : m.blocks) WriteBlockJson(w, b);
    w.EndArray();
  }
  void operator()(const GetPeers&) const {}
  void operator()(const Peers& m) const {
    w.Key("peers").BeginArray();
    for (const std::string& url : m.peers) w.String(url);
    w.EndArray();
  }
  void operator()(const Ping& m) const { w.Key("nonce").UInt(m.nonce); }
  void operator()(const Pong& m) const { w.Key("nonce").UInt(m.nonce); }
  void operator()(const ErrorMsg& m) const {
    w.Key("reason").String(m.reason, ProtocolLimits::kMaxReasonLength);
  }
  void operator()(const TxMsg& m) const { WriteTxJson(w.Key("tx"), m.tx); }
  void operator()(const GetMempool&) const {}
  void operator()(const MempoolTxids& m) const {
    w.out().reserve(w.out().size() + m.txids.size() * 67 + 16);
    WriteHashes(w.Key("txids"), m.txids);
  }
  void operator()(const GetTxs& m) const { WriteHashes(w.Key("txids"), m.txids); }
  void operator()(const Txs& m) const {
    w.Key("txs").BeginArray();
    for (const Transaction& tx : m.txs) WriteTxJson(w, tx);
    w.EndArray();
  }
};

// ---------------------------------------------------------------------------
// Reading

// Reads the fields of one message object. Each Read* returns the value, or
// records a failure and returns nullopt; only the first failure is kept, so a
// caller may read on and check failed() once at the end.
class FieldReader {
 public:
  FieldReader(std::string_view type, const JsonValue& object) : type_(type), object_(object) {}

  bool failed() const { return failure_.has_value(); }
  DecodeFailure TakeFailure() { return std::move(*failure_); }

  // An integer written as plain digits, from `min` to `max`.
  std::optional<std::uint64_t> ReadUInt(std::string_view name, std::uint64_t min,
                                        std::uint64_t max) {
    const JsonValue* v = Find(name);
    if (v == nullptr) return std::nullopt;
    const auto n = v->AsU64();
    if (!n || *n < min || *n > max) {
      Fail(DecodeError::kBadField, name,
           "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  std::optional<Hash32> ReadHash(std::string_view name) {
    const JsonValue* v = Find(name);
    if (v == nullptr) return std::nullopt;
    auto h = v->is_string() ? HexToHash32(v->as_string()) : std::nullopt;
    if (!h) Fail(DecodeError::kBadField, name, "must be a string of 64 hex digits");
    return h;
  }

  // A string of at most `max_bytes` bytes (UTF-8, after unescaping).
  std::optional<std::string> ReadString(std::string_view name, std::size_t max_bytes) {
    const JsonValue* v = Find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string() || v->as_string().size() > max_bytes) {
      Fail(DecodeError::kBadField, name,
           "must be a string of at most " + std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    return v->as_string();
  }

  // An array of at most `max_items` items (and at least `min_items`; a
  // shorter array is kBadField, a longer one kTooMany).
  const std::vector<JsonValue>* ReadArray(std::string_view name, std::size_t min_items,
                                          std::size_t max_items, std::string_view what) {
    const JsonValue* v = Find(name);
    if (v == nullptr) return nullptr;
    const std::string expected = "must be an array of " + std::to_string(min_items) + " to " +
                                 std::to_string(max_items) + " " + std::string(what);
    if (!v->is_array()) {
      Fail(DecodeError::kBadField, name, expected);
      return nullptr;
    }
    const std::size_t n = v->items().size();
    if (n > max_items) {
      Fail(DecodeError::kTooMany, name,
           "has " + std::to_string(n) + " items, more than the limit of " +
               std::to_string(max_items));
      return nullptr;
    }
    if (n < min_items) {
      Fail(DecodeError::kBadField, name, expected);
      return nullptr;
    }
    return &v->items();
  }

  // The member `name`; records "is missing" when absent.
  const JsonValue* Find(std::string_view name) {
    const JsonValue* v = object_.Find(name);
    if (v == nullptr) Fail(DecodeError::kBadField, name, "is missing");
    return v;
  }

  // Records "<type>: '<name>' <what>".
  void Fail(DecodeError error, std::string_view name, const std::string& what) {
    if (failure_) return;
    failure_ = DecodeFailure{error, std::string(type_) + ": '" + std::string(name) + "' " + what};
  }

  // Records "<type>: <what>" verbatim after the type.
  void FailWith(DecodeError error, const std::string& what) {
    if (failure_) return;
    failure_ = DecodeFailure{error, std::string(type_) + ": " + what};
  }

  const JsonValue& object() const { return object_; }

 private:
  std::string_view type_;
  const JsonValue& object_;
  std::optional<DecodeFailure> failure_;
};

// Nesting depth of `value` as the reader counts it: a scalar is 0, [] is 1.
// Iterative, so any depth costs no stack.
std::size_t Depth(const JsonValue& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const JsonValue*, std::size_t>> stack = {{&value, 0}};
  while (!stack.empty()) {
    const auto [v, depth] = stack.back();
    stack.pop_back();
    if (v->is_array()) {
      deepest = std::max(deepest, depth + 1);
      for (const JsonValue& item : v->items()) stack.emplace_back(&item, depth + 1);
    } else if (v->is_object()) {
      deepest = std::max(deepest, depth + 1);
      for (const auto& member : v->members()) stack.emplace_back(&member.second, depth + 1);
    }
  }
  return deepest;
}

// BlockFromJson, with block data held to kMaxDepth levels; `where` names the
// block in the failure ("'block'", "'blocks'[3]").
std::optional<Block> ReadBlock(FieldReader& r, const JsonValue& value, const std::string& where) {
  Result<Block> block = BlockFromJson(value);
  if (!block) {
    r.FailWith(DecodeError::kBadBlock, where + ": " + block.error());
    return std::nullopt;
  }
  // BlockFromJson succeeded, so value is an object with "data".
  const JsonValue* data = value.Find("data");
  if (data != nullptr && Depth(*data) > ProtocolLimits::kMaxDepth) {
    r.FailWith(DecodeError::kBadBlock, where + ": block field 'data' is nested deeper than " +
                                           std::to_string(ProtocolLimits::kMaxDepth) + " levels");
    return std::nullopt;
  }
  return std::move(block).value();
}

std::optional<Message> DecodeHello(FieldReader& r) {
  Hello m;
  if (auto v = r.ReadUInt("version", 0, kU32Max)) m.version = static_cast<std::uint32_t>(*v);
  if (auto v = r.ReadHash("genesis")) m.genesis = *v;
  if (auto v = r.ReadUInt("height", 0, kU64Max)) m.height = *v;
  if (auto v = r.ReadHash("tip")) m.tip = *v;
  if (const JsonValue* v = r.Find("work")) {
    auto work = v->is_string() ? WorkFromHex(v->as_string()) : std::nullopt;
    if (work) {
      m.work = *work;
    } else {
      r.Fail(DecodeError::kBadField, "work", "must be a string of 1 to 64 hex digits");
    }
  }
  if (const JsonValue* v = r.Find("port")) {
    if (!v->is_null()) {
      const auto port = v->AsU64();
      if (port && *port >= 1 && *port <= kU16Max) {
        m.port = static_cast<std::uint16_t>(*port);
      } else {
        r.Fail(DecodeError::kBadField, "port", "must be null or an integer from 1 to 65535");
      }
    }
  }
  if (auto v = r.ReadString("agent", ProtocolLimits::kMaxAgentLength)) m.agent = std::move(*v);
  // Optional: absent means the peer has none.
  if (const JsonValue* v = r.object().Find("nodeId")) {
    const bool ok = v->is_string() && !v->as_string().empty() &&
                    v->as_string().size() <= kMaxNodeIdLength &&
                    std::all_of(v->as_string().begin(), v->as_string().end(), IsHexDigit);
    if (ok) {
      m.node_id = v->as_string();
    } else {
      r.Fail(DecodeError::kBadField, "nodeId", "must be a string of 1 to 64 hex digits");
    }
  }
  if (r.failed()) return std::nullopt;
  return m;
}

std::optional<Message> DecodeBlock(FieldReader& r) {
  const JsonValue* v = r.Find("block");
  if (v == nullptr) return std::nullopt;
  auto block = ReadBlock(r, *v, "'block'");
  if (!block) return std::nullopt;
  return BlockMsg{std::move(*block)};
}

// An array `name` of `min_items` to `max_items` hashes.
std::optional<std::vector<Hash32>> ReadHashes(FieldReader& r, std::string_view name,
                                              std::size_t min_items, std::size_t max_items) {
  const auto* items = r.ReadArray(name, min_items, max_items, "hashes");
  if (items == nullptr) return std::nullopt;
  std::vector<Hash32> out;
  out.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const JsonValue& item = (*items)[i];
    auto h = item.is_string() ? HexToHash32(item.as_string()) : std::nullopt;
    if (!h) {
      r.FailWith(DecodeError::kBadField, "'" + std::string(name) + "'[" + std::to_string(i) +
                                             "] must be a string of 64 hex digits");
      return std::nullopt;
    }
    out.push_back(*h);
  }
  return out;
}

// The fields of getheaders and getblocks.
template <typename T>
std::optional<Message> DecodeLocatorRequest(FieldReader& r) {
  T m;
  if (auto hashes = ReadHashes(r, "locator", 1, ProtocolLimits::kMaxLocator)) {
    m.locator = std::move(*hashes);
  }
  if (auto v = r.ReadUInt("limit", 1, kU32Max)) m.limit = static_cast<std::uint32_t>(*v);
  if (r.failed()) return std::nullopt;
  return m;
}

std::optional<Message> DecodeHeaders(FieldReader& r) {
  const auto* items = r.ReadArray("headers", 0, ProtocolLimits::kMaxHeadersPerMessage, "headers");
  if (items == nullptr) return std::nullopt;
  Headers m;
  m.headers.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    Result<HashedHeader> header = HeaderFromJson((*items)[i]);
    if (!header) {
      r.FailWith(DecodeError::kBadBlock, "'headers'[" + std::to_string(i) + "]: " + header.error());
      return std::nullopt;
    }
    m.headers.push_back(*header);
  }
  return m;
}

std::optional<Message> DecodeGetData(FieldReader& r) {
  auto hashes = ReadHashes(r, "hashes", 1, ProtocolLimits::kMaxGetData);
  if (!hashes) return std::nullopt;
  return GetData{std::move(*hashes)};
}

std::optional<Message> DecodeBlocks(FieldReader& r) {
  const auto* items = r.ReadArray("blocks", 0, ProtocolLimits::kMaxBlocksPerMessage, "blocks");
  if (items == nullptr) return std::nullopt;
  Blocks m;
  m.blocks.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto block = ReadBlock(r, (*items)[i], "'blocks'[" + std::to_string(i) + "]");
    if (!block) return std::nullopt;
    m.blocks.push_back(std::move(*block));
  }
  return m;
}

std::optional<Message> DecodeGetPeers(FieldReader&) { return GetPeers{}; }

std::optional<Message> DecodePeers(FieldReader& r) {
  const auto* items = r.ReadArray("peers", 0, ProtocolLimits::kMaxPeersPerMessage, "peer URLs");
  if (items == nullptr) return std::nullopt;
  Peers m;
  m.peers.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    const JsonValue& item = (*items)[i];
    const std::string where = "'peers'[" + std::to_string(i) + "]";
    if (!item.is_string()) {
      r.FailWith(DecodeError::kBadField, where + " must be a string ws://host:port");
      return std::nullopt;
    }
    const Result<PeerUrl> url = ParsePeerUrl(item.as_string());
    if (!url) {
      r.FailWith(DecodeError::kBadField, where + ": " + url.error());
      return std::nullopt;
    }
    m.peers.push_back(url->ToString());
  }
  return m;
}

template <typename T>
std::optional<Message> DecodeNonce(FieldReader& r) {
  const auto nonce = r.ReadUInt("nonce", 0, kU64Max);
  if (!nonce) return std::nullopt;
  return T{*nonce};
}

std::optional<Message> DecodeErrorMsg(FieldReader& r) {
  auto reason = r.ReadString("reason", ProtocolLimits::kMaxReasonLength);
  if (!reason) return std::nullopt;
  return ErrorMsg{std::move(*reason)};
}

// A transaction in its JSON form, at most ProtocolLimits::kMaxDepth deep.
std::optional<Transaction> ReadTx(FieldReader& r, const JsonValue& value,
                                  const std::string& where) {
  Result<Transaction> tx = TxFromJson(value);
  if (!tx) {
    r.FailWith(DecodeError::kBadTx, where + ": " + tx.error());
    return std::nullopt;
  }
  return std::move(tx).value();
}

std::optional<Message> DecodeTx(FieldReader& r) {
  const JsonValue* v = r.Find("tx");
  if (v == nullptr) return std::nullopt;
  auto tx = ReadTx(r, *v, "'tx'");
  if (!tx) return std::nullopt;
  return TxMsg{std::move(*tx)};
}

std::optional<Message> DecodeGetMempool(FieldReader&) { return GetMempool{}; }

template <typename T, std::size_t kMax>
std::optional<Message> DecodeTxids(FieldReader& r) {
  auto txids = ReadHashes(r, "txids", 0, kMax);
  if (!txids) return std::nullopt;
  return T{std::move(*txids)};
}

std::optional<Message> DecodeTxs(FieldReader& r) {
  const auto* items = r.ReadArray("txs", 0, ProtocolLimits::kMaxTxsPerMessage, "transactions");
  if (items == nullptr) return std::nullopt;
  Txs m;
  m.txs.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto tx = ReadTx(r, (*items)[i], "'txs'[" + std::to_string(i) + "]");
    if (!tx) return std::nullopt;
    m.txs.push_back(std::move(*tx));
  }
  return m;
}

struct MessageType {
  std::string_view name;
  std::optional<Message> (*decode)(FieldReader&);
};

// Indexed like the alternatives of Message.
constexpr MessageType kTypes[] = {
    {"hello", DecodeHello},
    {"block", DecodeBlock},
    {"getheaders", DecodeLocatorRequest<GetHeaders>},
    {"headers", DecodeHeaders},
    {"getdata", DecodeGetData},
    {"getblocks", DecodeLocatorRequest<GetBlocks>},
    {"blocks", DecodeBlocks},
    {"getpeers", DecodeGetPeers},
    {"peers", DecodePeers},
    {"ping", DecodeNonce<Ping>},
    {"pong", DecodeNonce<Pong>},
    {"error", DecodeErrorMsg},
    {"tx", DecodeTx},
    {"getmempool", DecodeGetMempool},
    {"mempool", DecodeTxids<MempoolTxids, ProtocolLimits::kMaxMempoolTxids>},
    {"gettxs", DecodeTxids<GetTxs, ProtocolLimits::kMaxGetTxs>},
    {"txs", DecodeTxs},
};
static_assert(std::size(kTypes) == std::variant_size_v<Message>);

// `type` as a short JSON string, for a failure message: escaped so that a
// peer cannot put control characters into a log line.
std::string QuoteType(std::string_view type) {
  std::string out;
  JsonWriter(out).String(type, kMaxQuotedType);
  if (type.size() > kMaxQuotedType) out += "...";
  return out;
}

std::variant<Message, DecodeFailure> DecodeUnchecked(std::string_view text) {
  JsonLimits limits;
  // The transport already limits the frame (TransportOptions::
  // max_message_bytes, which may be configured above its 4 MiB default), so
  // the reader does not limit the length again.
  limits.max_bytes = std::numeric_limits<std::size_t>::max();
  limits.max_depth = ProtocolLimits::kMaxDepth + kEnvelopeDepth;
  const Result<JsonValue> parsed = ParseJson(text, limits);
  if (!parsed) return DecodeFailure{DecodeError::kMalformedJson, parsed.error()};
  const JsonValue& object = *parsed;
  if (!object.is_object()) {
    return DecodeFailure{DecodeError::kMalformedJson, "a message must be a JSON object"};
  }
  const JsonValue* type = object.Find("type");
  if (type == nullptr) return DecodeFailure{DecodeError::kUnknownType, "message has no 'type'"};
  if (!type->is_string()) {
    return DecodeFailure{DecodeError::kUnknownType, "message 'type' must be a string"};
  }
  for (const MessageType& t : kTypes) {
    if (t.name != type->as_string()) continue;
    FieldReader reader(t.name, object);
    std::optional<Message> message = t.decode(reader);
    if (reader.failed() || !message) {
      if (!reader.failed()) reader.FailWith(DecodeError::kBadField, "cannot be read");
      return reader.TakeFailure();
    }
    return std::move(*message);
  }
  return DecodeFailure{DecodeError::kUnknownType,
                       "unknown message type " + QuoteType(type->as_string())};
}

}  // namespace

std::string_view TypeName(const Message& message) {
  // A variant left valueless by a throwing assignment has no type.
  if (message.valueless_by_exception()) return "";
  return kTypes[message.index()].name;
}

std::string Encode(const Message& message) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("type").String(TypeName(message));
  std::visit(Encoder{w}, message);
  w.EndObject();
  return out;
}

std::string EncodeBlocksJson(std::string_view items) {
  // What Encode writes around the blocks of a Blocks message.
  constexpr std::string_view kHead = R"({"type":"blocks","blocks":[)";
  constexpr std::string_view kTail = "]}";
  std::string out;
  const std::size_t size = kHead.size() + items.size() + kTail.size();
  out.reserve(size);
  PrefaultForWrite(out.data(), size);
  out += kHead;
  out += items;
  out += kTail;
  return out;
}

std::variant<Message, DecodeFailure> Decode(std::string_view text) {
  // Nothing below throws on any input; only allocation can fail, and a
  // message too large to hold in memory is a bad message too.
  try {
    return DecodeUnchecked(text);
  } catch (const std::exception& e) {
    return DecodeFailure{DecodeError::kMalformedJson,
                         std::string("message cannot be decoded: ") + e.what()};
  }
}

}  // namespace powchain::p2p
