// SHA-256 over a 96-byte header on each backend (OpenSSL, SHA-NI): the
// one-shot digest, one compression over a midstate, the miner's counter scan,
// and (for comparison) an EVP context copy per attempt, which is what reusing
// a midstate through EVP alone would cost.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <string>

#include "crypto/sha256.h"

namespace powchain {
namespace {

std::array<std::uint8_t, 96> Header() {
  std::array<std::uint8_t, 96> h;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(i * 7);
  return h;
}

// Argument 0: OpenSSL; 1: SHA-NI (skipped where the CPU lacks it).
Sha256Backend BackendArg(benchmark::State& state) {
  const auto backend = state.range(0) == 0 ? Sha256Backend::kOpenSsl : Sha256Backend::kShaNi;
  state.SetLabel(std::string(Sha256BackendName(backend)));
  return backend;
}

void BM_Sha256OneShot96(benchmark::State& state) {
  const Sha256Backend backend = BackendArg(state);
  if (!Sha256BackendAvailable(backend)) return state.SkipWithError("backend unavailable");
  auto h = Header();
  for (auto _ : state) {
    h[95]++;
    benchmark::DoNotOptimize(Sha256(h, backend));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256OneShot96)->Arg(0)->Arg(1);

// One compression per attempt over the midstate, one attempt at a time:
// with SHA-NI this is the plain single-stream loop.
void BM_Sha256Midstate(benchmark::State& state) {
  const Sha256Backend backend = BackendArg(state);
  if (!Sha256BackendAvailable(backend)) return state.SkipWithError("backend unavailable");
  auto h = Header();
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(h.data(), 64));
  for (auto _ : state) {
    h[95]++;
    benchmark::DoNotOptimize(
        mid.Finish32(std::span<const std::uint8_t, 32>(h.data() + 64, 32), backend));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256Midstate)->Arg(0)->Arg(1);

// 65,536 counters per call at a difficulty none meets, through `scan`.
template <typename Scan>
void RunScan(benchmark::State& state, Scan scan) {
  const Sha256Backend backend = BackendArg(state);
  if (!Sha256BackendAvailable(backend)) return state.SkipWithError("backend unavailable");
  const auto h = Header();
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(h.data(), 64));
  const std::span<const std::uint8_t, 32> tail(h.data() + 64, 32);
  constexpr std::uint64_t kCount = 1 << 16;
  std::uint64_t start = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(scan(mid, tail, start, 1, kCount, 250, backend));
    start += kCount;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kCount));
}

// The miner's kernel (with OpenSSL it is the plain loop below).
void BM_ScanCounter(benchmark::State& state) {
  RunScan(state, [](auto&&... args) { return ScanCounter(args...); });
}
BENCHMARK(BM_ScanCounter)->Arg(0)->Arg(1);

// The reference: the same scan as a plain loop, one full compression per
// counter, one counter at a time.
void BM_ScanCounterSingleStream(benchmark::State& state) {
  RunScan(state, [](auto&&... args) { return ScanCounterSingleStream(args...); });
}
BENCHMARK(BM_ScanCounterSingleStream)->Arg(0)->Arg(1);

void BM_Sha256EvpContextCopy(benchmark::State& state) {
  auto h = Header();
  EVP_MD_CTX* mid = EVP_MD_CTX_new();
  EVP_MD_CTX* work = EVP_MD_CTX_new();
  EVP_DigestInit_ex(mid, EVP_sha256(), nullptr);
  EVP_DigestUpdate(mid, h.data(), 64);
  std::array<std::uint8_t, 32> out;
  unsigned int len = 0;
  for (auto _ : state) {
    h[95]++;
    EVP_MD_CTX_copy_ex(work, mid);
    EVP_DigestUpdate(work, h.data() + 64, 32);
    EVP_DigestFinal_ex(work, out.data(), &len);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_CTX_free(work);
  EVP_MD_CTX_free(mid);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256EvpContextCopy);

}  // namespace
}  // namespace powchain
