// Transaction relay along a line of 5 real powchain nodes (regtest, each
// dialling the one before it: node1 <- node2 <- ... <- node5), for
// docs/performance.md.
//
// Node 1 mines coinbases to a key this program holds; each run splits
// mature coinbases into fan-out transactions (mined in a block), then
// submits one transaction per fan-out output to node 1 with POST
// /transactions, one request after another, and measures the time from the
// first request until node 5's GET /mempool reports all of them (polled
// every 2 ms, which bounds the resolution). A block mined on node 1 then
// empties every pool before the next run.
//
// Usage: tx_propagation [path/to/powchain] [--txs N] [--runs R] [-- node flags...]
//   (default: build/release/powchain, 1,000 transactions, 5 runs; flags
//   after "--" go to every node, e.g. "-- --peer-tx-rate 100")
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "consensus/genesis.h"
#include "consensus/params.h"
#include "node_process.h"
#include "primitives/address.h"
#include "primitives/block_json.h"
#include "primitives/json.h"
#include "primitives/transaction.h"
#include "testutil/coins.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const Params kRegtest = Params::Regtest();
constexpr std::size_t kNodes = 5;
// Outputs per fan-out transaction: about 80 kB, under the 100,000-byte limit.
constexpr std::size_t kMaxFanOut = 800;
constexpr std::uint64_t kFanOutFee = 200'000;  // well above 1 unit a byte
constexpr std::uint64_t kSpendFee = 1'000;     // a spend is about 360 bytes

struct Node {
  std::uint16_t http = FreePort();
  std::uint16_t p2p = FreePort();
  std::unique_ptr<NodeProcess> process;
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(p2p); }
};

JsonValue GetJson(const Node& n, const std::string& target) {
  const HttpResponse r = n.process->Get(target);
  auto v = ParseJson(r.body);
  if (r.status != 200 || !v.ok()) {
    throw std::runtime_error("GET " + target + ": " + std::to_string(r.status) + " " + r.body);
  }
  return std::move(v).value();
}

std::uint64_t U64(const JsonValue& v, const char* name) {
  const JsonValue* f = v.Find(name);
  if (f == nullptr || !f->AsU64().has_value()) throw std::runtime_error(std::string("no ") + name);
  return *f->AsU64();
}

std::string TipOf(const Node& n) { return GetJson(n, "/status").Find("tip")->as_string(); }
std::uint64_t PeersOf(const Node& n) { return U64(GetJson(n, "/status"), "peers"); }
std::uint64_t PoolCount(const Node& n) { return U64(GetJson(n, "/mempool?limit=1"), "count"); }

void Start(Node& n, const std::filesystem::path& dir, const std::string& binary,
           const std::string& miner_address, const std::string& peer,
           const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"node",
                                   "--network",
                                   "regtest",
                                   "--http-port",
                                   std::to_string(n.http),
                                   "--p2p-port",
                                   std::to_string(n.p2p),
                                   "--data-dir",
                                   (dir / std::to_string(n.p2p)).string(),
                                   "--log-level",
                                   "warn"};
  if (!miner_address.empty()) args.insert(args.end(), {"--miner-address", miner_address});
  if (!peer.empty()) args.insert(args.end(), {"--peers", peer});
  args.insert(args.end(), extra.begin(), extra.end());
  n.process =
      std::make_unique<NodeProcess>(args, std::map<std::string, std::string>{}, dir, binary);
  if (!n.process->WaitReady(n.http)) {
    throw std::runtime_error("node failed to start:\n" + n.process->Log());
  }
}

// POST /mine on `n`; the block mined (with the pool's transactions).
Block Mine(const Node& n, const std::string& tag) {
  const HttpResponse r =
      HttpRequest(n.http, "POST", "/mine", "{\"data\":\"" + tag + "\"}", "application/json", 120s);
  if (r.status != 201) throw std::runtime_error("POST /mine: " + r.body);
  auto block = BlockFromJsonText(r.body);
  if (!block) throw std::runtime_error("POST /mine answered no block: " + block.error());
  return std::move(block).value();
}

void Submit(const Node& n, const Transaction& tx) {
  const HttpResponse r = n.process->Post("/transactions", CanonicalTxBytes(tx));
  if (r.status != 202) throw std::runtime_error("POST /transactions: " + r.body);
}

// Waits until every node is at node 1's tip with an empty pool.
void AwaitQuiet(const std::vector<Node>& nodes) {
  const std::string tip = TipOf(nodes.front());
  const bool quiet = WaitUntil(
      [&] {
        for (const Node& n : nodes) {
          if (TipOf(n) != tip || PoolCount(n) != 0) return false;
        }
        return true;
      },
      60s);
  if (!quiet) throw std::runtime_error("the nodes did not settle on one tip with empty pools");
}

struct Coin {
  OutPoint outpoint;
  std::uint64_t amount = 0;
};

// The coinbase of node 1's active block at `height`.
Coin CoinbaseAt(const Node& n, std::uint64_t height) {
  const HttpResponse r = n.process->Get("/blocks/" + std::to_string(height));
  auto block = BlockFromJsonText(r.body);
  if (r.status != 200 || !block || block->txs.empty() || !block->txs[0].IsCoinbase()) {
    throw std::runtime_error("no coinbase at height " + std::to_string(height));
  }
  return Coin{OutPoint{ComputeTxid(block->txs[0]), 0}, block->txs[0].outputs[0].amount};
}

struct Run {
  double submit_ms = 0;  // the N POST /transactions to node 1
  double first_ms = 0;   // until node 5's pool holds at least one
  double all_ms = 0;     // until node 5's pool holds all N
};

class Line {
 public:
  Line(const std::string& binary, std::size_t txs, const std::vector<std::string>& extra)
      : txs_(txs),
        genesis_(MakeGenesis(kRegtest).hash),
        owner_(test::KeyFromSeed(1)),
        payee_(PublicKeyOf(test::KeyFromSeed(2))),
        nodes_(kNodes) {
    const std::string address = EncodeAddress(kRegtest.address_prefix, PublicKeyOf(owner_));
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      Start(nodes_[i], dir_.path(), binary, i == 0 ? address : "",
            i == 0 ? "" : nodes_[i - 1].url(), extra);
    }
    const bool linked = WaitUntil(
        [&] {
          for (std::size_t i = 0; i < nodes_.size(); ++i) {
            const std::uint64_t want = (i == 0 || i + 1 == nodes_.size()) ? 1 : 2;
            if (PeersOf(nodes_[i]) != want) return false;
          }
          return true;
        },
        60s);
    if (!linked) throw std::runtime_error("the nodes did not form a line");
  }

  // Mines enough blocks on node 1 for `runs` runs' coinbases to mature.
  void MineCoinbases(std::size_t runs) {
    const std::uint64_t blocks = kRegtest.coinbase_maturity + runs * FanOuts();
    for (std::uint64_t i = 0; i < blocks; ++i) Mine(nodes_.front(), "reward " + std::to_string(i));
    AwaitQuiet(nodes_);
  }

  Run Measure() {
    const std::vector<Transaction> spends = PrepareSpends();
    const Node& first = nodes_.front();
    const Node& last = nodes_.back();
    Run run;
    const auto t0 = Clock::now();
    std::string submit_error;
    std::thread submitter([&] {
      try {
        for (const Transaction& tx : spends) Submit(first, tx);
      } catch (const std::exception& e) {
        submit_error = e.what();
      }
      run.submit_ms = MsSince(t0);
    });
    const auto limit = t0 + 120s;
    std::uint64_t count = 0;
    while (count < spends.size() && Clock::now() < limit) {
      count = PoolCount(last);
      if (count > 0 && run.first_ms == 0) run.first_ms = MsSince(t0);
      if (count < spends.size()) std::this_thread::sleep_for(2ms);
    }
    run.all_ms = MsSince(t0);
    submitter.join();
    if (!submit_error.empty()) throw std::runtime_error(submit_error);
    if (count < spends.size()) {
      throw std::runtime_error("node 5 holds " + std::to_string(count) + " of " +
                               std::to_string(spends.size()) + " after 120 s");
    }
    // Confirm them all, so the next run starts from empty pools.
    while (PoolCount(first) != 0) Mine(first, "clear");
    AwaitQuiet(nodes_);
    return run;
  }

 private:
  std::size_t FanOuts() const { return (txs_ + kMaxFanOut - 1) / kMaxFanOut; }

  static double MsSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }

  // Fan-out transactions from the next mature coinbases, mined on node 1
  // and seen by every node; then one spend per fan-out output.
  std::vector<Transaction> PrepareSpends() {
    const Node& first = nodes_.front();
    const std::size_t fan_outs = FanOuts();
    const std::size_t per = (txs_ + fan_outs - 1) / fan_outs;
    std::vector<Coin> coins;
    for (std::size_t f = 0; f < fan_outs; ++f) {
      const Coin coinbase = CoinbaseAt(first, next_coinbase_++);
      const std::uint64_t each = (coinbase.amount - kFanOutFee) / per;
      const std::vector<std::pair<XOnlyPubKey, std::uint64_t>> outs(per,
                                                                    {PublicKeyOf(owner_), each});
      const Transaction tx = test::Spend({coinbase.outpoint}, outs, owner_, genesis_, kRegtest);
      Submit(first, tx);
      const Hash32 txid = ComputeTxid(tx);
      for (std::uint32_t v = 0; v < per; ++v) coins.push_back(Coin{OutPoint{txid, v}, each});
    }
    Mine(first, "fan-out");
    AwaitQuiet(nodes_);
    coins.resize(txs_);
    std::vector<Transaction> spends;
    for (const Coin& c : coins) {
      spends.push_back(
          test::Spend({c.outpoint}, {{payee_, c.amount - kSpendFee}}, owner_, genesis_, kRegtest));
    }
    return spends;
  }

  std::size_t txs_;
  Hash32 genesis_;
  SecretKey owner_;
  XOnlyPubKey payee_;
  TempDir dir_;
  std::vector<Node> nodes_;
  std::uint64_t next_coinbase_ = 1;
};

int Main(const std::vector<std::string>& args) {
  std::string binary = "build/release/powchain";
  std::size_t txs = 1000;
  std::size_t runs = 5;
  std::vector<std::string> extra;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      extra.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (args[i] == "--txs" && i + 1 < args.size()) {
      txs = std::stoul(args[++i]);
    } else if (args[i] == "--runs" && i + 1 < args.size()) {
      runs = std::stoul(args[++i]);
    } else if (args[i].starts_with("-")) {
      std::fprintf(stderr,
                   "usage: tx_propagation [path/to/powchain] [--txs N] [--runs R] "
                   "[-- node flags...]\n");
      return 2;
    } else {
      binary = args[i];
    }
  }
  binary = std::filesystem::absolute(binary).string();
  Line line(binary, txs, extra);
  line.MineCoinbases(runs);
  std::printf("| run | %zu POSTs to node 1 | node 5 has the first | node 5 has all %zu |\n", txs,
              txs);
  std::printf("| --- | --- | --- | --- |\n");
  std::vector<double> all;
  for (std::size_t r = 0; r < runs; ++r) {
    const Run run = line.Measure();
    std::printf("| %zu | %.0f ms (%.0f tx/s) | %.1f ms | %.0f ms (%.0f tx/s) |\n", r + 1,
                run.submit_ms, txs * 1000.0 / run.submit_ms, run.first_ms, run.all_ms,
                txs * 1000.0 / run.all_ms);
    std::fflush(stdout);
    all.push_back(run.all_ms);
  }
  std::sort(all.begin(), all.end());
  std::printf("node 5 has all %zu: median %.0f ms, min %.0f ms, max %.0f ms (%zu runs)\n", txs,
              all[all.size() / 2], all.front(), all.back(), all.size());
  return 0;
}

}  // namespace
}  // namespace powchain::itest

int main(int argc, char** argv) {
  try {
    return powchain::itest::Main(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tx_propagation: %s\n", e.what());
    return 1;
  }
}
