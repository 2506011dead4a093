#include "mining/miner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "consensus/validation.h"
#include "primitives/canonical_json.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"
#include "testutil/coins.h"
#include "testutil/wait.h"

namespace powchain {
namespace {

using namespace std::chrono_literals;

// Each reading moves time on by `step` ms, so every block looks slow and
// difficulty stays at the floor: blocks are found in a few attempts.
class SteppingClock final : public Clock {
 public:
  SteppingClock(std::uint64_t start, std::uint64_t step) : now_(start), step_(step) {}
  std::uint64_t NowMs() const override { return now_.fetch_add(step_) + step_; }

 private:
  mutable std::atomic<std::uint64_t> now_;
  std::uint64_t step_;
};

// A clock whose readings block while the gate is closed, so a test can hold
// a worker at a known point of its search.
class GatedClock final : public Clock {
 public:
  explicit GatedClock(std::uint64_t now) : now_(now) {}
  std::uint64_t NowMs() const override {
    std::unique_lock lock(mutex_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    --waiting_;
    return now_ += 1000;
  }
  void WaitForWaiter() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return waiting_ > 0; });
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  mutable std::uint64_t now_;
  mutable int waiting_ = 0;
  bool open_ = false;
};

class MinerTest : public ::testing::Test {
 protected:
  MinerTest() : params_(test::TinyParams()), chain_(params_, store_) {
    EXPECT_TRUE(chain_.Load().ok());
  }

  // Every block of the active chain, checked against the consensus rules.
  std::vector<Block> ActiveChainChecked() {
    std::vector<Block> blocks;
    for (std::uint64_t h = 0; h <= chain_.Tip().height(); ++h) {
      auto b = chain_.BlockAtHeight(h);
      EXPECT_TRUE(b.ok() && b->has_value());
      blocks.push_back(**b);
    }
    const ValidationResult v = CheckChain(blocks, 1ull << 62, params_);
    EXPECT_TRUE(v.ok()) << v.message;
    return blocks;
  }

  std::string Data(const std::string& json) { return *CanonicalizeJsonText(json); }

  Params params_;
  MemoryBlockStore store_;
  ChainState chain_;
};

TEST_F(MinerTest, MinesContinuouslyOnItsOwnTip) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  MinerOptions options;
  options.threads = 2;
  options.continuous = true;
  Miner miner(params_, chain_, clock, options);
  miner.Start();
  ASSERT_TRUE(testutil::WaitUntil([&] { return chain_.Tip().height() >= 20; }));
  miner.Stop();
  EXPECT_GE(ActiveChainChecked().size(), 21u);
  const Miner::Stats stats = miner.GetStats();
  EXPECT_GE(stats.blocks_mined, 20u);
  EXPECT_EQ(stats.threads, 2u);
  EXPECT_GT(stats.attempts, 0u);
}

// Many workers on one job: at the floor difficulty several find a block in
// the same job, but the job yields one; no sibling of the miner's own blocks
// is ever stored.
TEST_F(MinerTest, OneJobYieldsAtMostOneBlock) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  MinerOptions options;
  options.threads = 16;
  options.continuous = true;
  options.check_interval = 1;  // every hit is handed in at once
  Miner miner(params_, chain_, clock, options);
  miner.Start();
  ASSERT_TRUE(testutil::WaitUntil([&] { return chain_.Tip().height() >= 300; }));
  miner.Stop();
  EXPECT_EQ(chain_.BlockCount(), chain_.Tip().height() + 1) << "siblings were stored";
  EXPECT_EQ(store_.BlockCount(), chain_.BlockCount());
  ActiveChainChecked();
}

TEST_F(MinerTest, IdleWithoutRequestsUnlessContinuous) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  Miner miner(params_, chain_, clock, MinerOptions{});
  miner.Start();
  EXPECT_FALSE(miner.GetStats().active);
  EXPECT_EQ(miner.GetStats().job_id, 0u);
  miner.Stop();
  EXPECT_EQ(chain_.Tip().height(), 0u);
}

TEST_F(MinerTest, RequestGetsItsBlockOnceActive) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  Miner miner(params_, chain_, clock, MinerOptions{});
  miner.Start();
  std::promise<Result<Block>> promise;
  miner.Submit(Data("{\"tx\":\"alice pays bob\"}"),
               [&](Result<Block> r) { promise.set_value(std::move(r)); });
  Result<Block> r = promise.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->data, "{\"tx\":\"alice pays bob\"}");
  // Acknowledged only once in the active chain and in the store.
  EXPECT_TRUE(chain_.IsActive(r->hash));
  auto stored = store_.ReadBlock(r->hash);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  miner.Stop();
  EXPECT_EQ(ActiveChainChecked().size(), 2u);
}

// Mines `n` blocks of plain data, one request each; their blocks.
std::vector<Block> MineRequests(Miner& miner, int n) {
  std::vector<Block> blocks;
  for (int i = 0; i < n; ++i) {
    std::promise<Result<Block>> promise;
    miner.Submit(std::to_string(i), [&](Result<Block> r) { promise.set_value(std::move(r)); });
    Result<Block> r = promise.get_future().get();
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) break;
    blocks.push_back(std::move(r).value());
  }
  return blocks;
}

Result<Block> MineContents(Miner& miner, BlockContents contents) {
  std::promise<Result<Block>> promise;
  miner.Submit(std::move(contents), [&](Result<Block> r) { promise.set_value(std::move(r)); });
  return promise.get_future().get();
}

TEST_F(MinerTest, ARewardKeyPutsACoinbaseFirst) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  const SecretKey alice = test::KeyFromSeed(1);
  MinerOptions options;
  options.reward_key = PublicKeyOf(alice);
  Miner miner(params_, chain_, clock, options);
  miner.Start();
  const std::vector<Block> blocks = MineRequests(miner, 2);
  miner.Stop();
  ASSERT_EQ(blocks.size(), 2u);
  for (const Block& b : blocks) {
    ASSERT_EQ(b.txs.size(), 1u);
    EXPECT_EQ(b.txs[0],
              test::Coinbase(b.header.height, PublicKeyOf(alice), params_.initial_reward, params_));
  }
}

TEST_F(MinerTest, RequestTxsFollowTheCoinbaseWhichClaimsTheirFees) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  const SecretKey alice = test::KeyFromSeed(1);
  const SecretKey bob = test::KeyFromSeed(2);
  MinerOptions options;
  options.reward_key = PublicKeyOf(alice);
  Miner miner(params_, chain_, clock, options);
  miner.Start();
  // Blocks 1 to maturity: block 1's coinbase is spendable in the next one.
  const std::vector<Block> blocks =
      MineRequests(miner, static_cast<int>(params_.coinbase_maturity));
  ASSERT_EQ(blocks.size(), params_.coinbase_maturity);
  const std::uint64_t fee = 12345;
  const Transaction spend = test::Spend({OutPoint{ComputeTxid(blocks[0].txs[0]), 0}},
                                        {{PublicKeyOf(bob), params_.initial_reward - fee}}, alice,
                                        chain_.GenesisHash(), params_);
  std::uint64_t fees = 0;
  const std::vector<Transaction> txs = {spend};
  ASSERT_TRUE(chain_.CheckTxsOnTip(txs, &fees).ok());
  EXPECT_EQ(fees, fee);

  Result<Block> mined = MineContents(miner, BlockContents{"\"pay\"", txs, fees});
  ASSERT_TRUE(mined.ok()) << mined.error();
  ASSERT_EQ(mined->txs.size(), 2u);
  EXPECT_EQ(mined->txs[0].outputs.at(0).amount, params_.initial_reward + fee);
  EXPECT_EQ(mined->txs[1], spend);
  EXPECT_TRUE(chain_.IsActive(mined->hash));

  // The same spend again breaks a rule when the block is connected: the
  // request fails with the reason, and the chain does not move.
  const Hash32 tip = chain_.Tip().hash();
  Result<Block> again = MineContents(miner, BlockContents{"\"again\"", txs, fees});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("missing-input"), std::string::npos) << again.error();
  EXPECT_EQ(chain_.Tip().hash(), tip);
  // The miner goes on with the next request.
  EXPECT_EQ(MineRequests(miner, 1).size(), 1u);
  miner.Stop();
}

TEST_F(MinerTest, ConcurrentRequestsEachGetOneBlock) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  MinerOptions options;
  options.threads = 3;
  options.continuous = true;  // requests while mining continuously
  Miner miner(params_, chain_, clock, options);
  miner.Start();
  constexpr int kRequests = 40;
  std::mutex mutex;
  std::map<std::string, Hash32> got;  // data -> block hash
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int i = t; i < kRequests; i += 4) {
        const std::string data = Data("{\"request\":" + std::to_string(i) + "}");
        miner.Submit(data, [&, data](Result<Block> r) {
          ASSERT_TRUE(r.ok()) << r.error();
          EXPECT_EQ(r->data, data);
          std::lock_guard lock(mutex);
          EXPECT_TRUE(got.emplace(data, r->hash).second) << "answered twice: " << data;
          ++done;
        });
      }
    });
  }
  for (std::thread& c : clients) c.join();
  ASSERT_TRUE(testutil::WaitUntil([&] { return done == kRequests; }));
  miner.Stop();
  // Each request's data is in exactly one block of the active chain, the one
  // it was answered with.
  std::map<std::string, int> count;
  std::map<std::string, Hash32> where;
  for (const Block& b : ActiveChainChecked()) {
    ++count[b.data];
    where[b.data] = b.hash;
  }
  for (const auto& [data, hash] : got) {
    EXPECT_EQ(count[data], 1) << data;
    EXPECT_EQ(where[data], hash) << data;
  }
  EXPECT_EQ(got.size(), static_cast<std::size_t>(kRequests));
}

TEST_F(MinerTest, DataIsMinedAgainWhenAnotherBlockWins) {
  GatedClock clock(params_.genesis_timestamp);
  Miner miner(params_, chain_, clock, MinerOptions{});
  miner.Start();
  std::promise<Result<Block>> promise;
  miner.Submit(Data("\"mine me\""), [&](Result<Block> r) { promise.set_value(std::move(r)); });
  // The worker is inside its search for the request, on genesis, held at
  // its first clock reading. A competing block arrives meanwhile.
  clock.WaitForWaiter();
  test::ChainBuilder other(params_);
  const Block competitor = other.AddSlow("\"someone else\"");
  ASSERT_EQ(chain_.AcceptBlock(competitor, params_.genesis_timestamp + 5000).status,
            AcceptStatus::kNewTip);
  clock.Open();
  Result<Block> r = promise.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->data, "\"mine me\"");
  EXPECT_EQ(r->header.last_hash, competitor.hash);  // mined again on the new tip
  miner.Stop();
  const std::vector<Block> blocks = ActiveChainChecked();
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[1].hash, competitor.hash);
  EXPECT_EQ(blocks[2].hash, r->hash);
  // Nowhere else: the search on genesis was dropped, not stored.
  EXPECT_EQ(chain_.BlockCount(), 3u);
}

TEST_F(MinerTest, WorkersDropTheOldJobOnANewTip) {
  // A miner that can never succeed (its parameters demand 200 bits), on a
  // chain that accepts the test's easy blocks: the search only ever ends
  // when the tip changes.
  Params hopeless = params_;
  hopeless.min_difficulty = 200;
  SteppingClock clock(params_.genesis_timestamp, 1);
  MinerOptions options;
  options.threads = 2;
  options.continuous = true;
  Miner miner(hopeless, chain_, clock, options);
  miner.Start();
  ASSERT_TRUE(testutil::WaitUntil([&] { return miner.GetStats().attempts > 0; }));
  test::ChainBuilder other(params_);
  for (int i = 1; i <= 5; ++i) {
    const Block b = other.AddSlow();
    ASSERT_EQ(chain_.AcceptBlock(b, 1ull << 62).status, AcceptStatus::kNewTip);
    // Every worker has left the old search and started on the new tip.
    ASSERT_TRUE(testutil::WaitUntil([&] {
      const Miner::Stats s = miner.GetStats();
      return s.job_parent == b.hash && s.last_switch_job == s.job_id &&
             s.job_id == static_cast<std::uint64_t>(i + 1);
    }));
    std::printf("tip %d: all workers on the new job after %lld us\n", i,
                static_cast<long long>(miner.GetStats().last_switch_latency.count()));
  }
  const std::uint64_t before = miner.GetStats().attempts;
  ASSERT_TRUE(testutil::WaitUntil([&] { return miner.GetStats().attempts > before; }));
  miner.Stop();
  EXPECT_EQ(chain_.Tip().hash(), other.tip().hash);
}

TEST_F(MinerTest, StopFailsQueuedRequests) {
  Params hopeless = params_;
  hopeless.min_difficulty = 200;
  SteppingClock clock(params_.genesis_timestamp, 1);
  Miner miner(hopeless, chain_, clock, MinerOptions{});
  miner.Start();
  std::promise<Result<Block>> promise;
  miner.Submit(Data("1"), [&](Result<Block> r) { promise.set_value(std::move(r)); });
  miner.Stop();
  Result<Block> r = promise.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "node is stopping");
  // After Stop, a request is refused at once.
  bool refused = false;
  miner.Submit(Data("2"), [&](Result<Block> r2) { refused = !r2.ok(); });
  EXPECT_TRUE(refused);
}

TEST_F(MinerTest, QueueIsBounded) {
  Params hopeless = params_;
  hopeless.min_difficulty = 200;
  SteppingClock clock(params_.genesis_timestamp, 1);
  MinerOptions options;
  options.max_queue = 3;
  Miner miner(hopeless, chain_, clock, options);
  miner.Start();
  int refused = 0;
  for (int i = 0; i < 5; ++i) {
    miner.Submit(Data(std::to_string(i)), [&](Result<Block> r) {
      if (!r.ok() && r.error().find("queue is full") != std::string::npos) ++refused;
    });
  }
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(miner.GetStats().queued, 3u);
  miner.Stop();
}

TEST_F(MinerTest, StoreFailureFailsRequestsAndStopsMining) {
  SteppingClock clock(params_.genesis_timestamp, params_.mine_rate_ms);
  Miner miner(params_, chain_, clock, MinerOptions{});
  miner.Start();
  store_.FailNextCommits(1);
  std::promise<Result<Block>> promise;
  miner.Submit(Data("\"lost?\""), [&](Result<Block> r) { promise.set_value(std::move(r)); });
  Result<Block> r = promise.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("could not be stored"), std::string::npos) << r.error();
  EXPECT_EQ(chain_.Tip().height(), 0u);
  bool refused = false;
  miner.Submit(Data("\"next\""), [&](Result<Block> r2) { refused = !r2.ok(); });
  EXPECT_TRUE(refused);
  miner.Stop();
}

}  // namespace
}  // namespace powchain
