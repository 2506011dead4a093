// SHA-256 over a 96-byte header: the one-shot EVP digest, the midstate path
// the miner uses, and (for comparison) an EVP context copy per attempt,
// which is what reusing a midstate through EVP alone would cost.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "crypto/sha256.h"
#include "primitives/block.h"

namespace powchain {
namespace {

std::array<std::uint8_t, 96> Header() {
  std::array<std::uint8_t, 96> h;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(i * 7);
  return h;
}

void BM_Sha256OneShot96(benchmark::State& state) {
  auto h = Header();
  for (auto _ : state) {
    h[95]++;
    benchmark::DoNotOptimize(Sha256(h));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256OneShot96);

void BM_Sha256Midstate(benchmark::State& state) {
  auto h = Header();
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(h.data(), 64));
  for (auto _ : state) {
    h[95]++;
    benchmark::DoNotOptimize(mid.Finish32(std::span<const std::uint8_t, 32>(h.data() + 64, 32)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256Midstate);

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

void BM_HeaderHash(benchmark::State& state) {
  BlockHeader header;
  header.height = 12345;
  header.timestamp = 1735689600000;
  header.difficulty = 16;
  for (auto _ : state) {
    ++header.nonce;
    benchmark::DoNotOptimize(header.ComputeHash());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeaderHash);

}  // namespace
}  // namespace powchain
