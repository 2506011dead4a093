// Serializing a block header and hashing it (BlockHeader::Serialize and
// BlockHeader::ComputeHash): what every block check and every header
// received pays once. The header is fixed; only the nonce moves, so no two
// iterations hash the same bytes.
#include <benchmark/benchmark.h>

#include "fixtures.h"
#include "primitives/block.h"

namespace powchain {
namespace {

BlockHeader FixedHeader() {
  BlockHeader h;
  h.height = 123456;
  for (std::size_t i = 0; i < h.last_hash.size(); ++i) {
    h.last_hash[i] = static_cast<std::uint8_t>(i < 2 ? 0 : i * 11);
    h.data_hash[i] = static_cast<std::uint8_t>(255 - i * 5);
  }
  h.timestamp = 1735689600000 + 123456 * 3000;
  h.difficulty = 18;
  return h;
}

void BM_HeaderSerialize(benchmark::State& state) {
  BlockHeader h = FixedHeader();
  for (auto _ : state) {
    ++h.nonce;
    benchmark::DoNotOptimize(h.Serialize());
  }
  bench::ReportRates(state, "headers/s", state.iterations(),
                     state.iterations() * static_cast<std::int64_t>(kHeaderSize));
}
BENCHMARK(BM_HeaderSerialize);

void BM_HeaderComputeHash(benchmark::State& state) {
  BlockHeader h = FixedHeader();
  for (auto _ : state) {
    ++h.nonce;
    benchmark::DoNotOptimize(h.ComputeHash());
  }
  bench::ReportRates(state, "headers/s", state.iterations(),
                     state.iterations() * static_cast<std::int64_t>(kHeaderSize));
}
BENCHMARK(BM_HeaderComputeHash);

}  // namespace
}  // namespace powchain
