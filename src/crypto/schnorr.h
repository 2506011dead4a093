// Secret keys, x-only public keys and BIP 340 Schnorr signatures over
// secp256k1, through libsecp256k1 (its extrakeys and schnorrsig modules).
//
// One libsecp256k1 context serves the whole process. It is created on first
// use (a function-local static, so its creation is thread-safe), randomized
// once with secp256k1_context_randomize from a 32-byte seed drawn from
// OpenSSL's RAND_bytes (blinding against side channels in signing and key
// derivation), and from then on only ever passed as `const
// secp256k1_context*`. libsecp256k1 guarantees that calls taking a const
// context may run on many threads at once, so every function here is safe to
// call concurrently without a lock. The context is never destroyed (it lives
// until the process exits, so no caller can outlive it).
//
// Failure of the random number generator (RAND_bytes), which no caller can
// handle sensibly, aborts the process: in Generate(), in the one-argument
// SignSchnorr() and in creating the context.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "util/bytes.h"

namespace powchain {

// A BIP 340 public key: the 32-byte x coordinate of a point whose y is even.
using XOnlyPubKey = std::array<std::uint8_t, 32>;
// A BIP 340 signature: R's x coordinate, then s (32 bytes each, big-endian).
using SchnorrSig = std::array<std::uint8_t, 64>;

// A valid secp256k1 secret key (an integer in [1, n-1], 32 bytes
// big-endian). The bytes are wiped (OPENSSL_cleanse) when the object is
// destroyed. Move-only: moving transfers the bytes and wipes the source,
// which must not be used for signing afterwards.
class SecretKey {
 public:
  // nullopt when `bytes` is zero or not below the curve order.
  static std::optional<SecretKey> FromBytes(std::span<const std::uint8_t, 32> bytes);
  // 32 bytes from RAND_bytes, drawn again until they form a valid key.
  static SecretKey Generate();

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  std::span<const std::uint8_t, 32> bytes() const { return bytes_; }

 private:
  SecretKey() = default;

  std::array<std::uint8_t, 32> bytes_{};
};

XOnlyPubKey PublicKeyOf(const SecretKey& key);

// BIP 340 signature of the 32-byte message `msg`, with 32 bytes of fresh
// auxiliary randomness from RAND_bytes.
SchnorrSig SignSchnorr(const SecretKey& key, const Hash32& msg);
// The same with the caller's auxiliary randomness: deterministic, for the
// BIP 340 test vectors. Outside tests use the overload above.
SchnorrSig SignSchnorr(const SecretKey& key, const Hash32& msg, const Hash32& aux_rand);

// True when `sig` is a valid BIP 340 signature of `msg` under `key`; false
// as well when `key` is not the x coordinate of a point on the curve.
bool VerifySchnorr(const XOnlyPubKey& key, const Hash32& msg, const SchnorrSig& sig);

// True when `key` is the x coordinate (below the field size) of a point on
// secp256k1.
bool IsValidXOnlyPubKey(const XOnlyPubKey& key);

}  // namespace powchain
