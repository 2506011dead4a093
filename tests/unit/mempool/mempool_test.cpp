// The mempool (docs/mempool.md): what it takes and refuses, chains and
// orphans, eviction, blocks and reorganizations, block templates, saving.
#include "mempool/mempool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
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
constexpr std::uint64_t kStart = 1'700'000'000'000;

class ManualClock final : public Clock {
 public:
  std::uint64_t NowMs() const override { return now.load(); }
  std::atomic<std::uint64_t> now{kStart};
};

class Recorder final : public MempoolListener {
 public:
  void OnTxAccepted(const TxRef&, const Hash32& txid, std::uint64_t) override {
    txids.push_back(txid);
  }
  std::vector<Hash32> txids;
};

class MempoolTest : public ::testing::Test {
 protected:
  MempoolTest()
      : params_(Tiny()),
        genesis_(MakeGenesis(params_).hash),
        key_(test::KeyFromSeed(7)),
        pub_(PublicKeyOf(key_)),
        other_(PublicKeyOf(test::KeyFromSeed(9))),
        chain_(params_, store_),
        builder_(params_) {
    EXPECT_TRUE(chain_.Load().ok());
  }

  static Params Tiny() {
    Params p = test::TinyParams();
    p.coinbase_maturity = 2;
    return p;
  }

  // Starts the pool after `blocks` blocks paying our key; their coinbases
  // (all but the last two, which are immature) are ours to spend.
  void Start(int blocks, MempoolOptions options = {}) {
    for (int i = 0; i < blocks; ++i) ASSERT_EQ(Connect(Next(builder_)), AcceptStatus::kNewTip);
    pool_ = std::make_unique<Mempool>(chain_, clock_, options);
    chain_.AddObserver(pool_.get());
    pool_->AddListener(&recorder_);
  }
  void TearDown() override {
    if (pool_) chain_.RemoveObserver(pool_.get());
  }

  AcceptStatus Connect(const Block& b) { return chain_.AcceptBlock(b, kFarFuture).status; }

  const Block& Next(ChainBuilder& b, std::vector<Transaction> txs = {},
                    const XOnlyPubKey* payee = nullptr) {
    const std::uint64_t height = b.tip().header.height + 1;
    std::uint64_t fees = 0;
    for (const Transaction& tx : txs) fees += FeeOf(tx);
    std::vector<Transaction> all = {test::Coinbase(height, payee != nullptr ? *payee : pub_,
                                                   BlockSubsidy(height, params_) + fees, params_)};
    all.insert(all.end(), txs.begin(), txs.end());
    return b.Add(1000, "null", std::move(all));
  }

  // The fee a transaction of ours pays, from the amounts it spends.
  std::uint64_t FeeOf(const Transaction& tx) {
    std::uint64_t in = 0;
    for (const TxIn& i : tx.inputs) in += amounts_.at(i.prevout);
    std::uint64_t out = 0;
    for (const TxOut& o : tx.outputs) out += o.amount;
    return in - out;
  }

  OutPoint CoinbaseOf(std::uint64_t height) {
    const Block& b = builder_.blocks().at(height);
    const OutPoint o{ComputeTxid(b.txs.at(0)), 0};
    amounts_[o] = b.txs[0].outputs[0].amount;
    return o;
  }

  // Spends `in` (worth what amounts_ says) to `to` minus `fee`, in `parts`
  // equal outputs (the first takes any remainder).
  Transaction Pay(const OutPoint& in, std::uint64_t fee, const XOnlyPubKey& to,
                  std::size_t parts = 1) {
    const std::uint64_t total = amounts_.at(in) - fee;
    std::vector<std::pair<XOnlyPubKey, std::uint64_t>> outs;
    for (std::size_t i = 0; i < parts; ++i) outs.emplace_back(to, total / parts);
    outs[0].second += total % parts;
    Transaction tx = test::Spend({in}, outs, key_, genesis_, params_);
    const Hash32 txid = ComputeTxid(tx);
    for (std::uint32_t v = 0; v < tx.outputs.size(); ++v) {
      amounts_[OutPoint{txid, v}] = tx.outputs[v].amount;
    }
    return tx;
  }

  static OutPoint Out(const Transaction& tx, std::uint32_t v = 0) {
    return OutPoint{ComputeTxid(tx), v};
  }

  Params params_;
  Hash32 genesis_;
  SecretKey key_;
  XOnlyPubKey pub_;
  XOnlyPubKey other_;
  MemoryBlockStore store_;
  ChainState chain_;
  ChainBuilder builder_;
  ManualClock clock_;
  Recorder recorder_;
  std::unique_ptr<Mempool> pool_;
  std::map<OutPoint, std::uint64_t> amounts_;
};

TEST_F(MempoolTest, TakesAValidSpendAndAnnouncesIt) {
  Start(4);
  const Transaction tx = Pay(CoinbaseOf(1), 5000, other_);
  const MempoolResult r = pool_->Accept(tx);
  ASSERT_EQ(r.status, MempoolResult::Status::kAccepted) << r.message;
  EXPECT_EQ(r.txid, ComputeTxid(tx));
  const MempoolStats s = pool_->Stats();
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(s.bytes, CanonicalTxSize(tx));
  EXPECT_EQ(s.fees, 5000u);
  const auto entry = pool_->Get(r.txid);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->fee, 5000u);
  EXPECT_EQ(entry->time_ms, kStart);
  EXPECT_EQ(recorder_.txids, std::vector<Hash32>{r.txid});
  // Its signatures need no second check when a block brings it.
  EXPECT_TRUE(chain_.verified_txs().Contains(r.txid));
  // Sending it again is no error, and no second announcement.
  EXPECT_EQ(pool_->Accept(tx).status, MempoolResult::Status::kDuplicate);
  EXPECT_EQ(recorder_.txids.size(), 1u);
}

TEST_F(MempoolTest, RefusesEachBrokenRuleWithItsReason) {
  Start(4);
  struct Case {
    const char* what;
    Transaction tx;
    const char* reason;
    bool punishable;
  };
  Transaction bad_sig = Pay(CoinbaseOf(1), 5000, other_);
  bad_sig.inputs[0].sig[5] ^= 1;
  Transaction unknown = Pay(CoinbaseOf(1), 5000, other_);
  unknown.inputs[0].prevout.txid[0] ^= 1;
  test::SignAll(unknown, key_, genesis_);
  Transaction no_outputs = Pay(CoinbaseOf(2), 5000, other_);
  no_outputs.outputs.clear();
  const std::vector<Case> cases = {
      {"a flipped signature bit", bad_sig, "bad-signature", true},
      {"an input nobody has", unknown, "missing-inputs", false},
      {"an immature coinbase", Pay(CoinbaseOf(4), 5000, other_), "immature-spend", false},
      {"no fee at all", Pay(CoinbaseOf(1), 0, other_), "fee-too-low", false},
      {"a coinbase", test::Coinbase(9, pub_, 1000, params_), "coinbase", true},
      {"no outputs", no_outputs, "no-outputs", true},
  };
  for (const Case& c : cases) {
    const MempoolResult r = pool_->Accept(c.tx);
    EXPECT_EQ(r.status, MempoolResult::Status::kRejected) << c.what;
    EXPECT_EQ(r.reason(), c.reason) << c.what << ": " << r.message;
    EXPECT_EQ(r.Punishable(), c.punishable) << c.what;
    EXPECT_FALSE(r.message.empty()) << c.what;
  }
  EXPECT_EQ(pool_->Stats().count, 0u);
  EXPECT_EQ(pool_->Stats().rejected, cases.size());
  EXPECT_TRUE(recorder_.txids.empty());
}

TEST_F(MempoolTest, TheFirstSpendSeenWinsAConflict) {
  Start(4);
  const OutPoint coin = CoinbaseOf(1);
  const Transaction first = Pay(coin, 5000, other_);
  const Transaction second = Pay(coin, 90000, pub_);  // pays more: still refused
  ASSERT_TRUE(pool_->Accept(first).ok());
  const MempoolResult r = pool_->Accept(second);
  EXPECT_EQ(r.error, MempoolError::kConflict) << r.message;
  EXPECT_TRUE(pool_->Contains(ComputeTxid(first)));
  EXPECT_FALSE(pool_->Contains(ComputeTxid(second)));
  EXPECT_EQ(pool_->SpentBy(coin), ComputeTxid(first));
}

TEST_F(MempoolTest, AChildSpendsItsUnconfirmedParentUpToTheChainCap) {
  MempoolOptions options;
  options.max_ancestors = 3;
  options.max_descendants = 3;
  Start(4, options);
  const Transaction a = Pay(CoinbaseOf(1), 1000, pub_);
  const Transaction b = Pay(Out(a), 1000, pub_);
  const Transaction c = Pay(Out(b), 1000, pub_);
  const Transaction d = Pay(Out(c), 1000, pub_);
  for (const Transaction* tx : {&a, &b, &c}) ASSERT_TRUE(pool_->Accept(*tx).ok());
  const auto entry = pool_->Get(ComputeTxid(c));
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->ancestor_count, 3u);
  EXPECT_EQ(entry->ancestor_fee, 3000u);
  EXPECT_EQ(entry->parents, std::vector<Hash32>{ComputeTxid(b)});
  const MempoolResult r = pool_->Accept(d);
  EXPECT_EQ(r.error, MempoolError::kTooLongChain) << r.message;
}

TEST_F(MempoolTest, APeersOrphanWaitsForItsParentAndALocalOneIsRefused) {
  Start(4);
  const Transaction parent = Pay(CoinbaseOf(1), 1000, pub_);
  const Transaction child = Pay(Out(parent), 2000, other_);
  EXPECT_EQ(pool_->Accept(child).error, MempoolError::kMissingInputs);  // local: refused
  EXPECT_FALSE(pool_->HasOrphan(ComputeTxid(child)));
  EXPECT_EQ(pool_->Accept(child, /*peer=*/4).status, MempoolResult::Status::kOrphan);
  EXPECT_TRUE(pool_->HasOrphan(ComputeTxid(child)));
  EXPECT_EQ(pool_->Stats().orphans, 1u);
  ASSERT_TRUE(pool_->Accept(parent, 5).ok());
  EXPECT_TRUE(pool_->Contains(ComputeTxid(child)));
  EXPECT_EQ(pool_->Stats().orphans, 0u);
  EXPECT_EQ(recorder_.txids, (std::vector<Hash32>{ComputeTxid(parent), ComputeTxid(child)}));
}

TEST_F(MempoolTest, TheOrphanPoolIsBoundedAndExpires) {
  MempoolOptions options;
  options.max_orphans = 5;
  Start(4, options);
  for (int i = 0; i < 20; ++i) {
    Transaction tx = Pay(CoinbaseOf(1), 1000 + i, other_);
    tx.inputs[0].prevout.txid[1] = static_cast<std::uint8_t>(i);  // a parent nobody has
    test::SignAll(tx, key_, genesis_);
    const MempoolResult r = pool_->Accept(tx, 7);
    EXPECT_EQ(r.status, MempoolResult::Status::kOrphan) << r.message;
  }
  EXPECT_EQ(pool_->Stats().orphans, 5u);
  clock_.now += MempoolOptions::kDefaultOrphanExpiryMs;
  pool_->Expire();
  EXPECT_EQ(pool_->Stats().orphans, 0u);
}

TEST_F(MempoolTest, AFullPoolEvictsTheLowestFeeRateWithItsDescendantsAndRaisesTheFloor) {
  Start(6);
  // The parent pays little and its child a bit more: their package is the
  // lowest score in the pool.
  const Transaction low = Pay(CoinbaseOf(1), 500, pub_);
  const Transaction low_child = Pay(Out(low), 1500, pub_);
  const Transaction mid = Pay(CoinbaseOf(2), 50000, pub_);
  const Transaction high = Pay(CoinbaseOf(3), 90000, pub_);
  const std::size_t size = CanonicalTxSize(low);
  MempoolOptions options;
  options.max_bytes = 3 * size + size / 2;  // room for three
  chain_.RemoveObserver(pool_.get());
  pool_ = std::make_unique<Mempool>(chain_, clock_, options);
  chain_.AddObserver(pool_.get());
  for (const Transaction* tx : {&low, &low_child, &mid}) ASSERT_TRUE(pool_->Accept(*tx).ok());
  const std::uint64_t floor_before = pool_->Stats().fee_floor;
  ASSERT_TRUE(pool_->Accept(high).ok());
  // The low package went, child and all; the floor rose above its rate.
  EXPECT_FALSE(pool_->Contains(ComputeTxid(low)));
  EXPECT_FALSE(pool_->Contains(ComputeTxid(low_child)));
  EXPECT_TRUE(pool_->Contains(ComputeTxid(mid)));
  EXPECT_TRUE(pool_->Contains(ComputeTxid(high)));
  const MempoolStats s = pool_->Stats();
  EXPECT_EQ(s.evicted, 2u);
  EXPECT_GT(s.fee_floor, floor_before);
  // What the evicted package paid is no longer enough.
  const MempoolResult again = pool_->Accept(low);
  EXPECT_EQ(again.error, MempoolError::kFeeTooLow) << again.message;
  // The floor decays back with time.
  clock_.now += 8 * MempoolOptions{}.floor_half_life_ms;
  EXPECT_EQ(pool_->Stats().fee_floor, MempoolOptions::kDefaultMinFeeRate);
}

TEST_F(MempoolTest, ABlockTakesOutWhatItConfirmsAndWhatConflictsWithIt) {
  Start(5);
  const Transaction a = Pay(CoinbaseOf(1), 3000, pub_);
  const Transaction a_child = Pay(Out(a), 3000, pub_);
  const Transaction b = Pay(CoinbaseOf(2), 3000, pub_);
  const Transaction b_child = Pay(Out(b), 3000, pub_);
  for (const Transaction* tx : {&a, &a_child, &b, &b_child}) ASSERT_TRUE(pool_->Accept(*tx).ok());
  // The block confirms a, and spends b's coin another way.
  const Transaction b_rival = Pay(CoinbaseOf(2), 7000, other_);
  ASSERT_EQ(Connect(Next(builder_, {a, b_rival})), AcceptStatus::kNewTip);
  EXPECT_FALSE(pool_->Contains(ComputeTxid(a)));
  EXPECT_TRUE(pool_->Contains(ComputeTxid(a_child)));  // its parent is confirmed now
  EXPECT_FALSE(pool_->Contains(ComputeTxid(b)));
  EXPECT_FALSE(pool_->Contains(ComputeTxid(b_child)));
  const auto child = pool_->Get(ComputeTxid(a_child));
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(child->ancestor_count, 1u);
  EXPECT_TRUE(child->parents.empty());
  EXPECT_EQ(pool_->Stats().count, 1u);
}

TEST_F(MempoolTest, AReorganizationReturnsTransactionsToThePool) {
  Start(4);
  ChainBuilder side = builder_;  // forks at the current tip
  const Transaction a = Pay(CoinbaseOf(1), 3000, pub_);
  ASSERT_TRUE(pool_->Accept(a).ok());
  ASSERT_EQ(Connect(Next(builder_, {a})), AcceptStatus::kNewTip);
  EXPECT_FALSE(pool_->Contains(ComputeTxid(a)));
  // A heavier branch without it.
  ASSERT_EQ(Connect(Next(side)), AcceptStatus::kSideBranch);
  ASSERT_EQ(Connect(Next(side)), AcceptStatus::kNewTip);
  EXPECT_TRUE(pool_->Contains(ComputeTxid(a)));
  // And the pool's template builds on the new tip.
  const BlockTemplateTxs t = pool_->SelectForBlock(side.tip().hash, 100000);
  ASSERT_EQ(t.txs.size(), 1u);
  EXPECT_EQ(ComputeTxid(*t.txs[0]), ComputeTxid(a));
}

TEST_F(MempoolTest, AReorganizationDropsSpendsOfCoinbasesThatLeftTheChain) {
  Start(3);
  ChainBuilder side = builder_;
  ASSERT_EQ(Connect(Next(builder_)), AcceptStatus::kNewTip);  // height 4
  ASSERT_EQ(Connect(Next(builder_)), AcceptStatus::kNewTip);  // 5
  ASSERT_EQ(Connect(Next(builder_)), AcceptStatus::kNewTip);  // 6: coinbase 4 is mature
  const Transaction spend = Pay(CoinbaseOf(4), 3000, pub_);
  ASSERT_TRUE(pool_->Accept(spend).ok());
  // A heavier branch whose coinbases pay someone else; its headers come
  // first, as in a sync, since each block alone has less work than the tip.
  std::vector<HashedHeader> headers;
  std::vector<Block> blocks;
  for (int i = 0; i < 4; ++i) {
    blocks.push_back(Next(side, {}, &other_));
    headers.push_back(HashedHeader{blocks.back().header, blocks.back().hash});
  }
  ASSERT_TRUE(chain_.AddHeaders(headers, kFarFuture).ok());
  chain_.AcceptBlocks(blocks, kFarFuture);
  ASSERT_EQ(chain_.Tip().hash(), side.tip().hash);
  EXPECT_FALSE(pool_->Contains(ComputeTxid(spend)));
}

TEST_F(MempoolTest, ATemplateTakesAChildWithItsParentByAncestorFeeRate) {
  Start(6);
  const Transaction parent = Pay(CoinbaseOf(1), 500, pub_);    // under 2 units/byte
  const Transaction child = Pay(Out(parent), 200000, pub_);    // pays for both
  const Transaction middle = Pay(CoinbaseOf(2), 20000, pub_);  // above the parent alone
  const Transaction poor = Pay(CoinbaseOf(3), 600, pub_);
  for (const Transaction* tx : {&parent, &child, &middle, &poor}) {
    ASSERT_TRUE(pool_->Accept(*tx).ok());
  }
  const Hash32 tip = chain_.Tip().hash();
  BlockTemplateTxs t = pool_->SelectForBlock(tip, 1'000'000);
  std::vector<Hash32> order;
  for (const TxRef& tx : t.txs) order.push_back(ComputeTxid(*tx));
  EXPECT_EQ(order, (std::vector<Hash32>{ComputeTxid(parent), ComputeTxid(child),
                                        ComputeTxid(middle), ComputeTxid(poor)}));
  EXPECT_EQ(t.fees, 500u + 200000 + 20000 + 600);
  // Room for two: the package, not the middle one.
  t = pool_->SelectForBlock(tip, CanonicalTxSize(parent) + CanonicalTxSize(child));
  ASSERT_EQ(t.txs.size(), 2u);
  EXPECT_EQ(ComputeTxid(*t.txs[1]), ComputeTxid(child));
  // Another parent: nothing (the pool is not in step with it).
  EXPECT_TRUE(pool_->SelectForBlock(genesis_, 1'000'000).txs.empty());
  // The mined block is valid and empties the pool.
  std::vector<Transaction> txs;
  for (const TxRef& tx : pool_->SelectForBlock(tip, 1'000'000).txs) txs.push_back(*tx);
  ASSERT_EQ(Connect(Next(builder_, txs)), AcceptStatus::kNewTip);
  EXPECT_EQ(pool_->Stats().count, 0u);
}

TEST_F(MempoolTest, UnconfirmedBalanceIsWhatThePoolAddsAndTakes) {
  Start(4);
  const OutPoint coin = CoinbaseOf(1);
  const std::uint64_t amount = amounts_.at(coin);
  const Transaction tx = Pay(coin, 5000, other_);
  ASSERT_TRUE(pool_->Accept(tx).ok());
  EXPECT_EQ(pool_->UnconfirmedBalance(other_), static_cast<std::int64_t>(amount - 5000));
  EXPECT_EQ(pool_->UnconfirmedBalance(pub_), -static_cast<std::int64_t>(amount));
  ASSERT_EQ(Connect(Next(builder_, {tx})), AcceptStatus::kNewTip);
  EXPECT_EQ(pool_->UnconfirmedBalance(other_), 0);
  EXPECT_EQ(pool_->UnconfirmedBalance(pub_), 0);
}

TEST_F(MempoolTest, OldTransactionsExpireWithTheirDescendants) {
  Start(4);
  const Transaction a = Pay(CoinbaseOf(1), 3000, pub_);
  ASSERT_TRUE(pool_->Accept(a).ok());
  clock_.now += 1000;
  const Transaction b = Pay(Out(a), 3000, pub_);
  ASSERT_TRUE(pool_->Accept(b).ok());
  clock_.now = kStart + MempoolOptions::kDefaultExpiryMs;
  pool_->Expire();
  EXPECT_EQ(pool_->Stats().count, 0u);
  EXPECT_EQ(pool_->Stats().expired, 2u);
}

TEST_F(MempoolTest, SavedPoolLoadsBackWithItsTimesAndADamagedFileIsAnError) {
  Start(4);
  const Transaction a = Pay(CoinbaseOf(1), 3000, pub_);
  const Transaction b = Pay(Out(a), 3000, pub_);
  ASSERT_TRUE(pool_->Accept(a).ok());
  clock_.now += 5000;
  ASSERT_TRUE(pool_->Accept(b).ok());
  const auto dir = std::filesystem::temp_directory_path() /
                   ("powchain_mempool_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "mempool.jsonl";
  ASSERT_TRUE(pool_->Save(file).ok());

  Mempool fresh(chain_, clock_);
  const auto loaded = fresh.Load(file);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->read, 2u);
  EXPECT_EQ(loaded->accepted, 2u);
  EXPECT_EQ(fresh.Get(ComputeTxid(a))->time_ms, kStart);
  EXPECT_EQ(fresh.Get(ComputeTxid(b))->time_ms, kStart + 5000);

  // A missing file is an empty pool; a cut or damaged one an error naming it.
  Mempool empty(chain_, clock_);
  EXPECT_EQ(empty.Load(dir / "absent.jsonl")->read, 0u);
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const std::string& damaged :
       {text.substr(0, text.size() - 5), std::string("{\"format\":\"other\"}\n"),
        text.substr(0, text.find('\n') + 1) + "{\"time\":1,\"tx\":{}}\n"}) {
    {
      std::ofstream out(file, std::ios::trunc);
      out << damaged;
    }
    const auto r = empty.Load(file);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find(file.string()), std::string::npos) << r.error();
  }
  std::filesystem::remove_all(dir);
}

TEST_F(MempoolTest, ABlockOfVerifiedTransactionsSkipsTheirSignatures) {
  Start(4);
  // A transaction whose signature is broken, but whose txid the cache says
  // was verified: the block connects, which shows that the cache is used.
  Transaction tx = Pay(CoinbaseOf(1), 3000, pub_);
  tx.inputs[0].sig[0] ^= 1;
  const Block& with_bad = Next(builder_, {tx});
  chain_.verified_txs().Insert(ComputeTxid(tx));
  EXPECT_EQ(Connect(with_bad), AcceptStatus::kNewTip);
}

}  // namespace
}  // namespace powchain
