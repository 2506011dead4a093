#include "mining/search.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "primitives/canonical_json.h"
#include "testutil/chain_builder.h"

namespace powchain {
namespace {

// A clock that returns `start + step * calls`, so tests decide how fast
// time passes per look at the clock.
class SteppingClock final : public Clock {
 public:
  SteppingClock(std::uint64_t start, std::uint64_t step) : start_(start), step_(step) {}
  std::uint64_t NowMs() const override { return start_ + step_ * calls_.fetch_add(1); }
  std::uint64_t calls() const { return calls_.load(); }

 private:
  std::uint64_t start_, step_;
  mutable std::atomic<std::uint64_t> calls_{0};
};

ParentContext GenesisContext(const Params& params) {
  const Block g = MakeGenesis(params);
  return ParentContext{g.header, g.hash, g.header.timestamp};
}

TEST(SearchTest, MinesAValidBlockWithTheData) {
  const Params params = Params::Regtest();
  const ParentContext parent = GenesisContext(params);
  SteppingClock clock(parent.header.timestamp + 5000, 0);
  std::atomic<bool> cancel{false};
  const std::string data = *CanonicalizeJsonText("{\"b\":1,\"a\":\"mined\"}");
  const SearchResult r = SearchBlock(parent, data, params, clock, cancel);
  ASSERT_FALSE(r.cancelled());
  const Block& b = *r.block;
  EXPECT_EQ(b.data, data);
  EXPECT_EQ(b.header.last_hash, parent.hash);
  EXPECT_EQ(b.header.height, 1u);
  EXPECT_EQ(b.header.timestamp, parent.header.timestamp + 5000);
  // Slow relative to genesis: one bit below its difficulty.
  EXPECT_EQ(b.header.difficulty, params.initial_difficulty - 1);
  const ValidationResult v = CheckBlock(b, parent, clock.NowMs(), params);
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_GE(r.attempts, 1u);
}

// Both hashing backends find the same first nonce, so the block does not
// depend on the CPU that mined it.
TEST(SearchTest, BackendsFindTheSameBlock) {
  if (!Sha256BackendAvailable(Sha256Backend::kShaNi)) GTEST_SKIP() << "no SHA-NI on this cpu";
  Params params = Params::Regtest();
  params.initial_difficulty = 14;
  const ParentContext parent = GenesisContext(params);
  std::atomic<bool> cancel{false};
  const std::string data = *CanonicalizeJsonText("[1,2,3]");
  for (const std::uint64_t stride : {1, 3}) {
    SearchOptions options;
    options.nonce_start = 7;
    options.nonce_stride = stride;
    options.check_interval = 1000;  // hits fall inside an interval, not at its start
    SteppingClock clock_a(parent.header.timestamp + 100, 0);
    options.backend = Sha256Backend::kShaNi;
    const SearchResult a = SearchBlock(parent, data, params, clock_a, cancel, options);
    SteppingClock clock_b(parent.header.timestamp + 100, 0);
    options.backend = Sha256Backend::kOpenSsl;
    const SearchResult b = SearchBlock(parent, data, params, clock_b, cancel, options);
    ASSERT_FALSE(a.cancelled());
    ASSERT_FALSE(b.cancelled());
    EXPECT_EQ(*a.block, *b.block);
    EXPECT_EQ(a.attempts, b.attempts);
    EXPECT_GT(a.attempts, 1u);
    EXPECT_TRUE(CheckBlock(*a.block, parent, parent.header.timestamp + 100, params).ok());
  }
}

TEST(SearchTest, ReturnsCancelledWhenTheFlagIsSet) {
  Params params = Params::Regtest();
  params.min_difficulty = 250;  // unreachable: the search only ends by cancel
  params.initial_difficulty = 250;
  const ParentContext parent = GenesisContext(params);
  SteppingClock clock(parent.header.timestamp + 1, 0);
  std::atomic<bool> cancel{true};
  SearchResult r = SearchBlock(parent, "null", params, clock, cancel);
  EXPECT_TRUE(r.cancelled());
  EXPECT_EQ(r.attempts, 0u);

  // Cancelled from another thread while searching.
  cancel = false;
  std::thread stopper([&] {
    while (clock.calls() < 3) std::this_thread::yield();
    cancel = true;
  });
  r = SearchBlock(parent, "null", params, clock, cancel, SearchOptions{0, 1, 256});
  stopper.join();
  EXPECT_TRUE(r.cancelled());
  EXPECT_GE(r.attempts, 3u * 256);
}

TEST(SearchTest, ContinuesAtTheLoweredDifficultyPastMineRate) {
  Params params = Params::Regtest();
  params.initial_difficulty = 16;
  const ParentContext parent = GenesisContext(params);
  // Each look at the clock moves time by a quarter of the mine rate: the
  // first four intervals are "fast" (17 bits), later ones "slow" (15 bits).
  SteppingClock clock(parent.header.timestamp + 1, params.mine_rate_ms / 4);
  std::atomic<bool> cancel{false};
  const SearchResult r =
      SearchBlock(parent, "\"late\"", params, clock, cancel, SearchOptions{0, 1, 1024});
  ASSERT_FALSE(r.cancelled());
  const Block& b = *r.block;
  // With this data, 4096 attempts at 17 bits find nothing (deterministic).
  EXPECT_GT(r.attempts, 4u * 1024);
  EXPECT_GE(b.header.timestamp, parent.header.timestamp + params.mine_rate_ms);
  EXPECT_EQ(b.header.difficulty, 15u);
  EXPECT_EQ(b.header.difficulty, NextDifficulty(parent.header, b.header.timestamp, params));
  EXPECT_TRUE(CheckBlock(b, parent, b.header.timestamp, params).ok());
}

TEST(SearchTest, TimestampStaysAboveMedianTimePast) {
  const Params params = Params::Regtest();
  ParentContext parent = GenesisContext(params);
  parent.median_time_past = parent.header.timestamp + 100000;
  SteppingClock clock(parent.header.timestamp, 0);  // a clock behind the chain
  std::atomic<bool> cancel{false};
  const SearchResult r = SearchBlock(parent, "1", params, clock, cancel);
  ASSERT_FALSE(r.cancelled());
  EXPECT_EQ(r.block->header.timestamp, parent.median_time_past + 1);
}

TEST(SearchTest, ThreadsSplitTheNonceSpace) {
  const Params params = Params::Regtest();
  const ParentContext parent = GenesisContext(params);
  SteppingClock clock(parent.header.timestamp + 10, 0);
  std::atomic<bool> cancel{false};
  for (std::uint64_t stride : {2u, 3u, 7u}) {
    for (std::uint64_t start = 0; start < stride; ++start) {
      const SearchResult r =
          SearchBlock(parent, "\"split\"", params, clock, cancel, SearchOptions{start, stride});
      ASSERT_FALSE(r.cancelled());
      EXPECT_EQ(r.block->header.nonce % stride, start);
      // Attempts start, start+stride, ...: the found one is the attempts-th.
      EXPECT_EQ(r.block->header.nonce, start + (r.attempts - 1) * stride);
    }
  }
}

}  // namespace
}  // namespace powchain
