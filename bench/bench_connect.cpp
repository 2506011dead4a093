// Connecting blocks full of one-input transactions, and reading coins.
//
// BM_ConnectSpends: ChainState::AcceptBlocks of 4 blocks of 2,000
// transactions, each spending one coin with one signature, on top of a
// prefix that made those coins (accepted before the timing starts), with 1
// and 2 signature-check threads (ChainOptions::verify_threads). The memory
// store isolates the checks; the SQLite store (synchronous=FULL, wall-clock
// time) adds what a node pays to store blocks, coins, undo data and indexes.
// "txs/s" is also signatures checked per second. Each iteration first
// verifies the same 8,000 signatures one by one on this thread (not timed):
// "raw_verify/s" is that rate and "x_raw_verify" the connect rate over it,
// both from the same iterations.
//
// BM_StoreBytesPerTx: the SQLite file's growth over those 8,000
// transactions, per transaction (one iteration; the figure is a counter).
//
// BM_CoinLookup: CoinsCache::Read of 100,000 coins in random order from a
// SQLite store, cold (a new, empty cache each iteration: every read goes
// to SQLite) and warm (all in the cache).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "chain/chainstate.h"
#include "chain/coins_cache.h"
#include "consensus/genesis.h"
#include "fixtures.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"
#include "testutil/coins.h"

namespace powchain {
namespace {

constexpr std::size_t kBlocks = 4;
constexpr std::size_t kTxsPerBlock = 2000;
constexpr std::size_t kSpends = kBlocks * kTxsPerBlock;
// Outputs per fan-out transaction: about 90 kB, under the 100,000-byte
// transaction limit; nine of them give the 8,000 coins spent.
constexpr std::size_t kFanOut = 900;

// The fixed chain: `prefix` (blocks 1 to 21: twenty coinbases to one key,
// then a block whose nine transactions split nine matured coinbases into
// 8,100 coins), and `spends` (4 blocks spending 8,000 of those coins, one
// input and one output each).
struct SpendChain {
  Params params = bench::BenchParams();
  std::vector<Block> prefix;
  std::vector<Block> spends;
  std::vector<SigCheck> checks;  // the spends' signature checks, in order
};

const SpendChain& Chain() {
  static const SpendChain chain = [] {
    SpendChain c;
    const Params& p = c.params;
    const SecretKey owner = test::KeyFromSeed(1);
    const XOnlyPubKey owner_key = PublicKeyOf(owner);
    const XOnlyPubKey payee = PublicKeyOf(test::KeyFromSeed(2));
    const Hash32 genesis = MakeGenesis(p).hash;
    test::ChainBuilder builder(p);
    for (std::uint64_t h = 1; h <= 20; ++h) {
      builder.Add(p.mine_rate_ms, "null", {test::Coinbase(h, owner_key, p.initial_reward, p)});
    }
    // Block 21 spends the coinbases of blocks 1 to 9 (mature from 11 to 19).
    std::vector<Transaction> fan_outs;
    std::vector<OutPoint> coins;
    const std::uint64_t each = p.initial_reward / kFanOut;
    for (std::uint64_t h = 1; h <= 9; ++h) {
      const Hash32 coinbase = ComputeTxid(builder.blocks()[h].txs[0]);
      std::vector<std::pair<XOnlyPubKey, std::uint64_t>> outs(kFanOut, {owner_key, each});
      fan_outs.push_back(test::Spend({OutPoint{coinbase, 0}}, outs, owner, genesis, p));
      const Hash32 txid = ComputeTxid(fan_outs.back());
      for (std::uint32_t v = 0; v < kFanOut; ++v) coins.push_back(OutPoint{txid, v});
    }
    builder.Add(p.mine_rate_ms, "null", std::move(fan_outs));
    for (std::size_t b = 0; b < kBlocks; ++b) {
      std::vector<Transaction> txs;
      for (std::size_t i = 0; i < kTxsPerBlock; ++i) {
        const OutPoint& coin = coins[b * kTxsPerBlock + i];
        txs.push_back(test::Spend({coin}, {{payee, each - 1000}}, owner, genesis, p));
      }
      builder.Add(p.mine_rate_ms, "null", std::move(txs));
    }
    for (const Block& b : builder.blocks()) {
      if (b.header.height <= 21) continue;
      for (const Transaction& tx : b.txs) {
        c.checks.push_back(
            SigCheck{owner_key, SighashContext(tx, genesis).ForInput(0), tx.inputs[0].sig});
      }
    }
    const std::vector<Block> all = builder.WithoutGenesis();
    c.prefix.assign(all.begin(), all.end() - kBlocks);
    c.spends.assign(all.end() - kBlocks, all.end());
    return c;
  }();
  return chain;
}

// Accepts `blocks` as one batch; false unless the last became the tip.
bool AcceptAll(ChainState& chain, std::vector<Block> blocks) {
  const Hash32 last = blocks.back().hash;
  const std::uint64_t now = blocks.back().header.timestamp;
  for (const AcceptResult& r : chain.AcceptBlocks(std::move(blocks), now, BlockOrigin::kPeer)) {
    if (!r.ok()) return false;
  }
  return chain.Tip().hash() == last;
}

// Seconds to verify `checks` one after another on this thread: the raw
// rate, measured beside each connect (this machine's speed drifts by a
// third within minutes, so a reference taken at another moment misleads).
double RawVerifySeconds(const std::vector<SigCheck>& checks) {
  const auto start = std::chrono::steady_clock::now();
  for (const SigCheck& check : checks) {
    if (!VerifySchnorr(check.key, check.msg, check.sig)) return -1;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void RunConnect(benchmark::State& state, bool sqlite) {
  const SpendChain& c = Chain();
  ChainOptions options;
  options.verify_threads = static_cast<std::size_t>(state.range(0));
  double raw_seconds = 0;
  double connect_seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const double raw = RawVerifySeconds(c.checks);
    if (raw < 0) {
      state.SkipWithError("a spend's signature does not verify");
      break;
    }
    raw_seconds += raw;
    std::unique_ptr<MemoryBlockStore> memory;
    std::unique_ptr<bench::TempSqliteStore> file;
    BlockStore* store = nullptr;
    if (sqlite) {
      file = std::make_unique<bench::TempSqliteStore>(c.params);
      store = &file->store();
    } else {
      memory = std::make_unique<MemoryBlockStore>();
      store = memory.get();
    }
    auto chain = std::make_unique<ChainState>(c.params, *store, options);
    if (!chain->Load() || !AcceptAll(*chain, c.prefix)) {
      state.SkipWithError("the prefix was not accepted");
      break;
    }
    std::vector<Block> spends = c.spends;
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    const bool ok = AcceptAll(*chain, std::move(spends));
    connect_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.PauseTiming();
    chain.reset();
    file.reset();
    memory.reset();
    state.ResumeTiming();
    if (!ok) {
      state.SkipWithError("a spend block was not accepted");
      break;
    }
  }
  const std::int64_t spends = state.iterations() * static_cast<std::int64_t>(kSpends);
  bench::ReportRates(state, "txs/s", spends);
  // The connect rate over the raw verify rate, both measured in the same
  // iterations.
  bench::ReportPairedVerifyRate(state, spends, raw_seconds, connect_seconds);
}

void BM_ConnectSpendsMemory(benchmark::State& state) { RunConnect(state, false); }
BENCHMARK(BM_ConnectSpendsMemory)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ConnectSpendsSqlite(benchmark::State& state) { RunConnect(state, true); }
BENCHMARK(BM_ConnectSpendsSqlite)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

std::uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

// The SQLite files after `blocks`, closed (so the write-ahead log is
// folded into the database).
std::uint64_t StoreBytesAfter(const Params& params, const std::vector<Block>& prefix,
                              const std::vector<Block>* more) {
  bench::TempSqliteStore file(params);
  {
    ChainState chain(params, file.store());
    if (!chain.Load() || !AcceptAll(chain, prefix)) return 0;
    if (more != nullptr && !AcceptAll(chain, *more)) return 0;
  }
  file.Close();
  return DirectoryBytes(file.dir());
}

void BM_StoreBytesPerTx(benchmark::State& state) {
  const SpendChain& c = Chain();
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  for (auto _ : state) {
    before = StoreBytesAfter(c.params, c.prefix, nullptr);
    after = StoreBytesAfter(c.params, c.prefix, &c.spends);
  }
  if (before == 0 || after <= before) return state.SkipWithError("the chain was not stored");
  std::uint64_t tx_bytes = 0;
  for (const Block& b : c.spends) {
    for (const Transaction& tx : b.txs) tx_bytes += CanonicalTxSize(tx);
  }
  state.counters["store_bytes/tx"] = static_cast<double>(after - before) / kSpends;
  state.counters["tx_bytes/tx"] = static_cast<double>(tx_bytes) / kSpends;
}
BENCHMARK(BM_StoreBytesPerTx)->Iterations(1)->Unit(benchmark::kMillisecond);

// A SQLite store holding 100,000 coins, and their outpoints in random order.
struct CoinStore {
  static constexpr std::size_t kCoins = 100'000;
  bench::TempSqliteStore file{bench::BenchParams()};
  std::vector<OutPoint> outpoints;
  CoinStore() {
    WriteBatch batch;
    std::mt19937_64 rng(1);
    for (std::size_t i = 0; i < kCoins; ++i) {
      OutPoint o;
      for (auto& byte : o.txid) byte = static_cast<std::uint8_t>(rng());
      o.vout = static_cast<std::uint32_t>(i % 3);
      batch.coins.push_back(CoinChange{o, Coin{1000 + i, XOnlyPubKey{}, i, i % 2 == 0}});
      outpoints.push_back(o);
    }
    batch.tip = MakeGenesis(bench::BenchParams()).hash;  // a batch without a tip writes nothing
    if (!file.store().Commit(batch)) throw std::runtime_error("cannot write the coins");
    std::shuffle(outpoints.begin(), outpoints.end(), rng);
  }
};

CoinStore& Coins() {
  static CoinStore store;
  return store;
}

void RunLookups(benchmark::State& state, bool warm) {
  CoinStore& coins = Coins();
  std::unique_ptr<CoinsCache> cache = std::make_unique<CoinsCache>(coins.file.store());
  auto read_all = [&] {
    std::size_t found = 0;
    for (const OutPoint& o : coins.outpoints) {
      auto coin = cache->Read(o);
      found += coin.ok() && coin->has_value() ? 1 : 0;
    }
    return found;
  };
  if (warm) read_all();
  for (auto _ : state) {
    if (!warm) {
      state.PauseTiming();
      cache = std::make_unique<CoinsCache>(coins.file.store());
      state.ResumeTiming();
    }
    if (read_all() != coins.outpoints.size()) return state.SkipWithError("a coin was not found");
  }
  bench::ReportRates(state, "lookups/s",
                     state.iterations() * static_cast<std::int64_t>(coins.outpoints.size()));
}

void BM_CoinLookupCold(benchmark::State& state) { RunLookups(state, false); }
BENCHMARK(BM_CoinLookupCold)->Unit(benchmark::kMillisecond);

void BM_CoinLookupWarm(benchmark::State& state) { RunLookups(state, true); }
BENCHMARK(BM_CoinLookupWarm)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
