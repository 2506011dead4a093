#include "consensus/params.h"

#include <gtest/gtest.h>

#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "crypto/sha256.h"
#include "primitives/json.h"
#include "util/hex.h"

namespace powchain {
namespace {

TEST(ParamsTest, MainMatchesSpec) {
  const Params p = Params::Main();
  EXPECT_EQ(p.network, "main");
  EXPECT_EQ(p.mine_rate_ms, 3000u);
  EXPECT_EQ(p.initial_difficulty, 16u);
  EXPECT_EQ(p.min_difficulty, 1u);
  EXPECT_EQ(p.max_future_drift_ms, 15000u);
  EXPECT_EQ(p.mtp_window, 11u);
  EXPECT_EQ(p.max_block_bytes, 1024u * 1024u);
}

TEST(ParamsTest, RegtestMatchesSpec) {
  const Params p = Params::Regtest();
  EXPECT_EQ(p.network, "regtest");
  EXPECT_EQ(p.mine_rate_ms, 1000u);
  EXPECT_EQ(p.initial_difficulty, 8u);
  EXPECT_EQ(p.min_difficulty, 1u);
  EXPECT_EQ(p.max_future_drift_ms, 15000u);
  EXPECT_EQ(p.mtp_window, 11u);
}

TEST(ParamsTest, ForNetworkKnowsOnlyTheNamedSets) {
  EXPECT_EQ(Params::ForNetwork("main")->network, "main");
  EXPECT_EQ(Params::ForNetwork("regtest")->network, "regtest");
  EXPECT_FALSE(Params::ForNetwork("Main").has_value());
  EXPECT_FALSE(Params::ForNetwork("").has_value());
  EXPECT_FALSE(Params::ForNetwork("testnet").has_value());
}

TEST(GenesisTest, HasSpecShape) {
  const Params p = Params::Main();
  const Block g = MakeGenesis(p);
  EXPECT_EQ(g.header.version, 1u);
  EXPECT_EQ(g.header.height, 0u);
  EXPECT_EQ(g.header.last_hash, Hash32{});
  EXPECT_EQ(g.header.timestamp, p.genesis_timestamp);
  EXPECT_EQ(g.header.difficulty, p.initial_difficulty);
  EXPECT_EQ(g.header.nonce, 0u);
  EXPECT_EQ(g.hash, g.header.ComputeHash());
  EXPECT_EQ(g.header.data_hash,
            Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(g.data.data()), g.data.size())));
  auto data = ParseJson(g.data);
  ASSERT_TRUE(data.ok());
  ASSERT_NE(data->Find("network"), nullptr);
  EXPECT_EQ(data->Find("network")->as_string(), "main");
  EXPECT_EQ(data->Find("mineRate")->number_text(), "3000");
}

TEST(GenesisTest, IsAPureFunctionOfParams) {
  EXPECT_EQ(MakeGenesis(Params::Main()), MakeGenesis(Params::Main()));
  EXPECT_EQ(MakeGenesis(Params::Regtest()), MakeGenesis(Params::Regtest()));
}

TEST(GenesisTest, HashIdentifiesTheNetwork) {
  const Hash32 main = MakeGenesis(Params::Main()).hash;
  EXPECT_NE(main, MakeGenesis(Params::Regtest()).hash);
  // Any parameter change gives another genesis.
  Params p = Params::Main();
  p.mine_rate_ms += 1;
  EXPECT_NE(MakeGenesis(p).hash, main);
  p = Params::Main();
  p.mtp_window = 12;
  EXPECT_NE(MakeGenesis(p).hash, main);
  p = Params::Main();
  p.max_block_bytes = 2048;
  EXPECT_NE(MakeGenesis(p).hash, main);
}

// Pinned so that an accidental change of the genesis (and so of the network)
// fails here. Computed outside the project by tests/vectors/genesis_vectors.py.
TEST(GenesisTest, PinnedVectors) {
  const Block main = MakeGenesis(Params::Main());
  EXPECT_EQ(main.data,
            "{\"addressPrefix\":\"pow\",\"coinbaseMaturity\":100,\"halvingInterval\":210000,"
            "\"initialDifficulty\":16,\"initialReward\":5000000000,\"maxBlockBytes\":1048576,"
            "\"maxDifficulty\":255,\"maxFutureDriftMs\":15000,\"minDifficulty\":1,"
            "\"mineRate\":3000,\"mtpWindow\":11,\"network\":\"main\"}");
  EXPECT_EQ(HexEncode(main.hash),
            "bfe39aab9065e71a8a1055b290abdf5a6aad5d84a2205500c6d2e5a95b613f89");
  EXPECT_EQ(HexEncode(MakeGenesis(Params::Regtest()).hash),
            "e202ab5c9d9f593d3eab6d447d3e434851a24b5f18c2d981e24e8507d1f62d9d");
}

}  // namespace
}  // namespace powchain
