// Writes the generated seed corpora: make_seeds CORPUS_DIR (fuzz/corpus).
//
// Every seed is computed here, so blocks carry valid proof of work and
// hashes on the tiny network (tiny_chain.h) and peer messages are exactly
// what Encode writes. Deterministic: a second run writes the same bytes,
// but for the wallet files, whose keys, salt and nonce are random.
// Only the files named here are written; others in the corpus (regression
// inputs from fuzz runs, named crash-*) are left alone.
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consensus/genesis.h"
#include "consensus/params.h"
#include "consensus/work.h"
#include "crypto/schnorr.h"
#include "p2p/protocol.h"
#include "primitives/address.h"
#include "primitives/block_json.h"
#include "primitives/transaction.h"
#include "tiny_chain.h"
#include "util/hex.h"
#include "wallet/wallet_file.h"

namespace powchain::fuzz {
namespace {

namespace fs = std::filesystem;

class SeedWriter {
 public:
  explicit SeedWriter(fs::path root) : root_(std::move(root)) {}

  void Write(const std::string& target, const std::string& name, const std::string& bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out << bytes;
    FUZZ_CHECK(out.good());
    ++count_;
  }
  int count() const { return count_; }

 private:
  fs::path root_;
  int count_ = 0;
};

// A block that breaks one rule but has valid proof of work: `edit` changes
// the header of a copy of `base`, then dataHash, nonce and hash are set.
template <typename Edit>
Block Variant(const Block& base, Edit edit) {
  Block b = base;
  edit(b);
  b.header.data_hash = DataHash(b.data);
  b.header.nonce = 0;
  FUZZ_CHECK(Solve(b.header, std::uint64_t{1} << 24));
  b.hash = b.header.ComputeHash();
  return b;
}

std::string Lines(std::initializer_list<std::string> lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

void BlockSeeds(SeedWriter& w) {
  const std::string t = "fuzz_block";
  const Params tiny = TinyParams();
  const std::vector<Block> chain = TinyChain(2);
  const Block& genesis = chain[0];
  const Block& next = chain[1];
  const ParentContext parent{genesis.header, genesis.hash, genesis.header.timestamp};
  w.Write(t, "genesis.json", BlockToJson(genesis));
  w.Write(t, "next.json", BlockToJson(next));
  w.Write(t, "next-fast.json",
          BlockToJson(MineChild(parent, "{\"fast\":true}", genesis.header.timestamp + 500, tiny)));
  w.Write(t, "next-rich-data.json",
          BlockToJson(MineChild(parent,
                                "{\"z\":[1,2.5,-0.0001,1e21,\"\\u00e9\\n\\ud83d\\ude00\"],"
                                "\"a\":{\"b\":null,\"c\":true,\"\\u20ac\":false}}",
                                genesis.header.timestamp + 2000, tiny)));
  w.Write(t, "height-2.json", BlockToJson(chain[2]));
  w.Write(t, "genesis-regtest.json", BlockToJson(MakeGenesis(Params::Regtest())));
  w.Write(t, "genesis-main.json", BlockToJson(MakeGenesis(Params::Main())));

  Block bad_hash = next;
  bad_hash.hash[5] ^= 1;
  w.Write(t, "bad-hash.json", BlockToJson(bad_hash));
  Block bad_pow = next;
  for (bad_pow.header.nonce = 0;; ++bad_pow.header.nonce) {
    bad_pow.hash = bad_pow.header.ComputeHash();
    if (!CheckProofOfWork(bad_pow.hash, bad_pow.header.difficulty)) break;
  }
  w.Write(t, "high-hash.json", BlockToJson(bad_pow));
  Block bad_data = next;
  bad_data.data = "{\"n\":2}";
  w.Write(t, "bad-data-hash.json", BlockToJson(bad_data));
  w.Write(t, "bad-version.json",
          BlockToJson(Variant(next, [](Block& b) { b.header.version = 2; })));
  w.Write(t, "bad-height.json", BlockToJson(Variant(next, [](Block& b) { b.header.height = 7; })));
  w.Write(t, "bad-last-hash.json",
          BlockToJson(Variant(next, [](Block& b) { b.header.last_hash[0] ^= 1; })));
  w.Write(t, "bad-difficulty.json",
          BlockToJson(Variant(next, [](Block& b) { b.header.difficulty = 3; })));
  w.Write(t, "difficulty-zero.json",
          BlockToJson(Variant(next, [](Block& b) { b.header.difficulty = 0; })));
  w.Write(
      t, "time-too-old.json",
      BlockToJson(Variant(next, [&](Block& b) { b.header.timestamp = genesis.header.timestamp; })));
  w.Write(t, "time-too-new.json", BlockToJson(Variant(next, [&](Block& b) {
            b.header.timestamp = NowMs(tiny) + 86400 * 1000;
          })));

  std::string json = BlockToJson(next);
  w.Write(t, "upper-case-hex.json", [&] {
    std::string s = json;
    const std::string hash = HexEncode(next.hash);
    std::string upper = hash;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    s.replace(s.find(hash), hash.size(), upper);
    return s;
  }());
  w.Write(t, "extra-field-spaces.json",
          "{ \"extra\" : [1, {\"x\": \"y\"}],\n  " + json.substr(1, json.size() - 2) + " }");
  w.Write(t, "missing-nonce.json", [&] {
    std::string s = json;
    const auto at = s.find("\"nonce\":");
    s.erase(at, s.find(',', at) - at + 1);
    return s;
  }());
  w.Write(t, "max-numbers.json",
          "{\"version\":4294967295,\"height\":18446744073709551615,\"lastHash\":\"" +
              HexEncode(genesis.hash) + "\",\"dataHash\":\"" + HexEncode(next.header.data_hash) +
              "\",\"timestamp\":18446744073709551615,\"difficulty\":4294967295,"
              "\"nonce\":18446744073709551615,\"hash\":\"" +
              HexEncode(next.hash) + "\",\"data\":{\"n\":1}}");
  w.Write(t, "number-too-big.json", [&] {
    std::string s = json;
    const auto at = s.find("\"height\":") + 9;
    s.replace(at, 1, "18446744073709551616");
    return s;
  }());
}

p2p::Hello HelloFor(const Params& params) {
  const Block genesis = MakeGenesis(params);
  p2p::Hello h;
  h.genesis = genesis.hash;
  h.height = 0;
  h.tip = genesis.hash;
  h.work = BlockWork(params.initial_difficulty);
  h.port = 5001;
  h.agent = "powchain/0.1.0";
  h.node_id = "0123456789abcdef";
  return h;
}

void P2pDecodeSeeds(SeedWriter& w) {
  const std::string t = "fuzz_p2p_decode";
  using p2p::Encode;
  const std::vector<Block> chain = TinyChain(3);
  const p2p::Hello regtest = HelloFor(Params::Regtest());
  w.Write(t, "hello-regtest.json", Encode(regtest));
  p2p::Hello plain = HelloFor(Params::Main());
  plain.port.reset();
  plain.node_id.clear();
  plain.agent = "other/\u00e9\u20ac";
  plain.height = 123456;
  plain.work = Work(1) << 200;
  w.Write(t, "hello-main-no-port.json", Encode(plain));
  w.Write(t, "block.json", Encode(p2p::BlockMsg{chain[1]}));
  w.Write(t, "blocks.json", Encode(p2p::Blocks{{chain[1], chain[2], chain[3]}}));
  w.Write(t, "blocks-empty.json", Encode(p2p::Blocks{}));
  w.Write(t, "getblocks.json",
          Encode(p2p::GetBlocks{{chain[3].hash, chain[2].hash, chain[0].hash}, 500}));
  w.Write(t, "getheaders.json",
          Encode(p2p::GetHeaders{{chain[3].hash, chain[2].hash, chain[0].hash}, 2000}));
  w.Write(t, "headers.json",
          Encode(p2p::Headers{{{chain[1].header, chain[1].hash},
                               {chain[2].header, chain[2].hash},
                               {chain[3].header, chain[3].hash}}}));
  w.Write(t, "headers-empty.json", Encode(p2p::Headers{}));
  w.Write(t, "getdata.json", Encode(p2p::GetData{{chain[2].hash, chain[1].hash}}));
  w.Write(t, "getdata-empty.json", "{\"type\":\"getdata\",\"hashes\":[]}");
  w.Write(t, "getpeers.json", Encode(p2p::GetPeers{}));
  w.Write(t, "peers.json",
          Encode(p2p::Peers{{"ws://127.0.0.1:5001", "ws://[::1]:5002", "ws://node.example:1"}}));
  w.Write(t, "ping.json", Encode(p2p::Ping{42}));
  w.Write(t, "pong.json", Encode(p2p::Pong{18446744073709551615ull}));
  w.Write(t, "error.json", Encode(p2p::ErrorMsg{"invalid block: \"high-hash\"\n\u00e9"}));
  w.Write(t, "unknown-type.json", "{\"type\":\"inv\",\"items\":[]}");
  w.Write(t, "no-type.json", "{\"nonce\":1}");
  w.Write(t, "not-object.json", "[\"ping\"]");
  w.Write(t, "hello-bad-work.json",
          "{\"type\":\"hello\",\"version\":2,\"genesis\":\"" + HexEncode(regtest.genesis) +
              "\",\"height\":0,\"tip\":\"" + HexEncode(regtest.tip) +
              "\",\"work\":\"0x100\",\"port\":0,\"agent\":\"a\",\"nodeId\":\"xyz\"}");
  w.Write(t, "getblocks-empty-locator.json", "{\"type\":\"getblocks\",\"locator\":[],\"limit\":0}");
  w.Write(t, "peers-bad-url.json",
          "{\"type\":\"peers\",\"peers\":[\"http://a:1\",\"ws://a:0\",\"ws://[::1\"]}");
  {
    Transaction coinbase;
    coinbase.coinbase = 3;
    coinbase.outputs.push_back(MakeTxOut("powrt", PublicKeyOf(SeedKey(1)), 50 * kCoin));
    Transaction spend;
    spend.inputs.push_back(TxIn{OutPoint{ComputeTxid(coinbase), 0}, {}});
    spend.outputs.push_back(MakeTxOut("powrt", PublicKeyOf(SeedKey(2)), kCoin));
    w.Write(t, "tx.json", Encode(p2p::TxMsg{spend}));
    w.Write(t, "getmempool.json", Encode(p2p::GetMempool{}));
    w.Write(t, "mempool.json", Encode(p2p::MempoolTxids{{ComputeTxid(spend), chain[1].hash}}));
    w.Write(t, "gettxs.json", Encode(p2p::GetTxs{{ComputeTxid(spend)}}));
    w.Write(t, "txs.json", Encode(p2p::Txs{{spend, coinbase}}));
  }
  w.Write(t, "ping-extra-fields.json",
          "{\"nonce\":7,\"type\":\"ping\",\"extra\":{\"deep\":[[[[]]]]}}");
}

void P2pDispatchSeeds(SeedWriter& w) {
  const std::string t = "fuzz_p2p_dispatch";
  using p2p::Encode;
  const Params tiny = TinyParams();
  const std::vector<Block> chain = TinyChain(7);
  const std::string ping = Encode(p2p::Ping{7});
  const std::string getpeers = Encode(p2p::GetPeers{});
  // Flags: 1 hello, 2 preload TinyChain(5), 4 non-loopback A, 8 hello with more work.
  w.Write(t, "handshake-ping.txt",
          Lines({"1", ping, getpeers, Encode(p2p::Pong{1}), Encode(p2p::Peers{})}));
  w.Write(t, "before-hello.txt", Lines({"0", ping}));
  w.Write(t, "before-hello-banned.txt", Lines({"4", ping, ping, "@" + ping}));
  p2p::Hello own;
  own.genesis = chain[0].hash;
  own.tip = chain[0].hash;
  own.work = BlockWork(tiny.initial_difficulty);
  own.port = 6000;
  own.agent = "seed/1";
  own.node_id = "00000000000000c3";
  w.Write(t, "hello-in-stream.txt", Lines({"0", Encode(own), ping, Encode(own)}));
  w.Write(t, "hello-other-network.txt", Lines({"0", Encode(HelloFor(Params::Regtest())), ping}));
  w.Write(t, "hello-twice.txt", Lines({"1", Encode(own)}));
  w.Write(t, "sync-one-batch.txt",
          Lines({"9", Encode(p2p::Blocks{{chain[1], chain[2], chain[3]}}), ping}));
  w.Write(t, "sync-pipelined.txt",
          Lines({"9", Encode(p2p::Blocks{{chain[1], chain[2], chain[3], chain[4]}}),
                 Encode(p2p::Blocks{{chain[5], chain[6]}}), Encode(p2p::Blocks{})}));
  std::vector<HashedHeader> headers;
  for (int i = 1; i <= 6; ++i) headers.push_back(HashedHeader{chain[i].header, chain[i].hash});
  w.Write(t, "headers-first.txt",
          Lines({"9", Encode(p2p::Headers{headers}),
                 Encode(p2p::Blocks{{chain[1], chain[2], chain[3], chain[4]}}),
                 Encode(p2p::Blocks{{chain[5], chain[6]}}), "~"}));
  const std::string unconnected = Encode(p2p::Headers{{headers.begin() + 2, headers.end()}});
  w.Write(t, "headers-unconnected.txt", Lines({"1", unconnected, unconnected, unconnected}));
  w.Write(t, "getheaders-getdata.txt",
          Lines({"3", Encode(p2p::GetHeaders{{chain[0].hash}, 10}),
                 Encode(p2p::GetData{{chain[2].hash, chain[1].hash, chain[7].hash}})}));
  w.Write(t, "new-tip-relayed.txt",
          Lines({"3", "@" + ping, Encode(p2p::BlockMsg{chain[6]}), "@" + getpeers}));
  w.Write(t, "orphan-fetch.txt",
          Lines({"3", Encode(p2p::BlockMsg{chain[7]}), Encode(p2p::Blocks{{chain[6]}})}));
  // A branch off genesis that overtakes the preloaded chain.
  std::vector<Block> branch{chain[0]};
  for (int i = 1; i <= 6; ++i) {
    branch.push_back(MineChild(TipContext(branch, tiny), "{\"branch\":" + std::to_string(i) + "}",
                               branch.back().header.timestamp + 1200, tiny));
  }
  w.Write(t, "reorg.txt",
          Lines({"3", Encode(p2p::Blocks{{branch[1], branch[2], branch[3]}}),
                 Encode(p2p::Blocks{{branch[4], branch[5], branch[6]}}), "@" + ping}));
  Block bad = chain[1];
  bad.hash[0] ^= 1;
  w.Write(t, "invalid-block-banned.txt", Lines({"5", Encode(p2p::BlockMsg{bad}), ping, ping}));
  w.Write(t, "fixed-block.txt", Lines({"1", "#" + Encode(p2p::BlockMsg{bad})}));
  Block unsolved = chain[1];
  unsolved.data = "{\"fix\":\"me\"}";
  unsolved.header.nonce = 0;
  w.Write(t, "fixed-blocks.txt",
          Lines({"1", "#" + Encode(p2p::Blocks{{unsolved, chain[2], chain[3]}})}));
  const Block future =
      Variant(chain[6], [&](Block& b) { b.header.timestamp = NowMs(tiny) + 86400 * 1000; });
  w.Write(t, "time-too-new.txt", Lines({"3", Encode(p2p::BlockMsg{future}), ping}));
  w.Write(t, "getblocks.txt",
          Lines({"3", Encode(p2p::GetBlocks{{chain[0].hash}, 10}),
                 Encode(p2p::GetBlocks{{chain[3].hash, chain[0].hash}, 1}),
                 Encode(p2p::GetBlocks{{chain[7].hash}, 4294967295u})}));
  w.Write(t, "handshake-timeout.txt", Lines({"0", "+", "@+", "~", ping}));
  w.Write(t, "ping-timeout.txt", Lines({"1", "+", "@" + ping, "~", "~", "~", "@-", "~"}));
  w.Write(t, "sync-peer-hangs-up.txt",
          Lines({"9", "@+", "-", Encode(p2p::Blocks{{chain[1], chain[2]}}), "~", "~"}));
  w.Write(t, "peers-learned.txt",
          Lines({"1", Encode(p2p::Peers{{"ws://10.0.0.1:5001", "ws://[2001:db8::1]:5002"}}), "~",
                 "~"}));
  w.Write(t, "peer-error-reconnect.txt",
          Lines({"1", Encode(p2p::ErrorMsg{"bye"}), ping, "@" + Encode(p2p::ErrorMsg{"bye"}),
                 "@" + ping}));
  w.Write(t, "malformed.txt", Lines({"1", "{not json", ping, "{\"type\":\"nope\"}"}));
}

void HttpSeeds(SeedWriter& w) {
  const std::string t = "fuzz_http";
  // Lines: method, target, Content-Type, Authorization, body.
  const std::string json = "application/json";
  std::string fake_hash(64, '0');
  fake_hash.replace(0, 2, "03");
  fake_hash.replace(62, 2, "ab");
  std::string failing_hash(64, '0');
  failing_hash.replace(0, 2, "EE");
  w.Write(t, "get-blocks.txt", "GET\n/blocks");
  w.Write(t, "get-blocks-range.txt", "GET\n/blocks?from=1&limit=2");
  w.Write(t, "get-blocks-from-max.txt", "GET\n/blocks?from=18446744073709551615&x=1");
  w.Write(t, "get-blocks-bad-limit.txt", "GET\n/blocks?limit=%31");
  w.Write(t, "get-blocks-twice.txt", "GET\n/blocks?from=1&from=2");
  w.Write(t, "get-block-height.txt", "GET\n/blocks/2");
  w.Write(t, "get-block-missing.txt", "GET\n/blocks/99999999999999999999");
  w.Write(t, "get-block-hash.txt", "GET\n/blocks/" + fake_hash);
  w.Write(t, "get-block-store-error.txt", "GET\n/blocks/" + failing_hash);
  w.Write(t, "get-block-bad-id.txt", "GET\n/blocks/0x12");
  w.Write(t, "get-status.txt", "GET\n/status\n\n\n");
  w.Write(t, "get-peers.txt", "GET\n/peers");
  w.Write(t, "post-peers.txt", "POST\n/peers\n" + json + "\n\n{\"url\":\"ws://127.0.0.1:5002\"}");
  w.Write(t, "post-peers-token.txt",
          "POST\n/peers\n" + json + "; charset=utf-8\nBearer fuzz-token\n{\"url\":\"ws://h:1\"}");
  w.Write(t, "post-peers-bad-url.txt",
          "POST\n/peers\n" + json + "\n\n{\"url\":\"ws://[::1]:99999/path\"}");
  w.Write(t, "post-mine.txt",
          "POST\n/mine\n" + json +
              "\nBearer fuzz-token\n{\"data\":{\"b\":[1,2.5e3,\"\\u00e9\"],\"a\":null}}");
  w.Write(t, "post-mine-wrong-token.txt", "POST\n/mine\n" + json + "\nBearer nope\n{\"data\":1}");
  w.Write(t, "post-mine-bad-number.txt", "POST\n/mine\n" + json + "\n\n{\"data\":1e400}");
  w.Write(t, "post-mine-no-data.txt", "POST\n/mine\n" + json + "\n\n{\"x\":1}");
  w.Write(t, "post-mine-not-object.txt", "POST\n/mine\n" + json + "\n\n[1]");
  w.Write(t, "post-mine-empty-body.txt", "POST\n/mine\n" + json + "\n\n");
  w.Write(t, "post-mine-text-plain.txt", "POST\n/mine\ntext/plain\n\n{\"data\":1}");
  w.Write(t, "delete-blocks.txt", "DELETE\n/blocks");
  w.Write(t, "put-peers.txt", "PUT\n/peers");
  w.Write(t, "custom-method.txt", "BREW\n/status");
  w.Write(t, "not-found.txt", "GET\n/" + std::string(300, 'a') + "\xff?x");
  w.Write(t, "query-only.txt", "from=5&limit=10");
  // The explorer's and the coins' routes.
  std::string coin_txid(64, '0');
  coin_txid.replace(0, 2, "01");
  w.Write(t, "get-tips.txt", "GET\n/tips");
  w.Write(t, "get-events.txt", "GET\n/events?since=3");
  w.Write(t, "get-mempool.txt", "GET\n/mempool?limit=2");
  w.Write(t, "get-tx.txt", "GET\n/transactions/" + coin_txid);
  w.Write(t, "get-block-txids.txt", "GET\n/blocks/3/txids");
  w.Write(t, "get-address-zero-key.txt",
          "GET\n/addresses/" + EncodeAddress("powrt", XOnlyPubKey{}) + "?offset=1&limit=1");
  w.Write(t, "get-address-zero-key-utxos.txt",
          "GET\n/addresses/" + EncodeAddress("powrt", XOnlyPubKey{}) + "/utxos?limit=5");
  w.Write(t, "get-explorer.txt", "GET\n/explorer/style.css");
  w.Write(t, "get-metrics.txt", "GET\n/metrics");
  w.Write(t, "post-tx.txt", "POST\n/transactions\n" + json + "\n\n{\"version\":1,\"inputs\":[]}");
}

// Raw requests as they arrive on the socket.
std::string RawRequest(const std::string& method, const std::string& target,
                       const std::vector<std::string>& fields, const std::string& body) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const std::string& f : fields) out += f + "\r\n";
  if (!body.empty()) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

void HttpWireSeeds(SeedWriter& w) {
  const std::string t = "fuzz_http_wire";
  const std::string json = "Content-Type: application/json";
  const std::string token = "Authorization: Bearer fuzz-token";
  w.Write(t, "get-blocks.txt", RawRequest("GET", "/blocks", {}, ""));
  w.Write(t, "get-blocks-range.txt", RawRequest("GET", "/blocks?from=1&limit=3", {}, ""));
  w.Write(t, "get-block.txt", RawRequest("GET", "/blocks/2", {"Connection: close"}, ""));
  w.Write(t, "get-status-events.txt",
          RawRequest("GET", "/status", {}, "") + RawRequest("GET", "/events", {}, ""));
  w.Write(t, "explorer-metrics.txt",
          RawRequest("GET", "/", {}, "") + RawRequest("GET", "/metrics", {}, ""));
  w.Write(t, "pipelined.txt",
          RawRequest("GET", "/health", {}, "") + RawRequest("GET", "/tips", {}, "") +
              RawRequest("GET", "/mempool?limit=2", {}, "") +
              RawRequest("GET", "/addresses/x", {}, ""));
  w.Write(t, "post-mine.txt",
          RawRequest("POST", "/mine", {json, token}, "{\"data\":{\"a\":[1,2.5e3]}}"));
  w.Write(t, "post-peers.txt",
          RawRequest("POST", "/peers", {json, token}, "{\"url\":\"ws://127.0.0.1:5002\"}"));
  w.Write(t, "post-tx.txt", RawRequest("POST", "/transactions", {json}, "{\"version\":1}"));
  w.Write(
      t, "chunked.txt",
      "POST /mine HTTP/1.1\r\nHost: h\r\n" + json + "\r\n" + token +
          "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"dat\r\n7;x=y\r\na\":true}\r\n0\r\n\r\n");
  w.Write(t, "gzip-chunked.txt",
          "POST /mine HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  w.Write(t, "smuggled.txt",
          "POST /status HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n" +
              RawRequest("POST", "/peers", {json}, "{\"url\":\"ws://h:1\"}"));
  w.Write(t, "expect-continue.txt",
          "POST /mine HTTP/1.1\r\nHost: h\r\n" + json +
              "\r\nExpect: 100-continue\r\nContent-Length: 12\r\n\r\n{\"data\":1}");
  w.Write(t, "expect-too-big.txt",
          "POST /mine HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: "
          "100000000\r\n\r\n");
  w.Write(t, "body-over-limit.txt",
          RawRequest("POST", "/mine", {json}, "{\"data\":\"" + std::string(2100, 'x') + "\"}"));
  w.Write(t, "header-over-limit.txt",
          RawRequest("GET", "/status", {"X-Long: " + std::string(1100, 'h')}, ""));
  w.Write(t, "content-length-twice.txt",
          "POST /mine HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
  w.Write(t, "head.txt",
          RawRequest("HEAD", "/status", {}, "") + RawRequest("GET", "/status", {}, ""));
  w.Write(t, "http10.txt", "GET /status HTTP/1.0\r\n\r\n");
  w.Write(t, "bare-lf.txt", "GET /status HTTP/1.1\nHost: h\n\n");
  w.Write(t, "garbage.txt", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  w.Write(t, "incomplete.txt", "GET /blocks HTTP/1.1\r\nHost: 1");
}

// A WebSocket frame from a client: masked with the key 01 02 03 04.
std::string ClientFrame(unsigned opcode, const std::string& payload, bool fin = true) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  const char mask_bit = static_cast<char>(0x80);
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(payload.size())));
  } else {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size()));
  }
  const char mask[4] = {1, 2, 3, 4};
  out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return out;
}

void WsTransportSeeds(SeedWriter& w) {
  const std::string t = "fuzz_ws_transport";
  const std::string upgrade =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1:5001\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: "
      "13\r\n\r\n";
  const std::string hello = p2p::Encode(HelloFor(TinyParams()));
  // Odd first byte: the bytes as they are.
  w.Write(t, "raw-hello.bin", "1" + upgrade + ClientFrame(1, hello));
  w.Write(t, "raw-fragments.bin",
          "1" + upgrade + ClientFrame(1, "{\"type\":", false) + ClientFrame(9, "ping") +
              ClientFrame(0, "\"ping\"}") + ClientFrame(1, "close"));
  w.Write(t, "raw-binary.bin", "1" + upgrade + ClientFrame(2, "\x01\x02"));
  w.Write(t, "raw-close.bin", "1" + upgrade + ClientFrame(8, std::string("\x03\xe8", 2) + "bye"));
  w.Write(t, "raw-first-too-big.bin", "1" + upgrade + ClientFrame(1, std::string(1100, 'a')));
  w.Write(t, "raw-bad-utf8.bin", "1" + upgrade + ClientFrame(1, "\xc0\xaf"));
  w.Write(t, "raw-not-upgrade.bin", "1GET /blocks HTTP/1.1\r\nHost: x\r\n\r\n");
  // Even first byte: bytes for the FuzzedDataProvider.
  w.Write(t, "built-1.bin", std::string("0\x00/\x01\x11\x01\x02\x03\x04\x05hello", 16));
  w.Write(t, "built-2.bin",
          std::string("0\x00\x00\x41\x05\x00\x00\x00\x00\x00\x03"
                      "abc\x90\x03"
                      "xyz",
                      20));
}

// Inputs for the FuzzedDataProvider targets: bytes from a fixed generator
// (the same on every run), of a few lengths.
void ProviderSeeds(SeedWriter& w, const std::string& target, std::uint32_t salt) {
  std::uint32_t state = 0x9E3779B9u ^ salt;
  for (int i = 0; i < 12; ++i) {
    std::string bytes(static_cast<std::size_t>(16 << (i % 5)), '\0');
    for (char& c : bytes) {
      state = state * 1664525u + 1013904223u;
      c = static_cast<char>(state >> 24);
    }
    w.Write(target, "generated-" + std::to_string(i) + ".bin", bytes);
  }
}

void TxSeeds(SeedWriter& w) {
  const std::string t = "fuzz_tx";
  const Params params = Params::Regtest();
  const Hash32 genesis = MakeGenesis(params).hash;
  const SecretKey alice = SeedKey(1);
  Transaction coinbase;
  coinbase.coinbase = 7;
  coinbase.outputs.push_back(MakeTxOut(params.address_prefix, PublicKeyOf(alice), 50 * kCoin));
  Transaction spend;
  spend.inputs.push_back(TxIn{OutPoint{ComputeTxid(coinbase), 0}, {}});
  spend.inputs.push_back(TxIn{OutPoint{ComputeTxid(coinbase), 1}, {}});
  spend.outputs.push_back(MakeTxOut(params.address_prefix, PublicKeyOf(SeedKey(2)), kCoin));
  spend.outputs.push_back(MakeTxOut("pow", PublicKeyOf(alice), 49 * kCoin - 1000));
  const SighashContext sighash(spend, genesis);
  for (std::uint32_t i = 0; i < spend.inputs.size(); ++i) {
    spend.inputs[i].sig = SignSchnorr(alice, sighash.ForInput(i), Hash32{});
  }
  const std::string spend_json = CanonicalTxBytes(spend);
  w.Write(t, "coinbase.json", "a" + CanonicalTxBytes(coinbase));
  w.Write(t, "spend.json", "a" + spend_json);
  std::string spaced = spend_json;
  spaced.insert(1, " \n");
  w.Write(t, "spend-spaced.json", "a" + spaced);
  w.Write(t, "unknown-member.json", "a{\"version\":1,\"inputs\":[],\"outputs\":[],\"x\":0}");
  w.Write(t, "too-much.json",
          "a{\"version\":1,\"inputs\":[],\"outputs\":[{\"address\":\"" + spend.outputs[0].address +
              "\",\"amount\":2100000000000001}]}");
  w.Write(t, "array.json", "b[" + CanonicalTxBytes(coinbase) + "," + spend_json + "]");
  w.Write(t, "array-empty.json", "b[]");
  std::string proof = "m";
  const std::uint32_t count = 5;
  const std::uint32_t index = 3;
  proof.append(reinterpret_cast<const char*>(&count), 4);
  proof.append(reinterpret_cast<const char*>(&index), 4);
  for (std::uint8_t i = 0; i < 4; ++i) proof.append(32, static_cast<char>(i * 37 + 1));
  w.Write(t, "proof.bin", proof);
}

void AddressSeeds(SeedWriter& w) {
  const std::string t = "fuzz_address";
  const XOnlyPubKey key = PublicKeyOf(SeedKey(1));
  const std::string regtest = EncodeAddress("powrt", key);
  std::string upper = regtest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string mixed = regtest;
  mixed[7] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[7])));
  std::string bad_sum = regtest;
  bad_sum.back() = bad_sum.back() == 'q' ? 'p' : 'q';
  w.Write(t, "regtest.txt", regtest);
  w.Write(t, "main.txt", EncodeAddress("pow", key));
  w.Write(t, "upper.txt", upper);
  w.Write(t, "mixed-case.txt", mixed);
  w.Write(t, "bad-checksum.txt", bad_sum);
  // BIP 173 and BIP 350 test vectors.
  w.Write(t, "bip173.txt", "A12UEL5L");
  w.Write(t, "bip350.txt", "a1lqfn3a");
  w.Write(t, "bip350-taproot.txt",
          "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0");
  w.Write(t, "bip350-v0.txt", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
  w.Write(t, "no-separator.txt", "pow" + std::string(40, 'q'));
  w.Write(t, "too-long.txt", "pow1" + std::string(100, 'q'));
}

void WalletSeeds(SeedWriter& w) {
  namespace fs = std::filesystem;
  const std::string t = "fuzz_wallet_file";
  const fs::path dir = fs::temp_directory_path() / "powchain-make-seeds-wallet";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto write = [&](const std::string& name, const fs::path& file, char first) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    FUZZ_CHECK(!bytes.empty());
    w.Write(t, name, std::string(1, first) + bytes);
  };
  const Params params = Params::Regtest();
  const ScryptParams cheap{.n = 1024, .r = 1, .p = 1};
  {
    auto plain = wallet::WalletFile::Create(dir / "plain.json", params, std::nullopt, cheap);
    FUZZ_CHECK(plain.ok());
    FUZZ_CHECK(plain->NewAddress().ok());
    Transaction tx;
    tx.inputs.push_back(TxIn{OutPoint{Hash32{}, 1}, {}});
    tx.outputs.push_back(MakeTxOut(params.address_prefix, plain->pubkeys()[0], kCoin));
    plain->sent().push_back(wallet::SentTx{tx, ComputeTxid(tx), 1735689600000});
    FUZZ_CHECK(plain->Save().ok());
  }
  write("plain.json", dir / "plain.json", '1');
  {
    auto sealed = wallet::WalletFile::Create(dir / "sealed.json", params, "fuzz passphrase", cheap);
    FUZZ_CHECK(sealed.ok());
    FUZZ_CHECK(sealed->NewAddress().ok());
    FUZZ_CHECK(sealed->Save().ok());
  }
  write("encrypted.json", dir / "sealed.json", '1');
  write("encrypted-wrong-passphrase.json", dir / "sealed.json", '0');
  fs::remove_all(dir);
  w.Write(t, "not-json.json", "1{\"format\":\"powchain-wallet-1\",");
  w.Write(t, "other-format.json", "1{\"format\":\"other\"}");
}

void CanonicalJsonSeeds(SeedWriter& w) {
  const std::string t = "fuzz_canonical_json";
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"zero.json", "0"},
      {"minus-zero.json", "-0"},
      {"exponent.json", "1E3"},
      {"trailing-zero.json", "4.50"},
      {"tenth.json", "0.1"},
      {"small.json", "1e-7"},
      {"big-integer.json", "123456789012345678901234567890"},
      {"not-exact.json", "9007199254740993"},
      {"overflow.json", "1e400"},
      {"tiny.json", "5e-324"},
      {"max-double.json", "1.7976931348623157e308"},
      {"rfc8785-numbers.json",
       "{\"numbers\":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}"},
      {"rfc8785-keys.json",
       "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter "
       "Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
       "\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}"},
      {"escapes.json", "\"\\u0000\\b\\t\\n\\f\\r\\\"\\\\\\/\\u001f\\u007f\\u20AC\""},
      {"utf8.json", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
      {"lone-surrogate.json", "\"\\ud800\""},
      {"bad-utf8.json", "\"\xc0\xaf\""},
      {"literals.json", " [true, false, null, {}, [], \"\"] \n"},
      {"nested.json", "{\"a\":{\"b\":{\"c\":[[[1,[2,[3]]]]]}},\"z\":-1.25e+2}"},
      {"duplicate-key.json", "{\"a\":1,\"a\":2}"},
      {"too-deep.json", std::string(65, '[') + std::string(65, ']')},
      {"trailing.json", "{} x"},
  };
  for (const auto& [name, text] : seeds) w.Write(t, name, text);
}

void HexSeeds(SeedWriter& w) {
  const std::string t = "fuzz_hex";
  const std::string genesis = HexEncode(MakeGenesis(Params::Regtest()).hash);
  std::string upper = genesis;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  w.Write(t, "empty.txt", "");
  w.Write(t, "byte.txt", "00");
  w.Write(t, "digits.txt", "0123456789abcdef");
  w.Write(t, "upper.txt", "ABCDEF");
  w.Write(t, "odd.txt", "abc");
  w.Write(t, "not-hex.txt", "zz");
  w.Write(t, "hash.txt", genesis);
  w.Write(t, "hash-upper.txt", upper);
  w.Write(t, "hash-63.txt", genesis.substr(1));
  w.Write(t, "hash-66.txt", genesis + "00");
  w.Write(t, "space.txt", "ab cd");
  w.Write(t, "binary.bin", std::string("\x00\xff\x10\x7f", 4));
}

}  // namespace
}  // namespace powchain::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  powchain::fuzz::SeedWriter w(argv[1]);
  powchain::fuzz::BlockSeeds(w);
  powchain::fuzz::P2pDecodeSeeds(w);
  powchain::fuzz::P2pDispatchSeeds(w);
  powchain::fuzz::HttpSeeds(w);
  powchain::fuzz::CanonicalJsonSeeds(w);
  powchain::fuzz::HexSeeds(w);
  powchain::fuzz::HttpWireSeeds(w);
  powchain::fuzz::WsTransportSeeds(w);
  powchain::fuzz::ProviderSeeds(w, "fuzz_store", 1);
  powchain::fuzz::ProviderSeeds(w, "fuzz_settings", 2);
  powchain::fuzz::TxSeeds(w);
  powchain::fuzz::AddressSeeds(w);
  powchain::fuzz::WalletSeeds(w);
  powchain::fuzz::ProviderSeeds(w, "fuzz_p2p_sync", 3);
  powchain::fuzz::ProviderSeeds(w, "fuzz_mempool", 4);
  std::printf("make_seeds: wrote %d seeds under %s\n", w.count(), argv[1]);
  return 0;
}
