// Several real powchain nodes on loopback, connected over WebSocket, driven
// as users would drive them. The hostile peer is hostile_p2p_test.cpp.
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

// A node configured as in the README's quick start: environment variables only.
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

TEST(P2pTest, ReadmeQuickStartWithThreeNodesAndALateFourth) {
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
  // It took the six blocks as one batch: one log line for the range and the
  // new tip, no line per block with an unknown difficulty.
  EXPECT_NE(n4->Log().find("blocks height=1..6 (6 blocks)"), std::string::npos) << n4->Log();
  EXPECT_EQ(n4->Log().find("difficulty=-"), std::string::npos) << n4->Log();
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

// --- Sync ----------------------------------------------------------------

// A test peer holding `chain` that answers the node's getheaders and
// getdata from it, until `node` reports `chain`'s tip.
void ServeChain(TestPeer& peer, const std::vector<Block>& chain, const NodeProcess& node) {
  const ChainFeed feed(chain);
  const std::string want = HexEncode(chain.back().hash);
  while (!feed.tip_sent()) ASSERT_TRUE(feed.ServeOne(peer, 30s)) << node.Log();
  // The last answer may still be being committed.
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
