// HeaderSync: a peer's header chain is checked in full, handed to the tree
// only once it has proved more work than the threshold, held in bounded
// memory however long it is, and redownloaded with every part matched
// against what was checked.
#include "chain/header_sync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "testutil/chain_builder.h"

namespace powchain {
namespace {

using test::ChainBuilder;

constexpr std::uint64_t kNow = 1ull << 62;

std::vector<HashedHeader> HeadersOf(const std::vector<Block>& blocks, std::size_t from,
                                    std::size_t to) {
  std::vector<HashedHeader> out;
  for (std::size_t i = from; i < to && i < blocks.size(); ++i) {
    out.push_back(HashedHeader{blocks[i].header, blocks[i].hash});
  }
  return out;
}

Work WorkOf(const std::vector<Block>& blocks, std::size_t count) {
  Work w = 0;
  for (std::size_t i = 0; i < count; ++i) w += BlockWork(blocks[i].header.difficulty);
  return w;
}

// The anchor for a chain leaving the tree at blocks[n - 1].
HeaderAnchor AnchorAt(const std::vector<Block>& blocks, std::size_t n, const Params& params) {
  HeaderAnchor a;
  const Block& tip = blocks[n - 1];
  std::vector<std::uint64_t> window;
  for (std::size_t i = n; i > 0 && window.size() < params.mtp_window; --i) {
    window.insert(window.begin(), blocks[i - 1].header.timestamp);
  }
  a.context = ParentContext{tip.header, tip.hash, MedianTimePast(window)};
  a.chain_work = WorkOf(blocks, n);
  a.timestamps = window;
  return a;
}

class HeaderSyncTest : public ::testing::Test {
 protected:
  HeaderSyncTest() : params_(test::TinyParams()), chain_(params_) {
    for (int i = 0; i < 40; ++i) chain_.AddSlow("{\"n\":" + std::to_string(i) + "}");
  }
  const std::vector<Block>& blocks() const { return chain_.blocks(); }

  Params params_;
  ChainBuilder chain_;  // 41 blocks at the floor difficulty: work 2 each
};

TEST_F(HeaderSyncTest, AChainThatProvesItsWorkIsHandedOverAtOnce) {
  HeaderSync sync(params_, {});
  sync.Begin(AnchorAt(blocks(), 1, params_));
  const Work threshold = WorkOf(blocks(), 4);  // proved by the fourth header
  const auto fed = sync.Feed(HeadersOf(blocks(), 1, 6), kNow, threshold);
  EXPECT_EQ(fed.status, HeaderSync::Status::kOk);
  EXPECT_EQ(sync.phase(), HeaderSync::Phase::kProven);
  const std::vector<HashedHeader> ready = sync.TakeReady();
  EXPECT_EQ(ready, HeadersOf(blocks(), 1, 6));
  EXPECT_TRUE(sync.TakeReady().empty());
  EXPECT_EQ(sync.ResumeAfter(), blocks()[5].hash);
  // Later headers go straight through.
  EXPECT_EQ(sync.Feed(HeadersOf(blocks(), 6, 8), kNow, threshold).status, HeaderSync::Status::kOk);
  EXPECT_EQ(sync.TakeReady(), HeadersOf(blocks(), 6, 8));
}

TEST_F(HeaderSyncTest, AChainWithoutEnoughWorkIsNeverHandedOverAndStaysSmall) {
  HeaderSync::Limits limits;
  limits.checkpoint_interval = 5;
  HeaderSync sync(params_, limits);
  sync.Begin(AnchorAt(blocks(), 1, params_));
  const Work threshold = WorkOf(blocks(), 41) + 1;  // more than the whole chain
  for (std::size_t from = 1; from < 41; from += 7) {
    const auto fed = sync.Feed(HeadersOf(blocks(), from, from + 7), kNow, threshold);
    ASSERT_EQ(fed.status, HeaderSync::Status::kOk);
    EXPECT_TRUE(sync.TakeReady().empty());
    EXPECT_LE(sync.held(), 6u);  // at most an interval (and the one past it) held
    EXPECT_EQ(sync.phase(), HeaderSync::Phase::kPresync);
  }
  EXPECT_EQ(sync.tail_height(), 40u);
  EXPECT_EQ(sync.tail_work(), WorkOf(blocks(), 41));
}

// Proved only after more than an interval: fetched again from the anchor
// and handed over an interval at a time, each once its last hash matches.
TEST_F(HeaderSyncTest, ALongChainIsRedownloadedAndMatchedPartByPart) {
  HeaderSync::Limits limits;
  limits.checkpoint_interval = 5;
  HeaderSync sync(params_, limits);
  sync.Begin(AnchorAt(blocks(), 1, params_));
  const Work threshold = WorkOf(blocks(), 13);  // proved by the 13th header
  auto fed = sync.Feed(HeadersOf(blocks(), 1, 16), kNow, threshold);
  ASSERT_EQ(fed.status, HeaderSync::Status::kOk);
  EXPECT_TRUE(sync.TakeReady().empty());
  EXPECT_EQ(sync.phase(), HeaderSync::Phase::kRedownload);
  EXPECT_EQ(sync.ResumeAfter(), blocks()[0].hash);  // again from the anchor
  EXPECT_EQ(sync.proven_height(), 13u);
  // The redownload, four at a time: parts come out at 5, 10 and 13.
  std::vector<HashedHeader> got;
  std::vector<std::size_t> sizes;
  for (std::size_t from = 1; from < 17; from += 4) {
    fed = sync.Feed(HeadersOf(blocks(), from, from + 4), kNow, threshold);
    ASSERT_EQ(fed.status, HeaderSync::Status::kOk) << from;
    const auto ready = sync.TakeReady();
    sizes.push_back(ready.size());
    got.insert(got.end(), ready.begin(), ready.end());
  }
  // 1-4: nothing; 5-8: 1-5; 9-12: 6-10; 13-16: 11-13, then 14-16 (proven).
  EXPECT_EQ(sizes, (std::vector<std::size_t>{0, 5, 5, 6}));
  EXPECT_EQ(got, HeadersOf(blocks(), 1, 17));
  EXPECT_EQ(sync.phase(), HeaderSync::Phase::kProven);
}

TEST_F(HeaderSyncTest, ARedownloadThatDiffersIsCaught) {
  ChainBuilder other(params_);
  for (int i = 0; i < 20; ++i) other.AddSlow("{\"other\":" + std::to_string(i) + "}");
  HeaderSync::Limits limits;
  limits.checkpoint_interval = 5;
  HeaderSync sync(params_, limits);
  sync.Begin(AnchorAt(blocks(), 1, params_));
  const Work threshold = WorkOf(blocks(), 13);
  ASSERT_EQ(sync.Feed(HeadersOf(blocks(), 1, 16), kNow, threshold).status, HeaderSync::Status::kOk);
  ASSERT_EQ(sync.phase(), HeaderSync::Phase::kRedownload);
  // Another valid chain from the same anchor: caught at the first
  // checkpoint, before any of it is handed over.
  const auto fed = sync.Feed(HeadersOf(other.blocks(), 1, 9), kNow, threshold);
  EXPECT_EQ(fed.status, HeaderSync::Status::kMismatch);
  EXPECT_EQ(fed.index, 4u);
  EXPECT_TRUE(sync.TakeReady().empty());
}

TEST_F(HeaderSyncTest, StopsAtTheFirstHeaderThatBreaksARule) {
  HeaderSync sync(params_, {});
  sync.Begin(AnchorAt(blocks(), 1, params_));
  std::vector<HashedHeader> headers = HeadersOf(blocks(), 1, 8);
  headers[3].hash[31] ^= 1;  // not the header's hash
  auto fed = sync.Feed(headers, kNow, 0);
  EXPECT_EQ(fed.status, HeaderSync::Status::kInvalid);
  EXPECT_EQ(fed.validation.error, BlockError::kBadHash);
  EXPECT_EQ(fed.index, 3u);
  EXPECT_EQ(sync.TakeReady(), HeadersOf(blocks(), 1, 4));  // those before it stay taken

  // A gap: the next header does not follow the last one taken.
  sync.Begin(AnchorAt(blocks(), 1, params_));
  fed = sync.Feed(HeadersOf(blocks(), 2, 5), kNow, 0);
  EXPECT_EQ(fed.status, HeaderSync::Status::kInvalid);
  EXPECT_EQ(fed.index, 0u);

  // Too far in the future: not invalid, only too new for now.
  sync.Begin(AnchorAt(blocks(), 1, params_));
  fed = sync.Feed(HeadersOf(blocks(), 1, 5), blocks()[2].header.timestamp - 15001, 0);
  EXPECT_EQ(fed.status, HeaderSync::Status::kTooNew);
  EXPECT_EQ(fed.index, 1u);

  // Nothing may build on a block known to be invalid.
  HeaderAnchor failed = AnchorAt(blocks(), 1, params_);
  failed.failed = true;
  sync.Begin(failed);
  fed = sync.Feed(HeadersOf(blocks(), 1, 3), kNow, 0);
  EXPECT_EQ(fed.status, HeaderSync::Status::kInvalid);
  EXPECT_EQ(fed.validation.error, BlockError::kBadParent);
}

TEST_F(HeaderSyncTest, AChainTooLongWithoutTheWorkIsRefused) {
  HeaderSync::Limits limits;
  limits.checkpoint_interval = 4;
  limits.max_length = 20;
  HeaderSync sync(params_, limits);
  sync.Begin(AnchorAt(blocks(), 1, params_));
  const auto fed = sync.Feed(HeadersOf(blocks(), 1, 30), kNow, WorkOf(blocks(), 41));
  EXPECT_EQ(fed.status, HeaderSync::Status::kTooLong);
  EXPECT_EQ(fed.index, 20u);
}

TEST_F(HeaderSyncTest, FeedBeforeBeginIsRefused) {
  HeaderSync sync(params_, {});
  EXPECT_FALSE(sync.active());
  EXPECT_EQ(sync.Feed(HeadersOf(blocks(), 1, 3), kNow, 0).status, HeaderSync::Status::kMismatch);
}

}  // namespace
}  // namespace powchain
