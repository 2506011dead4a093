// The JSON form of a block (primitives/block_json.h): encoding a block,
// and decoding one, with the parse alone timed apart from the whole decode
// (parse, header fields, canonical re-encoding of the data). The block is
// the first block of a fixed chain with data of about the given size.
#include <benchmark/benchmark.h>

#include <string>

#include "fixtures.h"
#include "primitives/block_json.h"
#include "primitives/json.h"

namespace powchain {
namespace {

const Block& BlockWithData(std::size_t data_bytes) {
  return bench::CachedChain(1, data_bytes).back();
}

void BM_BlockToJson(benchmark::State& state) {
  const Block& block = BlockWithData(static_cast<std::size_t>(state.range(0)));
  std::int64_t bytes = 0;
  for (auto _ : state) {
    std::string json = BlockToJson(block);
    bytes += static_cast<std::int64_t>(json.size());
    benchmark::DoNotOptimize(json);
  }
  bench::ReportRates(state, "blocks/s", state.iterations(), bytes);
}
BENCHMARK(BM_BlockToJson)->Arg(64)->Arg(200)->Arg(64 << 10)->Arg(1000 << 10);

void BM_ParseBlockJson(benchmark::State& state) {
  const std::string json = BlockToJson(BlockWithData(static_cast<std::size_t>(state.range(0))));
  for (auto _ : state) {
    auto parsed = ParseJson(json);
    if (!parsed) state.SkipWithError(parsed.error().c_str());
    benchmark::DoNotOptimize(parsed);
  }
  bench::ReportRates(state, "blocks/s", state.iterations(),
                     state.iterations() * static_cast<std::int64_t>(json.size()));
}
BENCHMARK(BM_ParseBlockJson)->Arg(64)->Arg(200)->Arg(64 << 10)->Arg(1000 << 10);

void BM_BlockFromJson(benchmark::State& state) {
  const std::string json = BlockToJson(BlockWithData(static_cast<std::size_t>(state.range(0))));
  for (auto _ : state) {
    auto block = BlockFromJsonText(json);
    if (!block) state.SkipWithError(block.error().c_str());
    benchmark::DoNotOptimize(block);
  }
  bench::ReportRates(state, "blocks/s", state.iterations(),
                     state.iterations() * static_cast<std::int64_t>(json.size()));
}
BENCHMARK(BM_BlockFromJson)->Arg(64)->Arg(200)->Arg(64 << 10)->Arg(1000 << 10);

}  // namespace
}  // namespace powchain
