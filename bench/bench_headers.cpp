// Headers-first sync's hot path, one step at a time, on a fixed chain of
// 2,000 headers (one `headers` message): decoding the message, checking
// the headers against every header rule (HeaderSync::Feed), and adding them
// to the block tree (ChainState::AddHeaders, which checks them again
// against their parents in the tree). Parse timed apart from validate.
#include <benchmark/benchmark.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "chain/chainstate.h"
#include "chain/header_sync.h"
#include "fixtures.h"
#include "p2p/protocol.h"
#include "storage/memory_store.h"

namespace powchain {
namespace {

constexpr std::size_t kHeaders = 2000;

const std::vector<HashedHeader>& Headers() {
  static const std::vector<HashedHeader> headers = [] {
    const std::vector<Block>& chain = bench::CachedChain(kHeaders, 0);
    std::vector<HashedHeader> out;
    for (std::size_t i = 1; i < chain.size(); ++i) {
      out.push_back(HashedHeader{chain[i].header, chain[i].hash});
    }
    return out;
  }();
  return headers;
}

// The anchor for a chain that leaves the tree at genesis.
HeaderAnchor GenesisAnchor() {
  const Block& genesis = bench::CachedChain(kHeaders, 0).front();
  HeaderAnchor a;
  a.context = ParentContext{genesis.header, genesis.hash, genesis.header.timestamp};
  a.chain_work = BlockWork(genesis.header.difficulty);
  a.timestamps = {genesis.header.timestamp};
  return a;
}

void BM_EncodeHeaders(benchmark::State& state) {
  const p2p::Headers message{Headers()};
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = p2p::Encode(message);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  bench::ReportRates(state, "headers/s", state.iterations() * static_cast<std::int64_t>(kHeaders),
                     state.iterations() * static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_EncodeHeaders)->Unit(benchmark::kMillisecond);

void BM_DecodeHeaders(benchmark::State& state) {
  const std::string text = p2p::Encode(p2p::Headers{Headers()});
  for (auto _ : state) {
    auto decoded = p2p::Decode(text);
    if (!std::holds_alternative<p2p::Message>(decoded)) throw std::runtime_error("not decoded");
    benchmark::DoNotOptimize(decoded);
  }
  bench::ReportRates(state, "headers/s", state.iterations() * static_cast<std::int64_t>(kHeaders),
                     state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_DecodeHeaders)->Unit(benchmark::kMillisecond);

void BM_HeaderSyncFeed(benchmark::State& state) {
  const Params params = bench::BenchParams();
  const std::vector<HashedHeader>& headers = Headers();
  const std::uint64_t now = headers.back().header.timestamp;
  HeaderSync sync(params, {});
  for (auto _ : state) {
    sync.Begin(GenesisAnchor());
    const HeaderSync::FeedResult r = sync.Feed(headers, now, 0);
    if (r.status != HeaderSync::Status::kOk) throw std::runtime_error("refused");
    benchmark::DoNotOptimize(sync.TakeReady());
  }
  bench::ReportRates(state, "headers/s", state.iterations() * static_cast<std::int64_t>(kHeaders));
}
BENCHMARK(BM_HeaderSyncFeed)->Unit(benchmark::kMillisecond);

void BM_AddHeaders(benchmark::State& state) {
  const Params params = bench::BenchParams();
  const std::vector<HashedHeader>& headers = Headers();
  const std::uint64_t now = headers.back().header.timestamp;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<MemoryBlockStore>();
    auto chain = std::make_unique<ChainState>(params, *store);
    if (!chain->Load().ok()) throw std::runtime_error("load");
    state.ResumeTiming();
    const AddHeadersResult r = chain->AddHeaders(headers, now);
    if (!r.ok() || r.added != kHeaders) throw std::runtime_error("refused");
    state.PauseTiming();
    chain.reset();
    store.reset();
    state.ResumeTiming();
  }
  bench::ReportRates(state, "headers/s", state.iterations() * static_cast<std::int64_t>(kHeaders));
}
BENCHMARK(BM_AddHeaders)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
