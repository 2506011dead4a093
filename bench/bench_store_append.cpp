// Appending to a block store in the batches a sync commits: 500 blocks of
// about 200 bytes of data per Commit, 20 commits (10,000 blocks) into a new,
// empty store per iteration. The store is made and dropped outside the
// timed part. SQLite runs with synchronous=FULL (one fsync per commit) in a
// fresh temporary directory and is timed by the wall clock (UseRealTime);
// the memory store by CPU time.
//
// BM_StoreAppendLargeSqlite: one block per Commit, 30 blocks of about 660 kB
// of data each (the bytes of a block of 2,000 one-input transactions), into
// a new store: the write-ahead log passes SQLite's checkpoint threshold
// (1,000 pages) about every sixth commit. "commit_ms" is the mean time of a
// commit, "max_commit_ms" the slowest one of each iteration (averaged over
// iterations): what a checkpoint inside a commit would add.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
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

void BM_StoreAppendLargeSqlite(benchmark::State& state) {
  constexpr std::size_t kLargeBlocks = 30;
  const std::vector<Block>& chain = bench::CachedChain(kLargeBlocks, 660000);
  double max_sum = 0;
  double total_ms = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto temp = std::make_unique<bench::TempSqliteStore>(bench::BenchParams());
    state.ResumeTiming();
    double slowest = 0;
    for (std::size_t i = 1; i < chain.size(); ++i) {
      WriteBatch batch;
      batch.blocks.push_back(&chain[i]);
      batch.tip = chain[i].hash;
      const auto start = std::chrono::steady_clock::now();
      if (Status s = temp->store().Commit(batch); !s) return state.SkipWithError(s.error().c_str());
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      total_ms += ms;
      slowest = std::max(slowest, ms);
    }
    max_sum += slowest;
    state.PauseTiming();
    temp.reset();
    state.ResumeTiming();
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["commit_ms"] = total_ms / (iterations * static_cast<double>(kLargeBlocks));
  state.counters["max_commit_ms"] = max_sum / iterations;
}
BENCHMARK(BM_StoreAppendLargeSqlite)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
