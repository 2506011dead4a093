// SHA-256 on the x86 SHA extensions (SHA-NI). Internal to src/crypto and its
// tests: callers go through sha256.h, which picks this code only when the CPU
// has the extensions and the start-up self-test agrees with OpenSSL.
//
// Every function here executes SHA-NI instructions: calling one on a CPU
// without them is an illegal instruction. CpuHasShaNi() is the only guard.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace powchain::shani {

// Leading zero bits of a digest given as its eight big-endian words.
inline unsigned LeadingZeroBitsOfWords(const std::array<std::uint32_t, 8>& words) {
  unsigned bits = 0;
  for (const std::uint32_t w : words) {
    if (w != 0) return bits + static_cast<unsigned>(std::countl_zero(w));
    bits += 32;
  }
  return bits;
}

// CPUID: SHA, SSSE3 and SSE4.1 present. False on other architectures.
bool CpuHasShaNi();

// Compresses `blocks` consecutive 64-byte blocks into `state` (the eight
// SHA-256 state words, h0..h7).
void Transform(std::array<std::uint32_t, 8>& state, const std::uint8_t* data, std::size_t blocks);

struct CounterHit {
  std::uint64_t counter;
  std::array<std::uint32_t, 8> state;  // the digest words after the final compression
};

// The mining kernel. The message is 96 bytes: a first 64-byte block already
// compressed into `midstate`, then a 32-byte `tail` whose last 8 bytes are a
// little-endian counter. Tries counter = start, start + stride, ... (`count`
// values, wrapping modulo 2^64) and returns the first whose digest has at
// least `zero_bits` leading zero bits.
//
// Per counter value it pays one compression, less the first six rounds,
// which depend only on tail bytes 0..23 and are done once per call. Several
// counters are hashed side by side to hide the latency of the round
// instruction. Only the first digest word is compared until one passes.
std::optional<CounterHit> ScanCounter(const std::array<std::uint32_t, 8>& midstate,
                                      const std::array<std::uint8_t, 32>& tail, std::uint64_t start,
                                      std::uint64_t stride, std::uint64_t count,
                                      std::uint32_t zero_bits);

}  // namespace powchain::shani
