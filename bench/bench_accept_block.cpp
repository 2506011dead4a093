// Ingest: ChainState validating and storing a fixed chain of blocks with
// about 200 bytes of data each, one AcceptBlock per block (a block relayed
// or mined) or AcceptBlocks over batches of 500 (a sync), with the memory
// store and with the SQLite store (synchronous=FULL: one fsync per commit)
// in a fresh temporary directory. The SQLite figures are wall-clock time
// (UseRealTime), since a commit waits for the disk; the memory ones are CPU
// time.
//
// Each iteration starts a new chain on a new, empty store (not timed) and
// then accepts the whole chain on it (timed); every block must become the
// new tip.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "chain/chainstate.h"
#include "fixtures.h"
#include "storage/memory_store.h"

namespace powchain {
namespace {

constexpr std::size_t kDataBytes = 200;

enum class StoreKind { kMemory, kSqlite };

// The store of one iteration.
class FreshStore {
 public:
  FreshStore(StoreKind kind, const Params& params) {
    if (kind == StoreKind::kMemory) {
      memory_ = std::make_unique<MemoryBlockStore>();
    } else {
      sqlite_ = std::make_unique<bench::TempSqliteStore>(params);
    }
  }
  BlockStore& get() { return memory_ ? static_cast<BlockStore&>(*memory_) : sqlite_->store(); }

 private:
  std::unique_ptr<MemoryBlockStore> memory_;
  std::unique_ptr<bench::TempSqliteStore> sqlite_;
};

// Args: blocks in the chain, blocks per call (1: AcceptBlock, else
// AcceptBlocks).
void RunAccept(benchmark::State& state, StoreKind kind) {
  const auto blocks = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  const Params params = bench::BenchParams();
  const std::vector<Block>& chain = bench::CachedChain(blocks, kDataBytes);
  const std::uint64_t now = chain.back().header.timestamp;
  std::int64_t bytes_per_chain = 0;
  for (std::size_t i = 1; i < chain.size(); ++i) {
    bytes_per_chain += static_cast<std::int64_t>(chain[i].SerializedSize());
  }

  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::vector<Block>> batches = bench::Batches(chain, batch);
    auto store = std::make_unique<FreshStore>(kind, params);
    auto chainstate = std::make_unique<ChainState>(params, store->get());
    if (Status s = chainstate->Load(); !s) {
      state.SkipWithError(s.error().c_str());
      break;
    }
    state.ResumeTiming();

    bool all_new_tips = true;
    for (std::vector<Block>& b : batches) {
      if (batch == 1) {
        const AcceptResult r =
            chainstate->AcceptBlock(std::move(b.front()), now, BlockOrigin::kPeer);
        all_new_tips = all_new_tips && r.status == AcceptStatus::kNewTip;
      } else {
        for (const AcceptResult& r :
             chainstate->AcceptBlocks(std::move(b), now, BlockOrigin::kPeer)) {
          all_new_tips = all_new_tips && r.status == AcceptStatus::kNewTip;
        }
      }
    }

    state.PauseTiming();
    const bool complete = chainstate->Tip().height() == blocks;
    chainstate.reset();
    store.reset();
    state.ResumeTiming();
    if (!all_new_tips || !complete) {
      state.SkipWithError("a block of the fixed chain was not accepted as the new tip");
      break;
    }
  }
  bench::ReportRates(state, "blocks/s", state.iterations() * static_cast<std::int64_t>(blocks),
                     state.iterations() * bytes_per_chain);
}

void BM_AcceptBlockMemory(benchmark::State& state) { RunAccept(state, StoreKind::kMemory); }
BENCHMARK(BM_AcceptBlockMemory)->Args({10000, 1})->Unit(benchmark::kMillisecond);

void BM_AcceptBlocksMemory(benchmark::State& state) { RunAccept(state, StoreKind::kMemory); }
BENCHMARK(BM_AcceptBlocksMemory)
    ->Args({10000, 500})
    ->Args({100000, 500})
    ->Unit(benchmark::kMillisecond);

// One fsync per block: a short chain.
void BM_AcceptBlockSqlite(benchmark::State& state) { RunAccept(state, StoreKind::kSqlite); }
BENCHMARK(BM_AcceptBlockSqlite)->Args({500, 1})->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_AcceptBlocksSqlite(benchmark::State& state) { RunAccept(state, StoreKind::kSqlite); }
BENCHMARK(BM_AcceptBlocksSqlite)
    ->Args({10000, 500})
    ->Args({100000, 500})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
