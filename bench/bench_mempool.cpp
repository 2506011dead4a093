// The mempool: taking transactions in, connecting a block whose
// transactions it already checked, and choosing a block's transactions.
//
// BM_MempoolAccept: Mempool::Accept of 8,000 signed one-input, one-output
// transactions, each spending a distinct confirmed coin, into an empty pool
// on one thread (a fresh chain each iteration, so no signature is known
// valid yet). "txs/s" is also signatures checked per second. Each
// iteration first verifies the same 8,000 signatures one by one with
// VerifySchnorr (not timed): "raw_verify/s" is that rate and
// "x_raw_verify" the accept rate over it, both from the same iterations.
// BM_MempoolAcceptSqlite: the same on a SQLite store, as a node has it (the
// coins spent are in the chain's coin cache, put there by their block; a
// lookup the cache cannot answer goes to SQLite).
// BM_SchnorrVerify is bench_schnorr's reference (64 signatures cycled),
// measured in this binary too.
//
// BM_ConnectBlock{Cold,FromPool}: ChainState::AcceptBlocks of one block of
// 2,000 such transactions on the memory store, with 1 and 2 check threads.
// Cold: a fresh chain without a pool, so every signature is checked.
// FromPool: the same block after the pool took all 2,000 (untimed), so
// they are in the chain's VerifiedTxs and their checks are skipped; the
// pool is the chain's observer, so the time includes taking them out of it.
// The pool's clock runs (RunningClock); BM_ConnectBlockFromPoolStoppedClock
// stops it, so that every entry has the same entry time.
// BM_ConnectBlock{Cold,FromPool}Sqlite: the same two on a SQLite store, as
// a node has it, so the time includes the durable commit of the block and
// the tip (synchronous=FULL), common to both. The block's coin changes,
// undo data and index rows are deferred by the store; "flush_ms" is the
// time of writing them afterwards (Flush, not timed), the share of a later
// batched write this block brings.
//
// The connects can be profiled alone: bench::PerfControl.
//
// BM_SelectForBlock: Mempool::SelectForBlock with a block's room (the size
// limit less the header, the data and the largest coinbase) from a pool of
// 50,000 transactions: 40,000 independent ones paying 1 to 50 units a byte
// and 2,000 chains of five (a parent paying the floor, children paying 1 to
// 100 units a byte, so that a child often pulls its parent in).
// BM_MempoolByFeeRate: Mempool::ByFeeRate(100) from the same pool, the
// read behind GET /mempool.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "consensus/tx_check.h"
#include "fixtures.h"
#include "mempool/mempool.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"
#include "testutil/coins.h"
#include "util/clock.h"

namespace powchain {
namespace {

constexpr std::size_t kAccepts = 8000;       // transactions per BM_MempoolAccept iteration
constexpr std::size_t kBlockTxs = 2000;      // transactions in the connected block
constexpr std::size_t kIndependent = 40000;  // template pool: lone transactions
constexpr std::size_t kChains = 2000;        // template pool: chains of unconfirmed ones
constexpr std::size_t kChainLength = 5;
// Outputs per fan-out transaction: about 90 kB, under the 100,000-byte
// transaction limit; ten of them fit a block.
constexpr std::size_t kFanOut = 900;
constexpr std::size_t kFanOutsPerBlock = 10;
constexpr std::size_t kCoins = kIndependent + kChains;
constexpr std::size_t kFanOuts = (kCoins + kFanOut - 1) / kFanOut;
// A one-input, one-output transaction is under this many canonical bytes, so
// a fee of rate * kTxBytesBound pays at least `rate` units a byte.
constexpr std::uint64_t kTxBytesBound = 400;

// The fixed chain: `prefix` (coinbases to one key, then blocks whose
// fan-out transactions split them into kCoins coins of `coin_value`),
// `spends` (one signed transaction per coin for the first kAccepts coins,
// paying 1,000 units), and `block` (a block on the prefix holding the
// first kBlockTxs of those spends).
struct CoinChain {
  Params params = bench::BenchParams();
  Hash32 genesis{};
  SecretKey owner = test::KeyFromSeed(1);
  XOnlyPubKey owner_key = PublicKeyOf(owner);
  XOnlyPubKey payee = PublicKeyOf(test::KeyFromSeed(2));
  std::vector<Block> prefix;
  std::vector<OutPoint> coins;
  std::uint64_t coin_value = 0;
  std::vector<Transaction> spends;
  std::vector<SigCheck> checks;  // the spends' signature checks, in order
  Block block;
  std::uint64_t now_ms = 0;  // the block's timestamp: "now" for the pool
};

const CoinChain& Chain() {
  static const CoinChain chain = [] {
    CoinChain c;
    const Params& p = c.params;
    c.genesis = MakeGenesis(p).hash;
    test::ChainBuilder builder(p);
    // Coinbases: enough for every fan-out once mature.
    const std::uint64_t coinbases = kFanOuts + p.coinbase_maturity;
    for (std::uint64_t h = 1; h <= coinbases; ++h) {
      builder.Add(p.mine_rate_ms, "null", {test::Coinbase(h, c.owner_key, BlockSubsidy(h, p), p)});
    }
    c.coin_value = BlockSubsidy(kFanOuts, p) / kFanOut;
    std::vector<Transaction> fan_outs;
    for (std::uint64_t h = 1; h <= kFanOuts; ++h) {
      const Hash32 coinbase = ComputeTxid(builder.blocks()[h].txs[0]);
      std::vector<std::pair<XOnlyPubKey, std::uint64_t>> outs(kFanOut, {c.owner_key, c.coin_value});
      fan_outs.push_back(test::Spend({OutPoint{coinbase, 0}}, outs, c.owner, c.genesis, p));
      const Hash32 txid = ComputeTxid(fan_outs.back());
      for (std::uint32_t v = 0; v < kFanOut; ++v) c.coins.push_back(OutPoint{txid, v});
      if (fan_outs.size() == kFanOutsPerBlock || h == kFanOuts) {
        builder.Add(p.mine_rate_ms, "null", std::move(fan_outs));
        fan_outs.clear();
      }
    }
    for (std::size_t i = 0; i < kAccepts; ++i) {
      c.spends.push_back(
          test::Spend({c.coins[i]}, {{c.payee, c.coin_value - 1000}}, c.owner, c.genesis, p));
      const Transaction& tx = c.spends.back();
      c.checks.push_back(
          SigCheck{c.owner_key, SighashContext(tx, c.genesis).ForInput(0), tx.inputs[0].sig});
    }
    c.prefix = builder.WithoutGenesis();
    builder.Add(p.mine_rate_ms, "null",
                std::vector<Transaction>(c.spends.begin(), c.spends.begin() + kBlockTxs));
    c.block = builder.tip();
    c.now_ms = c.block.header.timestamp;
    return c;
  }();
  return chain;
}

// Wall-clock time from `start_ms` on, as a node's clock runs: entries
// accepted within one millisecond share a time, the others do not. (A
// stopped clock would give every entry the same time, which the pool's
// time index handles far worse; see docs/performance.md.)
class RunningClock final : public Clock {
 public:
  explicit RunningClock(std::uint64_t start_ms) : start_ms_(start_ms) {}
  std::uint64_t NowMs() const override {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    return start_ms_ + static_cast<std::uint64_t>(
                           std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  }

 private:
  std::uint64_t start_ms_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Accepts `blocks` as one batch; false unless the last became the tip.
bool AcceptAll(ChainState& chain, std::vector<Block> blocks) {
  const Hash32 last = blocks.back().hash;
  const std::uint64_t now = blocks.back().header.timestamp;
  for (const AcceptResult& r : chain.AcceptBlocks(std::move(blocks), now, BlockOrigin::kPeer)) {
    if (!r.ok()) return false;
  }
  return chain.Tip().hash() == last;
}

// A store (memory, or SQLite in a temporary directory) and a chain on it
// holding the prefix.
struct LoadedChain {
  explicit LoadedChain(const CoinChain& c, std::size_t verify_threads = 1, bool sqlite = false) {
    BlockStore* store = nullptr;
    if (sqlite) {
      file = std::make_unique<bench::TempSqliteStore>(c.params);
      store = &file->store();
    } else {
      memory = std::make_unique<MemoryBlockStore>();
      store = memory.get();
    }
    ChainOptions options;
    options.verify_threads = verify_threads;
    chain = std::make_unique<ChainState>(c.params, *store, options);
    ok = chain->Load().ok() && AcceptAll(*chain, c.prefix);
  }
  std::unique_ptr<MemoryBlockStore> memory;
  std::unique_ptr<bench::TempSqliteStore> file;
  std::unique_ptr<ChainState> chain;  // declared last: destroyed before its store
  bool ok = false;
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Seconds to verify `checks` one after another on this thread: the raw
// rate, measured beside each run (this machine's speed drifts within
// minutes, so a reference taken at another moment misleads).
double RawVerifySeconds(const std::vector<SigCheck>& checks) {
  const auto start = std::chrono::steady_clock::now();
  for (const SigCheck& check : checks) {
    if (!VerifySchnorr(check.key, check.msg, check.sig)) return -1;
  }
  return SecondsSince(start);
}

void RunAccept(benchmark::State& state, bool sqlite) {
  const CoinChain& c = Chain();
  const RunningClock clock(c.now_ms);
  double raw_seconds = 0;
  double accept_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const double raw = RawVerifySeconds(c.checks);
    if (raw < 0) return state.SkipWithError("a spend's signature does not verify");
    raw_seconds += raw;
    auto loaded = std::make_unique<LoadedChain>(c, 1, sqlite);
    if (!loaded->ok) return state.SkipWithError("the prefix was not accepted");
    auto pool = std::make_unique<Mempool>(*loaded->chain, clock);
    std::vector<Transaction> txs = c.spends;
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    std::size_t accepted = 0;
    for (Transaction& tx : txs) {
      accepted += pool->Accept(std::move(tx)).status == MempoolResult::Status::kAccepted ? 1 : 0;
    }
    accept_seconds += SecondsSince(start);
    state.PauseTiming();
    pool.reset();
    loaded.reset();
    state.ResumeTiming();
    if (accepted != kAccepts) return state.SkipWithError("a spend was refused");
  }
  const std::int64_t accepts = state.iterations() * static_cast<std::int64_t>(kAccepts);
  bench::ReportRates(state, "txs/s", accepts);
  bench::ReportPairedVerifyRate(state, accepts, raw_seconds, accept_seconds);
}

void BM_MempoolAccept(benchmark::State& state) { RunAccept(state, false); }
BENCHMARK(BM_MempoolAccept)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_MempoolAcceptSqlite(benchmark::State& state) { RunAccept(state, true); }
BENCHMARK(BM_MempoolAcceptSqlite)->UseRealTime()->Unit(benchmark::kMillisecond);

// 64 signatures cycled, as in bench_schnorr.
void BM_SchnorrVerify(benchmark::State& state) {
  const std::vector<SigCheck>& checks = Chain().checks;
  std::size_t i = 0;
  for (auto _ : state) {
    const SigCheck& s = checks[i++ % 64];
    const bool ok = VerifySchnorr(s.key, s.msg, s.sig);
    benchmark::DoNotOptimize(ok);
    if (!ok) return state.SkipWithError("a valid signature failed to verify");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchnorrVerify);

void RunConnectBlock(benchmark::State& state, bool from_pool, bool stopped_clock = false,
                     bool sqlite = false) {
  const CoinChain& c = Chain();
  const RunningClock running(c.now_ms);
  const FixedClock stopped(c.now_ms);
  const Clock& clock = stopped_clock ? static_cast<const Clock&>(stopped) : running;
  const auto threads = static_cast<std::size_t>(state.range(0));
  double flush_seconds = 0;
  static bench::PerfControl perf;  // one per process: perf holds the FIFOs open
  for (auto _ : state) {
    state.PauseTiming();
    auto loaded = std::make_unique<LoadedChain>(c, threads, sqlite);
    if (!loaded->ok) return state.SkipWithError("the prefix was not accepted");
    // The prefix's deferred coin writes go to the tables first, so that
    // the flush timed below holds the block's alone.
    if (sqlite && !loaded->file->store().Flush().ok()) return state.SkipWithError("flush failed");
    std::unique_ptr<Mempool> pool;
    if (from_pool) {
      pool = std::make_unique<Mempool>(*loaded->chain, clock);
      loaded->chain->AddObserver(pool.get());
      for (std::size_t i = 0; i < kBlockTxs; ++i) {
        if (!pool->Accept(c.spends[i]).ok()) return state.SkipWithError("a spend was refused");
      }
    }
    std::vector<Block> blocks = {c.block};
    state.ResumeTiming();
    perf.Enable();
    const bool ok = AcceptAll(*loaded->chain, std::move(blocks));
    perf.Disable();
    state.PauseTiming();
    if (sqlite) {
      // What the connect left to write (docs/storage.md, "Deferred
      // writes"): paid later, with other blocks', so not in the time.
      const auto start = std::chrono::steady_clock::now();
      if (!loaded->file->store().Flush().ok()) return state.SkipWithError("flush failed");
      flush_seconds += SecondsSince(start);
    }
    const bool emptied = pool == nullptr || pool->Stats().count == 0;
    if (pool != nullptr) loaded->chain->RemoveObserver(pool.get());
    pool.reset();
    loaded.reset();
    state.ResumeTiming();
    if (!ok) return state.SkipWithError("the block was not accepted");
    if (!emptied) return state.SkipWithError("the block's transactions stayed in the pool");
  }
  bench::ReportRates(state, "txs/s", state.iterations() * static_cast<std::int64_t>(kBlockTxs));
  if (sqlite) {
    state.counters["flush_ms"] = 1000 * flush_seconds / static_cast<double>(state.iterations());
  }
}

void BM_ConnectBlockCold(benchmark::State& state) { RunConnectBlock(state, false); }
BENCHMARK(BM_ConnectBlockCold)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ConnectBlockFromPool(benchmark::State& state) { RunConnectBlock(state, true); }
BENCHMARK(BM_ConnectBlockFromPool)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The same with the pool's clock stopped: all 2,000 entries have one entry
// time, as after a reorganization puts a block's transactions back.
void BM_ConnectBlockFromPoolStoppedClock(benchmark::State& state) {
  RunConnectBlock(state, true, true);
}
BENCHMARK(BM_ConnectBlockFromPoolStoppedClock)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Cold and FromPool on a SQLite store, as a node has it: the time includes
// writing the block, its coins, undo data and indexes (synchronous=FULL).
void BM_ConnectBlockColdSqlite(benchmark::State& state) {
  RunConnectBlock(state, false, false, true);
}
BENCHMARK(BM_ConnectBlockColdSqlite)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ConnectBlockFromPoolSqlite(benchmark::State& state) {
  RunConnectBlock(state, true, false, true);
}
BENCHMARK(BM_ConnectBlockFromPoolSqlite)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// A pool of kIndependent + kChains * kChainLength transactions on the
// prefix, built once.
struct TemplatePool {
  TemplatePool() : loaded(Chain()), clock(Chain().now_ms) {
    const CoinChain& c = Chain();
    if (!loaded.ok) return;
    pool = std::make_unique<Mempool>(*loaded.chain, clock);
    std::mt19937_64 rng(1);
    auto rate = [&](std::uint64_t lo, std::uint64_t hi) {
      return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
    };
    auto add = [&](const OutPoint& coin, std::uint64_t value, std::uint64_t fee) {
      // To the owner again: a chain's next transaction spends it.
      Transaction tx =
          test::Spend({coin}, {{c.owner_key, value - fee}}, c.owner, c.genesis, c.params);
      const Hash32 txid = ComputeTxid(tx);
      if (pool->Accept(std::move(tx)).status == MempoolResult::Status::kAccepted) ++accepted;
      return OutPoint{txid, 0};
    };
    // Independent transactions and chains interleaved, so that entry order
    // says nothing about fee rate.
    std::size_t coin = 0;
    for (std::size_t i = 0; i < kIndependent + kChains; ++i) {
      if (i % (kIndependent / kChains + 1) != 0) {
        add(c.coins[coin++], c.coin_value, rate(1, 50) * kTxBytesBound);
        continue;
      }
      OutPoint out = c.coins[coin++];
      std::uint64_t value = c.coin_value;
      for (std::size_t k = 0; k < kChainLength; ++k) {
        const std::uint64_t fee = (k == 0 ? 1 : rate(1, 100)) * kTxBytesBound;
        out = add(out, value, fee);
        value -= fee;
      }
    }
    parent = loaded.chain->Tip().hash();
    room = c.params.max_block_bytes - kHeaderSize - 4 /* "null" */ -
           MaxCoinbaseSize(c.params.address_prefix);
  }
  LoadedChain loaded;
  RunningClock clock;
  std::unique_ptr<Mempool> pool;
  std::size_t accepted = 0;
  Hash32 parent{};
  std::size_t room = 0;
};

const TemplatePool& Pool() {
  static const TemplatePool pool;
  return pool;
}

constexpr std::size_t kPoolTxs = kIndependent + kChains * kChainLength;

void BM_SelectForBlock(benchmark::State& state) {
  const TemplatePool& p = Pool();
  if (p.accepted != kPoolTxs) return state.SkipWithError("the pool was not filled");
  BlockTemplateTxs chosen;
  for (auto _ : state) {
    chosen = p.pool->SelectForBlock(p.parent, p.room);
    if (chosen.txs.empty()) return state.SkipWithError("nothing was chosen");
  }
  // Chain parents paying the floor, chosen for their children's fees (no
  // transaction alone at under 2 units a byte could make the block).
  std::size_t pulled = 0;
  for (const TxRef& tx : chosen.txs) {
    const auto entry = p.pool->Get(ComputeTxid(*tx));
    if (entry.has_value() && entry->fee < 2 * entry->size) ++pulled;
  }
  state.counters["pulled_parents"] = static_cast<double>(pulled);
  state.counters["pool_txs"] = static_cast<double>(p.pool->Stats().count);
  state.counters["chosen_txs"] = static_cast<double>(chosen.txs.size());
  state.counters["chosen_bytes"] = static_cast<double>(chosen.bytes);
  state.counters["room_bytes"] = static_cast<double>(p.room);
}
BENCHMARK(BM_SelectForBlock)->Unit(benchmark::kMillisecond);

void BM_MempoolByFeeRate(benchmark::State& state) {
  const TemplatePool& p = Pool();
  if (p.accepted != kPoolTxs) return state.SkipWithError("the pool was not filled");
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.pool->ByFeeRate(static_cast<std::size_t>(state.range(0))));
  }
  state.counters["pool_txs"] = static_cast<double>(p.pool->Stats().count);
}
BENCHMARK(BM_MempoolByFeeRate)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
