// The SQLite store defers its coin set, undo and index writes
// (docs/storage.md, "Deferred writes"): whatever it holds in memory and
// whatever it has written, every read must answer as a store that writes
// them with each commit does, and a copy of its file taken at any moment
// (a crash) must load to the same state after the chain replays the blocks
// its tables lack. The reference is the memory store, fed the same blocks.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "storage/memory_store.h"
#include "storage/sqlite_store.h"
#include "testutil/chain_builder.h"
#include "testutil/coins.h"
#include "testutil/temp_dir.h"
#include "util/hex.h"

namespace powchain {
namespace {

namespace fs = std::filesystem;
using test::ChainBuilder;

constexpr std::uint64_t kFarFuture = 1ull << 62;

using test::TempDir;

std::map<OutPoint, Coin> CoinSet(const BlockStore& store) {
  std::map<OutPoint, Coin> out;
  const Status read = store.ForEachCoin([&](const OutPoint& o, const Coin& c) {
    out[o] = c;
    return true;
  });
  EXPECT_TRUE(read.ok()) << read.error();
  return out;
}

// The store's limit on deferred changes: 0 writes every commit's own, a
// small one writes every few commits, the default defers all of them.
class DeferredCoinsTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  DeferredCoinsTest()
      : params_(Tiny()),
        genesis_(MakeGenesis(params_).hash),
        key_(test::KeyFromSeed(9)),
        pub_(PublicKeyOf(key_)),
        other_(PublicKeyOf(test::KeyFromSeed(10))),
        reference_chain_(params_, reference_) {
    EXPECT_TRUE(reference_chain_.Load().ok());
    sqlite_ = Open(dir_.path() / "chain.sqlite");
    chain_ = std::make_unique<ChainState>(params_, *sqlite_);
    EXPECT_TRUE(chain_->Load().ok());
  }

  static Params Tiny() {
    Params p = test::TinyParams();
    p.coinbase_maturity = 2;
    return p;
  }

  std::unique_ptr<SqliteBlockStore> Open(const fs::path& file) {
    auto store = SqliteBlockStore::Open(file, params_.network, HexEncode(genesis_),
                                        SqliteBlockStore::kDefaultCacheBytes, GetParam());
    EXPECT_TRUE(store.ok()) << store.error();
    return store ? std::move(store).value() : nullptr;
  }

  const Block& Next(ChainBuilder& b, std::vector<Transaction> txs = {}, std::uint64_t dt = 1000) {
    const std::uint64_t height = b.tip().header.height + 1;
    std::vector<Transaction> all = {
        test::Coinbase(height, pub_, BlockSubsidy(height, params_), params_)};
    all.insert(all.end(), txs.begin(), txs.end());
    const Block& block = b.Add(dt, "null", std::move(all));
    Remember(block);
    return block;
  }

  // A spend of output 0 of `tx`, half to another key.
  Transaction SpendOf(const Transaction& tx) {
    const std::uint64_t amount = tx.outputs[0].amount;
    return test::Spend({OutPoint{ComputeTxid(tx), 0}},
                       {{pub_, amount / 2}, {other_, amount / 2 - 1000}}, key_, genesis_, params_);
  }

  void Remember(const Block& block) {
    blocks_.push_back(block.hash);
    for (const Transaction& tx : block.txs) {
      const Hash32 txid = ComputeTxid(tx);
      txids_.push_back(txid);
      for (std::uint32_t v = 0; v < tx.outputs.size(); ++v) outpoints_.push_back({txid, v});
    }
  }

  // Both chains take `blocks`, after their headers.
  void Deliver(const std::vector<Block>& blocks) {
    std::vector<HashedHeader> headers;
    for (const Block& b : blocks) headers.push_back(HashedHeader{b.header, b.hash});
    ASSERT_TRUE(reference_chain_.AddHeaders(headers, kFarFuture).ok());
    ASSERT_TRUE(chain_->AddHeaders(headers, kFarFuture).ok());
    for (const Block& b : blocks) {
      const AcceptResult want = reference_chain_.AcceptBlock(b, kFarFuture);
      const AcceptResult got = chain_->AcceptBlock(b, kFarFuture);
      ASSERT_TRUE(want.ok()) << want.validation.message;
      ASSERT_EQ(got.status, want.status) << got.validation.message << got.store_error;
      ASSERT_NO_FATAL_FAILURE(ExpectPointReadsAgree(*sqlite_));
    }
    ASSERT_EQ(chain_->Tip().hash(), reference_chain_.Tip().hash());
  }

  // The reads that do not write the pending changes: every coin, undo
  // record and transaction location ever made, as the reference has them.
  void ExpectPointReadsAgree(const BlockStore& store) {
    for (const OutPoint& o : outpoints_) {
      auto want = reference_.ReadCoin(o);
      auto got = store.ReadCoin(o);
      ASSERT_TRUE(want.ok() && got.ok());
      ASSERT_EQ(*got, *want) << "coin " << HexEncode(o.txid) << ":" << o.vout;
    }
    for (const Hash32& h : blocks_) {
      auto want = reference_.ReadUndo(h);
      auto got = store.ReadUndo(h);
      ASSERT_TRUE(want.ok() && got.ok());
      ASSERT_EQ(*got, *want) << "undo of " << HexEncode(h);
    }
    for (const Hash32& txid : txids_) {
      auto want = reference_.FindTx(txid);
      auto got = store.FindTx(txid);
      ASSERT_TRUE(want.ok() && got.ok());
      ASSERT_EQ(*got, *want) << "tx " << HexEncode(txid);
    }
  }

  // Those and the reads that write them first: the whole coin set and
  // both keys' address index.
  void ExpectAllReadsAgree(const BlockStore& store) {
    ASSERT_NO_FATAL_FAILURE(ExpectPointReadsAgree(store));
    EXPECT_EQ(CoinSet(store), CoinSet(reference_));
    for (const XOnlyPubKey& key : {pub_, other_}) {
      auto want = reference_.ReadAddressSummary(key);
      auto got = store.ReadAddressSummary(key);
      ASSERT_TRUE(want.ok() && got.ok());
      EXPECT_EQ(*got, *want);
      auto want_txs = reference_.ReadAddressTxs(key, 0, 1000);
      auto got_txs = store.ReadAddressTxs(key, 0, 1000);
      ASSERT_TRUE(want_txs.ok() && got_txs.ok());
      EXPECT_EQ(*got_txs, *want_txs);
      auto want_coins = reference_.ReadAddressCoins(key, 0, 1000);
      auto got_coins = store.ReadAddressCoins(key, 0, 1000);
      ASSERT_TRUE(want_coins.ok() && got_coins.ok());
      EXPECT_EQ(*got_coins, *want_coins);
    }
  }

  // What a crash now leaves: a copy of the database and its WAL as they are
  // on disk (the store is between transactions). Loading it must replay
  // whatever its tables lack and answer every read as the reference does.
  void ExpectCrashCopyLoads() {
    const fs::path copy = crash_dir_.path() / ("copy" + std::to_string(++copies_) + ".sqlite");
    const fs::path file = dir_.path() / "chain.sqlite";
    fs::copy_file(file, copy);
    if (fs::exists(file.string() + "-wal"))
      fs::copy_file(file.string() + "-wal", copy.string() + "-wal");
    auto store = Open(copy);
    ASSERT_NE(store, nullptr);
    auto coins_tip = store->ReadCoinsTip();
    ASSERT_TRUE(coins_tip.ok());
    if (GetParam() == 0) {
      EXPECT_EQ(*coins_tip, std::optional<Hash32>(chain_->Tip().hash()))
          << "a store that writes every commit's changes never lags";
    }
    if (*coins_tip != std::optional<Hash32>(chain_->Tip().hash())) ++lagging_copies_;
    ChainState loaded(params_, *store);
    const Status s = loaded.Load();
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(loaded.Tip().hash(), reference_chain_.Tip().hash());
    auto after = store->ReadCoinsTip();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(*after, std::optional<Hash32>(loaded.Tip().hash()));
    ASSERT_NO_FATAL_FAILURE(ExpectAllReadsAgree(*store));
  }

  TempDir dir_;
  TempDir crash_dir_;
  Params params_;
  Hash32 genesis_;
  SecretKey key_;
  XOnlyPubKey pub_;
  XOnlyPubKey other_;
  MemoryBlockStore reference_;
  ChainState reference_chain_;
  std::unique_ptr<SqliteBlockStore> sqlite_;
  std::unique_ptr<ChainState> chain_;
  std::vector<Hash32> blocks_;
  std::vector<Hash32> txids_;
  std::vector<OutPoint> outpoints_;
  int copies_ = 0;
  int lagging_copies_ = 0;
};

// Spends, a chain of spends, a reorganization onto a branch that confirms
// one of the same transactions in another block, and back again; a crash
// copy after each step.
TEST_P(DeferredCoinsTest, ReadsAndCrashCopiesAgreeWithAStoreThatWritesEveryCommit) {
  ChainBuilder main_chain(params_);
  std::vector<Transaction> spends;  // of coinbases, one a block from height 4 on
  for (int i = 0; i < 8; ++i) {
    std::vector<Transaction> txs;
    if (i >= 3) {
      txs.push_back(SpendOf(main_chain.blocks()[static_cast<std::size_t>(i - 2)].txs[0]));
      if (!spends.empty()) txs.push_back(SpendOf(spends.back()));
      spends.push_back(txs.front());
    }
    const Block& b = Next(main_chain, txs);
    ASSERT_NO_FATAL_FAILURE(Deliver({b}));
    if (i % 3 == 2) ASSERT_NO_FATAL_FAILURE(ExpectCrashCopyLoads());
  }
  ASSERT_NO_FATAL_FAILURE(ExpectCrashCopyLoads());

  // Written out: the tables hold main's tip, so the crash copies below
  // replay from a block that leaves the active chain.
  ASSERT_TRUE(sqlite_->Flush().ok());
  auto flushed = sqlite_->ReadCoinsTip();
  ASSERT_TRUE(flushed.ok());
  EXPECT_EQ(*flushed, std::optional<Hash32>(main_chain.tip().hash));

  // A heavier branch from height 5: its first block confirms the coinbase
  // spend main block 6 has, another of main's transactions leaves the chain.
  ChainBuilder side(params_, {main_chain.blocks().begin(), main_chain.blocks().begin() + 6});
  const Transaction moved = main_chain.blocks()[6].txs.at(1);
  std::vector<Block> side_blocks = {Next(side, {moved}, params_.mine_rate_ms + 11)};
  for (int i = 0; i < 3; ++i) side_blocks.push_back(Next(side, {}, params_.mine_rate_ms + 11));
  ASSERT_NO_FATAL_FAILURE(Deliver(side_blocks));
  ASSERT_EQ(chain_->Tip().hash(), side.tip().hash);
  ASSERT_NO_FATAL_FAILURE(ExpectCrashCopyLoads());

  // Back to main, longer again, from tables that hold the side branch.
  ASSERT_TRUE(sqlite_->Flush().ok());
  std::vector<Block> back;
  for (int i = 0; i < 3; ++i) back.push_back(Next(main_chain, {}, params_.mine_rate_ms + 13));
  ASSERT_NO_FATAL_FAILURE(Deliver(back));
  ASSERT_EQ(chain_->Tip().hash(), main_chain.tip().hash);
  ASSERT_NO_FATAL_FAILURE(ExpectCrashCopyLoads());

  ASSERT_NO_FATAL_FAILURE(ExpectAllReadsAgree(*sqlite_));
  if (GetParam() == SqliteBlockStore::kDefaultPendingBytes) {
    EXPECT_GT(lagging_copies_, 0) << "the default bound deferred nothing: the test tests nothing";
  }
  // A clean close writes everything: the file no longer lags.
  const fs::path file = dir_.path() / "chain.sqlite";
  chain_.reset();
  sqlite_.reset();
  auto reopened = Open(file);
  ASSERT_NE(reopened, nullptr);
  auto coins_tip = reopened->ReadCoinsTip();
  auto tip = reopened->ReadTip();
  ASSERT_TRUE(coins_tip.ok() && tip.ok());
  EXPECT_EQ(*coins_tip, *tip);
  ASSERT_NO_FATAL_FAILURE(ExpectAllReadsAgree(*reopened));
}

INSTANTIATE_TEST_SUITE_P(Bounds, DeferredCoinsTest,
                         ::testing::Values(std::size_t{0}, std::size_t{3000},
                                           SqliteBlockStore::kDefaultPendingBytes),
                         [](const auto& info) {
                           return info.param == 0      ? std::string("WriteEveryCommit")
                                  : info.param == 3000 ? std::string("SmallBound")
                                                       : std::string("DefaultBound");
                         });

}  // namespace
}  // namespace powchain
