#include "consensus/difficulty.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "consensus/pow.h"
#include "consensus/work.h"

namespace powchain {
namespace {

BlockHeader Parent(std::uint32_t difficulty, std::uint64_t timestamp) {
  BlockHeader h;
  h.difficulty = difficulty;
  h.timestamp = timestamp;
  return h;
}

TEST(DifficultyTest, RisesWhenFast) {
  const Params p = Params::Main();
  EXPECT_EQ(NextDifficulty(Parent(16, 100000), 100000 + p.mine_rate_ms - 1, p), 17u);
  EXPECT_EQ(NextDifficulty(Parent(16, 100000), 100000, p), 17u);
}

TEST(DifficultyTest, FallsWhenSlow) {
  const Params p = Params::Main();
  EXPECT_EQ(NextDifficulty(Parent(16, 100000), 100000 + p.mine_rate_ms, p), 15u);
  EXPECT_EQ(NextDifficulty(Parent(16, 100000), 100000 + 10 * p.mine_rate_ms, p), 15u);
}

TEST(DifficultyTest, NeverBelowTheFloor) {
  Params p = Params::Main();
  EXPECT_EQ(NextDifficulty(Parent(1, 0), 1000000, p), 1u);
  p.min_difficulty = 5;
  EXPECT_EQ(NextDifficulty(Parent(5, 0), 1000000, p), 5u);
  EXPECT_EQ(NextDifficulty(Parent(6, 0), 1000000, p), 5u);
}

TEST(DifficultyTest, TimestampBeforeParentCountsAsFast) {
  const Params p = Params::Main();
  EXPECT_EQ(NextDifficulty(Parent(16, 100000), 50000, p), 17u);
}

TEST(DifficultyTest, StopsAtTheCeiling) {
  const Params p = Params::Main();
  EXPECT_EQ(NextDifficulty(Parent(255, 100), 101, p), 255u);
  EXPECT_EQ(NextDifficulty(Parent(254, 100), 101, p), 255u);
}

// Every small case: parent difficulty 0..12 (0 is below any floor), every
// floor 1..4, every dt in [-3, 3 * mineRate] on a tiny mine rate of 4 ms.
TEST(DifficultyTest, ExhaustiveTinyParameters) {
  Params p = Params::Regtest();
  p.mine_rate_ms = 4;
  p.max_difficulty = 10;
  int cases = 0;
  for (std::uint32_t floor = 1; floor <= 4; ++floor) {
    p.min_difficulty = floor;
    for (std::uint32_t d = 0; d <= 12; ++d) {
      for (std::int64_t dt = -3; dt <= 12; ++dt) {
        const std::uint64_t parent_ts = 100;
        const auto ts = static_cast<std::uint64_t>(static_cast<std::int64_t>(parent_ts) + dt);
        // The rule written out independently, in signed arithmetic.
        std::int64_t want = dt < static_cast<std::int64_t>(p.mine_rate_ms) ? std::int64_t{d} + 1
                                                                           : std::int64_t{d} - 1;
        want = std::clamp<std::int64_t>(want, floor, p.max_difficulty);
        ASSERT_EQ(NextDifficulty(Parent(d, parent_ts), ts, p), static_cast<std::uint32_t>(want))
            << "floor " << floor << " d " << d << " dt " << dt;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 4 * 13 * 16);
}

TEST(MedianTimePastTest, TakesTheMiddleOfTheSortedWindow) {
  const std::vector<std::uint64_t> one = {7};
  EXPECT_EQ(MedianTimePast(one), 7u);
  const std::vector<std::uint64_t> odd = {5, 1, 9, 3, 7};
  EXPECT_EQ(MedianTimePast(odd), 5u);
  const std::vector<std::uint64_t> even = {4, 1, 3, 2};
  EXPECT_EQ(MedianTimePast(even), 3u);  // upper middle
  const std::vector<std::uint64_t> dup = {2, 2, 2, 9, 9};
  EXPECT_EQ(MedianTimePast(dup), 2u);
  // Windows up to 64 are ordered on the stack, larger ones on the heap: the
  // same answer either way, and the input is left as it was.
  for (const std::size_t n : {63u, 64u, 65u, 200u}) {
    std::vector<std::uint64_t> window(n);
    for (std::size_t i = 0; i < n; ++i) window[i] = (i * 37) % n;  // a permutation of 0..n-1
    const std::vector<std::uint64_t> before = window;
    EXPECT_EQ(MedianTimePast(window), n / 2) << n;
    EXPECT_EQ(window, before) << n;
  }
}

TEST(ProofOfWorkTest, CountsLeadingZeroBits) {
  Hash32 h{};
  h[0] = 0x00;
  h[1] = 0x0f;  // 12 leading zero bits
  h[2] = 0xff;
  EXPECT_TRUE(CheckProofOfWork(h, 0));
  EXPECT_TRUE(CheckProofOfWork(h, 12));
  EXPECT_FALSE(CheckProofOfWork(h, 13));
  EXPECT_TRUE(CheckProofOfWork(Hash32{}, 256));
  Hash32 top{};
  top[0] = 0x80;
  EXPECT_FALSE(CheckProofOfWork(top, 1));
}

TEST(WorkTest, IsTwoToTheDifficulty) {
  EXPECT_EQ(WorkToHex(BlockWork(0)), "1");
  EXPECT_EQ(WorkToHex(BlockWork(4)), "10");
  EXPECT_EQ(WorkToHex(BlockWork(16)), "10000");
  EXPECT_EQ(WorkToHex(BlockWork(255)), "8" + std::string(63, '0'));
  EXPECT_EQ(WorkToHex(Work(0)), "0");
}

TEST(WorkTest, AddsWithoutWrapping) {
  EXPECT_EQ(AddWork(BlockWork(3), BlockWork(3)), BlockWork(4));
  const Work max = ~Work(0);
  EXPECT_EQ(AddWork(BlockWork(255), BlockWork(255)), max);
  EXPECT_EQ(AddWork(max, Work(1)), max);
}

TEST(WorkTest, HexRoundTrips) {
  for (const Work& w : {Work(0), Work(1), BlockWork(100) + 12345, ~Work(0)}) {
    EXPECT_EQ(WorkFromHex(WorkToHex(w)), w);
  }
  EXPECT_EQ(WorkFromHex("FF"), Work(255));
  EXPECT_FALSE(WorkFromHex("").has_value());
  EXPECT_FALSE(WorkFromHex("0x10").has_value());
  EXPECT_FALSE(WorkFromHex(std::string(65, '1')).has_value());
}

}  // namespace
}  // namespace powchain
