// The single-thread mining search (SearchBlock) at a difficulty it never
// meets: attempts per second.
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>

#include "consensus/genesis.h"
#include "consensus/params.h"
#include "crypto/sha256.h"
#include "mining/search.h"

namespace powchain {
namespace {

// Attempts per second of one search thread at a difficulty it never meets.
// Argument 0: the OpenSSL backend; 1: SHA-NI (skipped where unavailable).
void BM_SearchAttempts(benchmark::State& state) {
  const auto backend = state.range(0) == 0 ? Sha256Backend::kOpenSsl : Sha256Backend::kShaNi;
  if (!Sha256BackendAvailable(backend)) return state.SkipWithError("backend unavailable");
  state.SetLabel(std::string(Sha256BackendName(backend)));
  Params params = Params::Regtest();
  params.initial_difficulty = params.min_difficulty = 200;
  const Block g = MakeGenesis(params);
  const ParentContext parent{g.header, g.hash, g.header.timestamp};
  const FixedClock clock(g.header.timestamp + 10);
  std::uint64_t attempts = 0;
  for (auto _ : state) {
    // The clock raises the cancel flag on its second reading, so each
    // iteration runs exactly two check intervals.
    SearchOptions options;
    options.check_interval = 1 << 16;
    options.backend = backend;
    std::atomic<bool> stop_after_one{false};
    struct StopClock final : public Clock {
      const Clock& inner;
      std::atomic<bool>& flag;
      mutable int calls = 0;
      StopClock(const Clock& c, std::atomic<bool>& f) : inner(c), flag(f) {}
      std::uint64_t NowMs() const override {
        if (++calls > 1) flag = true;
        return inner.NowMs();
      }
    } stopper(clock, stop_after_one);
    const SearchResult r = SearchBlock(parent, "null", params, stopper, stop_after_one, options);
    attempts += r.attempts;
  }
  state.counters["hashes/s"] =
      benchmark::Counter(static_cast<double>(attempts), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SearchAttempts)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
