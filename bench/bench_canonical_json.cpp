// Canonical JSON of block data (CanonicalizeJsonText: the strict parse plus
// the RFC 8785 re-encoding). The data is an array of small objects with
// escapes, non-ASCII text and decimals (bench::DataOfSize); 200 bytes is
// the size of the blocks a sync carries in the other benchmarks.
#include <benchmark/benchmark.h>

#include <string>

#include "fixtures.h"
#include "primitives/canonical_json.h"

namespace powchain {
namespace {

void BM_CanonicalizeData(benchmark::State& state) {
  const std::string text = bench::DataOfSize(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto canonical = CanonicalizeJsonText(text);
    if (!canonical) state.SkipWithError(canonical.error().c_str());
    benchmark::DoNotOptimize(canonical);
  }
  bench::ReportRates(state, "texts/s", state.iterations(),
                     state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_CanonicalizeData)->Arg(200)->Arg(1 << 10)->Arg(64 << 10)->Arg(1000 << 10);

}  // namespace
}  // namespace powchain
