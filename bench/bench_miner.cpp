// How fast the mining service drops a search when the tip changes: the time
// from the new tip until every worker is searching on it (docs/consensus.md,
// "Mining": a search is abandoned within milliseconds; the target is 10 ms).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/pow.h"
#include "crypto/sha256.h"
#include "mining/miner.h"
#include "storage/memory_store.h"
#include "util/system_clock.h"

namespace powchain {
namespace {

// Blocks on `params` at the floor difficulty, one second apart.
std::vector<Block> EasyChain(const Params& params, int n) {
  std::vector<Block> blocks = {MakeGenesis(params)};
  for (int i = 0; i < n; ++i) {
    const Block& parent = blocks.back();
    BlockHeader h;
    h.height = parent.header.height + 1;
    h.last_hash = parent.hash;
    h.data_hash = Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>("null"), 4));
    h.timestamp = parent.header.timestamp + params.mine_rate_ms;
    h.difficulty = NextDifficulty(parent.header, h.timestamp, params);
    while (!CheckProofOfWork(h.ComputeHash(), h.difficulty)) ++h.nonce;
    blocks.push_back(MakeBlock(h, "null"));
  }
  return blocks;
}

void BM_MinerTipSwitch(benchmark::State& state) {
  Params params = Params::Regtest();
  params.initial_difficulty = 1;
  Params hopeless = params;  // the miner never finds a block: only tip changes end a search
  hopeless.min_difficulty = 200;
  const std::vector<Block> blocks = EasyChain(params, 1000);
  MemoryBlockStore store;
  ChainState chain(params, store);
  if (!chain.Load().ok()) state.SkipWithError("load failed");
  SystemClock clock;
  MinerOptions options;
  options.threads = static_cast<unsigned>(state.range(0));
  options.continuous = true;
  Miner miner(hopeless, chain, clock, options);
  miner.Start();
  std::size_t next = 1;
  double worst = 0;
  for (auto _ : state) {
    if (next >= blocks.size()) {
      state.SkipWithError("ran out of prepared blocks");
      break;
    }
    const Hash32 tip = blocks[next].hash;
    // Let the workers get deep into the current search first.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    (void)chain.AcceptBlock(blocks[next++], 1ull << 62);
    Miner::Stats s;
    do {
      // Poll gently: a spinning poller would take a core from the workers.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      s = miner.GetStats();
    } while (!(s.job_parent == tip && s.last_switch_job == s.job_id));
    const double seconds = std::chrono::duration<double>(s.last_switch_latency).count();
    worst = std::max(worst, seconds);
    state.SetIterationTime(seconds);
  }
  state.counters["worst_us"] = worst * 1e6;
  miner.Stop();
}
BENCHMARK(BM_MinerTipSwitch)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(200)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace powchain
