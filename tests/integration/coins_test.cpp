// Coins end to end: a regtest node with --miner-address mines rewards,
// transactions built and signed outside the node (spec_tx.h) are mined
// with POST /mine, refused for each rule they break, read back over HTTP,
// undone by a reorganization, and survive SIGKILL with `powchain verify`
// clean.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "coin_node.h"
#include "node_process.h"
#include "p2p/protocol.h"
#include "primitives/block_json.h"
#include "primitives/json.h"
#include "spec_tx.h"
#include "test_peer.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// --- Mining rewards and spending them ----------------------------------------

class CoinsTest : public ::testing::Test, protected Wallets {
 protected:
  void SetUp() override {
    node_ = std::make_unique<CoinNode>(dir_.path(), dir_.path() / "node", alice.address);
    ASSERT_TRUE(node_->Start()) << node_->process().Log();
    // Eleven blocks: the coinbase of block 1 may be spent from block 11 on
    // (coinbaseMaturity 10), so a transaction mined next may spend it.
    ASSERT_TRUE(MineBlocks(*node_, 11, "reward "));
  }

  // A signed transaction spending `inputs` of alice's.
  std::string AliceSpends(const std::vector<SpecInput>& inputs,
                          const std::vector<SpecOutput>& outputs,
                          const std::string& genesis = kRegtestGenesis) {
    return SpecSignedTx(inputs, outputs, alice.key, genesis);
  }

  // POST /mine with `tx` must be refused with `reason`, the tip unchanged.
  void ExpectRefused(const std::string& tx, const std::string& reason) {
    const std::string tip = node_->TipHash();
    const HttpResponse r = node_->Mine("\"refused\"", {tx});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(ErrorOf(r).find("txs[0] " + reason + ": "), std::string::npos) << ErrorOf(r);
    EXPECT_EQ(node_->TipHash(), tip);
  }

  TempDir dir_;
  std::unique_ptr<CoinNode> node_;
};

TEST_F(CoinsTest, EveryBlockPaysTheMinerAddressTheSubsidy) {
  const JsonValue totals = node_->Address(alice.address);
  EXPECT_EQ(U64(totals, "balance"), 11 * kReward);
  EXPECT_EQ(U64(totals, "coinCount"), 11u);
  EXPECT_EQ(U64(totals, "txCount"), 11u);
  for (std::uint64_t height = 1; height <= 11; ++height) {
    const JsonValue block = Json(node_->process().Get("/blocks/" + std::to_string(height)));
    const JsonValue& txs = *block.Find("txs");
    ASSERT_EQ(txs.items().size(), 1u) << height;
    EXPECT_EQ(U64(txs.items()[0], "coinbase"), height);
    const JsonValue& out = txs.items()[0].Find("outputs")->items().at(0);
    EXPECT_EQ(Str(out, "address"), alice.address);
    EXPECT_EQ(U64(out, "amount"), kReward);
    CoinbaseTxid(*node_, height, alice.address);
  }
  // The next block (12) may spend the coinbases of blocks 1 and 2 only.
  const JsonValue utxos = node_->Address(alice.address, "/utxos?limit=500");
  int spendable = 0;
  for (const JsonValue& u : utxos.Find("utxos")->items()) {
    spendable += u.Find("spendable")->as_bool() ? 1 : 0;
  }
  EXPECT_EQ(spendable, 2);
}

TEST_F(CoinsTest, ASignedSpendIsMinedAndReadBack) {
  const std::string coinbase1 = CoinbaseTxid(*node_, 1, alice.address);
  const std::uint64_t fee = kCoin / 10;
  const std::string pay =
      AliceSpends({{coinbase1, 0}}, {{bob.address, 20 * kCoin}, {alice.address, 30 * kCoin - fee}});
  const std::string pay_txid = SpecTxid(pay);
  const HttpResponse mined = node_->Mine("\"alice pays bob\"", {pay});
  ASSERT_EQ(mined.status, 201) << mined.body;

  // The block: a coinbase claiming the subsidy and the fee, then the spend,
  // as sent.
  const JsonValue block = Json(mined);
  EXPECT_EQ(U64(block, "height"), 12u);
  const auto& txs = block.Find("txs")->items();
  ASSERT_EQ(txs.size(), 2u);
  EXPECT_EQ(U64(txs[0].Find("outputs")->items().at(0), "amount"), kReward + fee);
  const JsonValue tx = Json(node_->process().Get("/transactions/" + pay_txid));
  EXPECT_EQ(Str(tx, "txid"), pay_txid);
  EXPECT_EQ(U64(tx, "height"), 12u);
  EXPECT_EQ(U64(tx, "index"), 1u);
  EXPECT_EQ(U64(tx, "confirmations"), 1u);
  EXPECT_EQ(U64(tx, "fee"), fee);
  EXPECT_EQ(Str(tx, "blockHash"), Str(block, "hash"));
  const JsonValue proof = Json(node_->process().Get("/transactions/" + pay_txid + "/proof"));
  EXPECT_EQ(Str(proof, "leaf"), pay_txid);
  EXPECT_EQ(Str(proof, "dataHash"), Str(block, "dataHash"));

  // Balances and history: every unit is alice's or bob's (the fee went to
  // alice's coinbase).
  const JsonValue bob_totals = node_->Address(bob.address);
  EXPECT_EQ(U64(bob_totals, "balance"), 20 * kCoin);
  EXPECT_EQ(U64(bob_totals, "coinCount"), 1u);
  EXPECT_EQ(U64(bob_totals, "txCount"), 1u);
  EXPECT_EQ(node_->Balance(alice.address), 12 * kReward - 20 * kCoin);
  const JsonValue bob_coins = node_->Address(bob.address, "/utxos");
  ASSERT_EQ(bob_coins.Find("utxos")->items().size(), 1u);
  const JsonValue& coin = bob_coins.Find("utxos")->items()[0];
  EXPECT_EQ(Str(coin, "txid"), pay_txid);
  EXPECT_EQ(U64(coin, "vout"), 0u);
  EXPECT_EQ(U64(coin, "amount"), 20 * kCoin);
  EXPECT_FALSE(coin.Find("coinbase")->as_bool());
  // Alice's history, newest first: the spend (index 1 of block 12), then
  // block 12's coinbase, then block 11's.
  const JsonValue history = node_->Address(alice.address, "/txs?limit=3");
  const auto& entries = history.Find("txs")->items();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(Str(entries[0], "txid"), pay_txid);
  EXPECT_EQ(U64(entries[1], "height"), 12u);
  EXPECT_EQ(U64(entries[1], "index"), 0u);
  EXPECT_EQ(U64(entries[2], "height"), 11u);
  EXPECT_EQ(U64(node_->Address(alice.address), "txCount"), 13u);

  // Spent once, it cannot be spent again.
  ExpectRefused(AliceSpends({{coinbase1, 0}}, {{bob.address, kCoin}}), "missing-input");
  // Bob's new coin is spendable at once (only coinbases wait), and so is an
  // output of an earlier transaction of the same block.
  const std::string bob_pays =
      SpecSignedTx({{pay_txid, 0}}, {{alice.address, 19 * kCoin}}, bob.key, kRegtestGenesis);
  const std::string alice_again =
      AliceSpends({{SpecTxid(bob_pays), 0}}, {{bob.address, 18 * kCoin}});
  const HttpResponse chained = node_->Mine("\"chained\"", {bob_pays, alice_again});
  ASSERT_EQ(chained.status, 201) << chained.body;
  EXPECT_EQ(node_->Balance(bob.address), 18 * kCoin);
  EXPECT_EQ(node_->Balance(alice.address) + node_->Balance(bob.address), 13 * kReward);
}

TEST_F(CoinsTest, TransactionsBreakingARuleAreRefusedWithTheReason) {
  const std::string coinbase1 = CoinbaseTxid(*node_, 1, alice.address);
  const std::string coinbase5 = CoinbaseTxid(*node_, 5, alice.address);
  const SpecWallet bob_on_main = MakeSpecWallet(2, "pow");
  // Immature: block 5's coinbase, spent in block 12 (needs block 15).
  ExpectRefused(AliceSpends({{coinbase5, 0}}, {{bob.address, kCoin}}), "immature-spend");
  // Over-spent: outputs above the input.
  ExpectRefused(AliceSpends({{coinbase1, 0}}, {{bob.address, kReward + 1}}),
                "inputs-below-outputs");
  // Badly signed: one signature bit flipped; signed by someone else.
  std::string flipped = AliceSpends({{coinbase1, 0}}, {{bob.address, kCoin}});
  const std::size_t sig = flipped.find("\"sig\":\"") + 7;
  flipped[sig] = flipped[sig] == '0' ? '1' : '0';
  ExpectRefused(flipped, "bad-signature");
  ExpectRefused(SpecSignedTx({{coinbase1, 0}}, {{bob.address, kCoin}}, bob.key, kRegtestGenesis),
                "bad-signature");
  // For another network: signed for main's genesis; paying a main address.
  ExpectRefused(AliceSpends({{coinbase1, 0}}, {{bob.address, kCoin}}, kMainGenesis),
                "bad-signature");
  ExpectRefused(AliceSpends({{coinbase1, 0}}, {{bob_on_main.address, kCoin}}), "wrong-network");
  // A coin that never existed.
  ExpectRefused(AliceSpends({{std::string(64, 'a'), 0}}, {{bob.address, kCoin}}), "missing-input");
  // The same coin spent twice in one block.
  const std::string first = AliceSpends({{coinbase1, 0}}, {{bob.address, kCoin}});
  const std::string second = AliceSpends({{coinbase1, 0}}, {{bob.address, 2 * kCoin}});
  const HttpResponse twice = node_->Mine("\"twice\"", {first, second});
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(ErrorOf(twice).rfind("txs[1] ", 0), 0u) << ErrorOf(twice);
  // Nothing of this reached a block.
  EXPECT_EQ(node_->Height(), 11u);
  EXPECT_EQ(node_->Balance(bob.address), 0u);
}

TEST_F(CoinsTest, VerifyChecksTheCoinsAndNamesTheFirstDisagreement) {
  const std::string coinbase1 = CoinbaseTxid(*node_, 1, alice.address);
  ASSERT_EQ(node_
                ->Mine("1", {AliceSpends({{coinbase1, 0}},
                                         {{bob.address, kCoin}, {alice.address, 48 * kCoin}})})
                .status,
            201);
  node_->process().Signal(SIGTERM);
  ASSERT_EQ(node_->process().WaitExit(), 0) << node_->process().Log();
  auto verify = [&] {
    NodeProcess p({"verify", "--data-dir", node_->data().string()}, {}, dir_.path());
    const auto code = p.WaitExit(120s);
    return std::make_pair(code.value_or(-1), p.Log());
  };
  const auto [code, out] = verify();
  EXPECT_EQ(code, 0) << out;
  // 12 coinbases and 2 outputs, less the coin spent.
  EXPECT_NE(out.find(", 13 coins"), std::string::npos) << out;

  // A coin's amount (alice's change) changed behind the node's back.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((node_->data() / "chain.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE coins SET amount = amount + 1 WHERE vout = 1", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto [bad_code, bad_out] = verify();
  EXPECT_NE(bad_code, 0) << bad_out;
  EXPECT_NE(bad_out.find("differs from the replayed one"), std::string::npos) << bad_out;
}

// The node serves each block as the bytes it stored with it. For the
// active chain and `extra` (blocks off it), checks that GET /blocks,
// GET /blocks/{hash} and a P2P getdata answer each carry, byte for byte, a
// fresh encoding of the blocks they hold, and that all three agree. (That
// the stored bytes are the encoding of the stored block is what
// `powchain verify` checks, row by row.)
void ExpectServedBytesAreEncodings(CoinNode& node, const std::vector<std::string>& extra) {
  const HttpResponse all = node.process().Get("/blocks");
  ASSERT_EQ(all.status, 200);
  auto parsed = ParseJson(all.body, JsonLimits{std::size_t{1} << 26, 64});
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  std::vector<Block> blocks;
  std::string fresh;
  for (const JsonValue& item : parsed->items()) {
    auto block = BlockFromJson(item);
    ASSERT_TRUE(block.ok()) << block.error();
    fresh += (fresh.empty() ? "" : ",") + BlockToJson(*block);
    blocks.push_back(std::move(*block));
  }
  EXPECT_EQ(all.body, "[" + fresh + "]");
  for (const std::string& hex : extra) {
    const HttpResponse r = node.process().Get("/blocks/" + hex);
    ASSERT_EQ(r.status, 200) << hex;
    auto block = BlockFromJsonText(r.body, JsonLimits{std::size_t{1} << 26, 64});
    ASSERT_TRUE(block.ok()) << block.error();
    ASSERT_EQ(HexEncode(block->hash), hex);
    blocks.push_back(std::move(*block));
  }
  std::vector<Hash32> hashes;
  for (const Block& b : blocks) {
    hashes.push_back(b.hash);
    EXPECT_EQ(node.process().Get("/blocks/" + HexEncode(b.hash)).body, BlockToJson(b))
        << b.header.height;
  }
  // A peer's getdata for all of them, answered in one message.
  TestPeer peer;
  ASSERT_TRUE(peer.Handshake(node.p2p(), *HexToHash32(kRegtestGenesis)));
  peer.Send(p2p::GetData{hashes});
  std::optional<std::string> answer;
  while ((answer = peer.ReadText()) && answer->rfind(R"({"type":"blocks")", 0) != 0) {
  }
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(*answer, p2p::Encode(p2p::Blocks{blocks}));
}

// --- Reorganizations ---------------------------------------------------------

// Node A mines a spend; node B, which shares A's chain up to the spend's
// parent, mines three blocks of its own. When they meet, A takes B's
// heavier branch: the spend's block leaves the active chain, and with it the
// spend: its coin is alice's again, bob has nothing, and the same
// transaction can be mined anew.
TEST(CoinsReorgTest, ADroppedBlockGivesBackTheCoinsItSpent) {
  Wallets w;
  const SpecWallet carol = MakeSpecWallet(3, "powrt");
  TempDir dir;
  CoinNode a(dir.path(), dir.path() / "a", w.alice.address);
  ASSERT_TRUE(a.Start()) << a.process().Log();
  ASSERT_TRUE(MineBlocks(a, 11, "shared "));
  {
    CoinNode follower(dir.path(), dir.path() / "b", carol.address,
                      {"--peers", "ws://127.0.0.1:" + std::to_string(a.p2p())});
    ASSERT_TRUE(follower.Start()) << follower.process().Log();
    ASSERT_TRUE(WaitUntil([&] { return follower.TipHash() == a.TipHash(); }, 60s));
    follower.process().Signal(SIGTERM);
    ASSERT_EQ(follower.process().WaitExit(), 0) << follower.process().Log();
  }

  const std::string coinbase1 = CoinbaseTxid(a, 1, w.alice.address);
  const std::string pay =
      SpecSignedTx({{coinbase1, 0}}, {{w.bob.address, 20 * kCoin}}, w.alice.key, kRegtestGenesis);
  const std::string pay_txid = SpecTxid(pay);
  const HttpResponse paid = a.Mine("\"pay\"", {pay});
  ASSERT_EQ(paid.status, 201);
  const std::string dropped = Str(Json(paid), "hash");
  ASSERT_EQ(a.Balance(w.bob.address), 20 * kCoin);

  CoinNode b(dir.path(), dir.path() / "b", carol.address);
  ASSERT_TRUE(b.Start()) << b.process().Log();
  ASSERT_EQ(b.Height(), 11u);
  ASSERT_TRUE(MineBlocks(b, 3, "branch "));
  const HttpResponse added =
      a.process().Post("/peers", "{\"url\":\"ws://127.0.0.1:" + std::to_string(b.p2p()) + "\"}");
  ASSERT_EQ(added.status, 202) << added.body;
  ASSERT_TRUE(WaitUntil([&] { return a.TipHash() == b.TipHash(); }, 60s)) << a.process().Log();

  // The spend is no longer confirmed: it is back in A's mempool.
  const HttpResponse looked_up = a.process().Get("/transactions/" + pay_txid);
  ASSERT_EQ(looked_up.status, 200) << looked_up.body;
  EXPECT_FALSE(Json(looked_up).Find("status")->Find("confirmed")->as_bool());
  EXPECT_EQ(a.Balance(w.bob.address), 0u);
  const JsonValue alice = a.Address(w.alice.address);
  EXPECT_EQ(U64(alice, "balance"), 11 * kReward);
  EXPECT_EQ(U64(alice, "coinCount"), 11u);
  EXPECT_EQ(U64(alice, "txCount"), 11u);
  EXPECT_EQ(a.Balance(carol.address), 3 * kReward);
  bool coin_back = false;
  const JsonValue alice_coins = a.Address(w.alice.address, "/utxos?limit=500");
  for (const JsonValue& u : alice_coins.Find("utxos")->items()) {
    coin_back |= Str(u, "txid") == coinbase1;
  }
  EXPECT_TRUE(coin_back);

  // The coin is spendable again, by the same transaction.
  const HttpResponse again = a.Mine("\"pay again\"", {pay});
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(U64(Json(again), "height"), 15u);
  EXPECT_EQ(a.Balance(w.bob.address), 20 * kCoin);

  // What A serves, the dropped block included, is what it stored; and
  // verify finds every stored row's bytes to be its block's encoding.
  ExpectServedBytesAreEncodings(a, {dropped});
  a.process().Signal(SIGTERM);
  ASSERT_EQ(a.process().WaitExit(), 0) << a.process().Log();
  NodeProcess verify({"verify", "--data-dir", a.data().string()}, {}, dir.path());
  EXPECT_EQ(verify.WaitExit(120s), 0) << verify.Log();
}

// --- Crashes --------------------------------------------------------------------

// --coins-write-mb: with 0 the store writes the coin set with every block,
// so a node killed after mining a spend leaves nothing to replay; with the
// default it defers them, and verify says the coin set lags. Either way
// the restarted node has the spend and the balances.
TEST(CoinsCrashTest, CoinsWriteMbZeroWritesTheCoinSetWithEveryBlock) {
  Wallets w;
  for (const bool every_block : {true, false}) {
    SCOPED_TRACE(every_block ? "--coins-write-mb 0" : "default");
    TempDir dir;
    std::vector<std::string> extra;
    if (every_block) extra = {"--coins-write-mb", "0"};
    CoinNode node(dir.path(), dir.path() / "node", w.alice.address, extra);
    ASSERT_TRUE(node.Start()) << node.process().Log();
    ASSERT_TRUE(MineBlocks(node, 11, "reward "));  // block 1's coinbase matures
    const std::string tx =
        SpecSignedTx({{CoinbaseTxid(node, 1, w.alice.address), 0}},
                     {{w.bob.address, kCoin}, {w.alice.address, kReward - kCoin - 1000}},
                     w.alice.key, kRegtestGenesis);
    ASSERT_EQ(node.Mine("\"spend\"", {tx}).status, 201);
    node.process().Signal(SIGKILL);
    ASSERT_EQ(node.process().WaitExit(), 128 + SIGKILL);
    NodeProcess verify({"verify", "--data-dir", node.data().string()}, {}, dir.path());
    ASSERT_EQ(verify.WaitExit(120s), 0) << verify.Log();
    EXPECT_EQ(
        verify.Log().find("the coin set and indexes are those of height") == std::string::npos,
        every_block)
        << verify.Log();
    ASSERT_TRUE(node.Start()) << node.process().Log();
    EXPECT_EQ(node.process().Get("/transactions/" + SpecTxid(tx)).status, 200);
    EXPECT_EQ(node.Balance(w.bob.address), kCoin);
    // Twelve coinbases (the last with the fee), less what bob got and the fee.
    EXPECT_EQ(node.Balance(w.alice.address), 12 * kReward - kCoin);
  }
}

// A node kept mining by a stream of spends in a chain (each pays bob and
// returns the change to alice, spent by the next one) is killed at random
// moments. After each kill `powchain verify` finds chain,
// coins and undo data agreeing; every acknowledged spend is still
// confirmed; and the totals add up: every unit ever mined belongs to alice
// or bob.
TEST(CoinsCrashTest, KilledWhileMiningSpendsStaysSound) {
  Wallets w;
  TempDir dir;
  CoinNode node(dir.path(), dir.path() / "node", w.alice.address);
  ASSERT_TRUE(node.Start()) << node.process().Log();
  ASSERT_TRUE(MineBlocks(node, 11, "reward "));
  // The spend chain starts at block 1's coinbase.
  SpecInput change{CoinbaseTxid(node, 1, w.alice.address), 0};
  std::uint64_t change_amount = kReward;
  std::vector<std::string> acknowledged;

  std::mt19937 rng(7);
  constexpr int kTrials = 5;
  int lagging = 0;  // kills that left the coin set behind the tip, for the replay
  for (int trial = 0; trial < kTrials; ++trial) {
    std::atomic<bool> stop{false};
    std::string in_flight;  // the txid of a spend sent but not answered
    std::string refused;    // an answer other than 201 (the node was not killed then)
    std::thread spender([&] {
      while (!stop) {
        const std::uint64_t fee = 1000;
        const std::string tx = SpecSignedTx(
            {change},
            {{w.bob.address, kCoin / 100}, {w.alice.address, change_amount - kCoin / 100 - fee}},
            w.alice.key, kRegtestGenesis);
        in_flight = SpecTxid(tx);
        HttpResponse r;
        try {
          r = node.Mine("\"spend\"", {tx});
        } catch (const std::exception&) {
          return;  // the node was killed mid-request
        }
        if (r.status != 201) {
          refused = std::to_string(r.status) + " " + r.body;
          return;
        }
        acknowledged.push_back(in_flight);
        change = {in_flight, 1};
        change_amount -= kCoin / 100 + fee;
        in_flight.clear();
      }
    });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1500)(rng)));
    node.process().Signal(SIGKILL);
    ASSERT_EQ(node.process().WaitExit(), 128 + SIGKILL);
    stop = true;
    spender.join();
    // A kill ends a request with a broken connection, never with an answer.
    EXPECT_EQ(refused, "") << "trial " << trial;

    NodeProcess verify({"verify", "--data-dir", node.data().string()}, {}, dir.path());
    ASSERT_EQ(verify.WaitExit(120s), 0) << "trial " << trial << ": " << verify.Log();
    if (verify.Log().find("the coin set and indexes are those of height") != std::string::npos) {
      ++lagging;
    }
    ASSERT_TRUE(node.Start()) << node.process().Log();
    for (const std::string& txid : acknowledged) {
      EXPECT_EQ(node.process().Get("/transactions/" + txid).status, 200)
          << "trial " << trial << ": acknowledged spend " << txid << " is lost";
    }
    // A spend sent when the node died may have been committed unanswered:
    // continue the chain after it if so.
    if (!in_flight.empty() && node.process().Get("/transactions/" + in_flight).status == 200) {
      acknowledged.push_back(in_flight);
      change = {in_flight, 1};
      change_amount -= kCoin / 100 + 1000;
    }
    const std::uint64_t height = node.Height();
    const std::uint64_t alice = node.Balance(w.alice.address);
    const std::uint64_t bob = node.Balance(w.bob.address);
    EXPECT_EQ(alice + bob, height * kReward) << "trial " << trial;
    EXPECT_EQ(bob, acknowledged.size() * (kCoin / 100)) << "trial " << trial;
    std::printf("coins trial %d: height %llu, %zu spends confirmed\n", trial,
                static_cast<unsigned long long>(height), acknowledged.size());
  }
  // The store defers the coin set's writes: a kill leaves them behind, and
  // the restarts above replayed the blocks since.
  EXPECT_GT(lagging, 0);
  std::printf("coins: %d of %d kills left the coin set behind the tip\n", lagging, kTrials);
}

}  // namespace
}  // namespace powchain::itest
