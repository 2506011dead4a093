// The chain's coin set through blocks with transactions and reorganizations
// (docs/consensus.md, rule 7; docs/storage.md for what is written).
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"
#include "testutil/coins.h"

namespace powchain {
namespace {

using test::ChainBuilder;

constexpr std::uint64_t kFarFuture = 1ull << 62;

std::map<OutPoint, Coin> CoinSet(const BlockStore& store) {
  std::map<OutPoint, Coin> out;
  EXPECT_TRUE(store
                  .ForEachCoin([&](const OutPoint& o, const Coin& c) {
                    out[o] = c;
                    return true;
                  })
                  .ok());
  return out;
}

class CoinsChainTest : public ::testing::Test {
 protected:
  CoinsChainTest()
      : params_(Tiny()),
        genesis_(MakeGenesis(params_).hash),
        key_(test::KeyFromSeed(7)),
        pub_(PublicKeyOf(key_)),
        chain_(params_, store_) {
    EXPECT_TRUE(chain_.Load().ok());
  }

  static Params Tiny() {
    Params p = test::TinyParams();
    p.coinbase_maturity = 2;
    return p;
  }

  // The next block on `b`, paying its coinbase to our key, with `txs` after it.
  // Blocks mineRate apart keep the difficulty at 1 bit: work is length.
  const Block& Next(ChainBuilder& b, std::vector<Transaction> txs = {}, std::uint64_t dt = 1000) {
    const std::uint64_t height = b.tip().header.height + 1;
    std::vector<Transaction> all = {
        test::Coinbase(height, pub_, BlockSubsidy(height, params_), params_)};
    all.insert(all.end(), txs.begin(), txs.end());
    return b.Add(dt, "null", std::move(all));
  }

  // Spends the coinbase of `block` to our key, minus a fee of `fee`.
  Transaction SpendCoinbase(const Block& block, std::uint64_t fee = 1000) {
    const Transaction& cb = block.txs.at(0);
    return test::Spend({OutPoint{ComputeTxid(cb), 0}}, {{pub_, cb.outputs[0].amount - fee}}, key_,
                       genesis_, params_);
  }

  Params params_;
  Hash32 genesis_;
  SecretKey key_;
  XOnlyPubKey pub_;
  MemoryBlockStore store_;
  ChainState chain_;
};

TEST_F(CoinsChainTest, CoinbasesAndSpendsMoveTheCoinSet) {
  ChainBuilder b(params_);
  std::vector<Block> blocks;
  for (int i = 0; i < 3; ++i) blocks.push_back(Next(b));
  for (const Block& blk : blocks)
    ASSERT_EQ(chain_.AcceptBlock(blk, kFarFuture).status, AcceptStatus::kNewTip);
  EXPECT_EQ(CoinSet(store_).size(), 3u);

  // Block 4 spends block 1's coinbase (2 blocks up: mature).
  const Transaction spend = SpendCoinbase(blocks[0]);
  const Block& fourth = Next(b, {spend});
  AcceptResult r = chain_.AcceptBlock(fourth, kFarFuture);
  ASSERT_EQ(r.status, AcceptStatus::kNewTip) << r.validation.message;
  const auto coins = CoinSet(store_);
  EXPECT_EQ(coins.size(), 4u);  // 4 coinbases + the spend - block 1's coinbase
  EXPECT_FALSE(coins.contains(OutPoint{ComputeTxid(blocks[0].txs[0]), 0}));
  EXPECT_TRUE(coins.contains(OutPoint{ComputeTxid(spend), 0}));

  auto summary = store_.ReadAddressSummary(pub_);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->coin_count, 4u);
  EXPECT_EQ(summary->tx_count, 5u);  // four coinbases and the spend
  auto where = store_.FindTx(ComputeTxid(spend));
  ASSERT_TRUE(where.ok() && where->has_value());
  EXPECT_EQ((*where)->block, fourth.hash);
  EXPECT_EQ((*where)->index, 1u);
}

TEST_F(CoinsChainTest, ABlockBreakingATransactionRuleIsRefusedAndTheTipStays) {
  ChainBuilder b(params_);
  const Block first = Next(b);
  ASSERT_EQ(chain_.AcceptBlock(first, kFarFuture).status, AcceptStatus::kNewTip);
  const auto before = CoinSet(store_);
  // Spends the coinbase of the block just below: immature.
  ChainBuilder bad = b;
  const Block& immature = Next(bad, {SpendCoinbase(first)});
  AcceptResult r = chain_.AcceptBlock(immature, kFarFuture);
  EXPECT_EQ(r.status, AcceptStatus::kInvalid);
  EXPECT_EQ(r.validation.error, BlockError::kBadTransaction);
  EXPECT_EQ(r.validation.tx_error, TxError::kImmatureSpend);
  EXPECT_EQ(chain_.Tip().hash(), first.hash);
  EXPECT_EQ(CoinSet(store_), before);
  // Its child is refused too.
  const Block& child = Next(bad);
  EXPECT_EQ(chain_.AcceptBlock(child, kFarFuture).status, AcceptStatus::kInvalid);
  // A bad signature, found by the check queue.
  ChainBuilder good = b;
  Next(good);
  Next(good);
  Transaction forged = SpendCoinbase(first);
  forged.inputs[0].sig[0] ^= 1;
  ChainBuilder forged_chain = good;
  const Block& with_forged = Next(forged_chain, {forged});
  for (std::size_t i = 2; i < good.blocks().size(); ++i) {
    ASSERT_EQ(chain_.AcceptBlock(good.blocks()[i], kFarFuture).status, AcceptStatus::kNewTip);
  }
  r = chain_.AcceptBlock(with_forged, kFarFuture);
  EXPECT_EQ(r.status, AcceptStatus::kInvalid);
  EXPECT_EQ(r.validation.tx_error, TxError::kBadSignature);
  EXPECT_EQ(chain_.Tip().hash(), good.tip().hash);
}

// One batch of blocks whose signatures are checked on two threads while
// the next block connects: the first block with a bad signature is named,
// with the transaction; the blocks before it join the chain, the blocks
// after it do not.
TEST_F(CoinsChainTest, ABatchStopsAtTheFirstBlockWithABadSignature) {
  ChainOptions options;
  options.verify_threads = 2;
  MemoryBlockStore store;
  ChainState chain(params_, store, options);
  ASSERT_TRUE(chain.Load().ok());
  // Blocks 1 to 3; block 3 splits block 1's coinbase into 150 coins.
  ChainBuilder b(params_);
  const Block first = Next(b);
  Next(b);
  const std::uint64_t each = first.txs[0].outputs[0].amount / 150;
  const Transaction fan_out =
      test::Spend({OutPoint{ComputeTxid(first.txs[0]), 0}},
                  std::vector<std::pair<XOnlyPubKey, std::uint64_t>>(150, {pub_, each}), key_,
                  genesis_, params_);
  Next(b, {fan_out});
  for (const Block& blk : b.WithoutGenesis()) {
    ASSERT_EQ(chain.AcceptBlock(blk, kFarFuture).status, AcceptStatus::kNewTip);
  }
  // Blocks 4 to 7, 30 spends each (more than one batch of the queue);
  // blocks 5 and 6 each have a forged signature.
  const Hash32 fan_txid = ComputeTxid(fan_out);
  std::vector<Block> batch;
  for (std::uint32_t k = 0; k < 4; ++k) {
    std::vector<Transaction> spends;
    for (std::uint32_t i = 0; i < 30; ++i) {
      spends.push_back(test::Spend({OutPoint{fan_txid, k * 30 + i}}, {{pub_, each - 10}}, key_,
                                   genesis_, params_));
    }
    if (k == 1) spends[29].inputs[0].sig[9] ^= 1;
    if (k == 2) spends[3].inputs[0].sig[9] ^= 1;
    batch.push_back(Next(b, std::move(spends)));
  }
  const std::vector<AcceptResult> results = chain.AcceptBlocks(batch, kFarFuture);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status, AcceptStatus::kNewTip);
  EXPECT_EQ(results[1].status, AcceptStatus::kInvalid);
  EXPECT_EQ(results[1].validation.tx_error, TxError::kBadSignature);
  EXPECT_EQ(results[1].validation.tx_index, 30u);  // after the coinbase
  EXPECT_NE(results[2].status, AcceptStatus::kNewTip);
  EXPECT_NE(results[3].status, AcceptStatus::kNewTip);
  EXPECT_EQ(chain.Tip().hash(), batch[0].hash);
  // The coin set is that of block 4: 30 fan-out coins spent, 30 made.
  auto spent = store.ReadCoin(OutPoint{fan_txid, 0});
  ASSERT_TRUE(spent.ok());
  EXPECT_FALSE(spent->has_value());
  auto unspent = store.ReadCoin(OutPoint{fan_txid, 30});
  ASSERT_TRUE(unspent.ok());
  EXPECT_TRUE(unspent->has_value());
}

// Connect then disconnect: for every fork point of a chain with spends,
// a heavier branch from there and then back again gives back the identical
// coin set (and indexes) each time.
TEST_F(CoinsChainTest, EveryShortReorgGivesBackTheSameCoinSet) {
  ChainBuilder main_chain(params_);
  std::vector<Block> blocks;
  for (int i = 0; i < 6; ++i) {
    std::vector<Transaction> txs;
    if (i >= 2) txs.push_back(SpendCoinbase(blocks[static_cast<std::size_t>(i - 2)]));
    blocks.push_back(Next(main_chain, txs));
    ASSERT_EQ(chain_.AcceptBlock(blocks.back(), kFarFuture).status, AcceptStatus::kNewTip);
  }
  auto reference = CoinSet(store_);
  ChainBuilder current = main_chain;  // the chain that is active now
  for (std::size_t depth = 1; depth <= 4; ++depth) {
    SCOPED_TRACE("depth " + std::to_string(depth));
    // A side branch forking `depth` blocks below the tip, one block longer.
    std::vector<Block> prefix(current.blocks().begin(),
                              current.blocks().end() - static_cast<std::ptrdiff_t>(depth));
    ChainBuilder side(params_, prefix);
    std::vector<HashedHeader> headers;
    for (std::size_t i = 0; i <= depth; ++i) {
      Next(side, {}, params_.mine_rate_ms + 7 * depth);
      headers.push_back(HashedHeader{side.tip().header, side.tip().hash});
    }
    // As sync does: the headers prove the branch's work, then its data comes.
    ASSERT_TRUE(chain_.AddHeaders(headers, kFarFuture).ok());
    for (std::size_t i = prefix.size(); i < side.blocks().size(); ++i) {
      AcceptResult r = chain_.AcceptBlock(side.blocks()[i], kFarFuture);
      ASSERT_TRUE(r.ok()) << r.validation.message;
    }
    ASSERT_EQ(chain_.Tip().hash(), side.tip().hash);
    EXPECT_NE(CoinSet(store_), reference);
    // Back: extend the old branch until it wins again.
    ChainBuilder back = current;
    headers.clear();
    for (std::size_t i = 0; i <= depth + 1; ++i) {
      Next(back, {}, params_.mine_rate_ms + 3);
      headers.push_back(HashedHeader{back.tip().header, back.tip().hash});
    }
    ASSERT_TRUE(chain_.AddHeaders(headers, kFarFuture).ok());
    for (std::size_t i = current.blocks().size(); i < back.blocks().size(); ++i) {
      ASSERT_TRUE(chain_.AcceptBlock(back.blocks()[i], kFarFuture).ok());
    }
    ASSERT_EQ(chain_.Tip().hash(), back.tip().hash);
    // What the old tip had, plus the extension's coinbases: the side
    // branch left nothing behind.
    auto expected = reference;
    for (std::size_t i = current.blocks().size(); i < back.blocks().size(); ++i) {
      const Block& blk = back.blocks()[i];
      expected[OutPoint{ComputeTxid(blk.txs[0]), 0}] =
          CoinOf(blk.txs[0].outputs[0], blk.header.height, true);
    }
    EXPECT_EQ(CoinSet(store_), expected);
    auto summary = store_.ReadAddressSummary(pub_);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->coin_count, expected.size());
    current = back;
    reference = CoinSet(store_);
  }
}

}  // namespace
}  // namespace powchain
