#include "p2p/protocol.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "primitives/block_json.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"
#include "util/url.h"

namespace powchain::p2p {
namespace {

using Limits = ProtocolLimits;

// ---------------------------------------------------------------------------
// Helpers

Hash32 Filled(std::uint8_t byte) {
  Hash32 h;
  h.fill(byte);
  return h;
}

// A block with fixed, easily recognised fields. Decoding does not check
// consensus rules, so the hashes need not match the header.
Block FixedBlock() {
  Block b;
  b.header.version = 1;
  b.header.height = 7;
  b.header.last_hash = Filled(0x22);
  b.header.data_hash = Filled(0x33);
  b.header.timestamp = 1700000000000;
  b.header.difficulty = 12;
  b.header.nonce = 99;
  b.hash = Filled(0x44);
  b.data = R"({"a":[1,"x"]})";
  return b;
}

// Real, valid blocks: a genesis and three children in the tiny world.
const std::vector<Block>& RealBlocks() {
  static const std::vector<Block> blocks = [] {
    test::ChainBuilder chain(test::TinyParams());
    chain.AddFast(R"({"note":"first","n":1})");
    chain.AddSlow(R"(["é\"\\",null,true,1.5])");
    chain.Add(1000, "{}");
    return chain.blocks();
  }();
  return blocks;
}

HashedHeader FixedHeader() { return HashedHeader{FixedBlock().header, FixedBlock().hash}; }

std::vector<HashedHeader> RealHeaders() {
  std::vector<HashedHeader> out;
  for (const Block& b : RealBlocks()) out.push_back(HashedHeader{b.header, b.hash});
  return out;
}

Hello SampleHello() {
  Hello h;
  h.version = kProtocolVersion;
  h.genesis = Filled(0x11);
  h.height = 42;
  h.tip = Filled(0xab);
  h.work = 500;
  h.port = 5001;
  h.agent = "powchain/0.1.0";
  h.node_id = "0123456789abcdef";
  return h;
}

bool Same(const Hello& a, const Hello& b) {
  return a.version == b.version && a.genesis == b.genesis && a.height == b.height &&
         a.tip == b.tip && a.work == b.work && a.port == b.port && a.agent == b.agent &&
         a.node_id == b.node_id;
}
bool Same(const BlockMsg& a, const BlockMsg& b) { return a.block == b.block; }
bool Same(const GetBlocks& a, const GetBlocks& b) {
  return a.locator == b.locator && a.limit == b.limit;
}
bool Same(const GetHeaders& a, const GetHeaders& b) {
  return a.locator == b.locator && a.limit == b.limit;
}
bool Same(const Headers& a, const Headers& b) { return a.headers == b.headers; }
bool Same(const GetData& a, const GetData& b) { return a.hashes == b.hashes; }
bool Same(const Blocks& a, const Blocks& b) { return a.blocks == b.blocks; }
bool Same(const GetPeers&, const GetPeers&) { return true; }
bool Same(const Peers& a, const Peers& b) { return a.peers == b.peers; }
bool Same(const Ping& a, const Ping& b) { return a.nonce == b.nonce; }
bool Same(const Pong& a, const Pong& b) { return a.nonce == b.nonce; }
bool Same(const ErrorMsg& a, const ErrorMsg& b) { return a.reason == b.reason; }
bool Same(const TxMsg& a, const TxMsg& b) { return a.tx == b.tx; }
bool Same(const GetMempool&, const GetMempool&) { return true; }
bool Same(const MempoolTxids& a, const MempoolTxids& b) { return a.txids == b.txids; }
bool Same(const GetTxs& a, const GetTxs& b) { return a.txids == b.txids; }
bool Same(const Txs& a, const Txs& b) { return a.txs == b.txs; }

// A signed-looking spend (the codec does not check signatures).
Transaction SampleTx() {
  Transaction tx;
  tx.inputs.push_back(TxIn{OutPoint{Filled(5), 3}, {}});
  tx.inputs[0].sig.fill(0x5a);
  tx.outputs.push_back(MakeTxOut("powrt", Filled(9), 123456789));
  tx.outputs.push_back(MakeTxOut("pow", Filled(8), 1));
  return tx;
}

bool Same(const Message& a, const Message& b) {
  if (a.index() != b.index()) return false;
  return std::visit([&b](const auto& x) { return Same(x, std::get<std::decay_t<decltype(x)>>(b)); },
                    a);
}

std::string Describe(const std::variant<Message, DecodeFailure>& r) {
  if (const auto* f = std::get_if<DecodeFailure>(&r)) return "failure: " + f->message;
  return "message of type " + std::string(TypeName(std::get<Message>(r)));
}

// Decodes `text`, which must be valid.
Message MustDecode(std::string_view text) {
  auto r = Decode(text);
  if (const auto* f = std::get_if<DecodeFailure>(&r)) {
    ADD_FAILURE() << "cannot decode " << text.substr(0, 200) << ": " << f->message;
    return GetPeers{};
  }
  return std::get<Message>(std::move(r));
}

// Decodes `text`, which must be refused, and returns the failure.
DecodeFailure MustFail(std::string_view text) {
  auto r = Decode(text);
  if (const auto* f = std::get_if<DecodeFailure>(&r)) return *f;
  ADD_FAILURE() << "decoded " << text.substr(0, 200) << " as " << Describe(r);
  return {DecodeError::kMalformedJson, ""};
}

// `text` with its single occurrence of `from` replaced by `to`.
std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  EXPECT_EQ(text.find(from, pos + 1), std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

// A block in its JSON form with `data` (a JSON text) in place of its data.
std::string BlockJsonWithData(std::string_view data) {
  return Replace(BlockToJson(FixedBlock()), R"("data":{"a":[1,"x"]})",
                 "\"data\":" + std::string(data));
}

std::string Nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A JSON array of `n` copies of `item`.
std::string ArrayOf(std::size_t n, std::string_view item) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ',';
    out += item;
  }
  return out + "]";
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The frames of the examples in docs/protocol.md.
std::string Hash11() { return std::string(64, '1'); }
std::string HelloText() {
  return R"({"type":"hello","version":3,"genesis":")" + Hash11() + R"(","height":42,"tip":")" +
         HexEncode(Filled(0xab)) +
         R"(","work":"1f4","port":5001,"agent":"powchain/0.1.0","nodeId":"0123456789abcdef"})";
}
std::string GetBlocksText() {
  return R"({"type":"getblocks","locator":[")" + Hash11() + R"("],"limit":500})";
}
std::string HeadersText() {
  return R"({"type":"headers","headers":[)" + HeaderToJson(FixedHeader()) + "]}";
}
std::string GetDataText() { return R"({"type":"getdata","hashes":[")" + Hash11() + R"("]})"; }
std::string BlockText() { return R"({"type":"block","block":)" + BlockToJson(FixedBlock()) + "}"; }

// ---------------------------------------------------------------------------
// Round trips and the exact wire form

std::vector<Message> SampleMessages() {
  Hello no_port = SampleHello();
  no_port.port.reset();
  no_port.node_id.clear();
  no_port.work = 0;
  Hello extremes = SampleHello();
  extremes.version = std::numeric_limits<std::uint32_t>::max();
  extremes.height = std::numeric_limits<std::uint64_t>::max();
  extremes.work = ~Work(0);
  extremes.port = 65535;
  extremes.agent = "quote \" backslash \\ tab \t nul " + std::string(1, '\0') +
                   " del \x7f é 中 😀 \u2028 </script>";
  extremes.node_id = std::string(64, 'F');

  GetBlocks getblocks;
  for (const Block& b : RealBlocks()) getblocks.locator.push_back(b.hash);
  getblocks.limit = std::numeric_limits<std::uint32_t>::max();

  return {
      SampleHello(),
      no_port,
      extremes,
      BlockMsg{RealBlocks().back()},
      BlockMsg{FixedBlock()},
      GetHeaders{getblocks.locator, 2000},
      GetHeaders{{Filled(0)}, 1},
      Headers{},
      Headers{RealHeaders()},
      Headers{{FixedHeader()}},
      GetData{{Filled(0)}},
      GetData{getblocks.locator},
      getblocks,
      GetBlocks{{Filled(0)}, 1},
      Blocks{},
      Blocks{RealBlocks()},
      GetPeers{},
      Peers{},
      Peers{{"ws://localhost:5001", "ws://10.0.0.1:65535", "ws://[::1]:1", "ws://a-b.example:80"}},
      Ping{0},
      Ping{std::numeric_limits<std::uint64_t>::max()},
      Pong{12345},
      ErrorMsg{""},
      ErrorMsg{"bad block: \"hash\" \\ mismatch\n😀"},
      TxMsg{SampleTx()},
      GetMempool{},
      MempoolTxids{},
      MempoolTxids{getblocks.locator},
      GetTxs{{Filled(7)}},
      Txs{},
      Txs{{SampleTx(), SampleTx()}},
  };
}

TEST(ProtocolTest, RoundTripsEveryMessage) {
  const std::vector<Message> messages = SampleMessages();
  std::vector<bool> seen(std::variant_size_v<Message>, false);
  for (const Message& m : messages) {
    seen[m.index()] = true;
    const std::string text = Encode(m);
    SCOPED_TRACE(text.substr(0, 300));
    const Message back = MustDecode(text);
    EXPECT_TRUE(Same(back, m));
    EXPECT_EQ(TypeName(back), TypeName(m));
    EXPECT_EQ(Encode(back), text);
    EXPECT_EQ(text.rfind("{\"type\":\"" + std::string(TypeName(m)) + "\"", 0), 0u);
  }
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(seen[i]) << "alternative " << i;
}

TEST(ProtocolTest, NamesEveryType) {
  EXPECT_EQ(TypeName(Hello{}), "hello");
  EXPECT_EQ(TypeName(BlockMsg{}), "block");
  EXPECT_EQ(TypeName(GetHeaders{}), "getheaders");
  EXPECT_EQ(TypeName(Headers{}), "headers");
  EXPECT_EQ(TypeName(GetData{}), "getdata");
  EXPECT_EQ(TypeName(GetBlocks{}), "getblocks");
  EXPECT_EQ(TypeName(Blocks{}), "blocks");
  EXPECT_EQ(TypeName(GetPeers{}), "getpeers");
  EXPECT_EQ(TypeName(Peers{}), "peers");
  EXPECT_EQ(TypeName(Ping{}), "ping");
  EXPECT_EQ(TypeName(Pong{}), "pong");
  EXPECT_EQ(TypeName(ErrorMsg{}), "error");
  EXPECT_EQ(TypeName(TxMsg{}), "tx");
  EXPECT_EQ(TypeName(GetMempool{}), "getmempool");
  EXPECT_EQ(TypeName(MempoolTxids{}), "mempool");
  EXPECT_EQ(TypeName(GetTxs{}), "gettxs");
  EXPECT_EQ(TypeName(Txs{}), "txs");
}

// The answer to getdata/getblocks is put together from stored JSON forms;
// it must be exactly what Encode writes for the same blocks.
TEST(ProtocolTest, BlocksFromStoredJsonEqualEncode) {
  EXPECT_EQ(EncodeBlocksJson(""), Encode(Blocks{}));
  const std::vector<Block> blocks = RealBlocks();
  std::string items;
  for (const Block& b : blocks) {
    if (!items.empty()) items += ',';
    items += BlockToJson(b);
  }
  EXPECT_EQ(EncodeBlocksJson(items), Encode(Blocks{blocks}));
  EXPECT_EQ(EncodeBlocksJson(BlockToJson(blocks.front())), Encode(Blocks{{blocks.front()}}));
}

// The frames below are the examples of docs/protocol.md.
TEST(ProtocolTest, WritesTheDocumentedWireForm) {
  EXPECT_EQ(Encode(SampleHello()), HelloText());

  Hello anonymous = SampleHello();
  anonymous.port.reset();
  anonymous.node_id.clear();
  EXPECT_EQ(Encode(anonymous), R"({"type":"hello","version":3,"genesis":")" + Hash11() +
                                   R"(","height":42,"tip":")" + HexEncode(Filled(0xab)) +
                                   R"(","work":"1f4","port":null,"agent":"powchain/0.1.0"})");

  EXPECT_EQ(Encode(BlockMsg{FixedBlock()}),
            R"({"type":"block","block":{"version":1,"height":7,"lastHash":")" +
                std::string(64, '2') + R"(","dataHash":")" + std::string(64, '3') +
                R"(","timestamp":1700000000000,"difficulty":12,"nonce":99,"hash":")" +
                std::string(64, '4') + R"(","data":{"a":[1,"x"]},"txs":[]}})");
  EXPECT_EQ(Encode(GetBlocks{{Filled(0x11)}, 500}), GetBlocksText());
  EXPECT_EQ(Encode(GetHeaders{{Filled(0x11)}, 2000}),
            R"({"type":"getheaders","locator":[")" + Hash11() + R"("],"limit":2000})");
  EXPECT_EQ(Encode(Headers{{FixedHeader()}}),
            R"({"type":"headers","headers":[{"version":1,"height":7,"lastHash":")" +
                std::string(64, '2') + R"(","dataHash":")" + std::string(64, '3') +
                R"(","timestamp":1700000000000,"difficulty":12,"nonce":99,"hash":")" +
                std::string(64, '4') + R"("}]})");
  EXPECT_EQ(Encode(Headers{}), R"({"type":"headers","headers":[]})");
  EXPECT_EQ(Encode(GetData{{Filled(0x11)}}), GetDataText());
  EXPECT_EQ(Encode(Blocks{}), R"({"type":"blocks","blocks":[]})");
  EXPECT_EQ(Encode(Blocks{{FixedBlock(), FixedBlock()}}), R"({"type":"blocks","blocks":[)" +
                                                              BlockToJson(FixedBlock()) + "," +
                                                              BlockToJson(FixedBlock()) + "]}");
  EXPECT_EQ(Encode(GetPeers{}), R"({"type":"getpeers"})");
  EXPECT_EQ(Encode(Peers{{"ws://127.0.0.1:5002", "ws://[::1]:5003"}}),
            R"({"type":"peers","peers":["ws://127.0.0.1:5002","ws://[::1]:5003"]})");
  EXPECT_EQ(Encode(Ping{18446744073709551615u}), R"({"type":"ping","nonce":18446744073709551615})");
  EXPECT_EQ(Encode(Pong{7}), R"({"type":"pong","nonce":7})");
  EXPECT_EQ(Encode(ErrorMsg{"genesis mismatch"}),
            R"({"type":"error","reason":"genesis mismatch"})");
}

// Every example frame in docs/protocol.md decodes and is written back byte
// for byte, so the reference cannot drift from the code.
TEST(ProtocolTest, DocumentedExamplesAreExact) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "../../../docs/protocol.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  bool in_json = false;
  int frames = 0;
  while (std::getline(in, line)) {
    if (line == "```json") {
      in_json = true;
    } else if (line == "```") {
      in_json = false;
    } else if (in_json) {
      SCOPED_TRACE(line.substr(0, 120));
      EXPECT_EQ(Encode(MustDecode(line)), line);
      ++frames;
    }
  }
  EXPECT_GE(frames, 10);
}

TEST(ProtocolTest, EscapesStringsCanonically) {
  ErrorMsg m{std::string("a\"b\\c/d\b\f\n\r\t") + '\0' + "\x1f\x7f é😀"};
  EXPECT_EQ(Encode(m), std::string(R"({"type":"error","reason":"a\"b\\c/d\b\f\n\r\t\u0000\u001f)") +
                           "\x7f é😀\"}");
}

TEST(ProtocolTest, ReadsWhatOtherWritersMaySend) {
  // Any member order, whitespace, escapes, upper-case hex, extra fields.
  const Message m = MustDecode(
      " {\n \"extra\": {\"x\": [1, 2.5e3, null]}, \"nodeId\": \"ABCDEF\", \"agent\": "
      "\"caf\\u00e9 \\ud83d\\ude00 \\/\",\n\"port\": null, \"work\": \"00001F4\", \"tip\": \"" +
      std::string(64, 'A') + "\", \"height\": 0, \"genesis\": \"" + std::string(64, 'f') +
      "\", \"version\": 4294967295, \"type\": \"hello\" } ");
  ASSERT_TRUE(std::holds_alternative<Hello>(m));
  const Hello& h = std::get<Hello>(m);
  EXPECT_EQ(h.version, 4294967295u);
  EXPECT_EQ(h.genesis, Filled(0xff));
  EXPECT_EQ(h.tip, Filled(0xaa));
  EXPECT_EQ(h.height, 0u);
  EXPECT_EQ(h.work, Work(500));
  EXPECT_FALSE(h.port.has_value());
  EXPECT_EQ(h.agent, "café 😀 /");
  EXPECT_EQ(h.node_id, "ABCDEF");

  // nodeId is optional.
  const Message anonymous = MustDecode(Replace(HelloText(), R"(,"nodeId":"0123456789abcdef")", ""));
  EXPECT_EQ(std::get<Hello>(anonymous).node_id, "");

  // Unknown fields of every message are ignored.
  EXPECT_TRUE(std::holds_alternative<GetPeers>(
      MustDecode(R"({"type":"getpeers","peers":"ignored","more":[[{}]]})")));
  EXPECT_EQ(std::get<Ping>(MustDecode(R"({"nonce":5,"type":"ping","later":true})")).nonce, 5u);
}

TEST(ProtocolTest, StoresPeerUrlsInCanonicalForm) {
  const Message m = MustDecode(R"({"type":"peers","peers":["ws://host:05001","ws://[::1]:80"]})");
  EXPECT_EQ(std::get<Peers>(m).peers,
            (std::vector<std::string>{"ws://host:5001", "ws://[::1]:80"}));
}

TEST(ProtocolTest, AcceptsEveryLimitExactly) {
  Hello hello = SampleHello();
  hello.agent = std::string(Limits::kMaxAgentLength, 'a');
  hello.port = 1;
  EXPECT_TRUE(Same(MustDecode(Encode(hello)), hello));

  GetBlocks getblocks{std::vector<Hash32>(Limits::kMaxLocator, Filled(1)), 1};
  EXPECT_TRUE(Same(MustDecode(Encode(getblocks)), getblocks));

  Blocks blocks{std::vector<Block>(Limits::kMaxBlocksPerMessage, FixedBlock())};
  EXPECT_TRUE(Same(MustDecode(Encode(blocks)), blocks));

  Headers headers{std::vector<HashedHeader>(Limits::kMaxHeadersPerMessage, FixedHeader())};
  EXPECT_TRUE(Same(MustDecode(Encode(headers)), headers));
  headers.headers.push_back(FixedHeader());
  EXPECT_EQ(MustFail(Encode(headers)).error, DecodeError::kTooMany);

  GetData getdata{std::vector<Hash32>(Limits::kMaxGetData, Filled(2))};
  EXPECT_TRUE(Same(MustDecode(Encode(getdata)), getdata));
  getdata.hashes.push_back(Filled(3));
  EXPECT_EQ(MustFail(Encode(getdata)).error, DecodeError::kTooMany);
  EXPECT_EQ(MustFail(Encode(GetData{})).error, DecodeError::kBadField);

  GetHeaders getheaders{std::vector<Hash32>(Limits::kMaxLocator, Filled(1)), 1};
  EXPECT_TRUE(Same(MustDecode(Encode(getheaders)), getheaders));

  Peers peers{std::vector<std::string>(Limits::kMaxPeersPerMessage, "ws://p:1")};
  EXPECT_TRUE(Same(MustDecode(Encode(peers)), peers));

  ErrorMsg error{std::string(Limits::kMaxReasonLength - 2, 'r') + "é"};
  EXPECT_TRUE(Same(MustDecode(Encode(error)), error));
}

// Block data may nest kMaxDepth levels in both block messages, although the
// message around it adds up to three more.
TEST(ProtocolTest, BlockDataMayNestToTheDepthLimit) {
  Block deep = FixedBlock();
  deep.data = Nested(Limits::kMaxDepth);
  EXPECT_TRUE(Same(MustDecode(Encode(BlockMsg{deep})), BlockMsg{deep}));
  EXPECT_TRUE(Same(MustDecode(Encode(Blocks{{FixedBlock(), deep}})), Blocks{{FixedBlock(), deep}}));

  deep.data = Nested(Limits::kMaxDepth + 1);
  EXPECT_EQ(MustFail(Encode(BlockMsg{deep})).error, DecodeError::kBadBlock);
  deep.data = R"({"a":)" + Nested(Limits::kMaxDepth - 1) + "}";
  EXPECT_TRUE(Same(MustDecode(Encode(Blocks{{deep}})), Blocks{{deep}}));
  deep.data = R"({"a":)" + Nested(Limits::kMaxDepth) + "}";
  EXPECT_EQ(MustFail(Encode(BlockMsg{deep})).error, DecodeError::kBadBlock);
  // In a "blocks" message the whole text is then too deep for the reader.
  EXPECT_EQ(MustFail(Encode(Blocks{{deep}})).error, DecodeError::kMalformedJson);
}

TEST(ProtocolTest, EncodeCutsLongTextAtACharacterBoundary) {
  // 1023 bytes of 'r' then a two-byte character: the character must go whole.
  ErrorMsg error{std::string(Limits::kMaxReasonLength - 1, 'r') + "é and more"};
  const Message back = MustDecode(Encode(error));
  EXPECT_EQ(std::get<ErrorMsg>(back).reason, std::string(Limits::kMaxReasonLength - 1, 'r'));

  Hello hello = SampleHello();
  hello.agent = std::string(Limits::kMaxAgentLength - 3, 'a') + "😀";  // 4-byte character
  EXPECT_EQ(std::get<Hello>(MustDecode(Encode(hello))).agent,
            std::string(Limits::kMaxAgentLength - 3, 'a'));
  hello.agent = std::string(Limits::kMaxAgentLength + 10, 'b');
  EXPECT_EQ(std::get<Hello>(MustDecode(Encode(hello))).agent,
            std::string(Limits::kMaxAgentLength, 'b'));
}

TEST(ProtocolTest, EncodeRepairsInvalidUtf8) {
  ErrorMsg error{"ok \xff \xc3 \xed\xa0\x80 end"};
  const Message back = MustDecode(Encode(error));
  EXPECT_EQ(std::get<ErrorMsg>(back).reason,
            "ok \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST(ProtocolTest, FailureMessagesSayWhatAndWhere) {
  EXPECT_EQ(MustFail(Replace(GetBlocksText(), "500", "0")).message,
            "getblocks: 'limit' must be an integer from 1 to 4294967295");
  EXPECT_EQ(MustFail(Replace(HelloText(), "5001", "0")).message,
            "hello: 'port' must be null or an integer from 1 to 65535");
  EXPECT_EQ(MustFail(R"({"type":"ping"})").message, "ping: 'nonce' is missing");
  EXPECT_EQ(MustFail(R"({"type":"getblocks","locator":["00"],"limit":1})").message,
            "getblocks: 'locator'[0] must be a string of 64 hex digits");
  // An unknown type is quoted with escapes and cut short, safe for a log line.
  EXPECT_EQ(MustFail(R"({"type":"bad\ntype"})").message, R"(unknown message type "bad\ntype")");
  EXPECT_EQ(MustFail(R"({"type":")" + std::string(100, 'x') + "\"}").message,
            "unknown message type \"" + std::string(32, 'x') + "\"...");
  EXPECT_NE(MustFail(R"({"type":"blocks","blocks":[{}]})").message.find("'blocks'[0]"),
            std::string::npos);
  EXPECT_EQ(MustFail(Replace(HeadersText(), R"("nonce":99,)", "")).message,
            "headers: 'headers'[0]: block field 'nonce' is missing");
  EXPECT_EQ(MustFail(R"({"type":"getdata","hashes":["00"]})").message,
            "getdata: 'hashes'[0] must be a string of 64 hex digits");
  EXPECT_EQ(MustFail(R"({"type":"getheaders","locator":[],"limit":1})").message,
            "getheaders: 'locator' must be an array of 1 to 128 hashes");
}

// ---------------------------------------------------------------------------
// Malformed input

struct BadCase {
  std::string name;
  std::string text;
  DecodeError expected;
};

std::vector<BadCase> BadCases() {
  using E = DecodeError;
  const std::string ping = R"({"type":"ping","nonce":1})";
  const std::string hello = HelloText();
  const std::string getblocks = GetBlocksText();
  const std::string block = BlockText();
  const std::string fixed = BlockToJson(FixedBlock());
  const std::string five_mb(std::size_t{5} * 1000 * 1000, 'x');
  auto hello_with = [&](std::string_view from, std::string_view to) {
    return Replace(hello, from, to);
  };
  auto block_msg = [](std::string_view block_json) {
    return R"({"type":"block","block":)" + std::string(block_json) + "}";
  };
  auto peers = [](std::string_view list) {
    return R"({"type":"peers","peers":)" + std::string(list) + "}";
  };
  auto locator = [](std::string_view list) {
    return R"({"type":"getblocks","locator":)" + std::string(list) + R"(,"limit":10})";
  };
  return {
      // Not JSON, or not an object.
      {"empty text", "", E::kMalformedJson},
      {"only whitespace", " \n", E::kMalformedJson},
      {"not JSON", "hello", E::kMalformedJson},
      {"truncated", ping.substr(0, ping.size() - 1), E::kMalformedJson},
      {"truncated in a string", R"({"type":"pi)", E::kMalformedJson},
      {"trailing garbage", ping + "x", E::kMalformedJson},
      {"two objects", ping + ping, E::kMalformedJson},
      {"trailing comma", R"({"type":"ping","nonce":1,})", E::kMalformedJson},
      {"single quotes", "{'type':'ping','nonce':1}", E::kMalformedJson},
      {"duplicate key", R"({"type":"ping","type":"pong","nonce":1})", E::kMalformedJson},
      {"array", "[]", E::kMalformedJson},
      {"array holding a message", "[" + ping + "]", E::kMalformedJson},
      {"number", "42", E::kMalformedJson},
      {"string", "\"ping\"", E::kMalformedJson},
      {"null", "null", E::kMalformedJson},
      {"100,000 [", std::string(100000, '['), E::kMalformedJson},
      {"100,000 balanced []", Nested(100000), E::kMalformedJson},
      {"deep unknown field", R"({"type":"getpeers","x":)" + Nested(Limits::kMaxDepth + 3) + "}",
       E::kMalformedJson},
      {"invalid UTF-8 byte", "{\"type\":\"error\",\"reason\":\"\xff\"}", E::kMalformedJson},
      {"overlong UTF-8", "{\"type\":\"error\",\"reason\":\"\xc0\xaf\"}", E::kMalformedJson},
      {"UTF-8 surrogate", "{\"type\":\"error\",\"reason\":\"\xed\xa0\x80\"}", E::kMalformedJson},
      {"truncated UTF-8", "{\"type\":\"error\",\"reason\":\"\xe4\xb8\"}", E::kMalformedJson},
      {"lone high surrogate escape", R"({"type":"error","reason":"\ud800"})", E::kMalformedJson},
      {"lone low surrogate escape", R"({"type":"error","reason":"\udc00x"})", E::kMalformedJson},
      {"reversed surrogate escapes", R"({"type":"error","reason":"\udc00\ud800"})",
       E::kMalformedJson},
      {"raw control character", "{\"type\":\"error\",\"reason\":\"a\nb\"}", E::kMalformedJson},
      {"NUL byte after the object", ping + std::string(1, '\0'), E::kMalformedJson},
      {"leading zero number", R"({"type":"ping","nonce":01})", E::kMalformedJson},

      // The type.
      {"empty object", "{}", E::kUnknownType},
      {"type missing", R"({"nonce":1})", E::kUnknownType},
      {"type number", R"({"type":1,"nonce":1})", E::kUnknownType},
      {"type null", R"({"type":null})", E::kUnknownType},
      {"type array", R"({"type":["ping"],"nonce":1})", E::kUnknownType},
      {"type unknown", R"({"type":"inv"})", E::kUnknownType},
      {"type in upper case", R"({"type":"PING","nonce":1})", E::kUnknownType},
      {"type empty", R"({"type":""})", E::kUnknownType},
      {"type with trailing space", R"({"type":"ping ","nonce":1})", E::kUnknownType},
      {"type 5 MB", R"({"type":")" + five_mb + "\"}", E::kUnknownType},

      // ping / pong nonce.
      {"nonce missing", R"({"type":"ping"})", E::kBadField},
      {"nonce string", R"({"type":"ping","nonce":"1"})", E::kBadField},
      {"nonce null", R"({"type":"pong","nonce":null})", E::kBadField},
      {"nonce negative", R"({"type":"ping","nonce":-1})", E::kBadField},
      {"nonce negative zero", R"({"type":"ping","nonce":-0})", E::kBadField},
      {"nonce fraction", R"({"type":"ping","nonce":1.5})", E::kBadField},
      {"nonce integral fraction", R"({"type":"ping","nonce":1.0})", E::kBadField},
      {"nonce exponent", R"({"type":"pong","nonce":1e3})", E::kBadField},
      {"nonce 2^64", R"({"type":"ping","nonce":18446744073709551616})", E::kBadField},
      {"nonce 1e400", R"({"type":"ping","nonce":1e400})", E::kBadField},

      // Transactions.
      {"tx missing", R"({"type":"tx"})", E::kBadField},
      {"tx not an object", R"({"type":"tx","tx":[]})", E::kBadTx},
      {"tx with an extra member",
       R"({"type":"tx","tx":{"inputs":[],"outputs":[],"version":1,"x":1}})", E::kBadTx},
      {"tx amount negative",
       R"({"type":"tx","tx":{"inputs":[],"outputs":[{"address":"powrt1p","amount":-1}],"version":1}})",
       E::kBadTx},
      {"txs not an array", R"({"type":"txs","txs":{}})", E::kBadField},
      {"txs over the limit", R"({"type":"txs","txs":)" + ArrayOf(101, "{}") + "}", E::kTooMany},
      {"txs with a bad one", R"({"type":"txs","txs":[{}]})", E::kBadTx},
      {"gettxs over the limit",
       R"({"type":"gettxs","txids":)" + ArrayOf(101, Quoted(Hash11())) + "}", E::kTooMany},
      {"mempool txid short", R"({"type":"mempool","txids":[")" + std::string(63, '1') + R"("]})",
       E::kBadField},
      {"mempool over the limit",
       R"({"type":"mempool","txids":)" + ArrayOf(50001, Quoted(Hash11())) + "}", E::kTooMany},

      // hello.
      {"hello version missing", hello_with(R"("version":3,)", ""), E::kBadField},
      {"hello version 2^32", hello_with(R"("version":3)", R"("version":4294967296)"), E::kBadField},
      {"hello version negative", hello_with(R"("version":3)", R"("version":-1)"), E::kBadField},
      {"hello version string", hello_with(R"("version":3)", R"("version":"1")"), E::kBadField},
      {"hello genesis missing", hello_with(R"("genesis":")" + Hash11() + "\",", ""), E::kBadField},
      {"hello genesis 63 digits", hello_with(Hash11(), std::string(63, '1')), E::kBadField},
      {"hello genesis 65 digits", hello_with(Hash11(), std::string(65, '1')), E::kBadField},
      {"hello genesis not hex", hello_with(Hash11(), std::string(63, '1') + "g"), E::kBadField},
      {"hello genesis 0x prefix", hello_with(Hash11(), "0x" + std::string(62, '1')), E::kBadField},
      {"hello genesis number", hello_with(Quoted(Hash11()), "1"), E::kBadField},
      {"hello tip null", hello_with(Quoted(HexEncode(Filled(0xab))), "null"), E::kBadField},
      {"hello height fraction", hello_with(R"("height":42)", R"("height":42.5)"), E::kBadField},
      {"hello height > u64", hello_with(R"("height":42)", R"("height":99999999999999999999)"),
       E::kBadField},
      {"hello work missing", hello_with(R"("work":"1f4",)", ""), E::kBadField},
      {"hello work empty", hello_with(R"("work":"1f4")", R"("work":"")"), E::kBadField},
      {"hello work 0x prefix", hello_with(R"("work":"1f4")", R"("work":"0x1f4")"), E::kBadField},
      {"hello work 65 digits", hello_with("1f4", std::string(65, '1')), E::kBadField},
      {"hello work number", hello_with(R"("work":"1f4")", R"("work":500)"), E::kBadField},
      {"hello port missing", hello_with(R"("port":5001,)", ""), E::kBadField},
      {"hello port 0", hello_with("5001", "0"), E::kBadField},
      {"hello port 65536", hello_with("5001", "65536"), E::kBadField},
      {"hello port negative", hello_with("5001", "-5001"), E::kBadField},
      {"hello port string", hello_with("5001", "\"5001\""), E::kBadField},
      {"hello port exponent", hello_with("5001", "5.001e3"), E::kBadField},
      {"hello agent missing", hello_with(R"("agent":"powchain/0.1.0",)", ""), E::kBadField},
      {"hello agent number", hello_with(R"("powchain/0.1.0")", "1"), E::kBadField},
      {"hello agent null", hello_with(R"("powchain/0.1.0")", "null"), E::kBadField},
      {"hello agent 257 bytes",
       hello_with("powchain/0.1.0", std::string(Limits::kMaxAgentLength + 1, 'a')), E::kBadField},
      {"hello agent 129 two-byte characters",
       hello_with("powchain/0.1.0",
                  [] {
                    std::string s;
                    for (int i = 0; i < 129; ++i) s += "é";
                    return s;
                  }()),
       E::kBadField},
      {"hello agent 5 MB", hello_with("powchain/0.1.0", five_mb), E::kBadField},
      {"hello nodeId empty", hello_with("0123456789abcdef", ""), E::kBadField},
      {"hello nodeId not hex", hello_with("0123456789abcdef", "0123456789abcdeg"), E::kBadField},
      {"hello nodeId 65 digits", hello_with("0123456789abcdef", std::string(65, 'a')),
       E::kBadField},
      {"hello nodeId number", hello_with(R"("0123456789abcdef")", "123"), E::kBadField},
      {"hello nodeId null", hello_with(R"("0123456789abcdef")", "null"), E::kBadField},

      // getblocks.
      {"getblocks limit missing", Replace(getblocks, R"(,"limit":500)", ""), E::kBadField},
      {"getblocks limit 0", Replace(getblocks, "500", "0"), E::kBadField},
      {"getblocks limit 2^32", Replace(getblocks, "500", "4294967296"), E::kBadField},
      {"getblocks limit negative", Replace(getblocks, "500", "-500"), E::kBadField},
      {"getblocks limit fraction", Replace(getblocks, "500", "500.5"), E::kBadField},
      {"getblocks limit string", Replace(getblocks, "500", "\"500\""), E::kBadField},
      {"getblocks locator missing", R"({"type":"getblocks","limit":10})", E::kBadField},
      {"getblocks locator empty", locator("[]"), E::kBadField},
      {"getblocks locator string", locator(Quoted(Hash11())), E::kBadField},
      {"getblocks locator object", locator("{}"), E::kBadField},
      {"getblocks locator 63 digits", locator("[" + Quoted(std::string(63, 'a')) + "]"),
       E::kBadField},
      {"getblocks locator 65 digits", locator("[" + Quoted(std::string(65, 'a')) + "]"),
       E::kBadField},
      {"getblocks locator not hex", locator("[" + Quoted(std::string(64, 'z')) + "]"),
       E::kBadField},
      {"getblocks locator number", locator("[1]"), E::kBadField},
      {"getblocks locator nested", locator("[[" + Quoted(Hash11()) + "]]"), E::kBadField},
      {"getblocks locator second bad", locator("[" + Quoted(Hash11()) + ",null]"), E::kBadField},
      {"getblocks locator 129", locator(ArrayOf(Limits::kMaxLocator + 1, Quoted(Hash11()))),
       E::kTooMany},
      {"getblocks locator 129 of junk", locator(ArrayOf(Limits::kMaxLocator + 1, "0")),
       E::kTooMany},

      // block and blocks.
      {"block missing", R"({"type":"block"})", E::kBadField},
      {"block null", block_msg("null"), E::kBadBlock},
      {"block string", block_msg(Quoted("x")), E::kBadBlock},
      {"block array", block_msg("[" + fixed + "]"), E::kBadBlock},
      {"block empty object", block_msg("{}"), E::kBadBlock},
      {"block without nonce", Replace(block, R"("nonce":99,)", ""), E::kBadBlock},
      {"block without data", Replace(block, R"(,"data":{"a":[1,"x"]})", ""), E::kBadBlock},
      {"block hash 63 digits", Replace(block, std::string(64, '4'), std::string(63, '4')),
       E::kBadBlock},
      {"block height negative", Replace(block, R"("height":7)", R"("height":-7)"), E::kBadBlock},
      {"block difficulty 2^32", Replace(block, R"("difficulty":12)", R"("difficulty":4294967296)"),
       E::kBadBlock},
      {"block data 2^53+1", block_msg(BlockJsonWithData("9007199254740993")), E::kBadBlock},
      {"block data 1e400", block_msg(BlockJsonWithData("[1e400]")), E::kBadBlock},
      {"block data too deep", block_msg(BlockJsonWithData(Nested(Limits::kMaxDepth + 1))),
       E::kBadBlock},
      {"blocks missing", R"({"type":"blocks"})", E::kBadField},
      {"blocks object", R"({"type":"blocks","blocks":{}})", E::kBadField},
      {"blocks a block", R"({"type":"blocks","blocks":)" + fixed + "}", E::kBadField},
      {"blocks second bad", R"({"type":"blocks","blocks":[)" + fixed + ",{}]}", E::kBadBlock},
      {"blocks holding a number", R"({"type":"blocks","blocks":[1]})", E::kBadBlock},
      {"blocks 2001", R"({"type":"blocks","blocks":)" + ArrayOf(2001, "0") + "}", E::kTooMany},

      // peers.
      {"peers missing", R"({"type":"peers"})", E::kBadField},
      {"peers string", peers(Quoted("ws://a:1")), E::kBadField},
      {"peers number entry", peers("[5001]"), E::kBadField},
      {"peers null entry", peers("[null]"), E::kBadField},
      {"peers http scheme", peers(R"(["http://a:1"])"), E::kBadField},
      {"peers no port", peers(R"(["ws://a"])"), E::kBadField},
      {"peers port 0", peers(R"(["ws://a:0"])"), E::kBadField},
      {"peers port 65536", peers(R"(["ws://a:65536"])"), E::kBadField},
      {"peers path", peers(R"(["ws://a:1/x"])"), E::kBadField},
      {"peers empty entry", peers(R"([""])"), E::kBadField},
      {"peers second bad", peers(R"(["ws://a:1","ws://b c:2"])"), E::kBadField},
      {"peers 1001", peers(ArrayOf(Limits::kMaxPeersPerMessage + 1, Quoted("ws://a:1"))),
       E::kTooMany},

      // error.
      {"error reason missing", R"({"type":"error"})", E::kBadField},
      {"error reason null", R"({"type":"error","reason":null})", E::kBadField},
      {"error reason object", R"({"type":"error","reason":{}})", E::kBadField},
      {"error reason 1025 bytes",
       R"({"type":"error","reason":")" + std::string(Limits::kMaxReasonLength + 1, 'r') + "\"}",
       E::kBadField},
      {"error reason 5 MB", R"({"type":"error","reason":")" + five_mb + "\"}", E::kBadField},
  };
}

TEST(ProtocolTest, RefusesMalformedInput) {
  const std::vector<BadCase> cases = BadCases();
  ASSERT_GE(cases.size(), 40u);
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const DecodeFailure f = MustFail(c.text);
    EXPECT_EQ(f.error, c.expected) << f.message;
    EXPECT_FALSE(f.message.empty());
    EXPECT_LE(f.message.size(), 1000u) << "a failure message must stay short";
  }
}

// Every prefix of valid messages is refused and nothing crashes.
TEST(ProtocolTest, RefusesEveryTruncation) {
  for (const std::string& text : {HelloText(), GetBlocksText(), BlockText()}) {
    for (std::size_t n = 0; n < text.size(); ++n) {
      EXPECT_TRUE(std::holds_alternative<DecodeFailure>(Decode(text.substr(0, n)))) << n;
    }
  }
}

// ---------------------------------------------------------------------------
// Properties

// Valid UTF-8 of at most `max_bytes` bytes, from any code points.
rc::Gen<std::string> Utf8Text(std::size_t max_bytes) {
  return rc::gen::map(
      rc::gen::container<std::vector<std::uint32_t>>(rc::gen::oneOf(
          rc::gen::inRange<std::uint32_t>(0, 0x80), rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
          rc::gen::inRange<std::uint32_t>(0xE000, 0x110000))),
      [max_bytes](const std::vector<std::uint32_t>& cps) {
        std::string out;
        for (std::uint32_t cp : cps) {
          std::string c;
          if (cp < 0x80) {
            c += static_cast<char>(cp);
          } else if (cp < 0x800) {
            c += static_cast<char>(0xC0 | (cp >> 6));
            c += static_cast<char>(0x80 | (cp & 0x3F));
          } else if (cp < 0x10000) {
            c += static_cast<char>(0xE0 | (cp >> 12));
            c += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            c += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            c += static_cast<char>(0xF0 | (cp >> 18));
            c += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            c += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            c += static_cast<char>(0x80 | (cp & 0x3F));
          }
          if (out.size() + c.size() > max_bytes) break;
          out += c;
        }
        return out;
      });
}

Hash32 RandomHash() { return *rc::gen::arbitrary<Hash32>(); }

Work RandomWork() {
  Work w = 0;
  for (int i = 0; i < 4; ++i) w = (w << 64) | *rc::gen::arbitrary<std::uint64_t>();
  return w >> *rc::gen::inRange(0, 256);
}

std::string HexDigits(std::size_t n) {
  return *rc::gen::container<std::string>(
      n, rc::gen::elementOf(std::string("0123456789abcdefABCDEF")));
}

void CheckRoundTrip(const Message& m) {
  const std::string text = Encode(m);
  auto r = Decode(text);
  RC_ASSERT(std::holds_alternative<Message>(r));
  RC_ASSERT(Same(std::get<Message>(r), m));
  RC_ASSERT(Encode(std::get<Message>(r)) == text);
}

RC_GTEST_PROP(ProtocolTest, HelloRoundTrips, ()) {
  Hello h;
  h.version = *rc::gen::arbitrary<std::uint32_t>();
  h.genesis = RandomHash();
  h.height = *rc::gen::arbitrary<std::uint64_t>();
  h.tip = RandomHash();
  h.work = RandomWork();
  if (*rc::gen::arbitrary<bool>()) {
    h.port = static_cast<std::uint16_t>(*rc::gen::inRange<std::uint32_t>(1, 65536));
  }
  h.agent = *Utf8Text(Limits::kMaxAgentLength);
  if (*rc::gen::arbitrary<bool>()) h.node_id = HexDigits(*rc::gen::inRange(1, 65));
  CheckRoundTrip(h);
}

RC_GTEST_PROP(ProtocolTest, GetBlocksRoundTrips, ()) {
  GetBlocks g;
  const auto n = *rc::gen::inRange<std::size_t>(1, Limits::kMaxLocator + 1);
  for (std::size_t i = 0; i < n; ++i) g.locator.push_back(RandomHash());
  g.limit = *rc::gen::inRange<std::uint32_t>(1, std::numeric_limits<std::uint32_t>::max()) +
            *rc::gen::inRange<std::uint32_t>(0, 2);
  CheckRoundTrip(g);
}

RC_GTEST_PROP(ProtocolTest, PingAndPongRoundTrip, (std::uint64_t nonce)) {
  CheckRoundTrip(Ping{nonce});
  CheckRoundTrip(Pong{nonce});
}

RC_GTEST_PROP(ProtocolTest, PeersRoundTrip, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(0, 40);
  Peers p;
  for (std::size_t i = 0; i < n; ++i) {
    PeerUrl url;
    switch (*rc::gen::inRange(0, 3)) {
      case 0: {
        const auto b =
            *rc::gen::container<std::vector<std::uint8_t>>(4, rc::gen::arbitrary<std::uint8_t>());
        url.host = std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) +
                   "." + std::to_string(b[3]);
        break;
      }
      case 1:
        url.host = *rc::gen::nonEmpty(rc::gen::container<std::string>(
            rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz0123456789"))));
        if (url.host.size() > 60) url.host.resize(60);
        break;
      default:
        url.host = HexDigits(*rc::gen::inRange(1, 5)) + "::" + HexDigits(*rc::gen::inRange(0, 5));
        break;
    }
    url.port = static_cast<std::uint16_t>(*rc::gen::inRange<std::uint32_t>(1, 65536));
    RC_PRE(ParsePeerUrl(url.ToString()).ok());
    p.peers.push_back(url.ToString());
  }
  CheckRoundTrip(p);
}

RC_GTEST_PROP(ProtocolTest, ErrorRoundTrips, ()) {
  CheckRoundTrip(ErrorMsg{*Utf8Text(Limits::kMaxReasonLength)});
}

// Whatever bytes a caller puts in the free-text fields, Encode writes a frame
// that decodes.
RC_GTEST_PROP(ProtocolTest, EncodeAlwaysWritesDecodableText,
              (const std::string& agent, const std::string& reason)) {
  Hello h = SampleHello();
  h.agent = agent;
  RC_ASSERT(std::holds_alternative<Message>(Decode(Encode(h))));
  RC_ASSERT(std::holds_alternative<Message>(Decode(Encode(ErrorMsg{reason}))));
}

// A cheap fuzz: random bytes and random mutations of valid frames never crash
// and never throw (ASan and UBSan watch this test).
RC_GTEST_PROP(ProtocolTest, SurvivesArbitraryInput, (const std::string& junk)) {
  (void)Decode(junk);
  const std::vector<std::string> seeds = {HelloText(), GetBlocksText(), BlockText(),
                                          Encode(Peers{{"ws://a:1"}}), Encode(Ping{3})};
  std::string text = *rc::gen::elementOf(seeds);
  const auto edits = *rc::gen::inRange(1, 8);
  for (int i = 0; i < edits; ++i) {
    const auto pos = *rc::gen::inRange<std::size_t>(0, text.size());
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        text[pos] = *rc::gen::arbitrary<char>();
        break;
      case 1:
        text.erase(pos, 1);
        break;
      default:
        text.insert(pos, 1, *rc::gen::elementOf(std::string("{}[]\",:0-9e.\\ u")));
        break;
    }
    if (text.empty()) break;
  }
  (void)Decode(text);
}

}  // namespace
}  // namespace powchain::p2p
