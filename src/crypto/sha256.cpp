#include "crypto/sha256.h"

// The midstate needs the raw compression function. OpenSSL 3 keeps it only in
// the deprecated SHA256_* interface; EVP_MD_CTX_copy_ex would allocate a new
// provider context on every attempt. SHA256_Transform still dispatches to
// OpenSSL's assembly (SHA-NI, AVX2) like EVP does.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cassert>
#include <cstring>
#include <vector>

#include "crypto/sha256_shani.h"

namespace powchain {
namespace {

constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

Hash32 WordsToHash(const std::array<std::uint32_t, 8>& words) {
  Hash32 out;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint32_t w = words[i];
    out[4 * i] = static_cast<std::uint8_t>(w >> 24);
    out[4 * i + 1] = static_cast<std::uint8_t>(w >> 16);
    out[4 * i + 2] = static_cast<std::uint8_t>(w >> 8);
    out[4 * i + 3] = static_cast<std::uint8_t>(w);
  }
  return out;
}

// The second block of a 96-byte message: the 32 tail bytes, the 0x80
// terminator, zeros, and the length in bits (768) as a big-endian integer.
std::array<std::uint8_t, 64> FinalBlockOf96(std::span<const std::uint8_t, 32> tail) {
  std::array<std::uint8_t, 64> block{};
  std::memcpy(block.data(), tail.data(), 32);
  block[32] = 0x80;
  block[62] = 0x03;  // 768 = 0x0300
  return block;
}

Hash32 Sha256OpenSsl(ByteSpan data) {
  // Fetched once: EVP_sha256() alone makes every digest look the
  // implementation up again.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Hash32 out{};
  unsigned int len = 0;
  const int ok = EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  assert(ok == 1 && len == out.size());
  (void)ok;
  return out;
}

Hash32 Sha256ShaNi(ByteSpan data) {
  std::array<std::uint32_t, 8> state = kInitialState;
  const std::size_t full = data.size() / 64;
  if (full > 0) shani::Transform(state, data.data(), full);
  const std::size_t rest = data.size() - full * 64;
  std::uint8_t last[128] = {};
  if (rest > 0) std::memcpy(last, data.data() + full * 64, rest);
  last[rest] = 0x80;
  const std::size_t blocks = rest + 9 <= 64 ? 1 : 2;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) {
    last[blocks * 64 - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  }
  shani::Transform(state, last, blocks);
  return WordsToHash(state);
}

// A fixed pseudo-random byte stream for the self-test.
std::vector<std::uint8_t> TestBytes(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> out(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

}  // namespace

std::string_view Sha256BackendName(Sha256Backend backend) {
  return backend == Sha256Backend::kShaNi ? "sha-ni" : "openssl";
}

bool Sha256BackendAvailable(Sha256Backend backend) {
  if (backend == Sha256Backend::kOpenSsl) return true;
  static const bool has = shani::CpuHasShaNi();
  return has;
}

bool ShaNiSelfTest() {
  if (!Sha256BackendAvailable(Sha256Backend::kShaNi)) return false;
  // Every padding case: empty, one block, the 55/56 boundary, several blocks.
  for (const std::size_t len : {0, 1, 3, 55, 56, 63, 64, 65, 96, 119, 120, 128, 200, 1000}) {
    const auto msg = TestBytes(len, static_cast<std::uint32_t>(len));
    if (Sha256ShaNi(msg) != Sha256OpenSsl(msg)) return false;
  }
  const auto msg = TestBytes(96, 7);
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(msg.data(), 64));
  const std::span<const std::uint8_t, 32> tail(msg.data() + 64, 32);
  if (mid.Finish32(tail, Sha256Backend::kShaNi) != Sha256OpenSsl(msg)) return false;
  // Scans: every counter passes at zero bits (first lane, then each
  // remainder length); a real search at 8 bits must find the same counter
  // and digest as OpenSSL, with high counter words and a stride.
  for (std::uint64_t count = 1; count <= 5; ++count) {
    for (std::uint64_t skip = 0; skip < count; ++skip) {
      const std::uint64_t start = 0x0123456789abcdefULL + skip;
      const auto a = ScanCounter(mid, tail, start, 1, count - skip, 0, Sha256Backend::kShaNi);
      const auto b =
          ScanCounterSingleStream(mid, tail, start, 1, count - skip, 0, Sha256Backend::kOpenSsl);
      if (!a || !b || a->counter != b->counter || a->hash != b->hash) return false;
    }
  }
  for (const std::uint64_t stride : {1ULL, 3ULL}) {
    const std::uint64_t start = 0xfffffffffffff000ULL;  // crosses 2^64
    const auto a = ScanCounter(mid, tail, start, stride, 1 << 14, 10, Sha256Backend::kShaNi);
    const auto b =
        ScanCounterSingleStream(mid, tail, start, stride, 1 << 14, 10, Sha256Backend::kOpenSsl);
    if (a.has_value() != b.has_value()) return false;
    if (a && (a->counter != b->counter || a->hash != b->hash)) return false;
  }
  return true;
}

Sha256Backend ActiveSha256Backend() {
  static const Sha256Backend active =
      ShaNiSelfTest() ? Sha256Backend::kShaNi : Sha256Backend::kOpenSsl;
  return active;
}

std::string DescribeSha256Backend() {
  if (ActiveSha256Backend() == Sha256Backend::kShaNi) {
    return "sha-ni (self-test against openssl passed)";
  }
  if (!Sha256BackendAvailable(Sha256Backend::kShaNi)) return "openssl (no SHA-NI on this cpu)";
  return "openssl (SHA-NI self-test FAILED; not used)";
}

Hash32 Sha256(ByteSpan data) { return Sha256(data, ActiveSha256Backend()); }

Hash32 Sha256(ByteSpan data, Sha256Backend backend) {
  return backend == Sha256Backend::kShaNi ? Sha256ShaNi(data) : Sha256OpenSsl(data);
}

Sha256Midstate::Sha256Midstate(std::span<const std::uint8_t, 64> first_block) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Transform(&ctx, first_block.data());
  std::memcpy(state_.data(), ctx.h, sizeof(ctx.h));
}

Hash32 Sha256Midstate::Finish32(std::span<const std::uint8_t, 32> tail) const {
  return Finish32(tail, ActiveSha256Backend());
}

Hash32 Sha256Midstate::Finish32(std::span<const std::uint8_t, 32> tail,
                                Sha256Backend backend) const {
  const std::array<std::uint8_t, 64> block = FinalBlockOf96(tail);
  if (backend == Sha256Backend::kShaNi) {
    std::array<std::uint32_t, 8> state = state_;
    shani::Transform(state, block.data(), 1);
    return WordsToHash(state);
  }
  SHA256_CTX ctx;
  std::memcpy(ctx.h, state_.data(), sizeof(ctx.h));
  SHA256_Transform(&ctx, block.data());
  std::array<std::uint32_t, 8> state;
  std::memcpy(state.data(), ctx.h, sizeof(ctx.h));
  return WordsToHash(state);
}

std::optional<Sha256ScanHit> ScanCounter(const Sha256Midstate& midstate,
                                         std::span<const std::uint8_t, 32> tail,
                                         std::uint64_t start, std::uint64_t stride,
                                         std::uint64_t count, std::uint32_t zero_bits,
                                         Sha256Backend backend) {
  if (backend != Sha256Backend::kShaNi) {
    return ScanCounterSingleStream(midstate, tail, start, stride, count, zero_bits, backend);
  }
  std::array<std::uint8_t, 32> buf;
  std::memcpy(buf.data(), tail.data(), buf.size());
  const auto hit = shani::ScanCounter(midstate.words(), buf, start, stride, count, zero_bits);
  if (!hit) return std::nullopt;
  return Sha256ScanHit{hit->counter, WordsToHash(hit->state)};
}

std::optional<Sha256ScanHit> ScanCounterSingleStream(const Sha256Midstate& midstate,
                                                     std::span<const std::uint8_t, 32> tail,
                                                     std::uint64_t start, std::uint64_t stride,
                                                     std::uint64_t count, std::uint32_t zero_bits,
                                                     Sha256Backend backend) {
  std::array<std::uint8_t, 64> block = FinalBlockOf96(tail);
  // Bits of the first word that must be zero (all 32 from 32 bits on).
  const std::uint32_t mask = zero_bits == 0    ? 0u
                             : zero_bits >= 32 ? 0xffffffffu
                                               : ~(0xffffffffu >> zero_bits);
  std::uint64_t counter = start;
  for (std::uint64_t i = 0; i < count; ++i, counter += stride) {
    WriteLE64(block.data() + 24, counter);
    std::array<std::uint32_t, 8> state = midstate.words();
    if (backend == Sha256Backend::kShaNi) {
      shani::Transform(state, block.data(), 1);
    } else {
      SHA256_CTX ctx;
      std::memcpy(ctx.h, state.data(), sizeof(ctx.h));
      SHA256_Transform(&ctx, block.data());
      std::memcpy(state.data(), ctx.h, sizeof(ctx.h));
    }
    if ((state[0] & mask) != 0) continue;
    if (shani::LeadingZeroBitsOfWords(state) >= zero_bits)
      return Sha256ScanHit{counter, WordsToHash(state)};
  }
  return std::nullopt;
}

}  // namespace powchain
