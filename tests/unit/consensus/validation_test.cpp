#include "consensus/validation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/pow.h"
#include "testutil/chain_builder.h"

namespace powchain {
namespace {

using test::ChainBuilder;
using test::SetDataAndSolve;
using test::Solve;
using test::TinyParams;

class ValidationTest : public ::testing::Test {
 protected:
  ValidationTest() : params_(TinyParams()), chain_(params_) {
    for (int i = 0; i < 5; ++i) chain_.AddSlow("{\"n\":" + std::to_string(i) + "}");
  }
  std::uint64_t Now() const { return chain_.tip().header.timestamp + 1000; }

  // A valid child of the current tip, not yet added.
  Block NextBlock() const {
    ChainBuilder copy = chain_;
    return copy.AddSlow("\"next\"");
  }

  BlockError Check(const Block& b) const {
    return CheckBlock(b, chain_.TipContext(), Now(), params_).error;
  }

  Params params_;
  ChainBuilder chain_;
};

// The classic chain-validity suite.
TEST_F(ValidationTest, ValidChainValidates) {
  const ValidationResult r = CheckChain(chain_.blocks(), Now(), params_);
  EXPECT_TRUE(r.ok()) << r.message;
}

TEST_F(ValidationTest, GenesisAloneValidates) {
  const std::vector<Block> just = {MakeGenesis(params_)};
  EXPECT_TRUE(CheckChain(just, Now(), params_).ok());
}

TEST_F(ValidationTest, CorruptGenesisIsRefused) {
  std::vector<Block> blocks = chain_.blocks();
  blocks[0].data = "\"fake-genesis\"";
  std::uint64_t at = 99;
  EXPECT_EQ(CheckChain(blocks, Now(), params_, &at).error, BlockError::kBadGenesis);
  EXPECT_EQ(at, 0u);
  // A genesis of another network is refused as well.
  blocks = chain_.blocks();
  blocks[0] = MakeGenesis(Params::Regtest());
  EXPECT_EQ(CheckChain(blocks, Now(), params_).error, BlockError::kBadGenesis);
  EXPECT_EQ(CheckChain(std::vector<Block>{}, Now(), params_).error, BlockError::kBadGenesis);
}

TEST_F(ValidationTest, ChangedFieldIsRefused) {
  struct Case {
    const char* name;
    void (*change)(Block&);
    BlockError want;
  };
  const std::vector<Case> cases = {
      {"data", [](Block& b) { b.data = "\"evil\""; }, BlockError::kBadDataHash},
      {"dataHash", [](Block& b) { b.header.data_hash[0] ^= 1; }, BlockError::kBadHash},
      {"timestamp", [](Block& b) { b.header.timestamp += 1; }, BlockError::kBadHash},
      {"nonce", [](Block& b) { b.header.nonce += 1; }, BlockError::kBadHash},
      {"difficulty", [](Block& b) { b.header.difficulty += 1; }, BlockError::kBadHash},
      {"height", [](Block& b) { b.header.height += 1; }, BlockError::kBadHash},
      {"lastHash", [](Block& b) { b.header.last_hash[31] ^= 1; }, BlockError::kBadHash},
      {"hash", [](Block& b) { b.hash[31] ^= 1; }, BlockError::kBadHash},
  };
  for (const Case& c : cases) {
    std::vector<Block> blocks = chain_.blocks();
    c.change(blocks[3]);
    std::uint64_t at = 0;
    EXPECT_EQ(CheckChain(blocks, Now(), params_, &at).error, c.want) << c.name;
    EXPECT_EQ(at, 3u) << c.name;
  }
}

TEST_F(ValidationTest, BrokenLinkIsRefused) {
  // A block that is internally consistent but points at the wrong parent.
  std::vector<Block> blocks = chain_.blocks();
  blocks[3].header.last_hash = blocks[1].hash;
  Solve(blocks[3]);
  EXPECT_EQ(CheckChain(blocks, Now(), params_).error, BlockError::kBadLastHash);
  // Blocks out of order.
  blocks = chain_.blocks();
  std::swap(blocks[2], blocks[3]);
  EXPECT_FALSE(CheckChain(blocks, Now(), params_).ok());
}

// What a naive chain check misses.
TEST_F(ValidationTest, ProofOfWorkIsChecked) {
  Block b = NextBlock();
  // Find a nonce whose hash misses the difficulty, keeping the hash honest.
  for (b.header.nonce = 0;; ++b.header.nonce) {
    b.hash = b.header.ComputeHash();
    if (!CheckProofOfWork(b.hash, b.header.difficulty)) break;
  }
  EXPECT_EQ(Check(b), BlockError::kHighHash);
}

TEST_F(ValidationTest, ForgedChainWithoutWorkIsRefused) {
  // A chain whose blocks claim difficulty 1 but were never mined.
  std::vector<Block> blocks = chain_.blocks();
  bool any = false;
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    if (i > 1) blocks[i].header.last_hash = blocks[i - 1].hash;
    blocks[i].header.nonce = 0;
    blocks[i].hash = blocks[i].header.ComputeHash();
    any = any || !CheckProofOfWork(blocks[i].hash, blocks[i].header.difficulty);
  }
  ASSERT_TRUE(any) << "every nonce 0 happened to meet the difficulty; pick another chain";
  EXPECT_FALSE(CheckChain(blocks, Now(), params_).ok());
}

TEST_F(ValidationTest, DifficultyMustBeExact) {
  const std::uint32_t want =
      NextDifficulty(chain_.tip().header, NextBlock().header.timestamp, params_);
  for (std::uint32_t d : {want + 1, want + 2, want + 5}) {
    Block b = NextBlock();
    b.header.difficulty = d;
    Solve(b);
    EXPECT_EQ(Check(b), BlockError::kBadDifficulty) << d;
  }
  // Below the floor is refused before any context.
  Block b = NextBlock();
  b.header.difficulty = 0;
  Solve(b);
  EXPECT_EQ(CheckBlockContextFree(b, params_).error, BlockError::kBadDifficulty);
  EXPECT_EQ(Check(NextBlock()), BlockError::kNone);
}

TEST_F(ValidationTest, DifficultyJumpIsRefused) {
  // A fast block must raise the difficulty by exactly one.
  ChainBuilder c = chain_;
  Block b = c.AddFast();
  EXPECT_EQ(b.header.difficulty, chain_.tip().header.difficulty + 1);
  EXPECT_EQ(Check(b), BlockError::kNone);
  b.header.difficulty += 3;
  Solve(b);
  EXPECT_EQ(Check(b), BlockError::kBadDifficulty);
}

TEST_F(ValidationTest, TimestampMustExceedMedianTimePast) {
  const ParentContext ctx = chain_.TipContext();
  for (std::uint64_t ts : {ctx.median_time_past - 1, ctx.median_time_past}) {
    Block b = NextBlock();
    b.header.timestamp = ts;
    b.header.difficulty = NextDifficulty(ctx.header, ts, params_);
    Solve(b);
    EXPECT_EQ(Check(b), BlockError::kTimeTooOld) << ts;
  }
  Block b = NextBlock();
  b.header.timestamp = ctx.median_time_past + 1;
  b.header.difficulty = NextDifficulty(ctx.header, b.header.timestamp, params_);
  Solve(b);
  EXPECT_EQ(Check(b), BlockError::kNone);
}

TEST_F(ValidationTest, FarFutureIsRefusedNowAndAcceptedLater) {
  Block b = NextBlock();
  const std::uint64_t now = chain_.tip().header.timestamp;
  b.header.timestamp = now + params_.max_future_drift_ms + 1;
  b.header.difficulty = NextDifficulty(chain_.tip().header, b.header.timestamp, params_);
  Solve(b);
  const ParentContext ctx = chain_.TipContext();
  EXPECT_EQ(CheckBlock(b, ctx, now, params_).error, BlockError::kTimeTooNew);
  EXPECT_EQ(CheckBlock(b, ctx, now + 1, params_).error, BlockError::kNone);
  // Exactly at the drift limit is fine.
  EXPECT_EQ(CheckBlock(b, ctx, b.header.timestamp - params_.max_future_drift_ms, params_).error,
            BlockError::kNone);
}

TEST_F(ValidationTest, DataIsCoveredByTheHash) {
  // New data with a matching dataHash but the old hash: the hash no longer
  // matches the header.
  Block b = NextBlock();
  const Hash32 old_hash = b.hash;
  SetDataAndSolve(b, "\"other\"");
  b.hash = old_hash;
  EXPECT_EQ(Check(b), BlockError::kBadHash);
  // New data alone: the dataHash no longer matches.
  b = NextBlock();
  b.data = "\"other\"";
  EXPECT_EQ(Check(b), BlockError::kBadDataHash);
}

TEST_F(ValidationTest, SizeIsLimited) {
  Block b = NextBlock();
  const std::size_t room = params_.max_block_bytes - kHeaderSize;
  SetDataAndSolve(b, "\"" + std::string(room - 2, 'x') + "\"");
  EXPECT_EQ(b.SerializedSize(), params_.max_block_bytes);
  EXPECT_EQ(Check(b), BlockError::kNone);
  SetDataAndSolve(b, "\"" + std::string(room - 1, 'x') + "\"");
  EXPECT_EQ(Check(b), BlockError::kOversize);
}

TEST_F(ValidationTest, VersionMustBeKnown) {
  Block b = NextBlock();
  b.header.version = 2;
  Solve(b);
  EXPECT_EQ(Check(b), BlockError::kBadVersion);
}

TEST_F(ValidationTest, HeightMustFollowTheParent) {
  Block b = NextBlock();
  b.header.height += 1;
  Solve(b);
  EXPECT_EQ(Check(b), BlockError::kBadHeight);
}

TEST_F(ValidationTest, ContextFreeChecksRunFirst) {
  // A block with a bad hash and a bad height reports the context-free error.
  Block b = NextBlock();
  b.header.height += 7;
  EXPECT_EQ(Check(b), BlockError::kBadHash);
}

TEST(BlockErrorTest, EveryReasonHasAName) {
  for (int e = 0; e <= static_cast<int>(BlockError::kBadGenesis); ++e) {
    EXPECT_NE(BlockErrorName(static_cast<BlockError>(e)), "unknown") << e;
  }
}

}  // namespace
}  // namespace powchain
