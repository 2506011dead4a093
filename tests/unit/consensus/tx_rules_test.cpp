// Every transaction and block-transaction rule (docs/consensus.md,
// "Transactions and coins") has a case here that breaks exactly it, from a
// valid starting point that passes every rule.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "consensus/coins.h"
#include "consensus/genesis.h"
#include "consensus/tx_check.h"
#include "consensus/validation.h"
#include "testutil/coins.h"

namespace powchain {
namespace {

using test::KeyFromSeed;

class TxRulesTest : public ::testing::Test {
 public:
  TxRulesTest()
      : params_(Params::Regtest()),
        genesis_(MakeGenesis(params_).hash),
        key_(KeyFromSeed(1)),
        other_key_(KeyFromSeed(2)),
        pub_(PublicKeyOf(key_)),
        other_pub_(PublicKeyOf(other_key_)) {
    // A: a plain coin of 10 coins; B: a coinbase coin of height 5; C, D:
    // coins of maxMoney each (their sum is out of range).
    a_ = OutPoint{Filled(0xa1), 0};
    b_ = OutPoint{Filled(0xb1), 0};
    c_ = OutPoint{Filled(0xc1), 0};
    d_ = OutPoint{Filled(0xd1), 3};
    view_.coins[a_] = Coin{10 * kCoin, pub_, 1, false};
    view_.coins[b_] = Coin{50 * kCoin, pub_, 5, true};
    view_.coins[c_] = Coin{kMaxMoney, pub_, 2, false};
    view_.coins[d_] = Coin{kMaxMoney, pub_, 2, false};
  }

  static Hash32 Filled(std::uint8_t b) {
    Hash32 h;
    h.fill(b);
    return h;
  }

  // The valid starting point: A to the other key, 9 coins (fee 1 coin).
  Transaction Base() const {
    return test::Spend({a_}, {{other_pub_, 9 * kCoin}}, key_, genesis_, params_);
  }

  // The first rule `tx` breaks, spent in a block at `height`.
  TxError Check(const Transaction& tx, std::uint64_t height = 20) const {
    if (TxResult r = CheckTransaction(tx, params_); !r.ok()) return r.error;
    if (tx.IsCoinbase()) return TxError::kNone;
    std::uint64_t fee = 0;
    std::vector<SigCheck> checks;
    TxResult r = CheckTxInputs(tx, view_, height, genesis_, params_, &fee, &checks);
    if (!r.ok()) return r.error;
    EXPECT_EQ(checks.size(), tx.inputs.size());
    if (FirstBadSignature(checks).has_value()) return TxError::kBadSignature;
    return TxError::kNone;
  }

  // The first rule a block at `height` with `txs` breaks.
  TxError CheckBlockTxs(std::vector<Transaction> txs, std::uint64_t height = 20) const {
    Block block;
    block.header.height = height;
    block.txs = std::move(txs);
    ValidationResult v = CheckBlockTransactions(block, params_);
    if (!v.ok()) return v.tx_error;
    test::MapCoinView view = view_;
    CoinsOverlay overlay(view);
    BlockUndo undo;
    ConnectResult c =
        ConnectBlockCoins(block, ComputeTxids(block), overlay, genesis_, params_, &undo);
    if (!c.validation.ok()) return c.validation.tx_error;
    if (FirstBadSignature(c.sig_checks).has_value()) return TxError::kBadSignature;
    return TxError::kNone;
  }

  Params params_;
  Hash32 genesis_;
  SecretKey key_;
  SecretKey other_key_;
  XOnlyPubKey pub_;
  XOnlyPubKey other_pub_;
  OutPoint a_, b_, c_, d_;
  test::MapCoinView view_;
};

TEST_F(TxRulesTest, BaseIsValid) { EXPECT_EQ(Check(Base()), TxError::kNone); }

struct TxCase {
  const char* name;
  TxError expected;
  std::function<void(TxRulesTest&, Transaction&)> change;  // then re-signed
  std::uint64_t height = 20;
};

TEST_F(TxRulesTest, EachRuleBrokenAlone) {
  const std::vector<TxCase> cases = {
      {"version", TxError::kBadVersion, [](auto&, Transaction& tx) { tx.version = 2; }},
      {"no outputs", TxError::kNoOutputs, [](auto&, Transaction& tx) { tx.outputs.clear(); }},
      {"zero amount", TxError::kBadAmount,
       [](auto&, Transaction& tx) { tx.outputs[0].amount = 0; }},
      {"amount above maxMoney", TxError::kBadAmount,
       [](auto&, Transaction& tx) { tx.outputs[0].amount = kMaxMoney + 1; }},
      {"outputs sum above maxMoney", TxError::kOutputsTooLarge,
       [](auto&, Transaction& tx) {
         tx.outputs[0].amount = kMaxMoney;
         tx.outputs.push_back(tx.outputs[0]);
       }},
      {"another network's address", TxError::kWrongNetwork,
       [](auto& t, Transaction& tx) { tx.outputs[0] = MakeTxOut("pow", t.other_pub_, kCoin); }},
      {"no inputs", TxError::kNoInputs, [](auto&, Transaction& tx) { tx.inputs.clear(); }},
      {"coinbase with inputs", TxError::kCoinbaseHasInputs,
       [](auto&, Transaction& tx) { tx.coinbase = 20; }},
      {"one output spent twice", TxError::kDuplicateInput,
       [](auto&, Transaction& tx) { tx.inputs.push_back(tx.inputs[0]); }},
      {"oversize", TxError::kOversize,
       [](auto&, Transaction& tx) { tx.outputs.resize(1200, TxOut{tx.outputs[0]}); }},
      {"missing input", TxError::kMissingInput,
       [](auto&, Transaction& tx) { tx.inputs[0].prevout.vout = 7; }},
      {"immature coinbase", TxError::kImmatureSpend,
       [](auto& t, Transaction& tx) { tx.inputs[0].prevout = t.b_; }, 14},
      {"inputs below outputs", TxError::kInputsBelowOutputs,
       [](auto&, Transaction& tx) { tx.outputs[0].amount = 10 * kCoin + 1; }},
      {"inputs above maxMoney", TxError::kInputsTooLarge,
       [](auto& t, Transaction& tx) {
         tx.inputs[0].prevout = t.c_;
         tx.inputs.push_back(TxIn{t.d_, {}});
       }},
  };
  for (const TxCase& c : cases) {
    SCOPED_TRACE(c.name);
    Transaction tx = Base();
    c.change(*this, tx);
    test::SignAll(tx, key_, genesis_);
    EXPECT_EQ(TxErrorName(Check(tx, c.height)), TxErrorName(c.expected));
  }
}

TEST_F(TxRulesTest, MaturityBoundary) {
  Transaction tx = Base();
  tx.inputs[0].prevout = b_;
  tx.outputs[0].amount = 49 * kCoin;
  test::SignAll(tx, key_, genesis_);
  EXPECT_EQ(Check(tx, 5 + params_.coinbase_maturity - 1), TxError::kImmatureSpend);
  EXPECT_EQ(Check(tx, 5 + params_.coinbase_maturity), TxError::kNone);
}

TEST_F(TxRulesTest, SignatureMustBeTheSpentKeysOverThisTransactionAndNetwork) {
  Transaction flipped = Base();
  flipped.inputs[0].sig[5] ^= 1;
  EXPECT_EQ(Check(flipped), TxError::kBadSignature);

  // Signed by a key other than the one the coin names.
  Transaction wrong_key =
      test::Spend({a_}, {{other_pub_, 9 * kCoin}}, other_key_, genesis_, params_);
  EXPECT_EQ(Check(wrong_key), TxError::kBadSignature);

  // Signed for the main network: the regtest check refuses it.
  Transaction other_network =
      test::Spend({a_}, {{other_pub_, 9 * kCoin}}, key_, MakeGenesis(Params::Main()).hash, params_);
  EXPECT_EQ(Check(other_network), TxError::kBadSignature);

  // A signature moved to another transaction does not verify there.
  Transaction changed = Base();
  changed.outputs[0].amount -= 1;
  EXPECT_EQ(Check(changed), TxError::kBadSignature);
}

TEST_F(TxRulesTest, EachBlockRuleBrokenAlone) {
  const Transaction spend = Base();
  const std::uint64_t subsidy = BlockSubsidy(20, params_);
  const Transaction coinbase = test::Coinbase(20, pub_, subsidy, params_);
  EXPECT_EQ(CheckBlockTxs({coinbase, spend}), TxError::kNone);
  // The coinbase may take the spend's fee of 1 coin, not a unit more.
  EXPECT_EQ(CheckBlockTxs({test::Coinbase(20, pub_, subsidy + kCoin, params_), spend}),
            TxError::kNone);
  EXPECT_EQ(CheckBlockTxs({test::Coinbase(20, pub_, subsidy + kCoin + 1, params_), spend}),
            TxError::kCoinbaseTooLarge);
  EXPECT_EQ(CheckBlockTxs({spend, coinbase}), TxError::kMisplacedCoinbase);
  EXPECT_EQ(CheckBlockTxs({coinbase, coinbase}), TxError::kMisplacedCoinbase);
  EXPECT_EQ(CheckBlockTxs({test::Coinbase(21, pub_, subsidy, params_)}),
            TxError::kBadCoinbaseHeight);
  Transaction again = test::Spend({a_}, {{pub_, 8 * kCoin}}, key_, genesis_, params_);
  EXPECT_EQ(CheckBlockTxs({coinbase, spend, again}), TxError::kDoubleSpendInBlock);
}

TEST_F(TxRulesTest, OutputsOfEarlierTransactionsInTheBlockAreSpendable) {
  const Transaction first = Base();  // pays other_pub_ 9 coins
  const Transaction second = test::Spend({OutPoint{ComputeTxid(first), 0}}, {{pub_, 8 * kCoin}},
                                         other_key_, genesis_, params_);
  EXPECT_EQ(CheckBlockTxs({first, second}), TxError::kNone);
  // Not the other way round.
  EXPECT_EQ(CheckBlockTxs({second, first}), TxError::kMissingInput);
}

TEST_F(TxRulesTest, SubsidyHalvesAndEnds) {
  EXPECT_EQ(BlockSubsidy(0, params_), 50 * kCoin);
  EXPECT_EQ(BlockSubsidy(params_.halving_interval - 1, params_), 50 * kCoin);
  EXPECT_EQ(BlockSubsidy(params_.halving_interval, params_), 25 * kCoin);
  EXPECT_EQ(BlockSubsidy(params_.halving_interval * 33, params_), 0u);
  EXPECT_EQ(BlockSubsidy(params_.halving_interval * 64, params_), 0u);
  EXPECT_EQ(BlockSubsidy(~std::uint64_t{0}, params_), 0u);
}

TEST_F(TxRulesTest, ConnectThenDisconnectRestoresTheCoins) {
  const Transaction first = Base();
  const Transaction second = test::Spend({OutPoint{ComputeTxid(first), 0}}, {{pub_, 8 * kCoin}},
                                         other_key_, genesis_, params_);
  Block block;
  block.header.height = 20;
  block.txs = {test::Coinbase(20, pub_, BlockSubsidy(20, params_), params_), first, second};
  const std::vector<Hash32> txids = ComputeTxids(block);

  test::MapCoinView view = view_;
  CoinsOverlay connect(view);
  BlockUndo undo;
  ASSERT_TRUE(ConnectBlockCoins(block, txids, connect, genesis_, params_, &undo).validation.ok());
  view.Apply(connect);
  EXPECT_NE(view.coins, view_.coins);
  EXPECT_EQ(undo.spent.size(), 2u);

  auto round_trip = DeserializeUndo(SerializeUndo(undo));
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(*round_trip, undo);

  CoinsOverlay disconnect(view);
  ASSERT_TRUE(DisconnectBlockCoins(block, txids, *round_trip, disconnect).ok());
  view.Apply(disconnect);
  EXPECT_EQ(view.coins, view_.coins);
}

TEST_F(TxRulesTest, DisconnectRefusesUndoThatDoesNotMatch) {
  Block block;
  block.header.height = 20;
  block.txs = {Base()};
  const std::vector<Hash32> txids = ComputeTxids(block);
  test::MapCoinView view = view_;
  CoinsOverlay connect(view);
  BlockUndo undo;
  ASSERT_TRUE(ConnectBlockCoins(block, txids, connect, genesis_, params_, &undo).validation.ok());
  view.Apply(connect);
  BlockUndo wrong = undo;
  wrong.spent[0].first.vout = 9;
  CoinsOverlay disconnect(view);
  EXPECT_FALSE(DisconnectBlockCoins(block, txids, wrong, disconnect).ok());
  EXPECT_FALSE(DisconnectBlockCoins(block, txids, BlockUndo{}, disconnect).ok());
  EXPECT_FALSE(DeserializeUndo(std::vector<std::uint8_t>(84)).ok());
}

}  // namespace
}  // namespace powchain
