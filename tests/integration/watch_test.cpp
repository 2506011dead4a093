// Watching a real node: GET /metrics checked by promtool with counters
// that move, GET /health, the live GET /events stream, and a
// reorganization seen through GET /tips, GET /reorgs, the metrics and the
// events.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "consensus/genesis.h"
#include "node_process.h"
#include "primitives/json.h"
#include "test_peer.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

const Params kRegtest = Params::Regtest();

// The value of one sample line "<series> <value>" of a scrape, where
// `series` is the name with its labels exactly as the node writes them.
std::optional<double> Sample(const std::string& scrape, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  const auto at = ("\n" + scrape).find(prefix);
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(scrape.c_str() + at + prefix.size() - 1, nullptr);
}
double SampleOr0(const NodeProcess& node, const std::string& series) {
  return Sample(node.Get("/metrics").body, series).value_or(-1);
}

// Runs `promtool check metrics` on `text`: its exit code and output.
std::pair<int, std::string> Promtool(const std::string& text, const std::filesystem::path& dir) {
  const auto in = dir / "scrape.txt";
  const auto out = dir / "promtool.txt";
  std::ofstream(in) << text;
  const std::string cmd =
      "promtool check metrics < '" + in.string() + "' > '" + out.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream f(out);
  std::string output((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, output};
}

Block Mine(const NodeProcess& node, const std::string& data_json) {
  const HttpResponse r = node.Post("/mine", "{\"data\":" + data_json + "}");
  EXPECT_EQ(r.status, 201) << r.body;
  return ParseBlock(r.body);
}

TEST(WatchTest, MetricsPassPromtoolAndCountersMove) {
  TempDir dir;
  auto node = NodeProcess::StartNode(dir.path());
  ASSERT_TRUE(node->WaitReady(node->http_port())) << node->Log();
  const HttpResponse first = node->Get("/metrics");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto [rc, output] = Promtool(first.body, dir.path());
  ASSERT_EQ(rc, 0) << "promtool check metrics: " << output << "\n" << first.body;
  EXPECT_EQ(Sample(first.body, "powchain_chain_height"), 0.0);
  EXPECT_EQ(Sample(first.body, "powchain_blocks_total{status=\"new-tip\"}"), 0.0);

  // A mined block.
  Mine(*node, "\"counted\"");
  // A request: GET /status, answered 200 (the readiness polls were some).
  const double status_before =
      SampleOr0(*node, R"(powchain_http_requests_total{route="/status",status="200"})");
  ASSERT_EQ(node->Get("/status").status, 200);
  // A rejected block: the next block with data that is not its data hash's.
  test::ChainBuilder builder(kRegtest, ParseAndCheckChain(node->Get("/blocks").body, kRegtest));
  Block forged = builder.Add(1, "\"real\"");
  forged.data = "\"forged\"";
  TestPeer peer;
  ASSERT_TRUE(peer.Handshake(node->p2p_port(), MakeGenesis(kRegtest).hash));
  peer.Send(p2p::BlockMsg{forged});
  EXPECT_TRUE(WaitUntil([&] {
    return SampleOr0(*node, R"(powchain_blocks_rejected_total{reason="bad-data-hash"})") == 1;
  })) << node->Get("/metrics").body;

  const std::string after = node->Get("/metrics").body;
  EXPECT_EQ(Sample(after, "powchain_chain_height"), 1.0);
  EXPECT_EQ(Sample(after, R"(powchain_blocks_total{status="new-tip"})"), 1.0);
  EXPECT_EQ(Sample(after, R"(powchain_blocks_total{status="invalid"})"), 1.0);
  EXPECT_GE(
      Sample(after, R"(powchain_http_requests_total{route="/status",status="200"})").value_or(0),
      status_before + 1);
  EXPECT_GE(Sample(after, R"(powchain_http_requests_total{route="/mine",status="201"})"), 1.0);
  EXPECT_GE(Sample(after, R"(powchain_p2p_messages_total{direction="received",type="block"})"),
            1.0);
  EXPECT_GE(Sample(after, R"(powchain_peers{direction="inbound"})"), 0.0);
  EXPECT_GT(Sample(after, "powchain_store_bytes").value_or(0), 0.0);
  EXPECT_GT(Sample(after, "powchain_miner_hashes_total").value_or(0), 0.0);
  const auto [rc2, output2] = Promtool(after, dir.path());
  EXPECT_EQ(rc2, 0) << output2;

  // Every metric the Grafana dashboard of docs/operations.md queries exists.
  std::ifstream file(std::string(POWCHAIN_SOURCE_DIR) + "/docs/grafana-dashboard.json");
  const std::string dashboard((std::istreambuf_iterator<char>(file)),
                              std::istreambuf_iterator<char>());
  ASSERT_FALSE(dashboard.empty());
  const std::regex metric("powchain_[a-z0-9_]+");
  std::size_t checked = 0;
  for (auto it = std::sregex_iterator(dashboard.begin(), dashboard.end(), metric);
       it != std::sregex_iterator(); ++it) {
    std::string name = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix)) name.resize(name.size() - std::string(suffix).size());
    }
    EXPECT_NE(after.find("# TYPE " + name + " "), std::string::npos) << name;
    ++checked;
  }
  EXPECT_GE(checked, 12u);
}

TEST(WatchTest, HealthAnswersForLoadBalancers) {
  TempDir dir;
  auto node = NodeProcess::StartNode(dir.path());
  ASSERT_TRUE(node->WaitReady(node->http_port())) << node->Log();
  const HttpResponse health = node->Get("/health");
  EXPECT_EQ(health.status, 200) << health.body;
  const auto v = ParseJson(health.body);
  ASSERT_TRUE(v.ok()) << health.body;
  EXPECT_EQ(v->Find("status")->as_string(), "ok");
  EXPECT_TRUE(v->Find("synced")->as_bool());
  EXPECT_EQ(node->Get("/health/ready").status, 200);
}

// Reads an SSE stream on a raw connection until `needle` arrives.
class EventStream {
 public:
  explicit EventStream(std::uint16_t port) : conn_(port) {
    conn_.Send("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  }
  // Everything received until `needle` (inclusive), or nullopt after `limit`.
  std::optional<std::string> Until(const std::string& needle,
                                   std::chrono::milliseconds limit = 10s) {
    return conn_.ReadUntil(needle, limit);
  }

 private:
  RawConnection conn_;
};

TEST(WatchTest, EventsAndTipsShowAReorganization) {
  TempDir dir;
  auto a = NodeProcess::StartNode(dir.path());
  auto b = NodeProcess::StartNode(dir.path());
  ASSERT_TRUE(a->WaitReady(a->http_port()) && b->WaitReady(b->http_port()));
  EventStream events(a->http_port());
  ASSERT_TRUE(events.Until("retry: 2000\n\n"));
  // A mines two blocks; its stream sees each tip within the time limit.
  Mine(*a, "{\"a\":0}");
  const Block a_tip = Mine(*a, "{\"a\":1}");
  const auto seen = events.Until("\"hash\":\"" + HexEncode(a_tip.hash) + "\"");
  ASSERT_TRUE(seen) << "no tip event for the mined block";
  EXPECT_NE(seen->find("event: tip\ndata: {\"height\":2,"), std::string::npos) << *seen;
  // B mines a heavier branch of five; A learns of it and reorganizes.
  for (int i = 0; i < 5; ++i) Mine(*b, "{\"b\":" + std::to_string(i) + "}");
  const HttpResponse r =
      a->Post("/peers", "{\"url\":\"ws://127.0.0.1:" + std::to_string(b->p2p_port()) + "\"}");
  ASSERT_EQ(r.status, 202) << r.body;
  const auto reorg = events.Until("event: reorg\ndata: ", 30s);
  ASSERT_TRUE(reorg) << "no reorg event";
  const auto rest = events.Until("\n\n");
  ASSERT_TRUE(rest);
  // The new peer was announced too (before or after the switch: the node
  // looks at its peers every 200 ms).
  const std::string peer_event = "event: peer\ndata: {\"connected\":1,";
  if (reorg->find(peer_event) == std::string::npos && rest->find(peer_event) == std::string::npos) {
    EXPECT_TRUE(events.Until(peer_event)) << "no peer event";
  }
  ASSERT_TRUE(WaitUntil([&] { return a->Get("/blocks/tip").body == b->Get("/blocks/tip").body; }));

  // GET /tips: the active tip (B's) and A's old branch as a valid fork.
  const auto tips = ParseJson(a->Get("/tips").body);
  ASSERT_TRUE(tips.ok() && tips->is_array()) << a->Get("/tips").body;
  ASSERT_EQ(tips->items().size(), 2u) << a->Get("/tips").body;
  EXPECT_EQ(tips->items()[0].Find("status")->as_string(), "active");
  EXPECT_EQ(tips->items()[0].Find("height")->number_text(), "5");
  EXPECT_EQ(tips->items()[1].Find("status")->as_string(), "valid-fork");
  EXPECT_EQ(tips->items()[1].Find("hash")->as_string(), HexEncode(a_tip.hash));
  EXPECT_EQ(tips->items()[1].Find("forkHeight")->number_text(), "0");
  EXPECT_EQ(tips->items()[1].Find("branchLength")->number_text(), "2");
  // GET /reorgs: the switch, from A's tip to B's, forking at genesis.
  const auto reorgs = ParseJson(a->Get("/reorgs").body);
  ASSERT_TRUE(reorgs.ok() && reorgs->items().size() == 1) << a->Get("/reorgs").body;
  const JsonValue& e = reorgs->items()[0];
  EXPECT_EQ(e.Find("oldTip")->as_string(), HexEncode(a_tip.hash));
  EXPECT_EQ(e.Find("disconnected")->number_text(), "2");
  EXPECT_EQ(e.Find("forkHeight")->number_text(), "0");
  // The metrics count it.
  const std::string scrape = a->Get("/metrics").body;
  EXPECT_EQ(Sample(scrape, "powchain_reorgs_total"), 1.0);
  EXPECT_EQ(Sample(scrape, "powchain_chain_tips"), 2.0);
  EXPECT_EQ(Sample(scrape, R"(powchain_reorg_depth_blocks_bucket{le="2"})"), 1.0);
}

}  // namespace
}  // namespace powchain::itest
