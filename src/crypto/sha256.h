// SHA-256.
//
// Two backends compute it: OpenSSL (portable; its own assembly where the CPU
// allows) and this project's code on the x86 SHA extensions (SHA-NI), which
// is used only when the CPU has them and a self-test, run once on first use,
// finds it agrees with OpenSSL. Every function without a backend parameter
// uses ActiveSha256Backend().
//
// Sha256Midstate holds the compression state after the first 64-byte block
// of a message, so a miner that varies only the bytes after offset 64 pays
// for the shared prefix once per job and then one compression per attempt.
// It is a plain value: copying it allocates nothing. ScanCounter is the
// miner's loop over a counter in the message's last 8 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace powchain {

enum class Sha256Backend { kOpenSsl, kShaNi };

std::string_view Sha256BackendName(Sha256Backend backend);

// True when `backend` can run on this CPU (kOpenSsl always).
bool Sha256BackendAvailable(Sha256Backend backend);

// kShaNi when the CPU has SHA-NI and the self-test passed, else kOpenSsl.
// The first call runs the self-test (well under a millisecond).
Sha256Backend ActiveSha256Backend();

// One line for the start-up log: the backend in use and why.
std::string DescribeSha256Backend();

// Compares the SHA-NI code with OpenSSL on fixed messages of many lengths
// and on counter scans that cross every lane and remainder case. False when
// the CPU lacks SHA-NI or any result differs.
bool ShaNiSelfTest();

Hash32 Sha256(ByteSpan data);
Hash32 Sha256(ByteSpan data, Sha256Backend backend);

class Sha256Midstate {
 public:
  // State after compressing `first_block`, the first 64 bytes of a message.
  explicit Sha256Midstate(std::span<const std::uint8_t, 64> first_block);

  // SHA-256 of first_block || tail, for a tail of exactly 32 bytes (the
  // second half of a 96-byte block header). One compression; no allocation.
  Hash32 Finish32(std::span<const std::uint8_t, 32> tail) const;
  Hash32 Finish32(std::span<const std::uint8_t, 32> tail, Sha256Backend backend) const;

  const std::array<std::uint32_t, 8>& words() const { return state_; }

 private:
  std::array<std::uint32_t, 8> state_;
};

struct Sha256ScanHit {
  std::uint64_t counter = 0;
  Hash32 hash{};
};

// Hashes first_block || tail with tail bytes 24..31 replaced by a
// little-endian counter, for counter = start, start + stride, ... (`count`
// values, modulo 2^64), and returns the first whose digest has at least
// `zero_bits` leading zero bits. With SHA-NI one counter costs less than a
// compression (the rounds over the fixed tail words are shared) and several
// are hashed at once; the OpenSSL backend pays one Finish32 each.
std::optional<Sha256ScanHit> ScanCounter(const Sha256Midstate& midstate,
                                         std::span<const std::uint8_t, 32> tail,
                                         std::uint64_t start, std::uint64_t stride,
                                         std::uint64_t count, std::uint32_t zero_bits,
                                         Sha256Backend backend = ActiveSha256Backend());

// The plain loop: one full compression per counter, one counter at a time,
// on either backend. It is the OpenSSL backend of ScanCounter, and the
// reference the SHA-NI kernel is measured and tested against.
std::optional<Sha256ScanHit> ScanCounterSingleStream(const Sha256Midstate& midstate,
                                                     std::span<const std::uint8_t, 32> tail,
                                                     std::uint64_t start, std::uint64_t stride,
                                                     std::uint64_t count, std::uint32_t zero_bits,
                                                     Sha256Backend backend);

}  // namespace powchain
