// Encryption at rest for wallet files: a key derived from a passphrase with
// scrypt (memory-hard, RFC 7914) and AES-256-GCM authenticated encryption,
// both through OpenSSL. Nothing here touches files; the wallet decides what
// is sealed and where it is kept.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "util/result.h"

namespace powchain {

using AeadKey = std::array<std::uint8_t, 32>;
using AeadNonce = std::array<std::uint8_t, 12>;
inline constexpr std::size_t kAeadTagBytes = 16;

// scrypt's cost parameters. The defaults take about 32 MiB and a tenth of a
// second; the limits bound what a (possibly hostile) file may ask for.
struct ScryptParams {
  static constexpr std::uint64_t kDefaultN = std::uint64_t{1} << 15;
  static constexpr std::uint64_t kMaxN = std::uint64_t{1} << 20;
  static constexpr std::uint32_t kMaxR = 16;
  static constexpr std::uint32_t kMaxP = 4;

  std::uint64_t n = kDefaultN;  // a power of two, at least 2
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};

// The 32-byte key scrypt derives from `passphrase` and `salt`; an error for
// parameters outside ScryptParams' limits or when OpenSSL fails.
Result<AeadKey> DeriveKeyScrypt(std::string_view passphrase, std::span<const std::uint8_t> salt,
                                const ScryptParams& params);

// AES-256-GCM of `plaintext` under `key` and `nonce`, authenticating `aad`
// as well: the ciphertext followed by the 16-byte tag. A nonce must never be
// used twice with one key.
std::string SealAes256Gcm(const AeadKey& key, const AeadNonce& nonce, std::string_view aad,
                          std::string_view plaintext);

// The plaintext, or nullopt when the tag does not match: a wrong key, or
// ciphertext, nonce or aad that were changed.
std::optional<std::string> OpenAes256Gcm(const AeadKey& key, const AeadNonce& nonce,
                                         std::string_view aad, std::string_view sealed);

// Fills `out` from OpenSSL's generator; aborts if it fails (as key
// generation does, crypto/schnorr.h).
void RandomBytes(std::span<std::uint8_t> out);

// Wipes `bytes` in a way the compiler may not remove (OPENSSL_cleanse).
void Cleanse(std::span<std::uint8_t> bytes);
void Cleanse(std::string& bytes);

}  // namespace powchain
