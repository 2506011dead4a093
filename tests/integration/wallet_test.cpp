// The client as a user runs it: `powchain wallet ...` against real regtest
// nodes (two wallets, three nodes), the client commands (`status`, `mine`,
// `block`, `tx`, `peers`), an encrypted wallet's passphrase, and a send
// killed with SIGKILL at every stage.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "coin_node.h"
#include "node_process.h"
#include "primitives/json.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

struct CliRun {
  int code = -1;
  std::string output;  // stdout and stderr together
  // The JSON the command printed (from its first '{' or '[' to its last '}' or ']').
  JsonValue Json() const {
    const auto begin = output.find_first_of("{[");
    const auto end = output.find_last_of("}]");
    if (begin == std::string::npos || end == std::string::npos) {
      throw std::runtime_error("no JSON in: " + output);
    }
    auto v = ParseJson(output.substr(begin, end - begin + 1));
    if (!v) throw std::runtime_error("not JSON: " + output);
    return std::move(v).value();
  }
};

CliRun Cli(const std::filesystem::path& dir, std::vector<std::string> args,
           std::map<std::string, std::string> env = {}) {
  NodeProcess p(std::move(args), std::move(env), dir);
  const auto code = p.WaitExit(120s);
  return {code.value_or(-1), p.Log()};
}

std::string NodeUrl(CoinNode& node) {
  return "http://127.0.0.1:" + std::to_string(node.process().http_port());
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kToken = "ctoken-0123456789abcdef";

// The wallet's sent transactions, as its file lists them.
std::size_t SentInFile(const std::filesystem::path& wallet) {
  auto v = ParseJson(ReadFile(wallet));
  if (!v || v->Find("sent") == nullptr) throw std::runtime_error("unreadable wallet");
  return v->Find("sent")->items().size();
}

class WalletCliTest : public ::testing::Test {
 protected:
  // A wallet file made by `powchain wallet create`; its first address.
  std::string Create(const std::string& name, bool encrypt = false,
                     std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args{"wallet",  "create",   "--network",
                                  "regtest", "--wallet", (dir_.path() / name).string()};
    if (encrypt) args.push_back("--encrypt");
    const CliRun r = Cli(dir_.path(), args, std::move(env));
    EXPECT_EQ(r.code, 0) << r.output;
    return Str(r.Json(), "address");
  }

  CliRun Wallet(const std::string& name, CoinNode& node, std::vector<std::string> args,
                std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "wallet");
    for (const std::string& a : {std::string("--wallet"), (dir_.path() / name).string(),
                                 std::string("--node"), NodeUrl(node)}) {
      args.push_back(a);
    }
    return Cli(dir_.path(), args, std::move(env));
  }

  std::uint64_t Confirmed(const std::string& name, CoinNode& node) {
    const CliRun r = Wallet(name, node, {"balance"});
    EXPECT_EQ(r.code, 0) << r.output;
    return U64(r.Json(), "confirmed");
  }

  TempDir dir_;
};

TEST_F(WalletCliTest, TwoWalletsThreeNodesAgreeAfterASend) {
  const std::string alice = Create("alice.json");
  const std::string bob = Create("bob.json", true, {{"WALLET_PASSPHRASE", "bob's secret"}});
  CoinNode a(dir_.path(), dir_.path() / "a", alice);
  ASSERT_TRUE(a.Start()) << a.process().Log();
  ASSERT_TRUE(MineBlocks(a, 11, "reward "));  // block 1's coinbase is spendable in block 12
  CoinNode b(dir_.path(), dir_.path() / "b", "",
             {"--peers", "ws://127.0.0.1:" + std::to_string(a.p2p())});
  CoinNode c(dir_.path(), dir_.path() / "c", "",
             {"--peers", "ws://127.0.0.1:" + std::to_string(a.p2p()), "--api-token", kToken});
  ASSERT_TRUE(b.Start()) << b.process().Log();
  ASSERT_TRUE(c.Start()) << c.process().Log();
  ASSERT_TRUE(WaitUntil([&] { return b.TipHash() == a.TipHash() && c.TipHash() == a.TipHash(); }));
  ASSERT_EQ(Confirmed("alice.json", b), 11 * kReward);

  // Alice pays bob through node b; every pool has it within a second.
  const auto sent_at = std::chrono::steady_clock::now();
  const CliRun send = Wallet("alice.json", b, {"send", bob, "12.5", "--fee-rate", "3"});
  ASSERT_EQ(send.code, 0) << send.output;
  const JsonValue receipt = send.Json();
  const std::string txid = Str(receipt, "txid");
  const std::uint64_t fee = U64(receipt, "fee");
  // The fee rate times the size (one more byte's worth at most, when the
  // change amount sits at a boundary between digit counts).
  EXPECT_GE(fee, 3 * U64(receipt, "size"));
  EXPECT_LE(fee, 3 * U64(receipt, "size") + 3);
  EXPECT_GT(U64(receipt, "change"), 0u);
  for (CoinNode* node : {&a, &b, &c}) {
    ASSERT_TRUE(
        WaitUntil([&] { return node->process().Get("/transactions/" + txid).status == 200; }, 10s));
  }
  const auto spread = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - sent_at);
  std::printf("[ figure ] wallet send to all three pools: %lld ms (includes the send itself)\n",
              static_cast<long long>(spread.count()));
  EXPECT_LT(spread, 1000ms);
  const CliRun pending = Wallet("bob.json", a, {"balance"});
  ASSERT_EQ(pending.code, 0) << pending.output;
  EXPECT_EQ(pending.Json().Find("unconfirmed")->number_text(), std::to_string(1'250'000'000));

  // Node c mines it (its POST /mine needs its token); balances agree everywhere.
  const std::vector<std::string> mine{"mine", "\"c mines\"", "--node", NodeUrl(c)};
  const CliRun refused = Cli(dir_.path(), mine);
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_NE(refused.output.find("--api-token"), std::string::npos) << refused.output;
  std::vector<std::string> with_token = mine;
  with_token.insert(with_token.end(), {"--api-token", kToken});
  const CliRun mined = Cli(dir_.path(), with_token);
  ASSERT_EQ(mined.code, 0) << mined.output;
  EXPECT_EQ(mined.Json().Find("txs")->items().size(), 1u);  // no miner address: no coinbase
  ASSERT_TRUE(WaitUntil([&] { return a.TipHash() == c.TipHash() && b.TipHash() == c.TipHash(); }));
  for (CoinNode* node : {&a, &b, &c}) {
    EXPECT_EQ(Confirmed("bob.json", *node), 1'250'000'000u);
    EXPECT_EQ(Confirmed("alice.json", *node), 11 * kReward - 1'250'000'000 - fee);
  }
  const CliRun history = Wallet("bob.json", c, {"history"});
  ASSERT_EQ(history.code, 0) << history.output;
  ASSERT_EQ(history.Json().items().size(), 1u);
  EXPECT_EQ(Str(history.Json().items()[0], "txid"), txid);
  EXPECT_EQ(Str(history.Json().items()[0], "coins"), "12.50000000");

  // The plain client commands.
  const CliRun status = Cli(dir_.path(), {"status", "--node", NodeUrl(b)});
  ASSERT_EQ(status.code, 0) << status.output;
  EXPECT_EQ(U64(status.Json(), "height"), 12u);
  EXPECT_NE(status.output.find("\n  \"network\": \"regtest\""), std::string::npos) << "indented";
  const CliRun tx = Cli(dir_.path(), {"tx", txid, "--node", NodeUrl(a)});
  ASSERT_EQ(tx.code, 0) << tx.output;
  EXPECT_EQ(U64(tx.Json(), "height"), 12u);
  EXPECT_EQ(Cli(dir_.path(), {"block", "12", "--node", NodeUrl(a)}).code, 0);
  const CliRun missing = Cli(dir_.path(), {"block", "99", "--node", NodeUrl(a)});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("404"), std::string::npos) << missing.output;
  EXPECT_EQ(Cli(dir_.path(), {"block", "../status", "--node", NodeUrl(a)}).code, 2);
  const CliRun peers = Cli(dir_.path(), {"peers", "--node", NodeUrl(a)});
  ASSERT_EQ(peers.code, 0) << peers.output;
  EXPECT_EQ(peers.Json().items().size(), 2u);
  const CliRun down = Cli(dir_.path(), {"status", "--node", "http://127.0.0.1:1"});
  EXPECT_EQ(down.code, 1);
  EXPECT_NE(down.output.find("is the node running?"), std::string::npos) << down.output;
}

TEST_F(WalletCliTest, EncryptedWalletRefusesAWrongPassphraseAndIsNotRewritten) {
  const std::string alice = Create("alice.json", true, {{"WALLET_PASSPHRASE", "right"}});
  const std::string bob = Create("bob.json");
  CoinNode node(dir_.path(), dir_.path() / "n", alice);
  ASSERT_TRUE(node.Start()) << node.process().Log();
  ASSERT_TRUE(MineBlocks(node, 11, "reward "));
  const std::string before = ReadFile(dir_.path() / "alice.json");
  EXPECT_EQ(before.find("\"keys\":[\""), std::string::npos) << "keys sealed, not listed";

  const CliRun wrong =
      Wallet("alice.json", node, {"send", bob, "1"}, {{"WALLET_PASSPHRASE", "wrong"}});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.output.find("wrong passphrase"), std::string::npos) << wrong.output;
  const CliRun none = Wallet("alice.json", node, {"send", bob, "1"});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.output.find("WALLET_PASSPHRASE"), std::string::npos) << none.output;
  EXPECT_EQ(ReadFile(dir_.path() / "alice.json"), before);
  EXPECT_EQ(U64(Json(node.process().Get("/mempool")), "count"), 0u);

  // A passphrase file works too; the balance needs no passphrase at all.
  std::ofstream(dir_.path() / "pass.txt") << "right\n";
  // (`powchain send` is `powchain wallet send`.)
  const CliRun right = Cli(
      dir_.path(), {"send", bob, "1", "--passphrase-file", (dir_.path() / "pass.txt").string(),
                    "--wallet", (dir_.path() / "alice.json").string(), "--node", NodeUrl(node)});
  ASSERT_EQ(right.code, 0) << right.output;
  EXPECT_EQ(Wallet("alice.json", node, {"balance"}).code, 0);

  // A damaged file is a clear error and stays as it was.
  std::string damaged = ReadFile(dir_.path() / "alice.json");
  damaged.resize(damaged.size() / 2);
  std::ofstream(dir_.path() / "alice.json", std::ios::trunc) << damaged;
  const CliRun broken = Wallet("alice.json", node, {"balance"});
  EXPECT_EQ(broken.code, 1);
  EXPECT_NE(broken.output.find("is damaged"), std::string::npos) << broken.output;
  EXPECT_EQ(ReadFile(dir_.path() / "alice.json"), damaged);
}

// SIGKILL lands at a different moment of each send: before the wallet is
// saved, between saving and submitting, or after. Whatever it hits, the
// file opens afterwards, the next command finishes a recorded send, and no
// coin is lost or spent twice: once mined, the two wallets hold every
// subsidy (the miner pays the fees back to alice).
TEST_F(WalletCliTest, SurvivesKillDuringSend) {
  const std::string alice = Create("alice.json");
  const std::string bob = Create("bob.json");
  CoinNode node(dir_.path(), dir_.path() / "n", alice);
  ASSERT_TRUE(node.Start()) << node.process().Log();
  ASSERT_TRUE(MineBlocks(node, 20, "reward "));
  const std::filesystem::path wallet = dir_.path() / "alice.json";
  const std::vector<std::string> send_args{"wallet",   "send",          bob,      "1",
                                           "--wallet", wallet.string(), "--node", NodeUrl(node)};
  // How long one whole send takes here; the kills are spread over it.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Cli(dir_.path(), send_args).code, 0);
  const auto whole = std::chrono::steady_clock::now() - t0;
  int killed = 0;
  int finished = 0;
  std::size_t recorded_not_pooled = 0;
  for (int i = 0; i < 12; ++i) {
    NodeProcess send(send_args, {}, dir_.path());
    std::this_thread::sleep_for(whole * i / 10);
    send.Signal(SIGKILL);
    const auto code = send.WaitExit(30s);
    ASSERT_TRUE(code.has_value());
    (*code == 128 + SIGKILL ? killed : finished) += 1;
    const CliRun open = Cli(dir_.path(), {"wallet", "addresses", "--wallet", wallet.string()});
    ASSERT_EQ(open.code, 0) << "after kill " << i << ": " << open.output;
    const std::size_t in_file = SentInFile(wallet);
    const std::uint64_t in_pool = U64(Json(node.process().Get("/mempool")), "count");
    if (in_file > in_pool) recorded_not_pooled = std::max(recorded_not_pooled, in_file - in_pool);
  }
  std::printf(
      "[ figure ] one send %lld ms; sends killed mid-way: %d, finished before the kill: "
      "%d; recorded but not yet submitted when killed: %zu\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(whole).count()),
      killed, finished, recorded_not_pooled);
  EXPECT_GT(killed, 0);
  // The next command submits whatever was recorded; then one block confirms all.
  const CliRun balance = Wallet("alice.json", node, {"balance"});
  ASSERT_EQ(balance.code, 0) << balance.output;
  const std::uint64_t in_pool = U64(Json(node.process().Get("/mempool")), "count");
  ASSERT_EQ(node.Mine("\"confirm\"").status, 201);
  const std::uint64_t blocks = 21;
  const CliRun after = Wallet("alice.json", node, {"balance"});
  ASSERT_EQ(after.code, 0) << after.output;
  EXPECT_EQ(U64(after.Json(), "pendingSent"), 0u);
  const std::uint64_t bob_has = Confirmed("bob.json", node);
  EXPECT_EQ(bob_has, in_pool * kCoin) << "one coin per transaction in the pool";
  EXPECT_GE(in_pool, 1u + static_cast<std::uint64_t>(finished));
  EXPECT_EQ(U64(after.Json(), "confirmed") + bob_has, blocks * kReward);
}

}  // namespace
}  // namespace powchain::itest
