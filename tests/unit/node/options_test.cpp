#include "node/options.h"

#include <gtest/gtest.h>

namespace powchain {
namespace {

TEST(NodeOptionsTest, DefaultsMatchTheSpec) {
  const NodeOptions o;
  EXPECT_EQ(o.http.port, 3001);
  EXPECT_EQ(o.transport.port, 5001);
  EXPECT_EQ(o.network, "main");
  EXPECT_EQ(o.http.bind_address, "127.0.0.1");
  EXPECT_EQ(o.transport.bind_address, "0.0.0.0");
  EXPECT_FALSE(o.miner.continuous);
  EXPECT_EQ(o.miner.threads, 1u);
  EXPECT_EQ(o.peer_policy.ban_duration, std::chrono::minutes(10));
  EXPECT_EQ(o.peer_policy.message_rate, 1000);
  EXPECT_EQ(o.peer_policy.request_rate, 250);
  EXPECT_TRUE(o.peers.empty());
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(NodeOptionsTest, DataDirDependsOnNetworkAndP2pPort) {
  EXPECT_EQ(DefaultDataDir("main", 5001), "./data/main/5001");
  EXPECT_NE(DefaultDataDir("main", 5001), DefaultDataDir("main", 5002));
  EXPECT_NE(DefaultDataDir("main", 5001), DefaultDataDir("regtest", 5001));
}

TEST(NodeOptionsTest, RefusesWhatTheCommandLineCannotCheck) {
  auto refused = [](void (*change)(NodeOptions&)) {
    NodeOptions o;
    change(o);
    const Status s = ValidateOptions(o);
    return !s.ok() && !s.error().empty() && s.error().find('\n') == std::string::npos;
  };
  EXPECT_TRUE(refused([](NodeOptions& o) { o.network = "testnet"; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.http.bind_address = "localhost"; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.http.bind_address = "999.1.1.1"; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.miner.threads = 0; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.miner.threads = 1000; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.log_level = "loud"; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.transport.port = o.http.port; }));
  NodeOptions v6;
  v6.http.bind_address = "::1";
  EXPECT_TRUE(ValidateOptions(v6).ok());
}

}  // namespace
}  // namespace powchain
