// BIP 340 Schnorr signatures through crypto/schnorr.h (libsecp256k1 with one
// shared, randomized context): verification, the raw rate later figures
// compare against; signing with fresh auxiliary randomness, as the node
// signs; and parsing an x-only key, the part of VerifySchnorr that is not
// secp256k1_schnorrsig_verify itself (so the library's bare verify costs
// about BM_SchnorrVerify minus BM_XOnlyPubKeyParse; secp256k1 headers are
// kept inside crypto/, so it is not called directly here).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "crypto/schnorr.h"

namespace powchain {
namespace {

// 64 distinct keys, messages and signatures, cycled through so that no
// single input sits in the caches the whole time.
struct Signed {
  XOnlyPubKey key;
  Hash32 msg;
  SchnorrSig sig;
};

const std::vector<Signed>& Inputs() {
  static const std::vector<Signed> inputs = [] {
    std::vector<Signed> v;
    for (std::size_t i = 0; i < 64; ++i) {
      const SecretKey key = SecretKey::Generate();
      Hash32 msg;
      for (std::size_t j = 0; j < msg.size(); ++j) msg[j] = static_cast<std::uint8_t>(i * 31 + j);
      v.push_back({PublicKeyOf(key), msg, SignSchnorr(key, msg)});
    }
    return v;
  }();
  return inputs;
}

void BM_SchnorrVerify(benchmark::State& state) {
  const std::vector<Signed>& inputs = Inputs();
  std::size_t i = 0;
  for (auto _ : state) {
    const Signed& s = inputs[i++ % inputs.size()];
    const bool ok = VerifySchnorr(s.key, s.msg, s.sig);
    benchmark::DoNotOptimize(ok);
    if (!ok) return state.SkipWithError("a valid signature failed to verify");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchnorrVerify);

void BM_SchnorrSign(benchmark::State& state) {
  const SecretKey key = SecretKey::Generate();
  Hash32 msg{};
  std::uint64_t counter = 0;
  for (auto _ : state) {
    WriteLE64(msg.data(), counter++);
    benchmark::DoNotOptimize(SignSchnorr(key, msg));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchnorrSign);

void BM_XOnlyPubKeyParse(benchmark::State& state) {
  const std::vector<Signed>& inputs = Inputs();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(IsValidXOnlyPubKey(inputs[i++ % inputs.size()].key));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_XOnlyPubKeyParse);

}  // namespace
}  // namespace powchain
