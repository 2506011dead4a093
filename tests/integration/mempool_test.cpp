// The mempool end to end (docs/mempool.md): transactions sent to real
// nodes over HTTP reach every pool, are mined elsewhere by fee rate, stay
// through a restart, come back after a reorganization, and a full pool
// evicts the cheapest.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "coin_node.h"
#include "node_process.h"
#include "primitives/json.h"
#include "spec_tx.h"
#include "testutil/wait.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;
using testutil::WaitUntil;

HttpResponse Submit(CoinNode& node, const std::string& tx) {
  return node.process().Post("/transactions", tx);
}

// The pool entry or confirmation of `txid` on `node`: "pool", "confirmed"
// or "unknown".
std::string Where(CoinNode& node, const std::string& txid) {
  const HttpResponse r = node.process().Get("/transactions/" + txid);
  if (r.status == 404) return "unknown";
  if (r.status != 200) return "error " + std::to_string(r.status);
  const JsonValue v = Json(r);
  return v.Find("status")->Find("confirmed")->as_bool() ? "confirmed" : "pool";
}

std::vector<std::string> BlockTxids(CoinNode& node, std::uint64_t height) {
  const JsonValue block = Json(node.process().Get("/blocks/" + std::to_string(height)));
  std::vector<std::string> out;
  for (const JsonValue& tx : block.Find("txs")->items()) {
    std::string text;
    // Recompute each txid from the canonical form of what the block holds.
    const JsonValue* coinbase = tx.Find("coinbase");
    std::vector<SpecInput> inputs;
    std::vector<std::string> sigs;
    for (const JsonValue& in : tx.Find("inputs")->items()) {
      inputs.push_back({Str(in, "txid"), static_cast<std::uint32_t>(U64(in, "vout"))});
      sigs.push_back(Str(in, "sig"));
    }
    std::vector<SpecOutput> outputs;
    for (const JsonValue& o : tx.Find("outputs")->items()) {
      outputs.push_back({Str(o, "address"), U64(o, "amount")});
    }
    out.push_back(SpecTxid(SpecTxJson(
        inputs, sigs, outputs,
        coinbase != nullptr ? std::optional<std::uint64_t>(*coinbase->AsU64()) : std::nullopt)));
  }
  return out;
}

std::uint64_t PoolCount(CoinNode& node) {
  return U64(Json(node.process().Get("/mempool")), "count");
}

std::string Peer(const CoinNode& node) { return "ws://127.0.0.1:" + std::to_string(node.p2p()); }

// --- Three nodes ---------------------------------------------------------------

class MempoolNetTest : public ::testing::Test, protected Wallets {
 protected:
  void SetUp() override {
    a_ = std::make_unique<CoinNode>(dir_.path(), dir_.path() / "a", alice.address);
    ASSERT_TRUE(a_->Start()) << a_->process().Log();
    ASSERT_TRUE(MineBlocks(*a_, 12, "reward "));
    b_ = std::make_unique<CoinNode>(dir_.path(), dir_.path() / "b", "",
                                    std::vector<std::string>{"--peers", Peer(*a_)});
    ASSERT_TRUE(b_->Start()) << b_->process().Log();
    c_ = std::make_unique<CoinNode>(
        dir_.path(), dir_.path() / "c", carol.address,
        std::vector<std::string>{"--peers", Peer(*a_) + "," + Peer(*b_)});
    ASSERT_TRUE(c_->Start()) << c_->process().Log();
    ASSERT_TRUE(WaitUntil([&] {
      return b_->TipHash() == a_->TipHash() && c_->TipHash() == a_->TipHash() &&
             U64(a_->Status(), "peers") == 2 && U64(b_->Status(), "peers") == 2 &&
             U64(c_->Status(), "peers") == 2;
    }));
  }

  std::vector<CoinNode*> All() { return {a_.get(), b_.get(), c_.get()}; }

  // Every node at the same tip.
  bool Converged() {
    return WaitUntil(
        [&] { return b_->TipHash() == a_->TipHash() && c_->TipHash() == a_->TipHash(); });
  }

  SpecWallet carol = MakeSpecWallet(3, "powrt");
  TempDir dir_;
  std::unique_ptr<CoinNode> a_, b_, c_;
};

TEST_F(MempoolNetTest, ASpendReachesEveryPoolAndIsMinedOnAnotherNode) {
  const std::string coinbase1 = CoinbaseTxid(*a_, 1, alice.address);
  const std::uint64_t fee = 1000;
  const std::string pay =
      SpecSignedTx({{coinbase1, 0}}, {{bob.address, 20 * kCoin}, {alice.address, 30 * kCoin - fee}},
                   alice.key, kRegtestGenesis);
  const std::string txid = SpecTxid(pay);
  const auto sent = std::chrono::steady_clock::now();
  const HttpResponse r = Submit(*a_, pay);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Str(Json(r), "txid"), txid);
  for (CoinNode* node : All()) {
    ASSERT_TRUE(WaitUntil([&] { return Where(*node, txid) == "pool"; }, 10s));
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - sent);
  std::printf("[ figure ] one transaction in all three pools after %lld ms\n",
              static_cast<long long>(elapsed.count()));
  EXPECT_LT(elapsed, 1000ms);
  // Every node sees bob's coming payment and alice's coming change.
  for (CoinNode* node : All()) {
    const JsonValue bob_now = node->Address(bob.address);
    EXPECT_EQ(U64(bob_now, "balance"), 0u);
    EXPECT_EQ(bob_now.Find("unconfirmed")->number_text(), std::to_string(20 * kCoin));
    const JsonValue status = node->Status();
    ASSERT_NE(status.Find("mempool"), nullptr);
    EXPECT_EQ(U64(*status.Find("mempool"), "count"), 1u);
  }

  // Carol's node mines it, claiming the fee.
  const HttpResponse mined = c_->Mine("\"carol mines\"");
  ASSERT_EQ(mined.status, 201) << mined.body;
  const std::uint64_t height = c_->Height();
  ASSERT_TRUE(Converged());
  const std::vector<std::string> txids = BlockTxids(*a_, height);
  ASSERT_EQ(txids.size(), 2u);
  EXPECT_EQ(txids[1], txid);
  EXPECT_EQ(a_->Balance(carol.address), kReward + fee);
  for (CoinNode* node : All()) {
    EXPECT_EQ(Where(*node, txid), "confirmed");
    EXPECT_EQ(node->Balance(bob.address), 20 * kCoin);
    EXPECT_EQ(node->Balance(alice.address), 12 * kReward - 20 * kCoin - fee);
    EXPECT_EQ(node->Address(bob.address).Find("unconfirmed")->number_text(), "0");
    EXPECT_EQ(PoolCount(*node), 0u);
  }
}

TEST_F(MempoolNetTest, ADoubleSpendSentToTwoNodesAtOnceEndsWithExactlyOneConfirmed) {
  const std::string coinbase2 = CoinbaseTxid(*a_, 2, alice.address);
  const std::string to_bob = SpecSignedTx({{coinbase2, 0}}, {{bob.address, 50 * kCoin - 2000}},
                                          alice.key, kRegtestGenesis);
  const std::string to_carol = SpecSignedTx({{coinbase2, 0}}, {{carol.address, 50 * kCoin - 3000}},
                                            alice.key, kRegtestGenesis);
  HttpResponse ra, rb;
  std::thread ta([&] { ra = Submit(*a_, to_bob); });
  std::thread tb([&] { rb = Submit(*b_, to_carol); });
  ta.join();
  tb.join();
  EXPECT_EQ(ra.status, 202) << ra.body;
  EXPECT_EQ(rb.status, 202) << rb.body;
  // Each pool keeps the one it saw first; the relayed rival is refused.
  const std::string bob_txid = SpecTxid(to_bob);
  const std::string carol_txid = SpecTxid(to_carol);
  for (CoinNode* node : All()) {
    ASSERT_TRUE(WaitUntil([&] { return PoolCount(*node) == 1; }, 10s));
  }
  EXPECT_EQ(Where(*a_, bob_txid), "pool");
  EXPECT_EQ(Where(*b_, carol_txid), "pool");
  // C's pool and C's block decide; the others follow the block.
  ASSERT_EQ(c_->Mine("\"decides\"").status, 201);
  ASSERT_TRUE(Converged());
  const std::vector<std::string> txids = BlockTxids(*c_, c_->Height());
  ASSERT_EQ(txids.size(), 2u);
  const bool bob_won = txids[1] == bob_txid;
  EXPECT_TRUE(bob_won || txids[1] == carol_txid);
  for (CoinNode* node : All()) {
    EXPECT_EQ(Where(*node, bob_won ? bob_txid : carol_txid), "confirmed");
    EXPECT_EQ(Where(*node, bob_won ? carol_txid : bob_txid), "unknown");
    EXPECT_EQ(PoolCount(*node), 0u);
    // The winner's payment plus carol's reward and the winner's fee.
    EXPECT_EQ(node->Balance(bob.address) + node->Balance(carol.address), 50 * kCoin + kReward);
  }
}

// --- One node --------------------------------------------------------------------

class MempoolNodeTest : public ::testing::Test, protected Wallets {
 protected:
  void StartNode(std::vector<std::string> extra = {}) {
    node_ = std::make_unique<CoinNode>(dir_.path(), dir_.path() / "node", alice.address, extra);
    ASSERT_TRUE(node_->Start()) << node_->process().Log();
  }

  // An alice spend of `coin` worth `amount` to bob, paying `fee`.
  std::string Pay(const std::string& coin, std::uint32_t vout, std::uint64_t amount,
                  std::uint64_t fee, const SecretKey* key = nullptr) {
    return SpecSignedTx({{coin, vout}}, {{alice.address, amount - fee}},
                        key != nullptr ? *key : alice.key, kRegtestGenesis);
  }

  TempDir dir_;
  std::unique_ptr<CoinNode> node_;
};

TEST_F(MempoolNodeTest, ABlockTakesTransactionsByFeeRateWithAChildPayingForItsParent) {
  StartNode();
  ASSERT_TRUE(MineBlocks(*node_, 13, "reward "));
  const std::string cb1 = CoinbaseTxid(*node_, 1, alice.address);
  const std::string cb2 = CoinbaseTxid(*node_, 2, alice.address);
  const std::string cb3 = CoinbaseTxid(*node_, 3, alice.address);
  // Sizes are about 240 bytes: the parent pays under 2 units a byte, its
  // child over 400, the independent ones 80 and 4.
  const std::string parent = Pay(cb1, 0, kReward, 400);
  const std::string child = Pay(SpecTxid(parent), 0, kReward - 400, 100000);
  const std::string middle = Pay(cb2, 0, kReward, 20000);
  const std::string poor = Pay(cb3, 0, kReward, 1000);
  for (const std::string* tx : {&poor, &parent, &middle, &child}) {
    const HttpResponse r = Submit(*node_, *tx);
    ASSERT_EQ(r.status, 202) << r.body;
  }
  const JsonValue pool = Json(node_->process().Get("/mempool"));
  EXPECT_EQ(U64(pool, "count"), 4u);
  EXPECT_EQ(U64(pool, "fees"), 400u + 100000 + 20000 + 1000);
  // GET /mempool lists them in the order a block would take them.
  std::vector<std::string> listed;
  for (const JsonValue& e : pool.Find("txs")->items()) listed.push_back(Str(e, "txid"));
  const std::vector<std::string> expected = {SpecTxid(parent), SpecTxid(child), SpecTxid(middle),
                                             SpecTxid(poor)};
  EXPECT_EQ(listed, expected);

  ASSERT_EQ(node_->Mine("\"by fee rate\"").status, 201);
  std::vector<std::string> txids = BlockTxids(*node_, node_->Height());
  ASSERT_EQ(txids.size(), 5u);
  txids.erase(txids.begin());  // the coinbase
  EXPECT_EQ(txids, expected);
  // The coinbase took the subsidy and every fee.
  const JsonValue block = Json(node_->process().Get("/blocks/tip"));
  const JsonValue& coinbase = block.Find("txs")->items().at(0);
  EXPECT_EQ(U64(coinbase.Find("outputs")->items().at(0), "amount"),
            kReward + 400 + 100000 + 20000 + 1000);
  EXPECT_EQ(PoolCount(*node_), 0u);
}

TEST_F(MempoolNodeTest, RefusalsNameTheirReason) {
  StartNode();
  ASSERT_TRUE(MineBlocks(*node_, 12, "reward "));
  const std::string cb1 = CoinbaseTxid(*node_, 1, alice.address);
  const std::string cb12 = CoinbaseTxid(*node_, 12, alice.address);
  const std::string first = Pay(cb1, 0, kReward, 1000);
  ASSERT_EQ(Submit(*node_, first).status, 202);
  struct Case {
    std::string what;
    std::string body;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"the same again", first, 202, ""},
      {"a rival spend", Pay(cb1, 0, kReward, 5000), 409, "conflict"},
      {"no fee", Pay(CoinbaseTxid(*node_, 2, alice.address), 0, kReward, 0), 400, "fee-too-low"},
      {"an immature coinbase", Pay(cb12, 0, kReward, 1000), 400, "immature-spend"},
      {"bob signs alice's coin",
       Pay(CoinbaseTxid(*node_, 3, alice.address), 0, kReward, 1000, &bob.key), 400,
       "bad-signature"},
      {"an unknown input", Pay(std::string(64, 'a'), 0, kReward, 1000), 400, "missing-inputs"},
      {"not a transaction", "{\"hello\":1}", 400, ""},
      {"not JSON", "{\"inputs\":", 400, ""},
  };
  for (const Case& c : cases) {
    const HttpResponse r = Submit(*node_, c.body);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    if (!c.reason.empty()) EXPECT_EQ(Str(Json(r), "reason"), c.reason) << c.what;
  }
  EXPECT_EQ(PoolCount(*node_), 1u);
  EXPECT_EQ(node_->process().Get("/transactions").status, 405);
}

TEST_F(MempoolNodeTest, ARestartKeepsThePool) {
  StartNode();
  ASSERT_TRUE(MineBlocks(*node_, 12, "reward "));
  const std::string tx = Pay(CoinbaseTxid(*node_, 1, alice.address), 0, kReward, 1000);
  const std::string child = Pay(SpecTxid(tx), 0, kReward - 1000, 1000);
  ASSERT_EQ(Submit(*node_, tx).status, 202);
  ASSERT_EQ(Submit(*node_, child).status, 202);
  node_->process().Signal(SIGTERM);
  ASSERT_EQ(node_->process().WaitExit(), 0) << node_->process().Log();
  ASSERT_TRUE(node_->Start()) << node_->process().Log();
  EXPECT_EQ(PoolCount(*node_), 2u);
  EXPECT_EQ(Where(*node_, SpecTxid(tx)), "pool");
  EXPECT_EQ(Where(*node_, SpecTxid(child)), "pool");
  ASSERT_EQ(node_->Mine("\"after restart\"").status, 201);
  EXPECT_EQ(Where(*node_, SpecTxid(child)), "confirmed");
}

TEST_F(MempoolNodeTest, AFullPoolEvictsTheLowestFeeRatesAndRaisesItsFloor) {
  StartNode({"--mempool-max-mb", "1"});
  ASSERT_TRUE(MineBlocks(*node_, 11, "reward "));
  // One coin split into 60, confirmed; then 60 large spends of them (about
  // 25 KB each: 250 outputs), the i-th paying i + 2 units a byte. About 40
  // fit in 1 MiB.
  constexpr int kSpends = 60;
  const std::string cb1 = CoinbaseTxid(*node_, 1, alice.address);
  std::vector<SpecOutput> split(kSpends, SpecOutput{alice.address, (kReward - 100000) / kSpends});
  const std::string fan = SpecSignedTx({{cb1, 0}}, split, alice.key, kRegtestGenesis);
  ASSERT_EQ(Submit(*node_, fan).status, 202);
  ASSERT_EQ(node_->Mine("\"split\"").status, 201);
  ASSERT_EQ(PoolCount(*node_), 0u);
  const std::uint64_t piece = (kReward - 100000) / kSpends;
  std::vector<std::string> txids;
  for (int i = 0; i < kSpends; ++i) {
    // The size first, with a placeholder fee, then the real fee.
    auto build = [&](std::uint64_t fee) {
      std::vector<SpecOutput> outs(250, SpecOutput{bob.address, (piece - fee) / 250});
      return SpecSignedTx({{SpecTxid(fan), static_cast<std::uint32_t>(i)}}, outs, alice.key,
                          kRegtestGenesis);
    };
    const std::size_t size = build(1'000'000).size();
    const std::string tx = build(static_cast<std::uint64_t>(i + 2) * size + 250);
    txids.push_back(SpecTxid(tx));
    const HttpResponse r = Submit(*node_, tx);
    ASSERT_TRUE(r.status == 202 || Str(Json(r), "reason") == "mempool-full") << r.body;
  }
  const JsonValue pool = Json(node_->process().Get("/mempool"));
  const std::uint64_t count = U64(pool, "count");
  EXPECT_LE(U64(pool, "bytes"), 1024u * 1024);
  EXPECT_GT(count, 30u);
  EXPECT_LT(count, static_cast<std::uint64_t>(kSpends));
  // What is left is exactly the best-paying ones.
  for (int i = 0; i < kSpends; ++i) {
    const bool kept = i >= kSpends - static_cast<int>(count);
    EXPECT_EQ(Where(*node_, txids[i]), kept ? "pool" : "unknown") << i;
  }
  EXPECT_GT(U64(pool, "feeFloor"), 2u);
  std::printf("[ figure ] 1 MiB pool: %llu of %d kept, floor %llu units/byte\n",
              static_cast<unsigned long long>(count), kSpends,
              static_cast<unsigned long long>(U64(pool, "feeFloor")));
}

// --- Reorganization ---------------------------------------------------------------

TEST(MempoolReorgTest, ADisconnectedBlocksTransactionGoesBackToThePoolAndIsMinedAgain) {
  Wallets w;
  const SpecWallet carol = MakeSpecWallet(3, "powrt");
  TempDir dir;
  CoinNode a(dir.path(), dir.path() / "a", w.alice.address);
  ASSERT_TRUE(a.Start()) << a.process().Log();
  ASSERT_TRUE(MineBlocks(a, 11, "shared "));
  {
    CoinNode follower(dir.path(), dir.path() / "b", carol.address, {"--peers", Peer(a)});
    ASSERT_TRUE(follower.Start()) << follower.process().Log();
    ASSERT_TRUE(WaitUntil([&] { return follower.TipHash() == a.TipHash(); }, 60s));
    follower.process().Signal(SIGTERM);
    ASSERT_EQ(follower.process().WaitExit(), 0) << follower.process().Log();
  }
  const std::string pay = SpecSignedTx({{CoinbaseTxid(a, 1, w.alice.address), 0}},
                                       {{w.bob.address, 20 * kCoin}}, w.alice.key, kRegtestGenesis);
  const std::string txid = SpecTxid(pay);
  ASSERT_EQ(Submit(a, pay).status, 202);
  ASSERT_EQ(a.Mine("\"pay\"").status, 201);
  ASSERT_EQ(Where(a, txid), "confirmed");

  CoinNode b(dir.path(), dir.path() / "b", carol.address, {"--no-persist-mempool"});
  ASSERT_TRUE(b.Start()) << b.process().Log();
  ASSERT_TRUE(MineBlocks(b, 3, "branch "));
  ASSERT_EQ(a.process().Post("/peers", "{\"url\":\"" + Peer(b) + "\"}").status, 202);
  ASSERT_TRUE(WaitUntil([&] { return a.TipHash() == b.TipHash(); }, 60s)) << a.process().Log();
  // The spend left the chain with its block and is waiting again.
  EXPECT_EQ(Where(a, txid), "pool");
  EXPECT_EQ(a.Balance(w.bob.address), 0u);
  // The next block confirms it again, on both nodes.
  ASSERT_EQ(a.Mine("\"again\"").status, 201);
  ASSERT_TRUE(WaitUntil([&] { return a.TipHash() == b.TipHash(); }, 60s));
  EXPECT_EQ(Where(a, txid), "confirmed");
  EXPECT_EQ(Where(b, txid), "confirmed");
  EXPECT_EQ(b.Balance(w.bob.address), 20 * kCoin);
}

}  // namespace
}  // namespace powchain::itest
