// Appending to a block store in the batches a sync commits: 500 blocks of
// about 200 bytes of data per Commit, 20 commits (10,000 blocks) into a new,
// empty store per iteration. The store is made and dropped outside the
// timed part. SQLite runs with synchronous=FULL (one fsync per commit) in a
// fresh temporary directory and is timed by the wall clock (UseRealTime);
// the memory store by CPU time.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "fixtures.h"
#include "storage/block_store.h"
#include "storage/memory_store.h"

namespace powchain {
namespace {

constexpr std::size_t kBlocks = 10000;
constexpr std::size_t kBatch = 500;
constexpr std::size_t kDataBytes = 200;

// The write batches of one iteration, pointing into the cached chain (the
// store copies what it keeps).
std::vector<WriteBatch> SyncBatches() {
  const std::vector<Block>& chain = bench::CachedChain(kBlocks, kDataBytes);
  std::vector<WriteBatch> out;
  for (std::size_t i = 1; i < chain.size(); i += kBatch) {
    WriteBatch batch;
    const std::size_t end = std::min(chain.size(), i + kBatch);
    for (std::size_t j = i; j < end; ++j) batch.blocks.push_back(&chain[j]);
    batch.tip = chain[end - 1].hash;
    out.push_back(std::move(batch));
  }
  return out;
}

std::int64_t BatchBytes(const std::vector<WriteBatch>& batches) {
  std::int64_t bytes = 0;
  for (const WriteBatch& batch : batches) {
    for (const Block* b : batch.blocks) bytes += static_cast<std::int64_t>(b->SerializedSize());
  }
  return bytes;
}

template <typename MakeStore>
void RunAppend(benchmark::State& state, MakeStore make_store) {
  const std::vector<WriteBatch> batches = SyncBatches();
  for (auto _ : state) {
    state.PauseTiming();
    auto store = make_store();
    state.ResumeTiming();
    for (const WriteBatch& batch : batches) {
      if (Status s = store->get().Commit(batch); !s) {
        state.SkipWithError(s.error().c_str());
        break;
      }
    }
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  bench::ReportRates(state, "blocks/s", state.iterations() * static_cast<std::int64_t>(kBlocks),
                     state.iterations() * BatchBytes(batches));
}

void BM_StoreAppendMemory(benchmark::State& state) {
  struct Holder {
    MemoryBlockStore store;
    BlockStore& get() { return store; }
  };
  RunAppend(state, [] { return std::make_unique<Holder>(); });
}
BENCHMARK(BM_StoreAppendMemory)->Unit(benchmark::kMillisecond);

void BM_StoreAppendSqlite(benchmark::State& state) {
  struct Holder {
    bench::TempSqliteStore temp{bench::BenchParams()};
    BlockStore& get() { return temp.store(); }
  };
  RunAppend(state, [] { return std::make_unique<Holder>(); });
}
BENCHMARK(BM_StoreAppendSqlite)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
