// Building a block locator of the active chain (ChainState::Locator), which
// a node sends with every getblocks, at chain heights of 1,000, 10,000 and
// 100,000. The chains are fixed (one block per mine rate, empty data) and
// loaded into a ChainState on the memory store before timing starts.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <stdexcept>

#include "chain/chainstate.h"
#include "fixtures.h"
#include "storage/memory_store.h"

namespace powchain {
namespace {

struct LoadedChain {
  MemoryBlockStore store;
  std::unique_ptr<ChainState> chain;
};

// A ChainState holding a fixed chain of `height` blocks above genesis,
// built once per height and process.
const ChainState& ChainOfHeight(std::size_t height) {
  static std::map<std::size_t, std::unique_ptr<LoadedChain>> cache;
  std::unique_ptr<LoadedChain>& loaded = cache[height];
  if (!loaded) {
    loaded = std::make_unique<LoadedChain>();
    loaded->chain = std::make_unique<ChainState>(bench::BenchParams(), loaded->store);
    if (Status s = loaded->chain->Load(); !s) throw std::runtime_error(s.error());
    const std::vector<Block>& blocks = bench::CachedChain(height, 0);
    for (std::vector<Block>& batch : bench::Batches(blocks, 500)) {
      loaded->chain->AcceptBlocks(std::move(batch), blocks.back().header.timestamp);
    }
    if (loaded->chain->Tip().height() != height) throw std::runtime_error("chain not loaded");
  }
  return *loaded->chain;
}

void BM_Locator(benchmark::State& state) {
  const ChainState& chain = ChainOfHeight(static_cast<std::size_t>(state.range(0)));
  std::size_t hashes = 0;
  for (auto _ : state) {
    std::vector<Hash32> locator = chain.Locator();
    hashes = locator.size();
    benchmark::DoNotOptimize(locator);
  }
  bench::ReportRates(state, "locators/s", state.iterations());
  state.counters["hashes"] = static_cast<double>(hashes);
}
BENCHMARK(BM_Locator)->Arg(1000)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace powchain
