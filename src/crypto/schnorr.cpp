#include "crypto/schnorr.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace powchain {
namespace {

// Fills `out` from OpenSSL's generator; aborts if it fails (see schnorr.h).
void RandomOrAbort(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

// The process-wide context (see schnorr.h): created and randomized once,
// const afterwards, never destroyed.
const secp256k1_context* Context() {
  static const secp256k1_context* const context = [] {
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (ctx == nullptr) std::abort();
    std::array<std::uint8_t, 32> seed;
    RandomOrAbort(seed);
    const int randomized = secp256k1_context_randomize(ctx, seed.data());
    OPENSSL_cleanse(seed.data(), seed.size());
    if (randomized != 1) std::abort();
    return ctx;
  }();
  return context;
}

// A secp256k1_keypair (which holds the secret key) wiped on destruction.
class KeyPair {
 public:
  explicit KeyPair(const SecretKey& key) {
    // A SecretKey is valid by construction; only a moved-from one (all
    // zero) fails here, and using one is a programmer error.
    if (secp256k1_keypair_create(Context(), &pair_, key.bytes().data()) != 1) std::abort();
  }
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;
  ~KeyPair() { OPENSSL_cleanse(&pair_, sizeof pair_); }

  const secp256k1_keypair* get() const { return &pair_; }

 private:
  secp256k1_keypair pair_;
};

}  // namespace

std::optional<SecretKey> SecretKey::FromBytes(std::span<const std::uint8_t, 32> bytes) {
  if (secp256k1_ec_seckey_verify(Context(), bytes.data()) != 1) return std::nullopt;
  SecretKey key;
  std::copy(bytes.begin(), bytes.end(), key.bytes_.begin());
  return key;
}

SecretKey SecretKey::Generate() {
  std::array<std::uint8_t, 32> candidate;
  for (;;) {
    RandomOrAbort(candidate);
    std::optional<SecretKey> key = FromBytes(candidate);
    if (key) {
      OPENSSL_cleanse(candidate.data(), candidate.size());
      return std::move(*key);
    }
  }
}

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) {
  OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

XOnlyPubKey PublicKeyOf(const SecretKey& key) {
  const KeyPair pair(key);
  secp256k1_xonly_pubkey pub;
  if (secp256k1_keypair_xonly_pub(Context(), &pub, nullptr, pair.get()) != 1) std::abort();
  XOnlyPubKey out;
  if (secp256k1_xonly_pubkey_serialize(Context(), out.data(), &pub) != 1) std::abort();
  return out;
}

SchnorrSig SignSchnorr(const SecretKey& key, const Hash32& msg) {
  Hash32 aux_rand;
  RandomOrAbort(aux_rand);
  return SignSchnorr(key, msg, aux_rand);
}

SchnorrSig SignSchnorr(const SecretKey& key, const Hash32& msg, const Hash32& aux_rand) {
  const KeyPair pair(key);
  SchnorrSig sig;
  // Fails only for an invalid keypair, which KeyPair rules out.
  if (secp256k1_schnorrsig_sign32(Context(), sig.data(), msg.data(), pair.get(), aux_rand.data()) !=
      1) {
    std::abort();
  }
  return sig;
}

bool VerifySchnorr(const XOnlyPubKey& key, const Hash32& msg, const SchnorrSig& sig) {
  secp256k1_xonly_pubkey pub;
  if (secp256k1_xonly_pubkey_parse(Context(), &pub, key.data()) != 1) return false;
  return secp256k1_schnorrsig_verify(Context(), sig.data(), msg.data(), msg.size(), &pub) == 1;
}

bool IsValidXOnlyPubKey(const XOnlyPubKey& key) {
  secp256k1_xonly_pubkey pub;
  return secp256k1_xonly_pubkey_parse(Context(), &pub, key.data()) == 1;
}

}  // namespace powchain
