#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

namespace powchain {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The cipher context set up for AES-256-GCM with `key` and `nonce`, the
// additional data already fed in; aborts when OpenSSL cannot do so (it
// only fails on allocation).
CipherCtx StartGcm(bool encrypt, const AeadKey& key, const AeadNonce& nonce, std::string_view aad) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  const bool ok =
      ctx != nullptr &&
      EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0) ==
          1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) == 1 &&
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data(), -1) == 1 &&
      (aad.empty() ||
       EVP_CipherUpdate(ctx.get(), nullptr, &n, Bytes(aad), static_cast<int>(aad.size())) == 1);
  if (!ok) std::abort();
  return ctx;
}

}  // namespace

Result<AeadKey> DeriveKeyScrypt(std::string_view passphrase, std::span<const std::uint8_t> salt,
                                const ScryptParams& params) {
  const bool power_of_two = params.n >= 2 && (params.n & (params.n - 1)) == 0;
  if (!power_of_two || params.n > ScryptParams::kMaxN || params.r == 0 ||
      params.r > ScryptParams::kMaxR || params.p == 0 || params.p > ScryptParams::kMaxP) {
    return Error{"scrypt parameters out of range (N a power of two up to 2^20, r 1..16, p 1..4)"};
  }
  // scrypt needs 128 * N * r bytes (and 128 * r * p more); allow that.
  const std::uint64_t max_mem =
      128 * params.n * params.r + 128 * std::uint64_t{params.r} * params.p + (1u << 20);
  AeadKey key{};
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), params.n,
                     params.r, params.p, max_mem, key.data(), key.size()) != 1) {
    return Error{"scrypt failed (out of memory?)"};
  }
  return key;
}

std::string SealAes256Gcm(const AeadKey& key, const AeadNonce& nonce, std::string_view aad,
                          std::string_view plaintext) {
  CipherCtx ctx = StartGcm(true, key, nonce, aad);
  std::string out(plaintext.size() + kAeadTagBytes, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int n = 0;
  int tail = 0;
  if (EVP_CipherUpdate(ctx.get(), dst, &n, Bytes(plaintext), static_cast<int>(plaintext.size())) !=
          1 ||
      EVP_CipherFinal_ex(ctx.get(), dst + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagBytes),
                          dst + plaintext.size()) != 1) {
    std::abort();
  }
  return out;
}

std::optional<std::string> OpenAes256Gcm(const AeadKey& key, const AeadNonce& nonce,
                                         std::string_view aad, std::string_view sealed) {
  if (sealed.size() < kAeadTagBytes) return std::nullopt;
  const std::string_view body = sealed.substr(0, sealed.size() - kAeadTagBytes);
  std::string tag(sealed.substr(body.size()));
  CipherCtx ctx = StartGcm(false, key, nonce, aad);
  std::string out(body.size(), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int n = 0;
  int tail = 0;
  if (EVP_CipherUpdate(ctx.get(), dst, &n, Bytes(body), static_cast<int>(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagBytes),
                          tag.data()) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), dst + n, &tail) != 1) {
    Cleanse(out);
    return std::nullopt;
  }
  return out;
}

void RandomBytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

void Cleanse(std::span<std::uint8_t> bytes) { OPENSSL_cleanse(bytes.data(), bytes.size()); }

void Cleanse(std::string& bytes) { OPENSSL_cleanse(bytes.data(), bytes.size()); }

}  // namespace powchain
