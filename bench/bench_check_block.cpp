// Block checks (consensus/validation.h), timed apart from decoding: the
// whole CheckBlock, its context-free and contextual halves, and the checks
// that apply to a header alone, run along a chain of headers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <span>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/pow.h"
#include "consensus/validation.h"
#include "fixtures.h"

namespace powchain {
namespace {

// The first block of a fixed chain with data of about `data_bytes`, and the
// context of its parent (genesis).
struct BlockOnGenesis {
  const Block& block;
  ParentContext parent;
};

BlockOnGenesis FirstBlock(std::size_t data_bytes) {
  const std::vector<Block>& chain = bench::CachedChain(1, data_bytes);
  const Block& g = chain.front();
  return {chain.back(), ParentContext{g.header, g.hash, g.header.timestamp}};
}

void BM_CheckBlock(benchmark::State& state) {
  const Params params = bench::BenchParams();
  const auto [block, parent] = FirstBlock(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const ValidationResult r = CheckBlock(block, parent, block.header.timestamp, params);
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r);
  }
  bench::ReportRates(state, "blocks/s", state.iterations(),
                     state.iterations() * static_cast<std::int64_t>(block.SerializedSize()));
}
BENCHMARK(BM_CheckBlock)->Arg(64)->Arg(200)->Arg(64 << 10)->Arg(1000 << 10);

void BM_CheckBlockContextFree(benchmark::State& state) {
  const Params params = bench::BenchParams();
  const auto [block, parent] = FirstBlock(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const ValidationResult r = CheckBlockContextFree(block, params);
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r);
  }
  bench::ReportRates(state, "blocks/s", state.iterations(),
                     state.iterations() * static_cast<std::int64_t>(block.SerializedSize()));
}
BENCHMARK(BM_CheckBlockContextFree)->Arg(200)->Arg(64 << 10)->Arg(1000 << 10);

void BM_CheckBlockContextual(benchmark::State& state) {
  const Params params = bench::BenchParams();
  const auto [block, parent] = FirstBlock(200);
  for (auto _ : state) {
    const ValidationResult r =
        CheckBlockContextual(block.header, parent, block.header.timestamp, params);
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r);
  }
  bench::ReportRates(state, "headers/s", state.iterations());
}
BENCHMARK(BM_CheckBlockContextual);

// validation.h has no header-only check. These are the rules that apply to
// a header without its data, in CheckBlock's order: version, hash
// recomputed and compared, proof of work, then CheckBlockContextual (height,
// lastHash, exact difficulty, which also bounds its range, median time
// past, future drift). Left out: size and dataHash, which need the data.
bool CheckHeader(const BlockHeader& h, const Hash32& hash, const ParentContext& parent,
                 std::uint64_t now_ms, const Params& params) {
  if (h.version != kBlockVersion) return false;
  const Hash32 computed = h.ComputeHash();
  if (computed != hash || !CheckProofOfWork(computed, h.difficulty)) return false;
  return CheckBlockContextual(h, parent, now_ms, params).ok();
}

// A header sync's inner loop: walks a fixed chain of 1,000 headers, keeps
// the last mtp_window timestamps, derives each parent's median time past
// and checks the header on it. One iteration checks the whole chain.
void BM_CheckHeaders(benchmark::State& state) {
  constexpr std::size_t kHeaders = 1000;
  const Params params = bench::BenchParams();
  struct HeaderAndHash {
    BlockHeader header;
    Hash32 hash;
  };
  std::vector<HeaderAndHash> headers;
  for (const Block& b : bench::CachedChain(kHeaders, 200)) headers.push_back({b.header, b.hash});
  const std::uint64_t now = headers.back().header.timestamp;

  const std::size_t window_size = params.mtp_window;
  std::vector<std::uint64_t> window(window_size);
  for (auto _ : state) {
    std::size_t filled = 0;
    for (std::size_t i = 1; i < headers.size(); ++i) {
      const HeaderAndHash& parent = headers[i - 1];
      window[(i - 1) % window_size] = parent.header.timestamp;
      filled = std::min(filled + 1, window_size);
      const ParentContext ctx{parent.header, parent.hash,
                              MedianTimePast(std::span(window.data(), filled))};
      if (!CheckHeader(headers[i].header, headers[i].hash, ctx, now, params)) {
        state.SkipWithError("a header of the fixed chain failed its checks");
        break;
      }
    }
  }
  bench::ReportRates(state, "headers/s",
                     state.iterations() * static_cast<std::int64_t>(headers.size() - 1));
}
BENCHMARK(BM_CheckHeaders);

}  // namespace
}  // namespace powchain
