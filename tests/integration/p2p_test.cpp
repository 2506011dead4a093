// Several real powchain nodes on loopback, connected over WebSocket, driven
// as users would drive them; and a scripted hostile peer.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "node_process.h"
#include "primitives/block_json.h"
#include "primitives/json.h"
#include "test_peer.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

const Params kRegtest = Params::Regtest();

struct Ports {
  std::uint16_t http = FreePort();
  std::uint16_t p2p = FreePort();
  std::string url() const { return "ws://localhost:" + std::to_string(p2p); }
};

// A node configured the tutorial's way: environment variables only.
std::unique_ptr<NodeProcess> StartWithEnv(const TempDir& dir, const Ports& ports,
                                          const std::string& peers = "",
                                          const std::string& network = "regtest") {
  std::map<std::string, std::string> env = {{"HTTP_PORT", std::to_string(ports.http)},
                                            {"P2P_PORT", std::to_string(ports.p2p)},
                                            {"NETWORK", network}};
  if (!peers.empty()) env["PEERS"] = peers;
  return std::make_unique<NodeProcess>(std::vector<std::string>{"node"}, env, dir.path());
}

JsonValue Status(const NodeProcess& node) {
  auto v = ParseJson(node.Get("/status").body);
  return v.ok() ? *v : JsonValue();
}
std::uint64_t Height(const NodeProcess& node) {
  const JsonValue s = Status(node);
  return s.Find("height") ? std::stoull(s.Find("height")->number_text()) : 0;
}
std::size_t PeerCount(const NodeProcess& node) {
  const JsonValue s = Status(node);
  return s.Find("peers") ? std::stoull(s.Find("peers")->number_text()) : 0;
}
std::string Tip(const NodeProcess& node) {
  const JsonValue s = Status(node);
  return s.Find("tip") ? s.Find("tip")->as_string() : "";
}

Block Mine(const NodeProcess& node, const std::string& data_json) {
  const HttpResponse r = node.Post("/mine", "{\"data\":" + data_json + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  return ParseBlock(r.body);
}

// Waits until every node serves the same chain, then checks it against the
// consensus rules. Returns it.
std::vector<Block> WaitSameChain(const std::vector<NodeProcess*>& nodes) {
  std::string body;
  const bool same = WaitUntil([&] {
    body = nodes[0]->Get("/blocks").body;
    for (NodeProcess* n : nodes) {
      if (n->Get("/blocks").body != body) return false;
    }
    return true;
  });
  EXPECT_TRUE(same) << "nodes did not converge";
  return ParseAndCheckChain(body, kRegtest);
}

TEST(P2pTest, TutorialQuickStartWithThreeNodesAndALateFourth) {
  TempDir dir;
  Ports p1, p2, p3, p4;
  auto n1 = StartWithEnv(dir, p1);
  ASSERT_TRUE(n1->WaitReady(p1.http)) << n1->Log();
  auto n2 = StartWithEnv(dir, p2, p1.url());
  ASSERT_TRUE(n2->WaitReady(p2.http)) << n2->Log();
  auto n3 = StartWithEnv(dir, p3, p1.url() + "," + p2.url());
  ASSERT_TRUE(n3->WaitReady(p3.http)) << n3->Log();
  std::vector<NodeProcess*> nodes = {n1.get(), n2.get(), n3.get()};
  ASSERT_TRUE(WaitUntil([&] {
    return PeerCount(*n1) == 2 && PeerCount(*n2) == 2 && PeerCount(*n3) == 2;
  })) << n1->Log()
      << n2->Log() << n3->Log();

  // Mine on each node in turn; after each block every node serves the same
  // chain, ending in that block.
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Block b = Mine(*nodes[i], "{\"round\":" + std::to_string(round) +
                                          ",\"node\":" + std::to_string(i + 1) + "}");
      const std::vector<Block> chain = WaitSameChain(nodes);
      ASSERT_FALSE(chain.empty());
      EXPECT_EQ(chain.back(), b);
    }
  }
  // A fourth node started later catches up.
  auto n4 = StartWithEnv(dir, p4, p3.url());
  ASSERT_TRUE(n4->WaitReady(p4.http)) << n4->Log();
  nodes.push_back(n4.get());
  EXPECT_EQ(WaitSameChain(nodes).size(), 7u);
  EXPECT_NE(n1->Log().find("peer"), std::string::npos);
}

TEST(P2pTest, StartOrderDoesNotMatter) {
  TempDir dir;
  Ports p1, p2;
  auto n2 = StartWithEnv(dir, p2, p1.url());  // its peer is not up yet
  ASSERT_TRUE(n2->WaitReady(p2.http)) << n2->Log();
  Mine(*n2, "\"before node 1\"");
  auto n1 = StartWithEnv(dir, p1);
  ASSERT_TRUE(n1->WaitReady(p1.http)) << n1->Log();
  ASSERT_TRUE(WaitUntil([&] { return PeerCount(*n1) == 1 && PeerCount(*n2) == 1; })) << n2->Log();
  EXPECT_EQ(WaitSameChain({n1.get(), n2.get()}).size(), 2u);
}

TEST(P2pTest, NodesThatMinedApartEndOnTheMostWorkChain) {
  TempDir dir;
  Ports pa, pb;
  auto a = StartWithEnv(dir, pa);
  auto b = StartWithEnv(dir, pb);
  ASSERT_TRUE(a->WaitReady(pa.http) && b->WaitReady(pb.http));
  for (int i = 0; i < 2; ++i) Mine(*a, "{\"a\":" + std::to_string(i) + "}");
  for (int i = 0; i < 5; ++i) Mine(*b, "{\"b\":" + std::to_string(i) + "}");
  const std::string work_a = Status(*a).Find("work")->as_string();
  const std::string work_b = Status(*b).Find("work")->as_string();
  const bool b_heavier = *WorkFromHex(work_b) > *WorkFromHex(work_a);
  ASSERT_TRUE(b_heavier) << work_a << " vs " << work_b;  // five fast blocks outweigh two
  const std::string b_tip = Tip(*b);
  // Connect them through the API.
  const HttpResponse r = a->Post("/peers", "{\"url\":\"" + pb.url() + "\"}");
  EXPECT_EQ(r.status, 202) << r.body;
  const std::vector<Block> chain = WaitSameChain({a.get(), b.get()});
  EXPECT_EQ(HexEncode(chain.back().hash), b_tip);
  EXPECT_EQ(Tip(*a), b_tip);
  // The peers list shows the connection.
  auto peers = ParseJson(a->Get("/peers").body);
  ASSERT_TRUE(peers.ok() && peers->is_array() && peers->items().size() == 1)
      << a->Get("/peers").body;
  EXPECT_EQ(peers->items()[0].Find("direction")->as_string(), "outbound");
  EXPECT_NE(peers->items()[0].Find("agent")->as_string().find("powchain/"), std::string::npos);
  // Now A out-mines B: B reorganizes to A's branch, and the switch is served.
  for (int i = 0; i < 3; ++i) Mine(*a, "{\"a2\":" + std::to_string(i) + "}");
  const std::vector<Block> after = WaitSameChain({a.get(), b.get()});
  EXPECT_EQ(after.size(), 9u);
}

TEST(P2pTest, ANodeOfAnotherNetworkIsRefused) {
  TempDir dir;
  Ports pm, pr;
  auto main_node = StartWithEnv(dir, pm, "", "main");
  auto regtest = StartWithEnv(dir, pr, pm.url(), "regtest");
  ASSERT_TRUE(main_node->WaitReady(pm.http) && regtest->WaitReady(pr.http));
  ASSERT_TRUE(WaitUntil([&] {
    return regtest->Log().find("another network") != std::string::npos;
  })) << regtest->Log();
  EXPECT_EQ(PeerCount(*regtest), 0u);
  EXPECT_EQ(PeerCount(*main_node), 0u);
}

// --- A hostile peer ------------------------------------------------------

class HostilePeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<NodeProcess>(
        std::vector<std::string>{"node", "--network", "regtest", "--http-port",
                                 std::to_string(ports_.http), "--p2p-port",
                                 std::to_string(ports_.p2p)},
        std::map<std::string, std::string>{}, dir_.path());
    ASSERT_TRUE(node_->WaitReady(ports_.http)) << node_->Log();
    genesis_ = MakeGenesis(kRegtest);
  }
  void TearDown() override {
    EXPECT_TRUE(node_->Running()) << node_->Log();
    if (HasFailure()) std::printf("--- node log ---\n%s\n", node_->Log().c_str());
  }
  // A fresh handshaked connection.
  std::unique_ptr<TestPeer> Peer() {
    auto peer = std::make_unique<TestPeer>();
    EXPECT_TRUE(peer->Handshake(ports_.p2p, genesis_.hash).has_value());
    return peer;
  }
  // A valid next block on the node's current tip, mined by the test.
  Block NextBlock(const std::string& data = "\"hostile test\"") {
    const std::vector<Block> chain = ParseAndCheckChain(node_->Get("/blocks").body, kRegtest);
    test::ChainBuilder builder(kRegtest, chain);
    const std::uint64_t now =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    return builder.Add(now - chain.back().header.timestamp, data);
  }
  // Sends `text` on a fresh connection; true when the node answered with an
  // error message and closed the connection.
  bool RefusedWithError(const std::string& text) {
    auto peer = Peer();
    peer->SendText(text);
    const auto error = peer->Await<p2p::ErrorMsg>();
    return error.has_value() && peer->WaitClosed();
  }

  TempDir dir_;
  Ports ports_;
  std::unique_ptr<NodeProcess> node_;
  Block genesis_;
};

TEST_F(HostilePeerTest, MalformedMessagesAreRefusedAndTheNodeStaysUp) {
  const std::vector<std::string> cases = {
      "not json",
      "{\"type\":\"hello\"",
      "[1,2,3]",
      "{}",
      "{\"type\":42}",
      "{\"type\":\"launch-missiles\"}",
      "{\"type\":\"ping\",\"nonce\":\"seven\"}",
      "{\"type\":\"ping\",\"nonce\":-1}",
      "{\"type\":\"getblocks\",\"locator\":[],\"limit\":10}",
      "{\"type\":\"getblocks\",\"locator\":[\"zz\"],\"limit\":10}",
      "{\"type\":\"getblocks\",\"locator\":[\"" + std::string(64, '0') + "\"],\"limit\":0}",
      "{\"type\":\"block\",\"block\":{\"height\":1}}",
      "{\"type\":\"block\",\"block\":42}",
      "{\"type\":\"blocks\",\"blocks\":{}}",
      "{\"type\":\"peers\",\"peers\":[\"http://x:1\"]}",
      "{\"type\":\"hello\",\"version\":1}",  // hello twice
      std::string(100000, '['),
  };
  for (const std::string& text : cases) {
    EXPECT_TRUE(RefusedWithError(text)) << text.substr(0, 80);
    ASSERT_TRUE(node_->Running()) << text.substr(0, 80);
  }
  // A message before hello is a violation too.
  TestPeer early;
  ASSERT_TRUE(early.Connect(ports_.p2p));
  early.Send(p2p::Ping{1});
  EXPECT_TRUE(early.WaitClosed());
  // Oversized and binary frames just close the connection.
  auto big = Peer();
  big->SendText("{\"type\":\"error\",\"reason\":\"" + std::string(5 << 20, 'x') + "\"}");
  EXPECT_TRUE(big->WaitClosed());
  auto binary = Peer();
  binary->SendBinary(std::string("\x00\x01\x02", 3));
  EXPECT_TRUE(binary->WaitClosed());
  // Still serving, and a valid block from a peer is accepted.
  auto good = Peer();
  const Block b = NextBlock();
  good->Send(p2p::BlockMsg{b});
  ASSERT_TRUE(WaitUntil([&] { return Tip(*node_) == HexEncode(b.hash); })) << node_->Log();
}

TEST_F(HostilePeerTest, BlocksBreakingEachRuleAreRefused) {
  struct Case {
    const char* name;
    void (*spoil)(Block&);
    bool punished;
  };
  const std::vector<Case> cases = {
      {"changed data", [](Block& b) { b.data = "\"forged\""; }, true},
      {"claimed hash", [](Block& b) { b.hash[5] ^= 1; }, true},
      {"no proof of work",
       [](Block& b) {
         for (b.header.nonce = 0;; ++b.header.nonce) {
           b.hash = b.header.ComputeHash();
           if (LeadingZeroBits(b.hash) < b.header.difficulty) return;
         }
       },
       true},
      {"wrong difficulty",
       [](Block& b) {
         b.header.difficulty += 2;
         test::Solve(b);
       },
       true},
      {"wrong height",
       [](Block& b) {
         b.header.height += 1;
         test::Solve(b);
       },
       true},
      {"bad version",
       [](Block& b) {
         b.header.version = 9;
         test::Solve(b);
       },
       true},
      {"time before median",
       [](Block& b) {
         b.header.timestamp = 1;
         test::Solve(b);
       },
       true},
      {"far future",
       [](Block& b) {
         b.header.timestamp += 3'600'000;
         test::Solve(b);
       },
       false},
      {"oversize data",
       [](Block& b) { test::SetDataAndSolve(b, "\"" + std::string(1100000, 'x') + "\""); }, true},
  };
  const std::string tip_before = Tip(*node_);
  for (const Case& c : cases) {
    Block b = NextBlock();
    c.spoil(b);
    auto peer = Peer();
    peer->Send(p2p::BlockMsg{b});
    if (c.punished) {
      const auto error = peer->Await<p2p::ErrorMsg>();
      EXPECT_TRUE(error.has_value()) << c.name;
      EXPECT_TRUE(peer->WaitClosed()) << c.name;
    } else {
      // Not punished: the connection stays usable.
      peer->Send(p2p::Ping{99});
      const auto pong = peer->Await<p2p::Pong>();
      EXPECT_TRUE(pong.has_value() && pong->nonce == 99) << c.name;
    }
    EXPECT_EQ(Tip(*node_), tip_before) << c.name;
  }
  // A block with an unknown parent makes the node ask for the gap.
  auto peer = Peer();
  Block orphan = NextBlock();
  orphan.header.last_hash[0] ^= 0xff;
  orphan.header.height = 5;
  test::Solve(orphan);
  peer->Send(p2p::BlockMsg{orphan});
  const auto ask = peer->Await<p2p::GetBlocks>();
  ASSERT_TRUE(ask.has_value());
  EXPECT_EQ(ask->locator.back(), genesis_.hash);
  // And afterwards a valid block is still accepted.
  const Block good = NextBlock("\"valid at last\"");
  peer->Send(p2p::BlockMsg{good});
  ASSERT_TRUE(WaitUntil([&] { return Tip(*node_) == HexEncode(good.hash); })) << node_->Log();
}

// --- Sync ----------------------------------------------------------------

// A test peer holding `chain` that answers getblocks from it, until `node`
// reports `chain`'s tip.
void ServeChain(TestPeer& peer, const std::vector<Block>& chain, const NodeProcess& node) {
  const ChainFeed feed(chain);
  const std::string want = HexEncode(chain.back().hash);
  while (Tip(node) != want) {
    const auto ask = peer.Await<p2p::GetBlocks>(30s);
    ASSERT_TRUE(ask.has_value()) << node.Log();
    const p2p::Blocks answer = feed.Answer(*ask);
    peer.Send(answer);
    if (answer.blocks.empty()) break;
  }
  // A node asks for the next batch before committing the one it has (the
  // request after the last batch is answered empty above), so it may still
  // be committing the last batch here.
  ASSERT_TRUE(WaitUntil([&] { return Tip(node) == want; }, 60s)) << node.Log();
}

TEST(P2pSyncTest, TenThousandBlocksToAFreshNode) {
  // 10,000 blocks at the floor difficulty, one mine-rate apart from genesis,
  // so all lie in the past. A test peer hands them to node A; node B, fresh,
  // then syncs them from A.
  test::ChainBuilder builder(kRegtest);
  for (int i = 0; i < 10000; ++i) builder.Add(kRegtest.mine_rate_ms, std::to_string(i));
  const std::vector<Block>& chain = builder.blocks();

  TempDir dir;
  Ports pa, pb;
  auto a = StartWithEnv(dir, pa);
  ASSERT_TRUE(a->WaitReady(pa.http)) << a->Log();
  TestPeer feeder;
  ASSERT_TRUE(feeder.Connect(pa.p2p));
  ASSERT_TRUE(feeder.Await<p2p::Hello>().has_value());
  feeder.Send(ChainFeed(chain).Hello("00000000000feed0"));  // more work: A fetches
  ServeChain(feeder, chain, *a);
  ASSERT_EQ(Height(*a), 10000u);

  const auto start = std::chrono::steady_clock::now();
  auto b = StartWithEnv(dir, pb, pa.url());
  ASSERT_TRUE(b->WaitReady(pb.http)) << b->Log();
  ASSERT_TRUE(WaitUntil([&] { return Tip(*b) == HexEncode(chain.back().hash); }, 300s)) << b->Log();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::printf("node B synced 10,000 blocks from node A in %lld ms (ASan build)\n",
              static_cast<long long>(took.count()));
  const std::vector<Block> served = ParseAndCheckChain(b->Get("/blocks").body, kRegtest);
  ASSERT_EQ(served.size(), chain.size());
  EXPECT_EQ(served, chain);
}

}  // namespace
}  // namespace powchain::itest
