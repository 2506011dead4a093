#include "node/options.h"

#include <gtest/gtest.h>

namespace powchain {
namespace {

TEST(NodeOptionsTest, DefaultsMatchTheSpec) {
  const NodeOptions o;
  EXPECT_EQ(o.http_port, 3001);
  EXPECT_EQ(o.p2p_port, 5001);
  EXPECT_EQ(o.network, "main");
  EXPECT_EQ(o.http_bind, "127.0.0.1");
  EXPECT_FALSE(o.mine);
  EXPECT_EQ(o.miner_threads, 1u);
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
  EXPECT_TRUE(refused([](NodeOptions& o) { o.http_bind = "localhost"; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.http_bind = "999.1.1.1"; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.miner_threads = 0; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.miner_threads = 1000; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.log_level = "loud"; }));
  EXPECT_TRUE(refused([](NodeOptions& o) { o.p2p_port = o.http_port; }));
  NodeOptions v6;
  v6.http_bind = "::1";
  EXPECT_TRUE(ValidateOptions(v6).ok());
}

}  // namespace
}  // namespace powchain
