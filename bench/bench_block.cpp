// Decoding a block from JSON, timed apart from checking it; canonical JSON
// of block data.
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>

#include "consensus/genesis.h"
#include "consensus/params.h"
#include "consensus/validation.h"
#include "mining/search.h"
#include "primitives/block_json.h"
#include "primitives/canonical_json.h"

namespace powchain {
namespace {

class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::uint64_t t) : t_(t) {}
  std::uint64_t NowMs() const override { return t_; }

 private:
  std::uint64_t t_;
};

// A JSON text of about `bytes` bytes: an array of small objects.
std::string DataOfSize(std::size_t bytes) {
  std::string s = "[";
  for (int i = 0; s.size() < bytes; ++i) {
    if (i > 0) s += ',';
    s += R"({"to":"account-)" + std::to_string(i) + R"(","amount":)" + std::to_string(i * 3) +
         R"(.25,"memo":"caf\u00e9 \"quoted\""})";
  }
  return s + "]";
}

Block MinedBlock(std::size_t data_bytes) {
  const Params params = Params::Regtest();
  const Block g = MakeGenesis(params);
  const ParentContext parent{g.header, g.hash, g.header.timestamp};
  const FixedClock clock(g.header.timestamp + 5000);
  std::atomic<bool> cancel{false};
  return *SearchBlock(parent, *CanonicalizeJsonText(DataOfSize(data_bytes)), params, clock, cancel)
              .block;
}

void BM_CanonicalizeData(benchmark::State& state) {
  const std::string text = DataOfSize(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(CanonicalizeJsonText(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CanonicalizeData)->Arg(1 << 10)->Arg(64 << 10)->Arg(1000 << 10);

void BM_BlockFromJson(benchmark::State& state) {
  const std::string json = BlockToJson(MinedBlock(static_cast<std::size_t>(state.range(0))));
  for (auto _ : state) benchmark::DoNotOptimize(BlockFromJsonText(json));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_BlockFromJson)->Arg(64)->Arg(64 << 10)->Arg(1000 << 10);

void BM_CheckBlock(benchmark::State& state) {
  const Params params = Params::Regtest();
  const Block g = MakeGenesis(params);
  const ParentContext parent{g.header, g.hash, g.header.timestamp};
  const Block b = MinedBlock(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(CheckBlock(b, parent, b.header.timestamp, params));
  }
}
BENCHMARK(BM_CheckBlock)->Arg(64)->Arg(64 << 10)->Arg(1000 << 10);


}  // namespace
}  // namespace powchain
