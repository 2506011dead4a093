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

namespace powchain {

Hash32 Sha256(ByteSpan data) {
  Hash32 out{};
  unsigned int len = 0;
  const int ok = EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  assert(ok == 1 && len == out.size());
  (void)ok;
  return out;
}

Sha256Midstate::Sha256Midstate(std::span<const std::uint8_t, 64> first_block) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Transform(&ctx, first_block.data());
  std::memcpy(state_.data(), ctx.h, sizeof(ctx.h));
}

Hash32 Sha256Midstate::Finish32(std::span<const std::uint8_t, 32> tail) const {
  // The second block: 32 tail bytes, the 0x80 terminator, zeros, and the
  // message length in bits (96 * 8 = 768) as a big-endian 64-bit integer.
  std::uint8_t block[64] = {};
  std::memcpy(block, tail.data(), 32);
  block[32] = 0x80;
  block[62] = 0x03;  // 768 = 0x0300
  block[63] = 0x00;

  SHA256_CTX ctx;
  std::memcpy(ctx.h, state_.data(), sizeof(ctx.h));
  SHA256_Transform(&ctx, block);

  Hash32 out;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint32_t w = ctx.h[i];
    out[4 * i] = static_cast<std::uint8_t>(w >> 24);
    out[4 * i + 1] = static_cast<std::uint8_t>(w >> 16);
    out[4 * i + 2] = static_cast<std::uint8_t>(w >> 8);
    out[4 * i + 3] = static_cast<std::uint8_t>(w);
  }
  return out;
}

}  // namespace powchain
