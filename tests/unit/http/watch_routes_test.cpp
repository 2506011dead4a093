// GET /tips, /reorgs, /health, /health/ready, /metrics and /events at the
// router, and the route labels of the request metrics.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <string>
#include <variant>

#include "fake_node_api.h"
#include "http/routes.h"
#include "route_test_helpers.h"
#include "util/hex.h"

namespace powchain::http {
namespace {

namespace bhttp = boost::beast::http;
using testing::BodyJson;
using testing::ErrorOf;
using testing::FakeNodeApi;
using testing::Get;
using testing::Post;
using testing::ResponseOf;

class WatchRoutesTest : public ::testing::Test {
 protected:
  Response Answer(const Request& req) { return ResponseOf(router_.Route(req)); }

  static Hash32 HashOf(std::uint8_t b) {
    Hash32 h{};
    h[0] = b;
    return h;
  }

  FakeNodeApi api_{3};
  Router router_{api_, RouterOptions{}};
};

TEST_F(WatchRoutesTest, TipsListEachBranchWithItsForkAndStatus) {
  api_.tips_ = {
      TipEntry{HashOf(1), 12, 4096, HashOf(2), 9, "headers-only"},
      TipEntry{HashOf(3), 10, 2048, HashOf(3), 10, "active"},
      TipEntry{HashOf(4), 7, 1024, HashOf(5), 5, "valid-fork"},
  };
  const Response res = Answer(Get("/tips"));
  ASSERT_EQ(res.result(), bhttp::status::ok);
  const auto v = BodyJson(res);
  ASSERT_TRUE(v.is_array());
  const auto& tips = v.as_array();
  ASSERT_EQ(tips.size(), 3u);
  EXPECT_EQ(tips[0].at("status").as_string(), "headers-only");
  EXPECT_EQ(tips[0].at("height").as_int64(), 12);
  EXPECT_EQ(tips[0].at("forkHeight").as_int64(), 9);
  EXPECT_EQ(tips[0].at("branchLength").as_int64(), 3);
  EXPECT_EQ(tips[0].at("work").as_string(), "1000");
  EXPECT_EQ(tips[1].at("branchLength").as_int64(), 0);
  EXPECT_EQ(tips[2].at("fork").as_string(), std::string("05") + std::string(62, '0'));
  // Paged: offset and limit.
  const auto paged = BodyJson(Answer(Get("/tips?offset=1&limit=1"))).as_array();
  ASSERT_EQ(paged.size(), 1u);
  EXPECT_EQ(paged[0].at("status").as_string(), "active");
  EXPECT_EQ(Answer(Get("/tips?limit=x")).result(), bhttp::status::bad_request);
  EXPECT_EQ(Answer(Post("/tips", "{}")).result(), bhttp::status::method_not_allowed);
}

TEST_F(WatchRoutesTest, ReorgsNewestFirst) {
  ReorgEntry r;
  r.time_ms = 5;
  r.old_tip = HashOf(1);
  r.old_height = 10;
  r.new_tip = HashOf(2);
  r.new_height = 11;
  r.fork = HashOf(3);
  r.fork_height = 8;
  r.disconnected = 2;
  r.connected = 3;
  api_.reorgs_ = {r};
  const auto v = BodyJson(Answer(Get("/reorgs")));
  ASSERT_EQ(v.as_array().size(), 1u);
  const auto& e = v.as_array()[0];
  EXPECT_EQ(e.at("forkHeight").as_int64(), 8);
  EXPECT_EQ(e.at("disconnected").as_int64(), 2);
  EXPECT_EQ(e.at("connected").as_int64(), 3);
  EXPECT_EQ(e.at("newHeight").as_int64(), 11);
}

TEST_F(WatchRoutesTest, HealthIsLivenessAndReadyWantsSynced) {
  api_.health_ = HealthInfo{true, true, 5, 5, 2};
  Response res = Answer(Get("/health"));
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(BodyJson(res).at("status").as_string(), "ok");
  EXPECT_EQ(Answer(Get("/health/ready")).result(), bhttp::status::ok);
  // Syncing: alive, not ready.
  api_.health_ = HealthInfo{true, false, 5, 900, 2};
  res = Answer(Get("/health"));
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(BodyJson(res).at("status").as_string(), "syncing");
  res = Answer(Get("/health/ready"));
  EXPECT_EQ(res.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(BodyJson(res).at("headers").as_int64(), 900);
  // A failed store: neither.
  api_.health_ = HealthInfo{false, true, 5, 5, 0};
  res = Answer(Get("/health"));
  EXPECT_EQ(res.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(BodyJson(res).at("status").as_string(), "failing");
}

TEST_F(WatchRoutesTest, MetricsAreServedAsPrometheusText) {
  EXPECT_EQ(Answer(Get("/metrics")).result(), bhttp::status::not_found);
  EXPECT_EQ(ErrorOf(Answer(Get("/metrics"))), "this node keeps no metrics");
  api_.metrics_ = "# HELP x y\n# TYPE x gauge\nx 1\n";
  const Response res = Answer(Get("/metrics"));
  ASSERT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body(), *api_.metrics_);
}

TEST_F(WatchRoutesTest, EventsAreHandedToTheServer) {
  EXPECT_TRUE(std::holds_alternative<EventsRequest>(router_.Route(Get("/events"))));
  EXPECT_TRUE(std::holds_alternative<EventsRequest>(router_.Route(Get("/events?x=1"))));
  EXPECT_EQ(Answer(Post("/events", "{}")).result(), bhttp::status::method_not_allowed);
}

TEST_F(WatchRoutesTest, SearchNamesWhatTheTextIs) {
  api_.status_.params = Params::Regtest();
  const auto kind = [&](const std::string& q) {
    const Response res = Answer(Get("/search?q=" + q));
    EXPECT_EQ(res.result(), bhttp::status::ok) << q;
    const auto v = BodyJson(res);
    const auto* id = v.as_object().if_contains("id");
    return std::string(v.at("kind").as_string()) + (id ? " " + std::string(id->as_string()) : "");
  };
  const std::string hash1 = HexEncode(api_.chain_[1].hash);
  EXPECT_EQ(kind("1"), "block " + hash1);
  EXPECT_EQ(kind("0001"), "block " + HexEncode(api_.chain_[1].hash));
  EXPECT_EQ(kind("7"), "none");
  EXPECT_EQ(kind("18446744073709551616"), "none");  // past 64 bits
  EXPECT_EQ(kind(std::string(200, '9')), "none");
  std::string upper = hash1;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(kind(upper), "block " + hash1);
  EXPECT_EQ(kind(std::string(64, 'a')), "none");
  // A hash whose hex digits are all decimal is a hash, not a height.
  api_.chain_[2].hash.fill(0x11);
  EXPECT_EQ(kind(std::string(64, '1')), "block " + std::string(64, '1'));
  const std::string address = "powrt1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqpy0v33";
  EXPECT_EQ(kind(address), "address " + address);
  EXPECT_EQ(kind("pow1qqqq"), "none");
  EXPECT_EQ(Answer(Get("/search")).result(), bhttp::status::bad_request);
  EXPECT_EQ(Answer(Get("/search?q=")).result(), bhttp::status::bad_request);
  EXPECT_EQ(Answer(Get("/search?q=" + std::string(201, '9'))).result(), bhttp::status::bad_request);
}

TEST(RouteLabelTest, PathsMapToTheirTemplates) {
  EXPECT_EQ(RouteLabel("/blocks?from=3"), "/blocks");
  EXPECT_EQ(RouteLabel("/blocks/12"), "/blocks/{id}");
  EXPECT_EQ(RouteLabel("/transactions/ab/proof"), "/transactions/{txid}/proof");
  EXPECT_EQ(RouteLabel("/transactions/ab"), "/transactions/{txid}");
  EXPECT_EQ(RouteLabel("/addresses/x/utxos?limit=1"), "/addresses/{address}/utxos");
  EXPECT_EQ(RouteLabel("/addresses/x/txs"), "/addresses/{address}/txs");
  EXPECT_EQ(RouteLabel("/addresses/x"), "/addresses/{address}");
  EXPECT_EQ(RouteLabel("/health/ready"), "/health/ready");
  EXPECT_EQ(RouteLabel("/"), "/");
  // Whatever a client invents, the label set stays fixed.
  EXPECT_EQ(RouteLabel("/no/such/thing"), "other");
  EXPECT_EQ(RouteLabel("/metricsX"), "other");
}

}  // namespace
}  // namespace powchain::http
