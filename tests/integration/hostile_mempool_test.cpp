// Hostile transactions against a real node (docs/security.md, "Transactions
// and the mempool"): malformed and oversized `tx` messages and POST
// /transactions bodies, a flood of valid low-fee transactions from one peer,
// and a flood of orphans. Each gets a clear error or meets a bound, and the
// node keeps answering: a thread asks GET /status throughout and the test
// prints its p99 (no test asserts a time).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "coin_node.h"
#include "node_process.h"
#include "p2p/protocol.h"
#include "primitives/json.h"
#include "spec_tx.h"
#include "test_peer.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

// Asks GET /status in a loop on its own thread until stopped; the latencies
// and any answer other than 200.
class StatusProbe {
 public:
  explicit StatusProbe(std::uint16_t port)
      : thread_([this, port] {
          while (!stop_) {
            const auto t0 = std::chrono::steady_clock::now();
            int status = 0;
            try {
              status = HttpRequest(port, "GET", "/status", "", "application/json", 30s).status;
            } catch (const std::exception&) {
              status = -1;
            }
            const double ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
            if (status != 200) ++failures_;
            latencies_.push_back(ms);
            std::this_thread::sleep_for(5ms);
          }
        }) {}
  ~StatusProbe() { Stop(); }

  // Stops, prints the figures under `label`, and returns the failures.
  int Report(const std::string& label) {
    Stop();
    std::vector<double> v = latencies_;
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) {
      return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
    };
    std::printf(
        "[ figure ] GET /status during %s: %zu requests, p50 %.1f ms, p99 %.1f ms, "
        "max %.1f ms, %d failed\n",
        label.c_str(), v.size(), at(0.5), at(0.99), v.empty() ? 0.0 : v.back(), failures_.load());
    EXPECT_GT(v.size(), 0u);
    return failures_;
  }

 private:
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::vector<double> latencies_;
  std::thread thread_;
};

Hash32 Genesis() { return *HexToHash32(kRegtestGenesis); }

// Replaces the first hex digit of the first signature with another hex
// digit: still well formed, no longer a valid signature.
void ChangeFirstSigDigit(std::string& tx_json) {
  char& digit = tx_json[tx_json.find("\"sig\":\"") + 7];
  digit = digit == '0' ? '1' : '0';
}

std::string TxFrame(const std::string& tx_json) {
  return "{\"type\":\"tx\",\"tx\":" + tx_json + "}";
}

class HostileMempoolTest : public ::testing::Test, protected Wallets {
 protected:
  void StartNode(std::vector<std::string> extra) {
    node_ =
        std::make_unique<CoinNode>(dir_.path(), dir_.path() / "n", alice.address, std::move(extra));
    ASSERT_TRUE(node_->Start()) << node_->process().Log();
  }

  std::uint64_t PoolCount() { return U64(Json(node_->process().Get("/mempool")), "count"); }

  // A spend of block `height`'s coinbase to `outputs` equal parts for alice,
  // mined; the txid. Each part is (reward - fee) / outputs.
  std::string FanOut(std::uint64_t height, std::size_t outputs, std::uint64_t& part) {
    const std::string coinbase = CoinbaseTxid(*node_, height, alice.address);
    const std::uint64_t fee = 200'000;
    part = (kReward - fee) / outputs;
    const std::vector<SpecOutput> outs(outputs, SpecOutput{alice.address, part});
    const std::string tx = SpecSignedTx({{coinbase, 0}}, outs, alice.key, kRegtestGenesis);
    EXPECT_EQ(node_->Mine("\"fan out\"", {tx}).status, 201);
    return SpecTxid(tx);
  }

  TempDir dir_;
  std::unique_ptr<CoinNode> node_;
};

TEST_F(HostileMempoolTest, MalformedAndOversizedTxMessagesCostTheConnection) {
  StartNode({});
  ASSERT_TRUE(MineBlocks(*node_, 11, "reward "));
  const std::string coinbase = CoinbaseTxid(*node_, 1, alice.address);
  std::string bad_sig =
      SpecSignedTx({{coinbase, 0}}, {{bob.address, kCoin}}, alice.key, kRegtestGenesis);
  ChangeFirstSigDigit(bad_sig);
  std::vector<SpecOutput> many(1200, SpecOutput{bob.address, 1000});
  const std::string oversized =
      SpecSignedTx({{coinbase, 0}}, many, alice.key, kRegtestGenesis);  // over 100,000 bytes
  ASSERT_GT(oversized.size(), 100'000u);
  const std::string valid =
      SpecSignedTx({{coinbase, 0}}, {{bob.address, kCoin}}, alice.key, kRegtestGenesis);
  std::string txs101 = "{\"type\":\"txs\",\"txs\":[";
  for (int i = 0; i < 101; ++i) txs101 += (i > 0 ? "," : "") + valid;
  txs101 += "]}";
  const struct {
    const char* what;
    std::string frame;
  } cases[] = {
      {"a member too many", TxFrame(valid.substr(0, valid.size() - 1) + ",\"x\":1}")},
      {"not an object", TxFrame("\"tx\"")},
      {"no outputs", TxFrame(R"({"inputs":[],"outputs":[],"version":1})")},
      {"an amount beyond 2^64", TxFrame(std::string(valid).replace(valid.find("\"amount\":") + 9, 1,
                                                                   "99999999999999999999"))},
      {"a signature that does not verify", TxFrame(bad_sig)},
      {"over 100,000 bytes", TxFrame(oversized)},
      {"101 transactions in one txs", txs101},
      {"a coinbase", TxFrame(SpecTxJson({}, {}, {{bob.address, kReward}}, std::uint64_t{12}))},
  };
  StatusProbe probe(node_->process().http_port());
  for (const auto& c : cases) {
    TestPeer peer;
    ASSERT_TRUE(peer.Handshake(node_->p2p(), Genesis())) << c.what;
    peer.SendText(c.frame);
    EXPECT_TRUE(peer.WaitClosed(20s)) << c.what << ": the node kept the connection";
    EXPECT_EQ(node_->process().Get("/status").status, 200) << c.what;
  }
  EXPECT_EQ(probe.Report("malformed tx messages"), 0);
  EXPECT_EQ(PoolCount(), 0u);
  EXPECT_NE(node_->process().Log().find("invalid transaction"), std::string::npos)
      << "the node names what the peer did wrong";
  // The honest version of the same spend still goes in.
  TestPeer honest;
  ASSERT_TRUE(honest.Handshake(node_->p2p(), Genesis()));
  honest.SendText(TxFrame(valid));
  ASSERT_TRUE(WaitUntil([&] { return PoolCount() == 1; }, 10s));
}

TEST_F(HostileMempoolTest, BadPostTransactionsBodiesGetClearErrors) {
  StartNode({});
  ASSERT_TRUE(MineBlocks(*node_, 11, "reward "));
  const std::string coinbase = CoinbaseTxid(*node_, 1, alice.address);
  const std::string valid =
      SpecSignedTx({{coinbase, 0}}, {{bob.address, kCoin}}, alice.key, kRegtestGenesis);
  std::string bad_sig = valid;
  ChangeFirstSigDigit(bad_sig);
  const std::string unknown_parent =
      SpecSignedTx({{std::string(64, 'a'), 0}}, {{bob.address, kCoin}}, alice.key, kRegtestGenesis);
  const std::string nested = std::string(200, '[') + std::string(200, ']');
  const struct {
    std::string body;
    int status;
    const char* error;
  } cases[] = {
      {"", 400, "body"},
      {"{", 400, "JSON"},
      {"[]", 400, "object"},
      {nested, 400, "deep"},
      {std::string(2u << 20, ' ') + "{}", 413, "large"},
      {R"({"inputs":[],"outputs":[],"version":1})", 400, "outputs"},
      {valid.substr(0, valid.size() - 1) + ",\"x\":1}", 400, "not a transaction"},
      {bad_sig, 400, "signature"},
      {unknown_parent, 400, "missing-inputs"},
      {SpecTxJson({}, {}, {{bob.address, kReward}}, std::uint64_t{12}), 400, "coinbase"},
  };
  for (const auto& c : cases) {
    const HttpResponse r = node_->process().Post("/transactions", c.body);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 80) << " -> " << r.body;
    EXPECT_NE(ErrorOf(r).find(c.error), std::string::npos)
        << c.body.substr(0, 80) << " -> " << r.body;
  }
  EXPECT_EQ(PoolCount(), 0u);
  EXPECT_EQ(node_->process().Post("/transactions", valid).status, 202);
}

// One peer sends 300 valid transactions at once, half of them paying no fee:
// the fee floor refuses those (without blaming the peer, who may only relay
// them), and its transaction rate bounds what it can make the node check.
TEST_F(HostileMempoolTest, AFloodOfValidLowFeeTransactionsMeetsTheFloorAndTheRate) {
  StartNode({"--peer-tx-rate", "10"});  // 10 a second, 100 at once
  ASSERT_TRUE(MineBlocks(*node_, 11, "reward "));
  std::uint64_t part = 0;
  const std::string fan = FanOut(1, 300, part);
  std::vector<std::string> txs;
  for (std::uint32_t i = 0; i < 300; ++i) {
    const std::uint64_t fee = i % 2 == 0 ? 0 : 400;  // 0, or above 1 unit a byte
    txs.push_back(
        SpecSignedTx({{fan, i}}, {{bob.address, part - fee}}, alice.key, kRegtestGenesis));
  }
  StatusProbe probe(node_->process().http_port());
  TestPeer peer;
  ASSERT_TRUE(peer.Handshake(node_->p2p(), Genesis()));
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& tx : txs) peer.SendText(TxFrame(tx));
  // The node is done with them once a ping sent after them is answered.
  peer.Send(p2p::Ping{77});
  ASSERT_TRUE(peer.Await<p2p::Pong>(30s).has_value()) << "the peer was dropped";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(probe.Report("a flood of 300 transactions from one peer"), 0);
  const std::uint64_t pooled = PoolCount();
  std::printf("[ figure ] %llu of 300 transactions pooled in %.2f s (150 pay no fee)\n",
              static_cast<unsigned long long>(pooled), seconds);
  EXPECT_GT(pooled, 0u);
  EXPECT_LE(pooled, static_cast<std::uint64_t>(50 + 10 * seconds + 10)) << "the rate bounds it";
  // Those over the rate were ignored, not refused: they go in by HTTP now,
  // while the zero-fee ones are refused with the reason.
  const HttpResponse free_tx = node_->process().Post("/transactions", txs[298]);
  EXPECT_EQ(free_tx.status, 400);
  EXPECT_NE(ErrorOf(free_tx).find("fee-too-low"), std::string::npos) << free_tx.body;
  EXPECT_EQ(node_->process().Post("/transactions", txs[299]).status, 202);
  EXPECT_FALSE(peer.closed());
}

// One peer sends 1,000 transactions whose parents nobody has seen: they wait
// in the orphan pool, which keeps at most --max-orphan-txs of them.
TEST_F(HostileMempoolTest, AFloodOfOrphansIsBounded) {
  StartNode({"--peer-tx-rate", "100000", "--max-orphan-txs", "50"});
  StatusProbe probe(node_->process().http_port());
  TestPeer peer;
  ASSERT_TRUE(peer.Handshake(node_->p2p(), Genesis()));
  for (int i = 0; i < 1000; ++i) {
    char parent[65];
    std::snprintf(parent, sizeof parent, "%064x", i + 1);
    peer.SendText(
        TxFrame(SpecSignedTx({{parent, 0}}, {{bob.address, kCoin}}, alice.key, kRegtestGenesis)));
  }
  peer.Send(p2p::Ping{78});
  ASSERT_TRUE(peer.Await<p2p::Pong>(60s).has_value()) << "the peer was dropped";
  EXPECT_EQ(probe.Report("a flood of 1,000 orphans"), 0);
  const JsonValue pool = Json(node_->process().Get("/mempool"));
  std::printf("[ figure ] orphans held after 1,000 sent: %llu (limit 50)\n",
              static_cast<unsigned long long>(U64(pool, "orphans")));
  EXPECT_LE(U64(pool, "orphans"), 50u);
  EXPECT_GT(U64(pool, "orphans"), 0u);
  EXPECT_EQ(U64(pool, "count"), 0u);
  EXPECT_FALSE(peer.closed());
}

}  // namespace
}  // namespace powchain::itest
