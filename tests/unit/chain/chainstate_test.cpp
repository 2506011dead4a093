#include "chain/chainstate.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "consensus/genesis.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"
#include "testutil/forwarding_store.h"

namespace powchain {
namespace {

using test::ChainBuilder;
using test::TinyParams;

constexpr std::uint64_t kFarFuture = 1ull << 62;  // `now` for tests that don't test time

class RecordingObserver : public ChainObserver {
 public:
  void OnTipChanged(const TipChange& change) override { changes.push_back(change); }
  std::vector<TipChange> changes;
};

class ChainStateTest : public ::testing::Test {
 protected:
  ChainStateTest() : params_(TinyParams()), chain_(params_, store_) {
    EXPECT_TRUE(chain_.Load().ok());
    chain_.AddObserver(&observer_);
  }

  AcceptResult Accept(const Block& b, std::uint64_t now = kFarFuture) {
    return chain_.AcceptBlock(b, now);
  }
  void AcceptAll(const ChainBuilder& builder) {
    for (const Block& b : builder.WithoutGenesis()) {
      if (chain_.Contains(b.hash)) continue;
      const AcceptResult r = Accept(b);
      ASSERT_TRUE(r.ok()) << AcceptStatusName(r.status) << " " << r.validation.message;
    }
  }
  // As a peer delivers a chain that proved its work: headers first, then
  // the blocks.
  void Deliver(const ChainBuilder& builder) { DeliverTo(chain_, builder); }
  static void DeliverTo(ChainState& chain, const ChainBuilder& builder) {
    const std::vector<Block> blocks = builder.WithoutGenesis();
    const AddHeadersResult added = chain.AddHeaders(Headers(blocks), kFarFuture);
    ASSERT_TRUE(added.ok()) << added.validation.message;
    for (const Block& b : blocks) {
      const AcceptResult r = chain.AcceptBlock(b, kFarFuture);
      ASSERT_TRUE(r.ok() || r.status == AcceptStatus::kDuplicate)
          << AcceptStatusName(r.status) << " " << r.validation.message;
    }
  }
  static std::vector<HashedHeader> Headers(const std::vector<Block>& blocks) {
    std::vector<HashedHeader> out;
    for (const Block& b : blocks) out.push_back(HashedHeader{b.header, b.hash});
    return out;
  }
  // The active chain, read back through the public interface.
  std::vector<Hash32> ActiveChain() const {
    return chain_.ActiveHashes(0, static_cast<std::size_t>(chain_.Tip().height() + 1));
  }

  Params params_;
  MemoryBlockStore store_;
  ChainState chain_;
  RecordingObserver observer_;
};

// The classic blockchain suite: a chain that grows, and what replaces it.
TEST_F(ChainStateTest, StartsWithGenesis) {
  const Block genesis = MakeGenesis(params_);
  EXPECT_EQ(chain_.Tip().hash(), genesis.hash);
  EXPECT_EQ(chain_.Tip().height(), 0u);
  EXPECT_EQ(chain_.GenesisHash(), genesis.hash);
  auto stored = chain_.BlockAtHeight(0);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(**stored, genesis);
}

TEST_F(ChainStateTest, AddsABlock) {
  ChainBuilder b(params_);
  const Block& block = b.AddSlow("{\"tx\":\"alice pays bob\"}");
  const AcceptResult r = Accept(block);
  EXPECT_EQ(r.status, AcceptStatus::kNewTip);
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(chain_.Tip().hash(), block.hash);
  EXPECT_EQ(chain_.Tip().height(), 1u);
  auto stored = chain_.BlockAtHeight(1);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(**stored, block);
  EXPECT_EQ((*stored)->data, "{\"tx\":\"alice pays bob\"}");
  EXPECT_EQ((*stored)->header.last_hash, MakeGenesis(params_).hash);
  ASSERT_EQ(observer_.changes.size(), 1u);
  EXPECT_EQ(observer_.changes[0].new_tip.hash(), block.hash);
  EXPECT_EQ(observer_.changes[0].connected, std::vector<Hash32>{block.hash});
  EXPECT_TRUE(observer_.changes[0].disconnected.empty());
}

TEST_F(ChainStateTest, DuplicateIsReportedAndNotStoredTwice) {
  ChainBuilder b(params_);
  const Block& block = b.AddSlow();
  EXPECT_EQ(Accept(block).status, AcceptStatus::kNewTip);
  const std::size_t commits = store_.CommitCount();
  EXPECT_EQ(Accept(block).status, AcceptStatus::kDuplicate);
  EXPECT_EQ(Accept(MakeGenesis(params_)).status, AcceptStatus::kDuplicate);
  EXPECT_EQ(store_.CommitCount(), commits);
  EXPECT_EQ(observer_.changes.size(), 1u);
}

TEST_F(ChainStateTest, InvalidBlockIsRefusedWithItsReason) {
  ChainBuilder b(params_);
  Block block = b.AddSlow();
  block.data = "\"tampered\"";
  const AcceptResult r = Accept(block);
  EXPECT_EQ(r.status, AcceptStatus::kInvalid);
  EXPECT_EQ(r.validation.error, BlockError::kBadDataHash);
  EXPECT_FALSE(r.validation.message.empty());
  EXPECT_FALSE(chain_.Contains(block.hash));
  EXPECT_EQ(chain_.Tip().height(), 0u);
  EXPECT_EQ(store_.BlockCount(), 1u);
}

TEST_F(ChainStateTest, BetterChainReplacesTheCurrentOne) {
  ChainBuilder mine(params_);
  for (int i = 0; i < 3; ++i) mine.AddSlow("\"a\"");
  AcceptAll(mine);
  ChainBuilder theirs(params_);
  for (int i = 0; i < 4; ++i) theirs.AddSlow("\"b\"");
  Deliver(theirs);
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
  EXPECT_EQ(ActiveChain().back(), theirs.tip().hash);
  const TipChange& last = observer_.changes.back();
  EXPECT_EQ(last.disconnected.size(), 3u);
  EXPECT_EQ(last.connected.size(), 4u);
  EXPECT_EQ(last.old_tip.hash(), mine.tip().hash);
}

TEST_F(ChainStateTest, EqualChainDoesNotReplace) {
  ChainBuilder mine(params_);
  for (int i = 0; i < 3; ++i) mine.AddSlow("\"a\"");
  AcceptAll(mine);
  ChainBuilder theirs(params_);
  for (int i = 0; i < 3; ++i) theirs.AddSlow("\"b\"");
  ASSERT_EQ(theirs.TipContext().header.difficulty, mine.tip().header.difficulty);
  ASSERT_TRUE(chain_.AddHeaders(Headers(theirs.WithoutGenesis()), kFarFuture).ok());
  for (const Block& b : theirs.WithoutGenesis())
    EXPECT_EQ(Accept(b).status, AcceptStatus::kSideBranch);
  EXPECT_EQ(chain_.Tip().hash(), mine.tip().hash);
  EXPECT_TRUE(chain_.Contains(theirs.tip().hash));
}

TEST_F(ChainStateTest, WorseChainDoesNotReplace) {
  ChainBuilder mine(params_);
  for (int i = 0; i < 4; ++i) mine.AddSlow("\"a\"");
  AcceptAll(mine);
  ChainBuilder theirs(params_);
  for (int i = 0; i < 2; ++i) theirs.AddSlow("\"b\"");
  Deliver(theirs);  // its headers were added: stored, as a side branch
  EXPECT_EQ(chain_.Tip().hash(), mine.tip().hash);
  EXPECT_TRUE(chain_.Contains(theirs.tip().hash));
  EXPECT_FALSE(chain_.IsActive(theirs.tip().hash));
}

// Nothing cheap is kept: a block nobody proved a header chain for is stored
// only when it brings its chain to at least the active tip's work.
TEST_F(ChainStateTest, UnrequestedLighterBlocksAreNotKept) {
  ChainBuilder mine(params_);
  for (int i = 0; i < 4; ++i) mine.AddSlow("\"a\"");
  AcceptAll(mine);
  const std::size_t stored = store_.BlockCount();
  ChainBuilder theirs(params_);
  const AcceptResult r = Accept(theirs.AddSlow("\"b\""));
  EXPECT_EQ(r.status, AcceptStatus::kTooLittleWork);
  EXPECT_FALSE(chain_.Contains(theirs.tip().hash));
  EXPECT_FALSE(chain_.HasHeader(theirs.tip().hash));
  // Siblings differing only in their data, each as cheap as the last.
  ChainBuilder base(params_, {mine.blocks().begin(), mine.blocks().begin() + 2});
  for (int i = 0; i < 50; ++i) {
    ChainBuilder sibling(params_, base.blocks());
    EXPECT_EQ(Accept(sibling.AddSlow("{\"s\":" + std::to_string(i) + "}")).status,
              AcceptStatus::kTooLittleWork);
  }
  EXPECT_EQ(store_.BlockCount(), stored);
  EXPECT_EQ(chain_.HeaderCount(), chain_.BlockCount());
  // One that ties the tip is kept (fork choice leaves the tip alone); its
  // sibling costs as much work as ours did.
  ChainBuilder tie(params_, {mine.blocks().begin(), mine.blocks().end() - 1});
  EXPECT_EQ(Accept(tie.AddSlow("\"tie\"")).status, AcceptStatus::kSideBranch);
  EXPECT_EQ(chain_.Tip().hash(), mine.tip().hash);
  // A block whose parent is unknown is not kept either; the caller learns
  // which parent to look for.
  ChainBuilder far(params_, mine.blocks());
  far.AddSlow();
  const AcceptResult orphan = Accept(far.AddSlow());
  EXPECT_EQ(orphan.status, AcceptStatus::kUnknownParent);
  EXPECT_EQ(orphan.missing_parent, far.blocks()[far.blocks().size() - 2].hash);
  EXPECT_FALSE(chain_.HasHeader(far.tip().hash));
}

TEST_F(ChainStateTest, LongerButLighterChainLoses) {
  ChainBuilder heavy(params_);  // 3 fast blocks: difficulty 2, 3, 4
  for (int i = 0; i < 3; ++i) heavy.AddFast("\"heavy\"");
  ChainBuilder light(params_);  // 6 slow blocks: difficulty 1 each
  for (int i = 0; i < 6; ++i) light.AddSlow("\"light\"");
  AcceptAll(heavy);
  Deliver(light);
  EXPECT_EQ(chain_.Tip().hash(), heavy.tip().hash);
  EXPECT_EQ(chain_.Tip().height(), 3u);
  EXPECT_EQ(WorkToHex(chain_.Tip().work), WorkToHex(Work(2 + 4 + 8 + 16)));
  // Order of arrival does not matter.
  MemoryBlockStore other_store;
  ChainState other(params_, other_store);
  ASSERT_TRUE(other.Load().ok());
  DeliverTo(other, light);
  DeliverTo(other, heavy);
  EXPECT_EQ(other.Tip().hash(), heavy.tip().hash);
}

TEST_F(ChainStateTest, ReorganizesBackAndForthKeepingEveryBlock) {
  ChainBuilder a(params_);
  ChainBuilder b(params_);
  a.AddSlow("\"a\"");
  AcceptAll(a);
  std::vector<Hash32> all = {a.tip().hash};
  for (int round = 0; round < 4; ++round) {
    ChainBuilder& challenger = round % 2 == 0 ? b : a;
    ChainBuilder& leader = round % 2 == 0 ? a : b;
    // Extend the losing branch until it has more work than the leader,
    // then deliver it as a peer would: headers, then blocks.
    const Work leader_work = chain_.Tip().work;
    Work work = 0;
    do {
      challenger.AddSlow(round % 2 == 0 ? "\"b\"" : "\"a\"");
      all.push_back(challenger.tip().hash);
      work = 0;
      for (const Block& blk : challenger.blocks()) work += BlockWork(blk.header.difficulty);
    } while (work <= leader_work);
    Deliver(challenger);
    ASSERT_EQ(chain_.Tip().hash(), challenger.tip().hash);
    EXPECT_FALSE(chain_.IsActive(leader.tip().hash)) << round;
    EXPECT_TRUE(chain_.IsActive(challenger.tip().hash)) << round;
  }
  for (const Hash32& h : all) {
    EXPECT_TRUE(chain_.Contains(h));
    auto stored = chain_.BlockByHash(h);
    ASSERT_TRUE(stored.ok() && stored->has_value());
  }
  EXPECT_EQ(chain_.BlockCount(), all.size() + 1);
  int reorgs = 0;
  for (const TipChange& c : observer_.changes) reorgs += c.disconnected.empty() ? 0 : 1;
  EXPECT_EQ(reorgs, 4);
  // The active chain is a linked path from genesis to the tip.
  const std::vector<Hash32> active = ActiveChain();
  for (std::size_t h = 1; h < active.size(); ++h) {
    auto block = chain_.BlockAtHeight(h);
    ASSERT_TRUE(block.ok() && block->has_value());
    EXPECT_EQ((*block)->header.last_hash, active[h - 1]);
  }
}

TEST_F(ChainStateTest, BlocksWaitForTheirParentsData) {
  ChainBuilder b(params_);
  for (int i = 0; i < 5; ++i) b.AddSlow("{\"i\":" + std::to_string(i) + "}");
  const std::vector<Block> blocks = b.WithoutGenesis();
  ASSERT_TRUE(chain_.AddHeaders(Headers(blocks), kFarFuture).ok());
  EXPECT_EQ(chain_.BestHeader().hash, b.tip().hash);
  EXPECT_EQ(chain_.HeaderCount(), 6u);
  EXPECT_EQ(chain_.BlockCount(), 1u);
  for (std::size_t i = blocks.size() - 1; i >= 1; --i) {
    EXPECT_EQ(Accept(blocks[i]).status, AcceptStatus::kPending);
  }
  EXPECT_EQ(chain_.PendingCount(), 4u);
  EXPECT_EQ(chain_.Tip().height(), 0u);
  EXPECT_EQ(Accept(blocks[3]).status, AcceptStatus::kDuplicate);  // still held
  const AcceptResult r = Accept(blocks[0]);
  EXPECT_EQ(r.status, AcceptStatus::kNewTip);
  EXPECT_EQ(r.added, 5u);
  EXPECT_EQ(chain_.PendingCount(), 0u);
  EXPECT_EQ(chain_.Tip().hash(), b.tip().hash);
  EXPECT_EQ(observer_.changes.size(), 1u);  // one commit, one tip change
}

TEST_F(ChainStateTest, InvalidBlockIsNotHeld) {
  ChainBuilder b(params_);
  b.AddSlow();
  Block orphan = b.AddSlow();
  ASSERT_TRUE(chain_.AddHeaders(Headers(b.WithoutGenesis()), kFarFuture).ok());
  orphan.data = "\"not the header's data\"";
  EXPECT_EQ(Accept(orphan).status, AcceptStatus::kInvalid);
  EXPECT_EQ(chain_.PendingCount(), 0u);
  // The header is not blamed for data that is not its own.
  EXPECT_EQ(Accept(b.tip()).status, AcceptStatus::kPending);
}

TEST(ChainStatePendingTest, PoolStaysBounded) {
  const Params params = TinyParams();
  MemoryBlockStore store;
  ChainOptions options;
  options.max_pending = 5;
  ChainState chain(params, store, options);
  ASSERT_TRUE(chain.Load().ok());
  ChainBuilder b(params);
  b.AddSlow();
  ASSERT_TRUE(chain.AddHeaders({{HashedHeader{b.tip().header, b.tip().hash}}}, kFarFuture).ok());
  for (int i = 0; i < 30; ++i) {
    // Height-2 blocks whose parent (height 1) has no data yet.
    ChainBuilder branch(params, b.blocks());
    branch.AddSlow("{\"pending\":" + std::to_string(i) + "}");
    ASSERT_TRUE(
        chain.AddHeaders({{HashedHeader{branch.tip().header, branch.tip().hash}}}, kFarFuture)
            .ok());
    EXPECT_EQ(chain.AcceptBlock(branch.tip(), kFarFuture).status, AcceptStatus::kPending);
    EXPECT_LE(chain.PendingCount(), 5u);
  }
  EXPECT_EQ(chain.PendingCount(), 5u);
  // The parent arrives: the five held blocks are stored with it.
  const AcceptResult r = chain.AcceptBlock(b.tip(), kFarFuture);
  EXPECT_EQ(r.added, 6u);
  EXPECT_EQ(chain.BlockCount(), 7u);
}

TEST(ChainStateOrphanTest, PoolIsBoundedInBytes) {
  OrphanPool pool(100, 4000);
  for (int i = 0; i < 10; ++i) {
    Block b;
    b.hash[0] = static_cast<std::uint8_t>(i);
    b.data = std::string(1000, 'x');
    EXPECT_TRUE(pool.Add(b));
    EXPECT_LE(pool.bytes(), 4000u);
  }
  EXPECT_EQ(pool.size(), 3u);  // 3 * (96 + 1000) bytes fit
  Block huge;
  huge.data = std::string(5000, 'x');
  EXPECT_FALSE(pool.Add(huge));
}

TEST_F(ChainStateTest, FarFutureBlockIsRefusedNowAndAcceptedLater) {
  ChainBuilder b(params_);
  const Block& block = b.AddSlow();
  const std::uint64_t too_early = block.header.timestamp - params_.max_future_drift_ms - 1;
  const AcceptResult r = Accept(block, too_early);
  EXPECT_EQ(r.status, AcceptStatus::kInvalid);
  EXPECT_EQ(r.validation.error, BlockError::kTimeTooNew);
  EXPECT_FALSE(chain_.Contains(block.hash));
  EXPECT_EQ(Accept(block, too_early + 1).status, AcceptStatus::kNewTip);
}

TEST_F(ChainStateTest, StoreFailureAcknowledgesNothing) {
  ChainBuilder b(params_);
  const Block first = b.AddSlow();
  const Block second = b.AddSlow();
  store_.FailNextCommits(1);
  const AcceptResult r = Accept(first);
  EXPECT_EQ(r.status, AcceptStatus::kStoreFailed);
  EXPECT_FALSE(r.store_error.empty());
  EXPECT_FALSE(chain_.Contains(first.hash));
  EXPECT_EQ(chain_.Tip().height(), 0u);
  EXPECT_TRUE(observer_.changes.empty());
  EXPECT_TRUE(chain_.Failed());
  // Nothing further is acknowledged, even once the store would work again.
  EXPECT_EQ(Accept(first).status, AcceptStatus::kStoreFailed);
  EXPECT_EQ(Accept(second).status, AcceptStatus::kStoreFailed);
  EXPECT_EQ(store_.BlockCount(), 1u);
  // What was committed stays readable.
  auto g = chain_.BlockAtHeight(0);
  EXPECT_TRUE(g.ok() && g->has_value());
}

TEST_F(ChainStateTest, BatchIsOneCommit) {
  ChainBuilder b(params_);
  for (int i = 0; i < 10; ++i) b.AddSlow();
  const std::size_t commits = store_.CommitCount();
  const std::vector<AcceptResult> results = chain_.AcceptBlocks(b.WithoutGenesis(), kFarFuture);
  ASSERT_EQ(results.size(), 10u);
  for (const AcceptResult& r : results) EXPECT_EQ(r.status, AcceptStatus::kNewTip);
  EXPECT_EQ(store_.CommitCount(), commits + 1);
  EXPECT_EQ(chain_.Tip().hash(), b.tip().hash);
}

TEST_F(ChainStateTest, FailedBatchStoresNothing) {
  ChainBuilder b(params_);
  for (int i = 0; i < 3; ++i) b.AddSlow();
  store_.FailNextCommits(1);
  for (const AcceptResult& r : chain_.AcceptBlocks(b.WithoutGenesis(), kFarFuture)) {
    EXPECT_EQ(r.status, AcceptStatus::kStoreFailed);
  }
  EXPECT_EQ(chain_.BlockCount(), 1u);
  EXPECT_EQ(store_.BlockCount(), 1u);
}

TEST_F(ChainStateTest, ReloadKeepsTipAndSideBranches) {
  ChainBuilder a(params_);
  for (int i = 0; i < 4; ++i) a.AddSlow("\"a\"");
  ChainBuilder side(params_);
  for (int i = 0; i < 2; ++i) side.AddSlow("\"side\"");
  AcceptAll(a);
  Deliver(side);
  ChainState reloaded(params_, store_);
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_EQ(reloaded.Tip().hash(), a.tip().hash);
  EXPECT_EQ(reloaded.Tip().work, chain_.Tip().work);
  EXPECT_EQ(reloaded.BlockCount(), 7u);
  EXPECT_TRUE(reloaded.Contains(side.tip().hash));
  EXPECT_FALSE(reloaded.IsActive(side.tip().hash));
  // The side branch can still win after the restart.
  for (int i = 0; i < 3; ++i) side.AddSlow("\"side\"");
  DeliverTo(reloaded, side);
  EXPECT_EQ(reloaded.Tip().hash(), side.tip().hash);
}

TEST_F(ChainStateTest, HashesInChainFollowsTheGivenTip) {
  ChainBuilder a(params_);
  for (int i = 0; i < 5; ++i) a.AddSlow("\"a\"");
  ChainBuilder b(params_);
  for (int i = 0; i < 3; ++i) b.AddSlow("\"b\"");
  AcceptAll(a);
  Deliver(b);
  ASSERT_TRUE(chain_.IsActive(a.tip().hash));
  // Active tip: the fast path.
  auto hashes = chain_.HashesInChain(a.tip().hash, 1, 3);
  ASSERT_TRUE(hashes.has_value());
  EXPECT_EQ(*hashes,
            (std::vector<Hash32>{a.blocks()[1].hash, a.blocks()[2].hash, a.blocks()[3].hash}));
  // A side branch tip: walks back along that branch.
  hashes = chain_.HashesInChain(b.tip().hash, 0, 100);
  ASSERT_TRUE(hashes.has_value());
  ASSERT_EQ(hashes->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ((*hashes)[i], b.blocks()[i].hash);
  hashes = chain_.HashesInChain(b.tip().hash, 2, 1);
  EXPECT_EQ(*hashes, std::vector<Hash32>{b.blocks()[2].hash});
  // Past the end, zero limit, unknown tip.
  EXPECT_TRUE(chain_.HashesInChain(b.tip().hash, 4, 10)->empty());
  EXPECT_TRUE(chain_.HashesInChain(a.tip().hash, 0, 0)->empty());
  EXPECT_FALSE(chain_.HashesInChain(Hash32{}, 0, 10).has_value());
}

TEST_F(ChainStateTest, LocatorIsDenseThenExponentialAndEndsAtGenesis) {
  EXPECT_EQ(chain_.Locator(), std::vector<Hash32>{MakeGenesis(params_).hash});
  ChainBuilder b(params_);
  for (int i = 0; i < 100; ++i) b.AddSlow();
  AcceptAll(b);
  const std::vector<Hash32> locator = chain_.Locator();
  std::vector<std::uint64_t> heights;
  for (const Hash32& h : locator) {
    for (std::uint64_t height = 0; height <= 100; ++height) {
      if (b.blocks()[height].hash == h) heights.push_back(height);
    }
  }
  const std::vector<std::uint64_t> want = {100, 99, 98, 97, 96, 95, 94, 93,
                                           92,  91, 89, 85, 77, 61, 29, 0};
  EXPECT_EQ(heights, want);
}

TEST_F(ChainStateTest, HeaderLocatorFollowsTheBestHeader) {
  ChainBuilder b(params_);
  for (int i = 0; i < 30; ++i) b.AddSlow();
  const std::vector<Block> all = b.WithoutGenesis();
  for (std::size_t i = 0; i < 10; ++i) ASSERT_TRUE(Accept(all[i]).ok());
  EXPECT_EQ(chain_.HeaderLocator(), chain_.Locator());
  ASSERT_TRUE(chain_.AddHeaders(Headers(all), kFarFuture).ok());
  const std::vector<Hash32> locator = chain_.HeaderLocator();
  ASSERT_FALSE(locator.empty());
  EXPECT_EQ(locator.front(), b.tip().hash);
  EXPECT_EQ(locator.back(), MakeGenesis(params_).hash);
  EXPECT_EQ(chain_.Locator().front(), all[9].hash);
  // Once the blocks are in, the two agree again.
  for (std::size_t i = 10; i < all.size(); ++i) ASSERT_TRUE(Accept(all[i]).ok());
  EXPECT_EQ(chain_.HeaderLocator(), chain_.Locator());
}

// A failed commit leaves the batch's headers in the tree, without data;
// what came before is untouched.
TEST_F(ChainStateTest, FailedBatchLeavesOnlyHeaders) {
  ChainBuilder b(params_);
  for (int i = 0; i < 2100; ++i) b.AddSlow();
  const std::vector<Block> first(b.blocks().begin() + 1, b.blocks().begin() + 2040);
  for (const AcceptResult& r : chain_.AcceptBlocks(first, kFarFuture)) {
    ASSERT_EQ(r.status, AcceptStatus::kNewTip);
  }
  store_.FailNextCommits(1);
  const std::vector<Block> second(b.blocks().begin() + 2040, b.blocks().end());
  for (const AcceptResult& r : chain_.AcceptBlocks(second, kFarFuture)) {
    EXPECT_EQ(r.status, AcceptStatus::kStoreFailed);
  }
  EXPECT_EQ(chain_.BlockCount(), 2040u);
  EXPECT_EQ(chain_.Tip().hash(), b.blocks()[2039].hash);
  for (std::size_t h = 0; h < 2040; ++h) {
    ASSERT_EQ(chain_.HashAtHeight(h), b.blocks()[h].hash);
    ASSERT_TRUE(chain_.IsActive(b.blocks()[h].hash));
  }
  for (const Block& gone : second) {
    EXPECT_FALSE(chain_.Contains(gone.hash));
    EXPECT_TRUE(chain_.HasHeader(gone.hash));
  }
}

TEST_F(ChainStateTest, LocateAfterFindsTheForkPoint) {
  ChainBuilder a(params_);
  for (int i = 0; i < 6; ++i) a.AddSlow("\"a\"");
  AcceptAll(a);
  // A peer on the active chain at height 3 gets heights 4.. onwards.
  const std::vector<Hash32> at3 = {a.blocks()[3].hash, a.blocks()[2].hash, a.blocks()[0].hash};
  EXPECT_EQ(chain_.LocateAfter(at3, 10),
            (std::vector<Hash32>{a.blocks()[4].hash, a.blocks()[5].hash, a.blocks()[6].hash}));
  EXPECT_EQ(chain_.LocateAfter(at3, 1), std::vector<Hash32>{a.blocks()[4].hash});
  // A peer on a side branch forked at height 2: from height 3.
  ChainBuilder side(params_, {a.blocks().begin(), a.blocks().begin() + 3});
  side.AddSlow("\"side\"");
  ASSERT_TRUE(chain_.AddHeaders(Headers({side.tip()}), kFarFuture).ok());
  EXPECT_EQ(chain_.LocateAfter({side.tip().hash}, 1), std::vector<Hash32>{a.blocks()[3].hash});
  // Unknown hashes are skipped; none known means after genesis.
  EXPECT_EQ(chain_.LocateAfter({Hash32{}}, 2),
            (std::vector<Hash32>{a.blocks()[1].hash, a.blocks()[2].hash}));
  // A peer at our tip gets nothing.
  EXPECT_TRUE(chain_.LocateAfter({a.tip().hash}, 10).empty());
}

TEST_F(ChainStateTest, TipChangeCarriesTheOriginAndSendingPeer) {
  ChainBuilder b(params_);
  ASSERT_TRUE(chain_.AcceptBlock(b.AddSlow(), kFarFuture, BlockOrigin::kMined).ok());
  ASSERT_TRUE(chain_.AcceptBlock(b.AddSlow(), kFarFuture, BlockSource(BlockOrigin::kPeer, 7)).ok());
  ASSERT_EQ(observer_.changes.size(), 2u);
  EXPECT_EQ(observer_.changes[0].source.origin, BlockOrigin::kMined);
  EXPECT_EQ(observer_.changes[0].source.peer, 0u);
  EXPECT_EQ(observer_.changes[1].source.origin, BlockOrigin::kPeer);
  EXPECT_EQ(observer_.changes[1].source.peer, 7u);
}

TEST(ChainStateLoadTest, RechecksTheTopBlocks) {
  const Params params = TinyParams();
  ChainBuilder b(params);
  for (int i = 0; i < 20; ++i) b.AddSlow("{\"n\":" + std::to_string(i) + "}");
  // A store whose block at height 15 was altered on disk (data changed
  // under an unchanged hash): within the re-checked top ten, so Load fails.
  for (const int bad_height : {15, 5}) {
    MemoryBlockStore store;
    WriteBatch batch;
    std::vector<Block> blocks = b.blocks();
    blocks[static_cast<std::size_t>(bad_height)].data = "\"altered\"";
    for (const Block& blk : blocks) batch.blocks.push_back(&blk);
    batch.tip = b.tip().hash;
    ASSERT_TRUE(store.Commit(batch).ok());
    ChainState chain(params, store);
    const Status s = chain.Load();
    if (bad_height == 15) {
      ASSERT_FALSE(s.ok());
      EXPECT_NE(s.error().find("height 15"), std::string::npos) << s.error();
      EXPECT_NE(s.error().find("bad-data-hash"), std::string::npos) << s.error();
    } else {
      // Deeper blocks are not re-hashed at start-up (powchain verify does).
      EXPECT_TRUE(s.ok()) << s.error();
    }
  }
}

TEST(ChainStateLoadTest, RefusesAnotherNetworksStore) {
  MemoryBlockStore store;
  {
    ChainState regtest(Params::Regtest(), store);
    ASSERT_TRUE(regtest.Load().ok());
  }
  ChainState main(Params::Main(), store);
  const Status s = main.Load();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("another network"), std::string::npos) << s.error();
}

TEST(ChainStateLoadTest, ReportsUnreadableStore) {
  MemoryBlockStore store;
  store.SetFailReads(true);
  ChainState chain(TinyParams(), store);
  const Status s = chain.Load();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("injected"), std::string::npos);
}

std::vector<HashedHeader> HeadersOf(const std::vector<Block>& blocks) {
  std::vector<HashedHeader> out;
  for (const Block& b : blocks) out.push_back(HashedHeader{b.header, b.hash});
  return out;
}

// A tree with a short active chain and a side branch 20,000 headers deep,
// for the bounds on walks.
class DeepSideBranchTest : public ::testing::Test {
 protected:
  static constexpr int kDepth = 20000;
  DeepSideBranchTest() : params_(TinyParams()), chain_(params_, store_), active_(params_) {
    EXPECT_TRUE(chain_.Load().ok());
    for (int i = 0; i < 50; ++i) active_.AddSlow("\"active\"");
    for (const Block& b : active_.WithoutGenesis()) {
      EXPECT_TRUE(chain_.AcceptBlock(b, kFarFuture).ok());
    }
    ChainBuilder side(params_, {active_.blocks().begin(), active_.blocks().begin() + 3});
    for (int i = 0; i < kDepth; ++i) side.AddSlow();
    side_ = std::vector<Block>(side.blocks().begin() + 3, side.blocks().end());
    EXPECT_TRUE(chain_.AddHeaders(HeadersOf(side_), kFarFuture).ok());
  }
  Params params_;
  MemoryBlockStore store_;
  ChainState chain_;
  ChainBuilder active_;
  std::vector<Block> side_;  // heights 3 .. kDepth + 2, the first a child of active height 2
};

// A getblocks or getheaders naming the deep end of a side branch finds the
// fork in a logarithmic number of steps (it used to walk back 20,000
// parents under the chain lock).
TEST_F(DeepSideBranchTest, LocatingFromTheDeepEndIsLogarithmic) {
  AncestorSteps() = 0;
  const std::vector<Hash32> after = chain_.LocateAfter({side_.back().hash}, 5);
  EXPECT_LE(AncestorSteps(), 2000u);
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[0], active_.blocks()[3].hash);  // the fork is at height 2
  AncestorSteps() = 0;
  const std::vector<HashedHeader> headers = chain_.HeadersAfter({side_[kDepth / 2].hash}, 3);
  EXPECT_LE(AncestorSteps(), 2000u);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0].hash, active_.blocks()[3].hash);
}

// GET /blocks pins the tip it started from: after a reorganization, each
// chunk of the old chain is found from its height in logarithmic steps
// (it used to walk back from the old tip for every chunk).
TEST_F(DeepSideBranchTest, ChunksOfANonActiveChainAreLogarithmic) {
  for (std::uint64_t from : {0ull, 100ull, 9000ull, 19960ull}) {
    AncestorSteps() = 0;
    const auto hashes = chain_.HashesInChain(side_.back().hash, from, 32);
    EXPECT_LE(AncestorSteps(), 200u) << from;
    ASSERT_TRUE(hashes.has_value());
    ASSERT_EQ(hashes->size(), 32u);
    for (std::size_t i = 0; i < 32; ++i) {
      const std::uint64_t h = from + i;
      EXPECT_EQ((*hashes)[i], h < 3 ? active_.blocks()[h].hash : side_[h - 3].hash);
    }
  }
}

TEST_F(DeepSideBranchTest, BlocksToDownloadStartAboveTheLastStored) {
  // The side branch has more work than the active chain: its blocks are
  // what to fetch, from the fork up, at most `window` heights.
  std::vector<Hash32> want = chain_.BlocksToDownload(side_.back().hash, 10);
  ASSERT_EQ(want.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(want[i], side_[i].hash);
  // Stored ones are skipped; held ones (waiting for a parent) too.
  ASSERT_TRUE(chain_.AcceptBlocks({side_[0], side_[1]}, kFarFuture)[1].ok());
  EXPECT_EQ(chain_.AcceptBlock(side_[3], kFarFuture).status, AcceptStatus::kPending);
  want = chain_.BlocksToDownload(side_.back().hash, 4);
  EXPECT_EQ(want, (std::vector<Hash32>{side_[2].hash, side_[4].hash, side_[5].hash}));
  // Nothing to fetch for a stored or unknown target.
  EXPECT_TRUE(chain_.BlocksToDownload(active_.tip().hash, 10).empty());
  EXPECT_TRUE(chain_.BlocksToDownload(Hash32{}, 10).empty());
}

// A store whose commits wait until the test lets them through.
class GatedStore final : public ForwardingBlockStore {
 public:
  explicit GatedStore(BlockStore& inner) : ForwardingBlockStore(inner) {}
  Status Commit(const WriteBatch& batch) override {
    std::unique_lock lock(mutex_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    return inner().Commit(batch);
  }
  void Close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitEntered(int n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return entered_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = true;
  int entered_ = 0;
};

// Observers read the chain from inside the notification: they see the
// new tip, committed.
class ReadingObserver : public ChainObserver {
 public:
  explicit ReadingObserver(ChainState& chain) : chain_(chain) {}
  void OnTipChanged(const TipChange& change) override {
    seen_tip = chain_.Tip().hash();
    stored = chain_.BlockByHash(change.new_tip.hash()).ok();
  }
  ChainState& chain_;
  Hash32 seen_tip{};
  bool stored = false;
};

// The chain lock is not held across the store's commit (an fsync for the
// real store) nor across observer calls: readers are served meanwhile and
// see the old tip until the new one is durable.
TEST(ChainStateLockTest, ReadersAreNotHeldUpByACommit) {
  const Params params = TinyParams();
  MemoryBlockStore memory;
  GatedStore store(memory);
  ChainState chain(params, store);
  ASSERT_TRUE(chain.Load().ok());
  ReadingObserver observer(chain);
  chain.AddObserver(&observer);
  ChainBuilder b(params);
  const Block block = b.AddSlow();
  const Hash32 genesis = chain.Tip().hash();

  store.Close();
  std::thread writer([&] { EXPECT_TRUE(chain.AcceptBlock(block, kFarFuture).ok()); });
  ASSERT_TRUE(store.WaitEntered(2));  // genesis was the first commit
  // The commit is in progress: readers get answers at once, with the old tip.
  auto reader = std::async(std::launch::async, [&] {
    return std::make_pair(chain.Tip().hash(), chain.Contains(block.hash));
  });
  const bool answered = reader.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  store.Open();
  writer.join();
  ASSERT_TRUE(answered) << "a reader waited on the commit";
  const auto [tip, contains] = reader.get();
  EXPECT_EQ(tip, genesis);
  EXPECT_FALSE(contains);
  // Once committed: the new tip, seen by the observer from inside its call.
  EXPECT_EQ(chain.Tip().hash(), block.hash);
  EXPECT_EQ(observer.seen_tip, block.hash);
  EXPECT_TRUE(observer.stored);
  chain.RemoveObserver(&observer);
}

// Side data stops before the disk is full; blocks that move the tip go on.
TEST(ChainStateSpaceTest, LowDiskRefusesSideDataOnly) {
  const Params params = TinyParams();
  MemoryBlockStore store;
  ChainOptions options;
  options.side_data_min_free_bytes = 1000000;
  ChainState chain(params, store, options);
  ASSERT_TRUE(chain.Load().ok());
  ChainBuilder main(params);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(chain.AcceptBlock(main.AddSlow(), kFarFuture).ok());
  store.SetAvailableBytes(999999);
  ChainBuilder tie(params, {main.blocks().begin(), main.blocks().end() - 1});
  const AcceptResult side = chain.AcceptBlock(tie.AddSlow("\"tie\""), kFarFuture);
  EXPECT_EQ(side.status, AcceptStatus::kNoSpace);
  EXPECT_FALSE(chain.Contains(tie.tip().hash));
  EXPECT_FALSE(chain.Failed());
  EXPECT_EQ(chain.AcceptBlock(main.AddSlow(), kFarFuture).status, AcceptStatus::kNewTip);
  // Its header stayed (it had the work when it came): with space again, the
  // block is taken as a side branch.
  EXPECT_TRUE(chain.HasHeader(tie.tip().hash));
  store.SetAvailableBytes(1000000);
  EXPECT_EQ(chain.AcceptBlock(tie.tip(), kFarFuture).status, AcceptStatus::kSideBranch);
}

// A block whose data breaks the size rule, with a header chain above it:
// the block and everything built on it are invalid for good, and the best
// header goes back to the best valid chain. Data that is simply not the
// header's says nothing about the block.
TEST(ChainStateFailureTest, AnOversizeBlockInvalidatesItsDescendants) {
  Params params = TinyParams();
  params.max_block_bytes = 2000;
  MemoryBlockStore store;
  ChainState chain(params, store);
  ASSERT_TRUE(chain.Load().ok());
  ChainBuilder b(params);
  b.AddSlow();
  b.AddSlow("\"" + std::string(3000, 'x') + "\"");  // height 2: too big
  for (int i = 0; i < 3; ++i) b.AddSlow();
  const std::vector<Block> blocks = b.WithoutGenesis();
  ASSERT_TRUE(chain.AddHeaders(HeadersOf(blocks), kFarFuture).ok());
  ASSERT_TRUE(chain.AcceptBlock(blocks[0], kFarFuture).ok());
  EXPECT_EQ(chain.BestHeader().hash, b.tip().hash);
  Block forged = blocks[1];
  forged.data = "\"" + std::string(3000, 'y') + "\"";  // too big, and not its data
  EXPECT_EQ(chain.AcceptBlock(forged, kFarFuture).validation.error, BlockError::kOversize);
  EXPECT_FALSE(chain.Header(blocks[1].hash)->failed);
  const AcceptResult r = chain.AcceptBlock(blocks[1], kFarFuture);
  EXPECT_EQ(r.validation.error, BlockError::kOversize);
  EXPECT_TRUE(chain.Header(blocks[1].hash)->failed);
  EXPECT_TRUE(chain.Header(b.tip().hash)->failed);
  EXPECT_EQ(chain.BestHeader().hash, blocks[0].hash);
  EXPECT_TRUE(chain.BlocksToDownload(b.tip().hash, 10).empty());
  EXPECT_EQ(chain.AcceptBlock(blocks[2], kFarFuture).status, AcceptStatus::kInvalid);
  // No header may build on it any more.
  ChainBuilder more(params, b.blocks());
  more.AddSlow();
  const AddHeadersResult added = chain.AddHeaders(HeadersOf({more.tip()}), kFarFuture);
  EXPECT_EQ(added.validation.error, BlockError::kBadParent);
}

// GET /tips reads this: every leaf of the tree plus the active tip, each
// with its branch's fork point and what is known of it.
TEST(ChainStateTipsTest, EveryKindOfTipWithItsForkPoint) {
  Params params = TinyParams();
  params.max_block_bytes = 2000;
  MemoryBlockStore store;
  ChainState chain(params, store);
  ASSERT_TRUE(chain.Load().ok());
  ASSERT_EQ(chain.Tips(10).size(), 1u);
  EXPECT_EQ(chain.Tips(10)[0].kind, ChainTipInfo::Kind::kActive);

  ChainBuilder active(params);
  for (int i = 0; i < 6; ++i) active.AddSlow("\"a\"");
  for (const Block& b : active.WithoutGenesis()) ASSERT_TRUE(chain.AcceptBlock(b, kFarFuture).ok());
  // A stored side branch forking at height 2, two blocks long.
  ChainBuilder fork(params, {active.blocks().begin(), active.blocks().begin() + 3});
  for (int i = 0; i < 2; ++i) fork.AddSlow("\"f\"");
  const std::vector<Block> fork_blocks(fork.blocks().begin() + 3, fork.blocks().end());
  ASSERT_TRUE(chain.AddHeaders(HeadersOf(fork_blocks), kFarFuture).ok());
  for (const Block& b : fork_blocks)
    ASSERT_EQ(chain.AcceptBlock(b, kFarFuture).status, AcceptStatus::kSideBranch);
  // Headers only, forking at height 4, more work than the active chain.
  ChainBuilder ahead(params, {active.blocks().begin(), active.blocks().begin() + 5});
  for (int i = 0; i < 5; ++i) ahead.AddSlow("\"h\"");
  const std::vector<Block> ahead_blocks(ahead.blocks().begin() + 5, ahead.blocks().end());
  ASSERT_TRUE(chain.AddHeaders(HeadersOf(ahead_blocks), kFarFuture).ok());
  // An invalid block at height 2 (too big) with a header on top.
  ChainBuilder bad(params, {active.blocks().begin(), active.blocks().begin() + 2});
  bad.AddSlow("\"" + std::string(3000, 'x') + "\"");
  bad.AddSlow();
  const std::vector<Block> bad_blocks(bad.blocks().begin() + 2, bad.blocks().end());
  ASSERT_TRUE(chain.AddHeaders(HeadersOf(bad_blocks), kFarFuture).ok());
  EXPECT_EQ(chain.AcceptBlock(bad_blocks[0], kFarFuture).validation.error, BlockError::kOversize);

  EXPECT_EQ(chain.TipCount(), 4u);
  const std::vector<ChainTipInfo> tips = chain.Tips(10);
  ASSERT_EQ(tips.size(), 4u);
  // Highest first.
  EXPECT_EQ(tips[0].hash, ahead.tip().hash);
  EXPECT_EQ(tips[0].kind, ChainTipInfo::Kind::kHeadersOnly);
  EXPECT_EQ(tips[0].height, 9u);
  EXPECT_EQ(tips[0].fork, active.blocks()[4].hash);
  EXPECT_EQ(tips[0].fork_height, 4u);
  EXPECT_EQ(tips[1].hash, active.tip().hash);
  EXPECT_EQ(tips[1].kind, ChainTipInfo::Kind::kActive);
  EXPECT_EQ(tips[1].fork_height, 6u);
  EXPECT_EQ(tips[1].chain_work, chain.Tip().work);
  EXPECT_EQ(tips[2].hash, fork.tip().hash);
  EXPECT_EQ(tips[2].kind, ChainTipInfo::Kind::kValidFork);
  EXPECT_EQ(tips[2].fork_height, 2u);
  EXPECT_EQ(tips[3].hash, bad.tip().hash);
  EXPECT_EQ(tips[3].kind, ChainTipInfo::Kind::kInvalid);
  EXPECT_EQ(tips[3].fork_height, 1u);
  // The limit keeps the highest.
  const std::vector<ChainTipInfo> two = chain.Tips(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].hash, active.tip().hash);
  // A restart finds the same stored tips (headers without data are not kept).
  ChainState reloaded(params, store);
  ASSERT_TRUE(reloaded.Load().ok());
  const std::vector<ChainTipInfo> after = reloaded.Tips(10);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].hash, active.tip().hash);
  EXPECT_EQ(after[1].hash, fork.tip().hash);
  EXPECT_EQ(ChainTipKindName(after[1].kind), "valid-fork");
}

}  // namespace
}  // namespace powchain
