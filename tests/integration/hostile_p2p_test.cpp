// A hostile peer against a real node (docs/security.md, docs/protocol.md "Peer
// policy"): malformed and truncated JSON, wrong types, out-of-range numbers,
// bad hex, broken limits, WebSocket frames that lie, stalled and surplus
// connections, protocol violations, and blocks that break each consensus
// rule. Every case asserts its outcome: the node's `error` naming the
// problem and the close where the policy punishes, a usable connection
// (ping, pong) where it does not, the node alive and its tip unchanged.
// After every test a valid block from a peer is still accepted (TearDown).
//
// Floods of messages and the refusal of an address for a while are the
// rate-limit tests' business, not this file's.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/pow.h"
#include "consensus/validation.h"
#include "node_process.h"
#include "primitives/block_json.h"
#include "primitives/json.h"
#include "test_peer.h"
#include "testutil/chain_builder.h"
#include "util/bytes.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

const Params kRegtest = Params::Regtest();

// WebSocket close codes (RFC 6455 section 7.4.1).
constexpr std::uint16_t kCloseNormal = 1000;
constexpr std::uint16_t kCloseProtocolError = 1002;
constexpr std::uint16_t kCloseUnknownData = 1003;
constexpr std::uint16_t kCloseBadPayload = 1007;
constexpr std::uint16_t kCloseTooBig = 1009;

constexpr std::size_t kMaxFrame = std::size_t{4} * 1024 * 1024;

std::uint64_t NowMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// The first bytes of `text`, printable, for failure messages.
std::string Abbrev(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < 100; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 0xf];
    }
  }
  if (text.size() > 100) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

// A JSON object built from (name, JSON text) members, in order, so that a
// test can put any text in any field.
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string Object(const Fields& fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    if (out.size() > 1) out += ',';
    out += "\"" + name + "\":" + value;
  }
  return out + "}";
}
std::string Msg(const std::string& type, const Fields& fields = {}) {
  Fields all = {{"type", "\"" + type + "\""}};
  all.insert(all.end(), fields.begin(), fields.end());
  return Object(all);
}
Fields Replace(Fields fields, const std::string& name, const std::string& value) {
  for (auto& field : fields) {
    if (field.first == name) field.second = value;
  }
  return fields;
}
Fields Remove(Fields fields, const std::string& name) {
  std::erase_if(fields, [&](const auto& field) { return field.first == name; });
  return fields;
}
std::string Quoted(const std::string& s) { return "\"" + s + "\""; }
std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string Repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}
// `item` n times, comma-separated, in brackets.
std::string ArrayOf(const std::string& item, std::size_t n) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    out += item;
  }
  return out + "]";
}

// A block's members as BlockToJson writes them.
Fields BlockFields(const Block& b) {
  return {{"version", std::to_string(b.header.version)},
          {"height", std::to_string(b.header.height)},
          {"lastHash", Quoted(HexEncode(b.header.last_hash))},
          {"dataHash", Quoted(HexEncode(b.header.data_hash))},
          {"timestamp", std::to_string(b.header.timestamp)},
          {"difficulty", std::to_string(b.header.difficulty)},
          {"nonce", std::to_string(b.header.nonce)},
          {"hash", Quoted(HexEncode(b.hash))},
          {"data", b.data}};
}

// Values of the wrong JSON type for a field of each kind.
enum class Kind { kUInt, kHash, kString, kArray, kBlock, kWork, kPort, kNodeId };
std::vector<std::string> WrongTypes(Kind kind) {
  switch (kind) {
    case Kind::kUInt:
      return {"\"1\"", "true", "null", "[1]", "{\"n\":1}"};
    case Kind::kHash:
    case Kind::kWork:
      return {"1", "null", "true", "[]", "{}"};
    case Kind::kString:
    case Kind::kNodeId:
      return {"1", "null", "false", "[\"x\"]", "{}"};
    case Kind::kArray:
      return {"{}", "\"x\"", "1", "null", "true"};
    case Kind::kBlock:
      return {"42", "[]", "\"block\"", "null", "true"};
    case Kind::kPort:
      return {"\"5001\"", "true", "[]", "{}", "-1"};
  }
  return {};
}

// A block with an unknown parent that passes every context-free check
// (difficulty 1: about two tries to solve).
Block Orphan(std::uint64_t seed, const std::string& data = "\"orphan\"") {
  Block b;
  b.header.version = 1;
  b.header.height = 5 + seed % 1000;
  for (std::size_t i = 0; i < b.header.last_hash.size(); ++i) {
    b.header.last_hash[i] = static_cast<std::uint8_t>((seed >> (8 * (i % 8))) + i * 31 + 7);
  }
  b.header.timestamp = NowMs();
  b.header.difficulty = 1;
  test::SetDataAndSolve(b, data);
  return b;
}

// Sets the timestamp and the difficulty rule 4 requires for it, then
// solves: a block that breaks only the time rules.
void Retime(Block& b, const BlockHeader& parent, std::uint64_t timestamp) {
  b.header.timestamp = timestamp;
  b.header.difficulty = NextDifficulty(parent, timestamp, kRegtest);
  test::Solve(b);
}

// Frame options for RawPeer::Frame.
RawPeer::FrameOptions Claiming(std::uint64_t length,
                               RawPeer::LengthForm form = RawPeer::LengthForm::kShortest) {
  RawPeer::FrameOptions options;
  options.claimed = length;
  options.form = form;
  return options;
}
RawPeer::FrameOptions InForm(RawPeer::LengthForm form) {
  RawPeer::FrameOptions options;
  options.form = form;
  return options;
}
RawPeer::FrameOptions Unmasked() {
  RawPeer::FrameOptions options;
  options.mask = false;
  return options;
}

// Base of every fixture: one regtest node per test.
class HostileP2pTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = NodeProcess::StartNode(dir_.path());
    ASSERT_TRUE(node_->Running()) << node_->Log();
    genesis_ = MakeGenesis(kRegtest);
    genesis_hex_ = HexEncode(genesis_.hash);
    tip_ = Tip();
    ASSERT_EQ(tip_, genesis_hex_);
  }
  void TearDown() override {
    // Whatever happened before, a valid block from a peer is still accepted.
    if (!HasFatalFailure() && node_->Running()) ExpectValidBlockAccepted();
    EXPECT_TRUE(node_->Running()) << "the node died";
    if (HasFailure()) std::printf("--- node log ---\n%s\n", node_->Log().c_str());
  }

  std::uint16_t p2p() const { return node_->p2p_port(); }

  JsonValue Status() const {
    auto v = ParseJson(node_->Get("/status").body);
    return v.ok() ? *v : JsonValue();
  }
  std::string Tip() const {
    const JsonValue s = Status();
    return s.Find("tip") ? s.Find("tip")->as_string() : "";
  }
  std::size_t PeerCount() const {
    const JsonValue s = Status();
    return s.Find("peers") ? std::stoull(s.Find("peers")->number_text()) : 0;
  }
  // The node up, serving HTTP, its tip the one of the start (or the last
  // one a test accepted on purpose).
  void ExpectUnchanged() {
    EXPECT_TRUE(node_->Running()) << "the node died";
    EXPECT_EQ(Tip(), tip_) << "the chain changed";
  }

  // A node id no other test peer of this test uses (16 hex digits).
  std::string NextId() {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(++ids_));
    return buf;
  }
  // A fresh handshaked connection.
  std::unique_ptr<TestPeer> Peer(std::string id = "") {
    auto peer = std::make_unique<TestPeer>();
    EXPECT_TRUE(peer->Handshake(p2p(), genesis_.hash, id.empty() ? NextId() : id).has_value());
    return peer;
  }
  // A fresh connection that has read the node's hello and sent nothing.
  std::unique_ptr<TestPeer> Opened() {
    auto peer = std::make_unique<TestPeer>();
    EXPECT_TRUE(peer->Connect(p2p()));
    EXPECT_TRUE(peer->Await<p2p::Hello>().has_value());
    return peer;
  }

  // The node answers a ping on `peer`: the connection is usable.
  static bool Served(TestPeer& peer, std::uint64_t nonce = 4242) {
    peer.Send(p2p::Ping{nonce});
    for (;;) {
      const auto pong = peer.Await<p2p::Pong>(10s);
      if (!pong) return false;
      if (pong->nonce == nonce) return true;
    }
  }

  // Sends `text` as the first message after the handshake (or, with
  // `first`, instead of a hello) and expects the node's `error` with
  // `keyword` in its reason, then the close; the node alive and its tip
  // unchanged. Returns the reason.
  std::string ExpectRefused(const std::string& text, const std::string& keyword,
                            bool first = false) {
    SCOPED_TRACE("sent: " + Abbrev(text));
    auto peer = first ? Opened() : Peer();
    peer->SendText(text);
    const auto error = peer->Await<p2p::ErrorMsg>(10s);
    EXPECT_TRUE(error.has_value()) << "no error message";
    if (!error) return "";
    EXPECT_NE(error->reason.find(keyword), std::string::npos)
        << "reason: " << error->reason << "\nexpected it to name: " << keyword;
    EXPECT_TRUE(peer->WaitClosed(10s)) << "the node kept the connection open";
    ExpectUnchanged();
    return error->reason;
  }
  // Sends `text` on a fresh handshaked connection and expects no error: the
  // connection still answers a ping.
  void ExpectTolerated(const std::string& text) {
    SCOPED_TRACE("sent: " + Abbrev(text));
    auto peer = Peer();
    peer->SendText(text);
    EXPECT_TRUE(Served(*peer)) << "the connection did not stay usable";
    EXPECT_TRUE(node_->Running());
  }

  // A valid next block on the node's current tip, mined by the test.
  Block NextBlock(const std::string& data = "\"hostile test\"") const {
    const std::vector<Block> chain = ParseAndCheckChain(node_->Get("/blocks").body, kRegtest);
    test::ChainBuilder builder(kRegtest, chain);
    return builder.Add(NowMs() - chain.back().header.timestamp, data);
  }
  Block TipBlock() const { return ParseAndCheckChain(node_->Get("/blocks").body, kRegtest).back(); }
  // A valid block sent by a fresh peer becomes the tip.
  void ExpectValidBlockAccepted() {
    auto peer = Peer();
    const Block b = NextBlock("\"valid at last\"");
    peer->Send(p2p::BlockMsg{b});
    EXPECT_TRUE(WaitUntil([&] { return Tip() == HexEncode(b.hash); }, 20s))
        << "a valid block was not accepted at the end";
  }
  // The tip is now `b` (a test made it so on purpose).
  void ExpectTip(const Block& b) {
    EXPECT_TRUE(WaitUntil([&] { return Tip() == HexEncode(b.hash); }, 20s));
    tip_ = HexEncode(b.hash);
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  Block genesis_;
  std::string genesis_hex_;
  std::string tip_;  // what the chain's tip must still be
  std::uint64_t ids_ = 0;
};

// --- Malformed JSON --------------------------------------------------------

class HostileJsonTest : public HostileP2pTest {};

TEST_F(HostileJsonTest, MalformedAndTruncatedJsonIsRefused) {
  const std::string ping = Msg("ping", {{"nonce", "1"}});
  struct Case {
    std::string text;
    std::string keyword;
  };
  const std::vector<Case> cases = {
      {"not json", "invalid JSON"},
      {"", "unexpected end of text"},                     // empty frame
      {" \t\r\n ", "unexpected end of text"},             // whitespace only
      {ping.substr(0, ping.size() - 1), "invalid JSON"},  // truncated: no closing brace
      {ping.substr(0, 10), "unterminated string"},        // truncated in a string
      {"{\"type\":\"ping\",\"nonce\":", "unexpected end of text"},
      {"{\"type\":\"ping\",\"nonce\":1,}", "invalid JSON"},  // trailing comma
      {ping + " x", "after the JSON value"},                 // trailing garbage
      {ping + ping, "after the JSON value"},                 // two messages in one frame
      {ping + std::string(1, '\0'), "after the JSON value"},
      {"\xEF\xBB\xBF" + ping, "invalid JSON"},  // a byte order mark
      {"{'type':'ping','nonce':1}", "invalid JSON"},
      {"{\"type\":\"ping\",\"nonce\":1/*c*/}", "invalid JSON"},
      {"{\"type\":\"ping\",\"nonce\":NaN}", "invalid JSON"},
      {"{\"type\":\"ping\",\"nonce\":Infinity}", "invalid JSON"},
      {"{\"type\":\"ping\",\"nonce\":tru}", "invalid literal"},
      {"{type:\"ping\",\"nonce\":1}", "invalid JSON"},
      {"{\"type\":\"ping\" \"nonce\":1}", "invalid JSON"},
      {"{\"type\":\"ping\",\"nonce\":1,\"x\":\"a\tb\"}", "control character"},
      {"{\"type\":\"ping\",\"nonce\":1,\"x\":\"\\q\"}", "invalid escape"},
      {"{\"type\":\"ping\",\"nonce\":1,\"x\":\"\\u12\"}", "4 hex digits"},
      // Duplicate keys (I-JSON), including a second "type".
      {"{\"type\":\"ping\",\"nonce\":1,\"nonce\":2}", "duplicate object key"},
      {"{\"type\":\"ping\",\"type\":\"pong\",\"nonce\":1}", "duplicate object key"},
      {Msg("ping", {{"nonce", "1"}, {"x", "{\"a\":1,\"a\":1}"}}), "duplicate object key"},
      // Lone surrogate escapes.
      {Msg("ping", {{"nonce", "1"}, {"x", "\"\\ud800\""}}), "surrogate"},
      {Msg("ping", {{"nonce", "1"}, {"x", "\"\\udc00\""}}), "surrogate"},
      {Msg("ping", {{"nonce", "1"}, {"x", "\"\\ud800\\u0041\""}}), "surrogate"},
      {Msg("hello", {{"agent", "\"\\udfff\""}}), "surrogate"},
      // Not an object.
      {"[1,2,3]", "must be a JSON object"},
      {"\"ping\"", "must be a JSON object"},
      {"null", "must be a JSON object"},
      {"42", "must be a JSON object"},
      // Deep nesting: far too deep, and one level over the 67 a message
      // may have (in a member nobody reads).
      {std::string(100000, '['), "nesting deeper"},
      {std::string(100000, '{'), "invalid JSON"},
      {Msg("ping", {{"nonce", "1"}, {"x", std::string(67, '[') + std::string(67, ']')}}),
       "nesting deeper than the limit of 67"},
      // Block data one level deeper than 64, within the frame's 67.
      {Msg("block", {{"block", Object(Replace(BlockFields(genesis_), "data",
                                              std::string(65, '[') + std::string(65, ']')))}}),
       "nested deeper than 64"},
  };
  for (const Case& c : cases) ExpectRefused(c.text, c.keyword);
  // 67 levels is the limit, not over it: tolerated.
  ExpectTolerated(
      Msg("ping", {{"nonce", "1"}, {"x", std::string(66, '[') + std::string(66, ']')}}));
}

TEST_F(HostileJsonTest, InvalidUtf8InATextFrameClosesTheConnection) {
  // The WebSocket layer checks that a text frame is UTF-8 (RFC 6455 8.1)
  // and fails the connection with 1007 before the JSON reader sees it.
  const std::vector<std::string> bad = {
      "\xFF",
      "{\"type\":\"ping\",\"nonce\":1,\"x\":\"\xC3\"}",              // truncated sequence
      "{\"type\":\"ping\",\"nonce\":1,\"x\":\"\xC0\xAF\"}",          // overlong '/'
      "{\"type\":\"ping\",\"nonce\":1,\"x\":\"\xED\xA0\x80\"}",      // UTF-8 encoded surrogate
      "{\"type\":\"ping\",\"nonce\":1,\"x\":\"\xF4\x90\x80\x80\"}",  // above U+10FFFF
      "{\"type\":\"hello\",\"agent\":\"\x80\"}",                     // lone continuation byte
  };
  for (const std::string& text : bad) {
    SCOPED_TRACE(Abbrev(text));
    auto peer = Peer();
    peer->SendText(text);
    EXPECT_FALSE(peer->Await<p2p::ErrorMsg>(10s).has_value());
    EXPECT_TRUE(peer->closed() && !peer->timed_out());
    EXPECT_EQ(peer->close_code(), kCloseBadPayload);
    ExpectUnchanged();
  }
  // Valid multi-byte UTF-8 and escapes are fine.
  ExpectTolerated(
      Msg("ping", {{"nonce", "1"}, {"x", "\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""}}));
  ExpectTolerated(Msg("ping", {{"nonce", "1"}, {"x", "\"\\ud83d\\ude00 \\u0000\""}}));
}

// --- Types and fields --------------------------------------------------------

class HostileFieldTest : public HostileP2pTest {
 protected:
  // Every wrong type and the absence of each field of a message, sent where
  // such a message belongs (`first`: instead of a hello).
  void ExpectEachFieldChecked(const std::string& type, const Fields& fields,
                              const std::vector<std::pair<std::string, Kind>>& kinds,
                              bool first = false) {
    ASSERT_FALSE(kinds.empty());
    for (const auto& [name, kind] : kinds) {
      for (const std::string& wrong : WrongTypes(kind)) {
        const std::string reason =
            ExpectRefused(Msg(type, Replace(fields, name, wrong)), "'" + name + "'", first);
        EXPECT_NE(reason.find("malformed message: " + type + ":"), std::string::npos) << reason;
      }
      if (kind == Kind::kNodeId) continue;  // optional
      ExpectRefused(Msg(type, Remove(fields, name)), "'" + name + "' is missing", first);
    }
  }
  // The same for each field of a block, in a `block` and in a `blocks`
  // message.
  void ExpectEachBlockFieldChecked() {
    const Block b = NextBlock();
    const Fields fields = BlockFields(b);
    const std::vector<std::pair<std::string, Kind>> kinds = {
        {"version", Kind::kUInt},  {"height", Kind::kUInt},    {"lastHash", Kind::kHash},
        {"dataHash", Kind::kHash}, {"timestamp", Kind::kUInt}, {"difficulty", Kind::kUInt},
        {"nonce", Kind::kUInt},    {"hash", Kind::kHash}};
    auto in_block = [](const Fields& f) { return Msg("block", {{"block", Object(f)}}); };
    auto in_blocks = [](const Fields& f) {
      return Msg("blocks", {{"blocks", "[" + Object(f) + "]"}});
    };
    for (const auto& [name, kind] : kinds) {
      for (const std::string& wrong : WrongTypes(kind)) {
        ExpectRefused(in_block(Replace(fields, name, wrong)),
                      "'block': block field '" + name + "'");
        ExpectRefused(in_blocks(Replace(fields, name, wrong)),
                      "'blocks'[0]: block field '" + name + "'");
      }
    }
    for (const auto& [name, value] : fields) {
      ExpectRefused(in_block(Remove(fields, name)), "block field '" + name + "' is missing");
      ExpectRefused(in_blocks(Remove(fields, name)), "block field '" + name + "' is missing");
    }
    // The second of two blocks is named.
    ExpectRefused(Msg("blocks", {{"blocks", "[" + Object(fields) + "," +
                                                Object(Replace(fields, "nonce", "\"7\"")) + "]"}}),
                  "'blocks'[1]: block field 'nonce'");
  }
};

TEST_F(HostileFieldTest, WrongTypesInHelloAreRefused) {
  const Fields hello = {{"version", "2"},   {"genesis", Quoted(genesis_hex_)},
                        {"height", "0"},    {"tip", Quoted(genesis_hex_)},
                        {"work", "\"0\""},  {"port", "null"},
                        {"agent", "\"x\""}, {"nodeId", "\"0123456789abcdef\""}};
  ExpectEachFieldChecked("hello", hello,
                         {{"version", Kind::kUInt},
                          {"genesis", Kind::kHash},
                          {"height", Kind::kUInt},
                          {"tip", Kind::kHash},
                          {"work", Kind::kWork},
                          {"port", Kind::kPort},
                          {"agent", Kind::kString},
                          {"nodeId", Kind::kNodeId}},
                         /*first=*/true);
  // The same hello is fine, with or without nodeId, members in any order.
  auto peer = Opened();
  Fields reordered(hello.rbegin(), hello.rend());
  peer->SendText(Msg("hello", Remove(reordered, "nodeId")));
  EXPECT_TRUE(Served(*peer));
}

TEST_F(HostileFieldTest, WrongTypesInBlockFieldsAreRefused) { ExpectEachBlockFieldChecked(); }

TEST_F(HostileFieldTest, WrongTypesInOtherMessagesAreRefused) {
  const std::string hash = Quoted(genesis_hex_);
  ExpectEachFieldChecked("ping", {{"nonce", "1"}}, {{"nonce", Kind::kUInt}});
  ExpectEachFieldChecked("pong", {{"nonce", "1"}}, {{"nonce", Kind::kUInt}});
  ExpectEachFieldChecked("getblocks", {{"locator", "[" + hash + "]"}, {"limit", "10"}},
                         {{"locator", Kind::kArray}, {"limit", Kind::kUInt}});
  ExpectEachFieldChecked("getheaders", {{"locator", "[" + hash + "]"}, {"limit", "10"}},
                         {{"locator", Kind::kArray}, {"limit", Kind::kUInt}});
  ExpectEachFieldChecked("headers", {{"headers", "[]"}}, {{"headers", Kind::kArray}});
  ExpectEachFieldChecked("getdata", {{"hashes", "[" + hash + "]"}}, {{"hashes", Kind::kArray}});
  ExpectEachFieldChecked("blocks", {{"blocks", "[]"}}, {{"blocks", Kind::kArray}});
  ExpectEachFieldChecked("block", {{"block", BlockToJson(NextBlock())}}, {{"block", Kind::kBlock}});
  ExpectEachFieldChecked("peers", {{"peers", "[]"}}, {{"peers", Kind::kArray}});
  ExpectEachFieldChecked("error", {{"reason", "\"x\""}}, {{"reason", Kind::kString}});
  // Items of the wrong type inside the lists.
  for (const std::string wrong : {"1", "null", "[]", "{}"}) {
    ExpectRefused(Msg("getblocks", {{"locator", "[" + hash + "," + wrong + "]"}, {"limit", "1"}}),
                  "'locator'[1]");
    ExpectRefused(Msg("blocks", {{"blocks", "[" + std::string(wrong) + "]"}}), "'blocks'[0]");
    ExpectRefused(Msg("headers", {{"headers", "[" + std::string(wrong) + "]"}}), "'headers'[0]");
    ExpectRefused(Msg("getdata", {{"hashes", "[" + hash + "," + wrong + "]"}}), "'hashes'[1]");
    ExpectRefused(Msg("peers", {{"peers", "[\"ws://127.0.0.1:1\"," + std::string(wrong) + "]"}}),
                  "'peers'[1]");
  }
}

TEST_F(HostileFieldTest, UnknownOrMistypedMessageTypesAreRefused) {
  ExpectRefused("{\"nonce\":1}", "no 'type'");
  ExpectRefused("{}", "no 'type'");
  for (const std::string wrong : {"42", "null", "true", "[\"ping\"]", "{\"ping\":1}"}) {
    ExpectRefused("{\"type\":" + wrong + ",\"nonce\":1}", "'type' must be a string");
  }
  for (const std::string name : {"launch-missiles", "PING", "Ping", " ping", "ping ", "", "pin"}) {
    ExpectRefused(Msg(name, {{"nonce", "1"}}), "unknown message type");
  }
  // A long type full of control characters is quoted, escaped and cut: the
  // reason is safe to log.
  const std::string reason = ExpectRefused(
      "{\"type\":\"\\u001b[31m\\n\\r" + std::string(5000, 'x') + "\"}", "unknown message type");
  EXPECT_LT(reason.size(), 200u) << reason;
  EXPECT_EQ(reason.find('\n'), std::string::npos);
  EXPECT_EQ(reason.find('\x1b'), std::string::npos);
  EXPECT_NE(reason.find("..."), std::string::npos) << reason;
  // Unknown members are ignored: a later version may add fields.
  ExpectTolerated(Msg("ping", {{"nonce", "1"}, {"extra", "{\"deep\":[1,{\"x\":null}]}"}}));
  ExpectTolerated(Msg("getpeers", {{"nonce", "\"anything\""}}));
  ExpectTolerated(Msg("blocks", {{"blocks", "[]"}, {"more", "true"}}));
}

// --- Numbers -----------------------------------------------------------------

class HostileNumberTest : public HostileP2pTest {};

TEST_F(HostileNumberTest, OutOfRangeNumbersAreRefused) {
  const std::vector<std::string> never = {
      "18446744073709551616",        // 2^64
      "36893488147419103232",        // 2^65
      "99999999999999999999999999",  // far above
      std::string(10000, '9'),       // a huge digit string
      "-1",
      "-0",
      "-18446744073709551615",
      "1.0",
      "0.5",
      "1.5e3",
      "1e3",
      "1E3",
      "1e+3",
      "1e-3",
      "0e0",
  };
  // u64 fields: ping and pong nonce, hello height; block height, timestamp
  // and nonce.
  for (const std::string& n : never) {
    ExpectRefused(Msg("ping", {{"nonce", n}}), "'nonce' must be an integer from 0 to");
    ExpectRefused(Msg("pong", {{"nonce", n}}), "'nonce' must be an integer from 0 to");
  }
  const Block b = NextBlock();
  for (const std::string field : {"height", "timestamp", "nonce", "difficulty", "version"}) {
    for (const std::string& n : {std::string("18446744073709551616"), std::string("-1"),
                                 std::string("1.0"), std::string("1e3"), std::string(500, '7')}) {
      ExpectRefused(Msg("block", {{"block", Object(Replace(BlockFields(b), field, n))}}),
                    "block field '" + std::string(field) + "' must be an integer");
    }
  }
  // u32 fields: 2^32 is one too many.
  for (const std::string field : {"difficulty", "version"}) {
    ExpectRefused(
        Msg("block", {{"block", Object(Replace(BlockFields(b), field, "4294967296"))}}),
        "block field '" + std::string(field) + "' must be an integer from 0 to 4294967295");
  }
  const Fields getblocks = {{"locator", "[" + Quoted(genesis_hex_) + "]"}, {"limit", "1"}};
  for (const std::string n : {"4294967296", "0", "-1", "1.0", "1e2", "18446744073709551616"}) {
    ExpectRefused(Msg("getblocks", Replace(getblocks, "limit", n)),
                  "'limit' must be an integer from 1 to 4294967295");
  }
  const Fields hello = {{"version", "2"},  {"genesis", Quoted(genesis_hex_)},
                        {"height", "0"},   {"tip", Quoted(genesis_hex_)},
                        {"work", "\"0\""}, {"port", "null"},
                        {"agent", "\"x\""}};
  for (const std::string n : {"4294967296", "-1", "1.0", "1e0"}) {
    ExpectRefused(Msg("hello", Replace(hello, "version", n)), "'version' must be an integer",
                  /*first=*/true);
  }
  for (const std::string n : {"18446744073709551616", "-1", "0.0"}) {
    ExpectRefused(Msg("hello", Replace(hello, "height", n)), "'height' must be an integer", true);
  }
  for (const std::string n : {"0", "65536", "4294967297", "-5001", "5001.0", "5e3"}) {
    ExpectRefused(Msg("hello", Replace(hello, "port", n)), "'port' must be null or an integer",
                  true);
  }
  // Leading zeros are not JSON at all.
  ExpectRefused(Msg("ping", {{"nonce", "01"}}), "leading zeros");
  ExpectRefused(Msg("ping", {{"nonce", "-01"}}), "leading zeros");
  ExpectRefused(Msg("ping", {{"nonce", "00"}}), "leading zeros");
  ExpectRefused(Msg("ping", {{"nonce", "1."}}), "digit after the decimal point");
  ExpectRefused(Msg("ping", {{"nonce", "1e"}}), "digit in the exponent");
  ExpectRefused(Msg("ping", {{"nonce", "+1"}}), "invalid JSON");
  ExpectRefused(Msg("ping", {{"nonce", "0x10"}}), "invalid JSON");
  // A block whose data holds a number canonical JSON cannot carry exactly.
  Fields exact = BlockFields(b);
  exact = Replace(exact, "data", "{\"n\":9007199254740993}");
  ExpectRefused(Msg("block", {{"block", Object(exact)}}), "block field 'data'");
  // The edges of the ranges are fine.
  auto peer = Peer();
  EXPECT_TRUE(Served(*peer, 18446744073709551615ull));
  EXPECT_TRUE(Served(*peer, 0));
  peer->SendText(Msg("getblocks", Replace(getblocks, "limit", "4294967295")));
  EXPECT_TRUE(peer->Await<p2p::Blocks>(10s).has_value());
  auto edge = Opened();
  edge->SendText(
      Msg("hello", Replace(Replace(hello, "port", "65535"), "height", "18446744073709551615")));
  EXPECT_TRUE(Served(*edge));
}

// --- Hex -------------------------------------------------------------------

class HostileHexTest : public HostileP2pTest {};

TEST_F(HostileHexTest, InvalidHexIsRefused) {
  const std::string g = genesis_hex_;
  const std::string upper = Upper(g);
  const std::vector<std::string> bad_hashes = {
      g.substr(0, 63),                       // short by one digit
      g.substr(0, 62),                       // short by one byte
      g + "0",                               // long by one digit
      g + "00",                              // long by one byte
      "",                                    // empty
      "g" + g.substr(1),                     // not hex
      "0x" + g.substr(2),                    // a prefix
      " " + g.substr(1),                     // a space
      g.substr(0, 63) + "-",                 // a sign
      std::string(64, 'z'),                  //
      g.substr(0, 60) + "\xC3\xA9\xC3\xA9",  // 64 bytes, not 64 hex digits
  };
  const Block b = NextBlock();
  for (const std::string& h : bad_hashes) {
    const std::string q = Quoted(h);
    ExpectRefused(Msg("getblocks", {{"locator", "[" + q + "]"}, {"limit", "1"}}),
                  "'locator'[0] must be a string of 64 hex digits");
    for (const std::string field : {"lastHash", "dataHash", "hash"}) {
      ExpectRefused(Msg("block", {{"block", Object(Replace(BlockFields(b), field, q))}}),
                    "block field '" + std::string(field) + "' must be 64 hex digits");
    }
  }
  const Fields hello = {{"version", "2"},   {"genesis", Quoted(g)}, {"height", "0"},
                        {"tip", Quoted(g)}, {"work", "\"0\""},      {"port", "null"},
                        {"agent", "\"x\""}};
  for (const std::string& h : {g.substr(0, 63), g + "0", "x" + g.substr(1), std::string()}) {
    ExpectRefused(Msg("hello", Replace(hello, "genesis", Quoted(h))), "'genesis'", true);
    ExpectRefused(Msg("hello", Replace(hello, "tip", Quoted(h))), "'tip'", true);
  }
  for (const std::string& w :
       {std::string(), std::string(65, '1'), std::string("0x1"), std::string("-1"),
        std::string("1g"), std::string(" 1"), std::string("1 ")}) {
    ExpectRefused(Msg("hello", Replace(hello, "work", Quoted(w))),
                  "'work' must be a string of 1 to 64 hex digits", true);
  }
  for (const std::string& id :
       {std::string(), std::string(65, 'a'), std::string("xyz"), std::string("0x12")}) {
    Fields with_id = hello;
    with_id.emplace_back("nodeId", Quoted(id));
    ExpectRefused(Msg("hello", with_id), "'nodeId' must be a string of 1 to 64 hex digits", true);
  }
  // Upper-case hex is accepted (docs/protocol.md: "either case"): a hello,
  // a locator, and a valid block written in upper case.
  {
    Fields up = Replace(Replace(hello, "genesis", Quoted(upper)), "tip", Quoted(upper));
    up.emplace_back("nodeId", Quoted("ABCDEF0123456789"));
    auto peer = Opened();
    peer->SendText(Msg("hello", up));
    EXPECT_TRUE(Served(*peer));
    peer->SendText(Msg("getblocks", {{"locator", "[" + Quoted(upper) + "]"}, {"limit", "5"}}));
    const auto blocks = peer->Await<p2p::Blocks>(10s);
    ASSERT_TRUE(blocks.has_value());
    EXPECT_TRUE(blocks->blocks.empty());  // nothing after genesis yet
    Fields block = BlockFields(b);
    block = Replace(block, "lastHash", Quoted(upper));
    block = Replace(block, "dataHash", Quoted(Upper(HexEncode(b.header.data_hash))));
    block = Replace(block, "hash", Quoted(Upper(HexEncode(b.hash))));
    peer->SendText(Msg("block", {{"block", Object(block)}}));
    ExpectTip(b);
    EXPECT_TRUE(Served(*peer));
  }
}

// --- Limits ----------------------------------------------------------------

class HostileLimitTest : public HostileP2pTest {};

TEST_F(HostileLimitTest, ListAndStringLimitsAreEnforced) {
  const std::string hash = Quoted(genesis_hex_);
  // Locator: 1 to 128 hashes.
  ExpectRefused(Msg("getblocks", {{"locator", ArrayOf(hash, 129)}, {"limit", "1"}}),
                "'locator' has 129 items, more than the limit of 128");
  ExpectRefused(Msg("getblocks", {{"locator", ArrayOf(hash, 60000)}, {"limit", "1"}}),
                "more than the limit of 128");
  ExpectRefused(Msg("getblocks", {{"locator", "[]"}, {"limit", "1"}}),
                "'locator' must be an array");
  // Blocks: at most 2000, counted before any is read.
  const std::string block = BlockToJson(genesis_);
  ExpectRefused(Msg("blocks", {{"blocks", ArrayOf(block, 2001)}}),
                "'blocks' has 2001 items, more than the limit of 2000");
  ExpectRefused(Msg("blocks", {{"blocks", ArrayOf("0", 100000)}}), "more than the limit of 2000");
  // Headers: at most 2000; getdata: 1 to 2000 hashes.
  ExpectRefused(Msg("headers", {{"headers", ArrayOf(block, 2001)}}),
                "'headers' has 2001 items, more than the limit of 2000");
  ExpectRefused(Msg("getdata", {{"hashes", ArrayOf(hash, 2001)}}),
                "'hashes' has 2001 items, more than the limit of 2000");
  ExpectRefused(Msg("getdata", {{"hashes", "[]"}}), "'hashes' must be an array");
  // Peers: at most 1000, each a ws://host:port.
  ExpectRefused(Msg("peers", {{"peers", ArrayOf("\"ws://127.0.0.1:1\"", 1001)}}),
                "'peers' has 1001 items, more than the limit of 1000");
  for (const std::string url :
       {"http://127.0.0.1:1", "ws://127.0.0.1:0", "ws://127.0.0.1:65536", "ws://127.0.0.1",
        "ws://127.0.0.1:1/path", "WS://127.0.0.1:1", "ws://ho st:1", "ws://:1", "wss://a:1",
        "ws://a:1?x", "ws://[::1:1", ""}) {
    ExpectRefused(Msg("peers", {{"peers", "[\"ws://127.0.0.1:1\"," + Quoted(url) + "]"}}),
                  "'peers'[1]");
  }
  ExpectRefused(
      Msg("peers", {{"peers", "[" + Quoted("ws://" + std::string(300, 'a') + ".example:1") + "]"}}),
      "'peers'[0]");
  // agent: at most 256 bytes of UTF-8 (counted in bytes, not characters).
  const Fields hello = {{"version", "2"}, {"genesis", hash}, {"height", "0"},
                        {"tip", hash},    {"work", "\"0\""}, {"port", "null"}};
  auto with_agent = [&](const std::string& agent) {
    Fields f = hello;
    f.emplace_back("agent", Quoted(agent));
    return Msg("hello", f);
  };
  ExpectRefused(with_agent(std::string(257, 'a')), "'agent' must be a string of at most 256 bytes",
                true);
  ExpectRefused(with_agent(Repeat("\xE2\x82\xAC", 86)), "'agent'", true);  // 258 bytes
  // (Far longer, but within the transport's 64 KiB limit on a first frame.)
  ExpectRefused(with_agent(std::string(60000, 'a')), "'agent'", true);
  // reason: at most 1024 bytes.
  ExpectRefused(Msg("error", {{"reason", Quoted(std::string(1025, 'r'))}}),
                "'reason' must be a string of at most 1024 bytes");
  // The edges are fine: 128 hashes, 2000 blocks, 1000 peers, 256-byte
  // agents (with control characters, served escaped by GET /peers).
  auto peer = Peer();
  peer->SendText(Msg("getblocks", {{"locator", ArrayOf(hash, 128)}, {"limit", "1"}}));
  EXPECT_TRUE(peer->Await<p2p::Blocks>(10s).has_value());
  peer->SendText(Msg("blocks", {{"blocks", ArrayOf(block, 2000)}}));  // genesis, known: ignored
  EXPECT_TRUE(Served(*peer));
  std::string many;
  for (int port = 1; port <= 1000; ++port) {
    many +=
        std::string(many.empty() ? "" : ",") + "\"ws://127.0.0.1:" + std::to_string(port) + "\"";
  }
  peer->SendText(Msg("peers", {{"peers", "[" + many + "]"}}));
  EXPECT_TRUE(Served(*peer));
  for (const std::string& agent : {std::string(256, 'a'), Repeat("\xE2\x82\xAC", 85) + "a",
                                   std::string("a\\u0000\\n\\u001b[31m")}) {
    auto p = Opened();
    p->SendText(with_agent(agent));
    EXPECT_TRUE(Served(*p)) << Abbrev(agent);
  }
  const HttpResponse peers = node_->Get("/peers");
  EXPECT_EQ(peers.status, 200);
  EXPECT_TRUE(ParseJson(peers.body).ok()) << Abbrev(peers.body);
  // A reason of 1024 bytes is a valid error message: the node closes, with
  // no error of its own.
  auto reporter = Peer();
  reporter->SendText(Msg("error", {{"reason", Quoted(std::string(1024, 'r'))}}));
  EXPECT_FALSE(reporter->Await<p2p::ErrorMsg>(10s).has_value());
  EXPECT_TRUE(reporter->closed() && !reporter->timed_out());
  ExpectUnchanged();
}

// --- WebSocket frames --------------------------------------------------------

class HostileFrameTest : public HostileP2pTest {
 protected:
  // A raw connection that has done the handshake.
  std::unique_ptr<RawPeer> Raw() {
    auto raw = std::make_unique<RawPeer>();
    EXPECT_TRUE(raw->Handshake(p2p(), genesis_.hash, NextId()));
    return raw;
  }
  // The node answers a P2P ping sent over `raw`.
  static bool RawServed(RawPeer& raw, std::uint64_t nonce) {
    if (!raw.Write(RawPeer::Text(p2p::Encode(p2p::Ping{nonce})))) return false;
    while (auto text = raw.ReadText(10s)) {
      const auto decoded = p2p::Decode(*text);
      const auto* m = std::get_if<p2p::Message>(&decoded);
      if (m == nullptr) continue;
      if (const auto* pong = std::get_if<p2p::Pong>(m); pong && pong->nonce == nonce) return true;
    }
    return false;
  }
};

TEST_F(HostileFrameTest, OversizedAndBinaryFramesCloseTheConnection) {
  // A frame of exactly 4 MiB is fine.
  const std::string head = "{\"type\":\"ping\",\"nonce\":7,\"pad\":\"";
  const std::string exact = head + std::string(kMaxFrame - head.size() - 2, 'p') + "\"}";
  ASSERT_EQ(exact.size(), kMaxFrame);
  auto fits = Peer();
  fits->SendText(exact);
  const auto pong = fits->Await<p2p::Pong>(20s);
  EXPECT_TRUE(pong.has_value() && pong->nonce == 7);
  // One byte more closes the connection: no error message (the frame is
  // not read), a close frame "too big" when it gets through.
  const std::string over = head + std::string(kMaxFrame - head.size() - 1, 'p') + "\"}";
  ASSERT_EQ(over.size(), kMaxFrame + 1);
  auto big = Peer();
  big->SendText(over);
  EXPECT_TRUE(big->WaitClosed(20s));
  ExpectUnchanged();
  // The same with only the header sent: the node refuses on the length.
  {
    auto raw = Raw();
    raw->Write(RawPeer::Frame(0x81, "", Claiming(kMaxFrame + 1)));
    EXPECT_TRUE(raw->WaitClosed(10s));
    EXPECT_EQ(raw->close_code(), kCloseTooBig);
  }
  // A message fragmented into frames under the limit but over it in all.
  {
    auto raw = Raw();
    raw->Write(RawPeer::Frame(0x01, std::string(3 << 20, 'a')));
    raw->Write(RawPeer::Frame(0x00, std::string(1 << 20, 'a')));
    raw->Write(RawPeer::Frame(0x80, "", Claiming(1)));
    EXPECT_TRUE(raw->WaitClosed(10s));
    EXPECT_EQ(raw->close_code(), kCloseTooBig);
  }
  // Binary frames, small, empty or large, close with "unknown data".
  for (const std::string& bytes : {std::string("\x00\x01\x02", 3), std::string(),
                                   p2p::Encode(p2p::Ping{1}), std::string(1 << 20, 'b')}) {
    auto binary = Peer();
    binary->SendBinary(bytes);
    EXPECT_FALSE(binary->Await<p2p::ErrorMsg>(10s).has_value());
    EXPECT_TRUE(binary->closed() && !binary->timed_out());
    EXPECT_EQ(binary->close_code(), kCloseUnknownData) << bytes.size() << " bytes";
  }
  ExpectUnchanged();
}

TEST_F(HostileFrameTest, LyingOrIllegalFramesCloseTheConnection) {
  struct Case {
    const char* name;
    std::string bytes;
    std::uint16_t code;
  };
  const std::string ping = p2p::Encode(p2p::Ping{1});
  using LF = RawPeer::LengthForm;
  const std::vector<Case> cases = {
      {"64-bit length of 2^62", RawPeer::Frame(0x81, "", Claiming(1ull << 62)), kCloseTooBig},
      {"64-bit length with the top bit set", RawPeer::Frame(0x81, "", Claiming(1ull << 63)),
       kCloseTooBig},
      {"64-bit length of 2^64-1", RawPeer::Frame(0x81, ping, Claiming(~0ull)), kCloseTooBig},
      {"16-bit length for 5 bytes", RawPeer::Frame(0x81, "hello", InForm(LF::k16)),
       kCloseProtocolError},
      {"64-bit length for 100 bytes", RawPeer::Frame(0x81, std::string(100, 'x'), InForm(LF::k64)),
       kCloseProtocolError},
      {"unmasked frame from a client", RawPeer::Frame(0x81, ping, Unmasked()), kCloseProtocolError},
      {"reserved data opcode 0x3", RawPeer::Frame(0x83, ping), kCloseProtocolError},
      {"reserved data opcode 0x7", RawPeer::Frame(0x87, ping), kCloseProtocolError},
      {"reserved control opcode 0xb", RawPeer::Frame(0x8B, ""), kCloseProtocolError},
      {"reserved control opcode 0xf", RawPeer::Frame(0x8F, "x"), kCloseProtocolError},
      {"fragmented ping", RawPeer::Frame(0x09, "x"), kCloseProtocolError},
      {"fragmented close", RawPeer::Frame(0x08, "\x03\xE8"), kCloseProtocolError},
      {"ping of 126 bytes", RawPeer::Frame(0x89, std::string(126, 'p')), kCloseProtocolError},
      {"RSV1 without an extension", RawPeer::Frame(0xC1, ping), kCloseProtocolError},
      {"RSV2", RawPeer::Frame(0xA1, ping), kCloseProtocolError},
      {"RSV3", RawPeer::Frame(0x91, ping), kCloseProtocolError},
      {"RSV1 on a ping", RawPeer::Frame(0xC9, ""), kCloseProtocolError},
      {"continuation with nothing to continue", RawPeer::Frame(0x80, ping), kCloseProtocolError},
      {"new message inside a fragmented one",
       RawPeer::Frame(0x01, "{\"type\":") + RawPeer::Frame(0x81, ping), kCloseProtocolError},
      {"close with a 1-byte body", RawPeer::Frame(0x88, "\x03"), kCloseProtocolError},
      {"close with code 999", RawPeer::Frame(0x88, "\x03\xE7"), kCloseProtocolError},
      {"close with reserved code 1005", RawPeer::Frame(0x88, "\x03\xED"), kCloseProtocolError},
      {"close with reserved code 1016", RawPeer::Frame(0x88, "\x03\xF8"), kCloseProtocolError},
      {"close whose reason is not UTF-8", RawPeer::Frame(0x88, "\x03\xE8\xFF"),
       kCloseProtocolError},
      {"text not UTF-8", RawPeer::Frame(0x81, "\xFF\xFE"), kCloseBadPayload},
      {"text with a UTF-8 surrogate", RawPeer::Frame(0x81, "\"\xED\xB0\x80\""), kCloseBadPayload},
      {"invalid UTF-8 split across fragments",
       RawPeer::Frame(0x01, "\"\xE2\x82") + RawPeer::Frame(0x80, "\x41\""), kCloseBadPayload},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto raw = Raw();
    ASSERT_TRUE(RawServed(*raw, 1));
    raw->Write(c.bytes);
    EXPECT_TRUE(raw->WaitClosed(10s)) << "not closed";
    EXPECT_EQ(raw->close_code(), c.code);
    ExpectUnchanged();
  }
  // A normal peer is served meanwhile.
  auto peer = Peer();
  EXPECT_TRUE(Served(*peer));
}

TEST_F(HostileFrameTest, LegalButUnusualFramesAreServed) {
  auto raw = Raw();
  const std::string ping = p2p::Encode(p2p::Ping{77});
  // A WebSocket ping is answered with a pong carrying its payload.
  raw->Write(RawPeer::Frame(0x89, "are you there"));
  EXPECT_EQ(raw->ReadPong(10s), std::optional<std::string>("are you there"));
  // An unsolicited WebSocket pong is ignored.
  raw->Write(RawPeer::Frame(0x8A, "unasked"));
  // A message in three fragments, with a ping and an empty fragment between.
  raw->Write(RawPeer::Frame(0x01, ping.substr(0, 5)));
  raw->Write(RawPeer::Frame(0x89, "mid"));
  raw->Write(RawPeer::Frame(0x00, ""));
  raw->Write(RawPeer::Frame(0x00, ping.substr(5, 7)));
  raw->Write(RawPeer::Frame(0x80, ping.substr(12)));
  EXPECT_EQ(raw->ReadPong(10s), std::optional<std::string>("mid"));
  EXPECT_TRUE(RawServed(*raw, 77));
  // The 16-bit and 64-bit length forms where they are the shortest.
  const std::string mid =
      "{\"type\":\"ping\",\"nonce\":78,\"pad\":\"" + std::string(200, 'x') + "\"}";
  raw->Write(RawPeer::Frame(0x81, mid));
  const std::string large =
      "{\"type\":\"ping\",\"nonce\":79,\"pad\":\"" + std::string(70000, 'x') + "\"}";
  raw->Write(RawPeer::Frame(0x81, large));
  EXPECT_TRUE(RawServed(*raw, 80));
  // One byte at a time.
  for (char c : RawPeer::Text(p2p::Encode(p2p::Ping{81}))) raw->Write(std::string(1, c));
  EXPECT_TRUE(RawServed(*raw, 82));
  // A close from the peer is answered with a close.
  raw->Write(RawPeer::Frame(0x88,
                            "\x03\xE8"
                            "bye"));
  EXPECT_TRUE(raw->WaitClosed(10s));
  EXPECT_EQ(raw->close_code(), kCloseNormal);
  ExpectUnchanged();
}

TEST_F(HostileFrameTest, AConnectionFailedForABadFrameIsReleased) {
  // The node fails the WebSocket on a bad frame and sends its close; a peer
  // that then keeps its end of the TCP connection open must not keep the
  // node's peer slot: the node drops the peer promptly (well before its
  // keepalive would, 15 s + 30 s).
  auto raw = Raw();
  ASSERT_TRUE(RawServed(*raw, 1));
  ASSERT_TRUE(WaitUntil([&] { return PeerCount() == 1; }, 10s));
  raw->Write(RawPeer::Frame(0x83, "x"));  // a reserved opcode
  ASSERT_TRUE(raw->WaitClosed(10s));      // the close frame, then the node's FIN
  EXPECT_EQ(raw->close_code(), kCloseProtocolError);
  // Our socket stays open (raw is alive and never closes it).
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(WaitUntil([&] { return PeerCount() == 0; }, 5s))
      << "the node still counts the failed connection as a peer after 5 s";
  std::printf("peer released %lld ms after the bad frame\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count()));
}

// --- Connections ---------------------------------------------------------------

class HostileConnectionTest : public HostileP2pTest {};

TEST_F(HostileConnectionTest, StalledConnectionsAreClosedWhileOthersAreServed) {
  // All stall at once; each ends by a 10 s timeout (the TCP connect plus
  // upgrade, or the hello), and meanwhile the node serves everyone else.
  const auto start = std::chrono::steady_clock::now();
  struct Stalled {
    const char* name;
    std::unique_ptr<RawPeer> raw = std::make_unique<RawPeer>();
  };
  std::vector<Stalled> stalled;
  stalled.push_back({"TCP connect, no upgrade"});
  ASSERT_TRUE(stalled.back().raw->Connect(p2p()));
  stalled.push_back({"half an upgrade request"});
  ASSERT_TRUE(stalled.back().raw->Connect(p2p()));
  stalled.back().raw->Write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
  stalled.push_back({"upgrade, no hello"});
  ASSERT_TRUE(stalled.back().raw->Upgrade(p2p()));
  stalled.push_back({"upgrade, one byte of a frame"});
  ASSERT_TRUE(stalled.back().raw->Upgrade(p2p()));
  stalled.back().raw->Write("\x81");
  stalled.push_back({"upgrade, a frame header without its mask key"});
  ASSERT_TRUE(stalled.back().raw->Upgrade(p2p()));
  stalled.back().raw->Write(RawPeer::Frame(0x81, "x").substr(0, 3));
  stalled.push_back({"upgrade, 16-bit length 1000 and 10 bytes of it"});
  ASSERT_TRUE(stalled.back().raw->Upgrade(p2p()));
  stalled.back().raw->Write(
      RawPeer::Frame(0x81, "{\"type\":\"h", Claiming(1000, RawPeer::LengthForm::k16)));
  stalled.push_back({"upgrade, 16-bit length 60000 and 100 bytes of it"});
  ASSERT_TRUE(stalled.back().raw->Upgrade(p2p()));
  stalled.back().raw->Write(RawPeer::Frame(0x81, std::string(100, ' '), Claiming(60000)));
  stalled.push_back({"upgrade, hello cut short"});
  ASSERT_TRUE(stalled.back().raw->Upgrade(p2p()));
  const std::string hello_frame = RawPeer::Text(p2p::Encode(p2p::Hello{}));
  stalled.back().raw->Write(hello_frame.substr(0, hello_frame.size() - 1));
  // After the handshake, half a message: nothing bounds it but the
  // keepalive (30 s after a ping), so only "others are served" is asserted.
  auto after_hello = std::make_unique<RawPeer>();
  ASSERT_TRUE(after_hello->Handshake(p2p(), genesis_.hash, NextId()));
  after_hello->Write(RawPeer::Frame(0x81, "{\"type\"", Claiming(500)));

  // Others are served meanwhile: peers, HTTP, blocks.
  for (int i = 0; i < 3; ++i) {
    auto peer = Peer();
    EXPECT_TRUE(Served(*peer));
    EXPECT_EQ(node_->Get("/status").status, 200);
    const Block b = NextBlock("\"while stalled " + std::to_string(i) + "\"");
    peer->Send(p2p::BlockMsg{b});
    ExpectTip(b);
  }
  // Not closed early.
  for (Stalled& s : stalled) EXPECT_TRUE(s.raw->StillOpen(10ms)) << s.name;
  for (Stalled& s : stalled) {
    SCOPED_TRACE(s.name);
    EXPECT_TRUE(s.raw->WaitClosed(25s)) << "still open";
    // The upgraded ones got the node's hello and nothing else: a timeout is
    // not a protocol violation.
    for (std::size_t i = 1; i < s.raw->texts().size(); ++i) {
      EXPECT_EQ(s.raw->texts()[i].find("\"error\""), std::string::npos) << s.raw->texts()[i];
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 9s);  // by the timeouts, not sooner
  EXPECT_LT(took, 30s);
  auto peer = Peer();
  EXPECT_TRUE(Served(*peer));
}

TEST_F(HostileConnectionTest, ConnectionsBeyondTheInboundCapAreClosedAtOnce) {
  // 64 connections that never upgrade fill the inbound cap; more are closed
  // at once, and HTTP is served throughout.
  std::vector<std::unique_ptr<RawPeer>> held;
  for (int i = 0; i < 64; ++i) {
    held.push_back(std::make_unique<RawPeer>());
    ASSERT_TRUE(held.back()->Connect(p2p()));
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<RawPeer>> extra;
  for (int i = 0; i < 8; ++i) {
    extra.push_back(std::make_unique<RawPeer>());
    if (!extra.back()->Connect(p2p())) extra.pop_back();  // refused outright is fine too
  }
  for (auto& raw : extra) EXPECT_TRUE(raw->WaitClosed(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "not closed at once";
  TestPeer refused;
  EXPECT_FALSE(refused.Connect(p2p())) << "a WebSocket upgrade got through a full cap";
  EXPECT_EQ(node_->Get("/status").status, 200);
  for (auto& raw : held)
    EXPECT_TRUE(raw->StillOpen(1ms)) << "a connection within the cap was closed";
  // Room again once some go away.
  held.resize(50);
  std::unique_ptr<TestPeer> peer;
  EXPECT_TRUE(WaitUntil(
      [&] {
        peer = std::make_unique<TestPeer>();
        return peer->Handshake(p2p(), genesis_.hash, NextId()).has_value();
      },
      10s));
  EXPECT_TRUE(Served(*peer));
  held.clear();
  ExpectUnchanged();
}

TEST_F(HostileConnectionTest, HelloBeyondTheInboundPeerLimitIsRefused) {
  std::vector<std::unique_ptr<TestPeer>> peers;
  for (int i = 0; i < 32; ++i) peers.push_back(Peer());
  ASSERT_TRUE(WaitUntil([&] { return PeerCount() == 32; }, 20s)) << PeerCount();
  auto one_more = std::make_unique<TestPeer>();
  ASSERT_TRUE(one_more->Handshake(p2p(), genesis_.hash, NextId()).has_value());
  const auto error = one_more->Await<p2p::ErrorMsg>(10s);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "too many peers");
  EXPECT_TRUE(one_more->WaitClosed(10s));
  EXPECT_EQ(PeerCount(), 32u);
  EXPECT_TRUE(Served(*peers.front()));
  // A slot frees when one leaves.
  peers.pop_back();
  ASSERT_TRUE(WaitUntil([&] { return PeerCount() == 31; }, 10s));
  auto next = Peer();
  EXPECT_TRUE(Served(*next));
  EXPECT_EQ(PeerCount(), 32u);
  peers.clear();
  next.reset();
  ASSERT_TRUE(WaitUntil([&] { return PeerCount() == 0; }, 10s));
  ExpectUnchanged();
}

// --- Protocol ------------------------------------------------------------------

class HostileProtocolTest : public HostileP2pTest {};

TEST_F(HostileProtocolTest, AnyMessageBeforeHelloIsRefused) {
  const Block b = NextBlock();  // valid, but not before a hello
  const std::vector<p2p::Message> early = {
      p2p::Ping{1},
      p2p::Pong{1},
      p2p::GetPeers{},
      p2p::Peers{{"ws://127.0.0.1:1"}},
      p2p::GetBlocks{{genesis_.hash}, 10},
      p2p::BlockMsg{b},
      p2p::Blocks{{b}},
      p2p::Blocks{},
      p2p::ErrorMsg{"early"},
  };
  for (const p2p::Message& m : early) {
    ExpectRefused(p2p::Encode(m), std::string(p2p::TypeName(m)) + " before hello", /*first=*/true);
  }
  // Without even reading the node's hello.
  TestPeer eager;
  ASSERT_TRUE(eager.Connect(p2p()));
  eager.Send(p2p::BlockMsg{b});
  const auto error = eager.Await<p2p::ErrorMsg>(10s);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "block before hello");
  EXPECT_TRUE(eager.WaitClosed(10s));
  ExpectUnchanged();
}

TEST_F(HostileProtocolTest, BadHellosAreRefused) {
  // A second hello.
  p2p::Hello hello;
  hello.genesis = genesis_.hash;
  hello.tip = genesis_.hash;
  hello.agent = "again";
  ExpectRefused(p2p::Encode(hello), "hello sent twice");
  // Another network, or another protocol version: error and close.
  p2p::Hello other = hello;
  other.genesis = MakeGenesis(Params::Main()).hash;
  other.tip = other.genesis;
  EXPECT_NE(ExpectRefused(p2p::Encode(other), "another network", /*first=*/true)
                .find(HexEncode(other.genesis)),
            std::string::npos);
  other.genesis[0] ^= 1;
  ExpectRefused(p2p::Encode(other), "another network", true);
  for (const std::uint32_t version : {0u, 1u, 4u, 4294967295u}) {
    p2p::Hello v = hello;
    v.version = version;
    ExpectRefused(p2p::Encode(v), "unsupported protocol version " + std::to_string(version), true);
  }
  // The node's own id: it takes itself for the peer and closes, quietly.
  TestPeer mirror;
  ASSERT_TRUE(mirror.Connect(p2p()));
  const auto theirs = mirror.Await<p2p::Hello>();
  ASSERT_TRUE(theirs.has_value());
  p2p::Hello self = hello;
  self.node_id = theirs->node_id;
  mirror.Send(self);
  EXPECT_FALSE(mirror.Await<p2p::ErrorMsg>(10s).has_value());
  EXPECT_TRUE(mirror.closed() && !mirror.timed_out());
  ExpectUnchanged();
}

TEST_F(HostileProtocolTest, DuplicateNodeIdsKeepOneConnection) {
  // Both connections come in; the node keeps the one "dialled" by the
  // smaller id: the newer when the peer's id is smaller than the node's,
  // the older otherwise.
  const std::string low = "0000000000000000";
  auto first_low = Peer(low);
  ASSERT_TRUE(Served(*first_low));
  auto second_low = Peer(low);
  EXPECT_TRUE(first_low->WaitClosed(10s)) << "the older connection stayed";
  EXPECT_TRUE(Served(*second_low));
  const std::string high(64, 'f');
  auto first_high = Peer(high);
  ASSERT_TRUE(Served(*first_high));
  auto second_high = Peer(high);
  EXPECT_TRUE(second_high->WaitClosed(10s)) << "the newer connection stayed";
  EXPECT_TRUE(Served(*first_high));
  EXPECT_TRUE(WaitUntil([&] { return PeerCount() == 2; }, 10s));
  ExpectUnchanged();
}

TEST_F(HostileProtocolTest, HarmlessOddMessagesAreTolerated) {
  auto peer = Peer();
  // A pong for a ping never sent.
  peer->Send(p2p::Pong{123456});
  EXPECT_TRUE(Served(*peer));
  // Blocks nobody asked for, empty; and blocks the node already has.
  peer->Send(p2p::Blocks{});
  peer->Send(p2p::Blocks{{genesis_}});
  peer->Send(p2p::BlockMsg{genesis_});
  EXPECT_TRUE(Served(*peer));
  // getpeers is answered (with the other handshaked peer).
  auto other = Peer();
  peer->Send(p2p::GetPeers{});
  EXPECT_TRUE(peer->Await<p2p::Peers>(10s).has_value());
  // getblocks with hashes the node does not know: the answer starts after
  // genesis.
  Hash32 unknown{};
  unknown[0] = 0x42;
  peer->Send(p2p::GetBlocks{{unknown, unknown}, 10});
  const auto answer = peer->Await<p2p::Blocks>(10s);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->blocks.empty());
  // A hello that claims far more work than it has: the node asks for its
  // headers; an answer that ends short of the claim is a lie, punished.
  auto liar = std::make_unique<TestPeer>();
  ASSERT_TRUE(liar->Connect(p2p()));
  ASSERT_TRUE(liar->Await<p2p::Hello>().has_value());
  p2p::Hello big;
  big.genesis = genesis_.hash;
  big.height = 1'000'000;
  big.tip[0] = 0x77;
  big.work = ~Work(0);
  big.agent = "liar";
  big.node_id = NextId();
  liar->Send(big);
  const auto ask = liar->Await<p2p::GetHeaders>(10s);
  ASSERT_TRUE(ask.has_value());
  EXPECT_EQ(ask->locator.back(), genesis_.hash);
  liar->Send(p2p::Headers{});
  const auto lie = liar->Await<p2p::ErrorMsg>(10s);
  ASSERT_TRUE(lie.has_value());
  EXPECT_NE(lie->reason.find("claimed work"), std::string::npos) << lie->reason;
  EXPECT_TRUE(liar->WaitClosed(10s));
  // An error from the peer: the node closes, without an error of its own.
  peer->Send(p2p::ErrorMsg{"I am leaving"});
  EXPECT_FALSE(peer->Await<p2p::ErrorMsg>(10s).has_value());
  EXPECT_TRUE(peer->closed() && !peer->timed_out());
  EXPECT_TRUE(Served(*other));
  ExpectUnchanged();
}

// --- Blocks --------------------------------------------------------------------

class HostileBlockTest : public HostileP2pTest {};

TEST_F(HostileBlockTest, BlocksBreakingEachRuleAreRefusedInBlockAndBlocks) {
  struct Case {
    const char* name;
    void (*spoil)(Block&, const BlockHeader& parent);
    const char* rule;  // the BlockErrorName in the error, or nullptr: not punished
  };
  const std::vector<Case> cases = {
      {"changed data", [](Block& b, const BlockHeader&) { b.data = "\"forged\""; },
       "bad-data-hash"},
      {"claimed hash", [](Block& b, const BlockHeader&) { b.hash[5] ^= 1; }, "bad-hash"},
      {"no proof of work",
       [](Block& b, const BlockHeader&) {
         for (b.header.nonce = 0;; ++b.header.nonce) {
           b.hash = b.header.ComputeHash();
           if (LeadingZeroBits(b.hash) < b.header.difficulty) return;
         }
       },
       "high-hash"},
      {"wrong difficulty",
       [](Block& b, const BlockHeader&) {
         b.header.difficulty += 2;
         test::Solve(b);
       },
       "bad-difficulty"},
      {"difficulty 0",
       [](Block& b, const BlockHeader&) {
         b.header.difficulty = 0;
         b.hash = b.header.ComputeHash();
       },
       "bad-difficulty"},
      {"difficulty 256",
       [](Block& b, const BlockHeader&) {
         b.header.difficulty = 256;
         b.hash = b.header.ComputeHash();
       },
       "bad-difficulty"},
      {"wrong height",
       [](Block& b, const BlockHeader&) {
         b.header.height += 1;
         test::Solve(b);
       },
       "bad-height"},
      {"height 2^64-1",
       [](Block& b, const BlockHeader&) {
         b.header.height = ~std::uint64_t{0};
         test::Solve(b);
       },
       "bad-height"},
      {"bad version",
       [](Block& b, const BlockHeader&) {
         b.header.version = 9;
         test::Solve(b);
       },
       "bad-version"},
      {"version 0",
       [](Block& b, const BlockHeader&) {
         b.header.version = 0;
         test::Solve(b);
       },
       "bad-version"},
      {"time before median", [](Block& b, const BlockHeader& parent) { Retime(b, parent, 1); },
       "time-too-old"},
      {"time equal to the median",
       [](Block& b, const BlockHeader& parent) { Retime(b, parent, parent.timestamp); },
       "time-too-old"},
      {"far future",
       [](Block& b, const BlockHeader& parent) {
         Retime(b, parent, b.header.timestamp + 3'600'000);
       },
       nullptr},
      {"timestamp 2^64-1",
       [](Block& b, const BlockHeader& parent) { Retime(b, parent, ~std::uint64_t{0}); }, nullptr},
      {"oversize data",
       [](Block& b, const BlockHeader&) {
         test::SetDataAndSolve(b, "\"" + std::string(1100000, 'x') + "\"");
       },
       "oversize"},
  };
  for (const Case& c : cases) {
    for (const bool in_blocks : {false, true}) {
      SCOPED_TRACE(std::string(c.name) + (in_blocks ? " in blocks" : " in block"));
      const Block parent = TipBlock();
      Block b = NextBlock();
      c.spoil(b, parent.header);
      auto peer = Peer();
      if (in_blocks) {
        peer->Send(p2p::Blocks{{b}});
      } else {
        peer->Send(p2p::BlockMsg{b});
      }
      if (c.rule != nullptr) {
        const auto error = peer->Await<p2p::ErrorMsg>(10s);
        ASSERT_TRUE(error.has_value());
        EXPECT_NE(error->reason.find("invalid block"), std::string::npos) << error->reason;
        EXPECT_NE(error->reason.find(c.rule), std::string::npos) << error->reason;
        EXPECT_TRUE(peer->WaitClosed(10s));
      } else {
        // Not punished (it may become valid later): the connection stays.
        EXPECT_TRUE(Served(*peer));
      }
      ExpectUnchanged();
      EXPECT_EQ(node_->Get("/blocks/" + HexEncode(b.hash)).status, 404);
    }
  }
}

TEST_F(HostileBlockTest, BlocksAnswersThatDoNotLink) {
  // [valid, orphan]: the valid block is accepted, the orphan is not kept
  // (its parent unknown), and the peer is not punished.
  Block b1 = NextBlock("\"b1\"");
  Block stray = Orphan(1);
  auto peer = Peer();
  peer->Send(p2p::Blocks{{b1, stray}});
  ExpectTip(b1);
  EXPECT_TRUE(Served(*peer));
  EXPECT_EQ(node_->Get("/blocks/" + HexEncode(stray.hash)).status, 404);
  // Out of order, [child, parent]: taken parents first, both connect.
  test::ChainBuilder builder(kRegtest, ParseAndCheckChain(node_->Get("/blocks").body, kRegtest));
  const Block b2 = builder.Add(NowMs() - builder.tip().header.timestamp, "\"b2\"");
  const Block b3 = builder.Add(1, "\"b3\"");
  peer->Send(p2p::Blocks{{b3, b2}});
  ExpectTip(b3);
  EXPECT_TRUE(Served(*peer));
  // [valid, child with a wrong difficulty]: the valid one is kept, the bad
  // one refused and the peer punished.
  test::ChainBuilder more(kRegtest, ParseAndCheckChain(node_->Get("/blocks").body, kRegtest));
  const Block c1 = more.Add(NowMs() - more.tip().header.timestamp, "\"c1\"");
  Block c2 = more.Add(1, "\"c2\"");
  c2.header.difficulty += 1;
  test::Solve(c2);
  auto punished = Peer();
  punished->Send(p2p::Blocks{{c1, c2}});
  const auto error = punished->Await<p2p::ErrorMsg>(10s);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->reason.find("bad-difficulty"), std::string::npos) << error->reason;
  EXPECT_TRUE(punished->WaitClosed(10s));
  ExpectTip(c1);
  EXPECT_EQ(node_->Get("/blocks/" + HexEncode(c2.hash)).status, 404);
  // [bad first, valid second]: the bad one is named and the peer dropped;
  // nothing after it in that message is looked at.
  const Block d1 = NextBlock("\"d1\"");
  Block bad = d1;
  bad.data = "\"forged\"";
  auto punished2 = Peer();
  punished2->Send(p2p::Blocks{{bad, d1}});
  const auto error2 = punished2->Await<p2p::ErrorMsg>(10s);
  ASSERT_TRUE(error2.has_value());
  EXPECT_NE(error2->reason.find("bad-data-hash"), std::string::npos) << error2->reason;
  EXPECT_TRUE(punished2->WaitClosed(10s));
  ExpectUnchanged();
  EXPECT_EQ(node_->Get("/blocks/" + HexEncode(d1.hash)).status, 404);
}

TEST_F(HostileBlockTest, AnotherNetworksGenesisIsNotAccepted) {
  // The main network's genesis sent to a regtest node: it need not meet
  // proof of work and does not, so it is refused as such.
  const Block main = MakeGenesis(Params::Main());
  ASSERT_LT(LeadingZeroBits(main.hash), main.header.difficulty);
  ExpectRefused(p2p::Encode(p2p::BlockMsg{main}), "high-hash");
  ExpectRefused(p2p::Encode(p2p::Blocks{{main}}), "high-hash");
  // A genesis-like block that does meet its proof of work has no parent the
  // node knows: not kept, and the node asks the peer for its headers.
  Block lookalike = MakeGenesis(kRegtest);
  test::SetDataAndSolve(lookalike, "{\"network\":\"elsewhere\"}");
  auto peer = Peer();
  peer->Send(p2p::BlockMsg{lookalike});
  const auto ask = peer->Await<p2p::GetHeaders>(10s);
  ASSERT_TRUE(ask.has_value());
  EXPECT_EQ(ask->locator.back(), genesis_.hash);
  EXPECT_TRUE(Served(*peer));
  // The node's own genesis again: a duplicate, ignored.
  peer->Send(p2p::BlockMsg{genesis_});
  EXPECT_TRUE(Served(*peer));
  ExpectUnchanged();
}

TEST_F(HostileBlockTest, OrphanFloodsAreNotKeptAndCostTheConnection) {
  // Blocks whose parent nobody has shown are not held anywhere: each gets
  // a getheaders (one at a time), and beyond the junk limit (100 at once)
  // the peer is dropped.
  auto peer = Peer();
  for (std::uint64_t i = 0; i < 100; ++i) peer->Send(p2p::BlockMsg{Orphan(i)});
  EXPECT_TRUE(peer->Await<p2p::GetHeaders>(20s).has_value());
  EXPECT_TRUE(Served(*peer));
  ExpectUnchanged();
  // 2000 more (the most one message may carry): the first is one too many.
  p2p::Blocks batch;
  for (std::uint64_t i = 0; i < 2000; ++i) batch.blocks.push_back(Orphan(1000 + i));
  peer->Send(batch);
  const auto error = peer->Await<p2p::ErrorMsg>(20s);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->reason.find("unrequested blocks"), std::string::npos) << error->reason;
  EXPECT_TRUE(peer->WaitClosed(10s));
  ExpectUnchanged();
  // Twenty of about 1 MB on a fresh connection: not kept either.
  auto heavy = Peer();
  for (std::uint64_t i = 0; i < 20; ++i) {
    heavy->Send(p2p::BlockMsg{Orphan(5000 + i, "\"" + std::string(1000000, 'o') + "\"")});
  }
  EXPECT_TRUE(Served(*heavy));
  ExpectUnchanged();
  for (std::uint64_t i : {0ull, 99ull, 1999ull}) {
    EXPECT_EQ(node_->Get("/blocks/" + HexEncode(Orphan(i).hash)).status, 404);
  }
  EXPECT_EQ(node_->Get("/status").status, 200);
}

TEST_F(HostileBlockTest, UnsolicitedValidBlocksAreAccepted) {
  // The policy does not punish blocks nobody asked for: valid ones are
  // accepted like an announcement, and the connection stays.
  auto peer = Peer();
  const Block b = NextBlock("\"unasked\"");
  peer->Send(p2p::Blocks{{b}});
  ExpectTip(b);
  EXPECT_TRUE(Served(*peer));
  // Sent again, in both forms: duplicates, ignored.
  peer->Send(p2p::Blocks{{b}});
  peer->Send(p2p::BlockMsg{b});
  EXPECT_TRUE(Served(*peer));
  ExpectUnchanged();
}

}  // namespace
}  // namespace powchain::itest
