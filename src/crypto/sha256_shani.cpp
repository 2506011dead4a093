#include "crypto/sha256_shani.h"

#if defined(__x86_64__) || defined(__i386__)
#define POWCHAIN_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define POWCHAIN_SHANI 0
#endif

#include <cstring>

namespace powchain::shani {

#if POWCHAIN_SHANI

// Only the functions marked with this attribute may execute SHA-NI or
// SSE4.1 instructions; the rest of the program is built for the baseline CPU.
#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

namespace {

alignas(16) constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// The round instructions keep the state in two registers, lanes high to
// low: ABEF = (a, b, e, f) and CDGH = (c, d, g, h).
struct State {
  __m128i abef;
  __m128i cdgh;
};

SHANI_TARGET inline __m128i K4(int group) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(&kK[4 * group]));
}

SHANI_TARGET inline State Load(const std::array<std::uint32_t, 8>& words) {
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&words[0]));
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&words[4]));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  return State{_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0)};
}

SHANI_TARGET inline void Store(const State& s, std::array<std::uint32_t, 8>& words) {
  const __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&words[0]), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&words[4]), _mm_alignr_epi8(dchg, feba, 8));
}

// The first state word, a, as the digest's first four bytes read big-endian.
SHANI_TARGET inline std::uint32_t FirstWord(const State& s) {
  return static_cast<std::uint32_t>(_mm_extract_epi32(s.abef, 3));
}

// Four rounds; `wk` holds W[t..t+3] + K[t..t+3].
SHANI_TARGET inline void Rounds4(State& s, __m128i wk) {
  const __m128i abef2 = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
  s.cdgh = s.abef;
  s.abef = _mm_sha256rnds2_epu32(s.cdgh, abef2, _mm_shuffle_epi32(wk, 0x0E));
  s.cdgh = abef2;
}

// Two rounds on the low two lanes of `wk`.
SHANI_TARGET inline void Rounds2(State& s, __m128i wk) {
  const __m128i abef2 = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
  s.cdgh = s.abef;
  s.abef = abef2;
}

// W[t..t+3] from W[t-16..t-1], given as four groups oldest first.
SHANI_TARGET inline __m128i Schedule(__m128i w16, __m128i w12, __m128i w8, __m128i w4) {
  const __m128i w7 = _mm_alignr_epi8(w4, w8, 4);
  return _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), w7), w4);
}

SHANI_TARGET inline __m128i LoadBigEndian(const std::uint8_t* p) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), swap);
}

SHANI_TARGET void TransformImpl(std::array<std::uint32_t, 8>& words, const std::uint8_t* data,
                                std::size_t blocks) {
  State s = Load(words);
  for (; blocks > 0; --blocks, data += 64) {
    const State start = s;
    __m128i w[4] = {LoadBigEndian(data), LoadBigEndian(data + 16), LoadBigEndian(data + 32),
                    LoadBigEndian(data + 48)};
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      if (g >= 4) w[g & 3] = Schedule(w[g & 3], w[(g + 1) & 3], w[(g + 2) & 3], w[(g + 3) & 3]);
      Rounds4(s, _mm_add_epi32(w[g & 3], K4(g)));
    }
    s.abef = _mm_add_epi32(s.abef, start.abef);
    s.cdgh = _mm_add_epi32(s.cdgh, start.cdgh);
  }
  Store(s, words);
}

std::uint32_t ReadBE32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// What one ScanCounter call computes once: everything that does not depend
// on the counter (tail words 6 and 7).
struct Job {
  State midstate;  // added back after the last round
  State after6;    // state after rounds 0..5 (words 0..5 are fixed)
  std::uint32_t w4, w5;
  __m128i w8_11;   // padding: 0x80000000, 0, 0, 0
  __m128i w12_15;  // 0, 0, 0, 768 (the message length in bits)
  __m128i w16_19;  // depends only on words 0..4, 9..15
};

SHANI_TARGET Job Prepare(const std::array<std::uint32_t, 8>& midstate,
                         const std::array<std::uint8_t, 32>& tail) {
  Job job;
  job.midstate = Load(midstate);
  std::uint32_t w[6];
  for (int i = 0; i < 6; ++i) w[i] = ReadBE32(tail.data() + 4 * i);
  job.w4 = w[4];
  job.w5 = w[5];
  const __m128i w0_3 = _mm_set_epi32(static_cast<int>(w[3]), static_cast<int>(w[2]),
                                     static_cast<int>(w[1]), static_cast<int>(w[0]));
  job.w8_11 = _mm_set_epi32(0, 0, 0, static_cast<int>(0x80000000u));
  job.w12_15 = _mm_set_epi32(96 * 8, 0, 0, 0);
  // Schedule() reads only lane 0 of its second operand, so words 6 and 7
  // (unknown here) do not affect words 16..19.
  const __m128i w4_7 = _mm_set_epi32(0, 0, static_cast<int>(w[5]), static_cast<int>(w[4]));
  job.w16_19 = Schedule(w0_3, w4_7, job.w8_11, job.w12_15);
  State s = job.midstate;
  Rounds4(s, _mm_add_epi32(w0_3, K4(0)));
  Rounds2(s, _mm_add_epi32(w4_7, K4(1)));
  job.after6 = s;
  return job;
}

// Compresses the tail for N counters side by side. The lanes do not depend
// on each other, so the core overlaps their round instructions.
template <int N>
SHANI_TARGET inline void CompressN(const Job& job, const std::uint64_t* counters, State* out) {
  State s[N];
  __m128i w[N][4];
#pragma GCC unroll 8
  for (int l = 0; l < N; ++l) {
    const std::uint32_t w6 = __builtin_bswap32(static_cast<std::uint32_t>(counters[l]));
    const std::uint32_t w7 = __builtin_bswap32(static_cast<std::uint32_t>(counters[l] >> 32));
    s[l] = job.after6;
    const std::uint64_t wk67 = (std::uint64_t{w7 + kK[7]} << 32) | (w6 + kK[6]);
    Rounds2(s[l], _mm_cvtsi64_si128(static_cast<long long>(wk67)));
    w[l][1] = _mm_set_epi32(static_cast<int>(w7), static_cast<int>(w6), static_cast<int>(job.w5),
                            static_cast<int>(job.w4));
    w[l][2] = job.w8_11;
    w[l][3] = job.w12_15;
    w[l][0] = job.w16_19;
  }
  // Groups 2..4 use fixed words.
  const __m128i wk2 = _mm_add_epi32(job.w8_11, K4(2));
  const __m128i wk3 = _mm_add_epi32(job.w12_15, K4(3));
  const __m128i wk4 = _mm_add_epi32(job.w16_19, K4(4));
#pragma GCC unroll 8
  for (int l = 0; l < N; ++l) Rounds4(s[l], wk2);
#pragma GCC unroll 8
  for (int l = 0; l < N; ++l) Rounds4(s[l], wk3);
#pragma GCC unroll 8
  for (int l = 0; l < N; ++l) Rounds4(s[l], wk4);
#pragma GCC unroll 16
  for (int g = 5; g < 16; ++g) {
#pragma GCC unroll 8
    for (int l = 0; l < N; ++l) {
      w[l][g & 3] =
          Schedule(w[l][(g + 0) & 3], w[l][(g + 1) & 3], w[l][(g + 2) & 3], w[l][(g + 3) & 3]);
      Rounds4(s[l], _mm_add_epi32(w[l][g & 3], K4(g)));
    }
  }
#pragma GCC unroll 8
  for (int l = 0; l < N; ++l) {
    out[l].abef = _mm_add_epi32(s[l].abef, job.midstate.abef);
    out[l].cdgh = _mm_add_epi32(s[l].cdgh, job.midstate.cdgh);
  }
}

// Lanes per thread. Measured with bench_sha256 (BM_ScanCounter/1), alternating
// builds: 1 lane 51 M/s, 2 lanes 65, 3 lanes 68, 4 lanes 69, 6 lanes 68,
// 8 lanes 71. Four is on the plateau; more lanes spill registers (the SHA
// instructions address only 16 XMM registers) and gain nothing worth it.
constexpr int kLanes = 4;

template <int N>
SHANI_TARGET std::optional<CounterHit> ScanImpl(const Job& job, std::uint64_t& counter,
                                                std::uint64_t stride, std::uint64_t& remaining,
                                                std::uint32_t mask, std::uint32_t zero_bits) {
  std::uint64_t counters[N];
  State out[N];
  while (remaining >= N) {
#pragma GCC unroll 8
    for (int l = 0; l < N; ++l) counters[l] = counter + static_cast<std::uint64_t>(l) * stride;
    CompressN<N>(job, counters, out);
    for (int l = 0; l < N; ++l) {
      if ((FirstWord(out[l]) & mask) != 0) continue;
      CounterHit hit{counters[l], {}};
      Store(out[l], hit.state);
      if (LeadingZeroBitsOfWords(hit.state) >= zero_bits) return hit;
    }
    counter += static_cast<std::uint64_t>(N) * stride;
    remaining -= N;
  }
  return std::nullopt;
}

SHANI_TARGET std::optional<CounterHit> ScanCounterImpl(const std::array<std::uint32_t, 8>& midstate,
                                                       const std::array<std::uint8_t, 32>& tail,
                                                       std::uint64_t start, std::uint64_t stride,
                                                       std::uint64_t count,
                                                       std::uint32_t zero_bits) {
  const Job job = Prepare(midstate, tail);
  // Bits of the first word that must be zero: all of them from 32 bits on;
  // a candidate that passes this test is then checked on the whole digest.
  const std::uint32_t mask = zero_bits == 0    ? 0u
                             : zero_bits >= 32 ? 0xffffffffu
                                               : ~(0xffffffffu >> zero_bits);
  std::uint64_t counter = start;
  std::uint64_t remaining = count;
  if (auto hit = ScanImpl<kLanes>(job, counter, stride, remaining, mask, zero_bits)) return hit;
  return ScanImpl<1>(job, counter, stride, remaining, mask, zero_bits);
}

}  // namespace

bool CpuHasShaNi() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool ssse3 = (ecx & bit_SSSE3) != 0;
  const bool sse41 = (ecx & bit_SSE4_1) != 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool sha = (ebx & bit_SHA) != 0;
  return ssse3 && sse41 && sha;
}

void Transform(std::array<std::uint32_t, 8>& state, const std::uint8_t* data, std::size_t blocks) {
  TransformImpl(state, data, blocks);
}

std::optional<CounterHit> ScanCounter(const std::array<std::uint32_t, 8>& midstate,
                                      const std::array<std::uint8_t, 32>& tail, std::uint64_t start,
                                      std::uint64_t stride, std::uint64_t count,
                                      std::uint32_t zero_bits) {
  return ScanCounterImpl(midstate, tail, start, stride, count, zero_bits);
}

#else  // !POWCHAIN_SHANI

bool CpuHasShaNi() { return false; }

void Transform(std::array<std::uint32_t, 8>&, const std::uint8_t*, std::size_t) {
  __builtin_trap();
}

std::optional<CounterHit> ScanCounter(const std::array<std::uint32_t, 8>&,
                                      const std::array<std::uint8_t, 32>&, std::uint64_t,
                                      std::uint64_t, std::uint64_t, std::uint32_t) {
  __builtin_trap();
}

#endif

}  // namespace powchain::shani
