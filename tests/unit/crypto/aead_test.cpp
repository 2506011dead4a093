#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/hex.h"

namespace powchain {
namespace {

std::string Hex(std::string_view bytes) {
  return HexEncode(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

// RFC 7914 section 12: the first 32 bytes of its 64-byte outputs.
TEST(ScryptTest, MatchesRfc7914Vectors) {
  auto empty = DeriveKeyScrypt("", {}, ScryptParams{.n = 16, .r = 1, .p = 1});
  ASSERT_TRUE(empty) << empty.error();
  EXPECT_EQ(HexEncode(*empty), "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442");
  const std::string salt = "SodiumChloride";
  auto key = DeriveKeyScrypt(
      "pleaseletmein", std::span(reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size()),
      ScryptParams{.n = 16384, .r = 8, .p = 1});
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(HexEncode(*key), "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2");
}

TEST(ScryptTest, RefusesParametersBeyondTheLimits) {
  for (const ScryptParams p :
       {ScryptParams{.n = 1000, .r = 8, .p = 1},  // not a power of two
        ScryptParams{.n = 1, .r = 8, .p = 1},
        ScryptParams{.n = std::uint64_t{1} << 21, .r = 8, .p = 1},
        ScryptParams{.n = 1024, .r = 0, .p = 1}, ScryptParams{.n = 1024, .r = 17, .p = 1},
        ScryptParams{.n = 1024, .r = 8, .p = 5}}) {
    auto key = DeriveKeyScrypt("x", {}, p);
    ASSERT_FALSE(key) << p.n << " " << p.r << " " << p.p;
    EXPECT_NE(key.error().find("scrypt parameters"), std::string::npos);
  }
}

// NIST GCM test case 14 (AES-256, zero key and nonce, 16 zero bytes).
TEST(Aes256GcmTest, MatchesNistVector) {
  const AeadKey key{};
  const AeadNonce nonce{};
  EXPECT_EQ(Hex(SealAes256Gcm(key, nonce, "", std::string(16, '\0'))),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
  EXPECT_EQ(Hex(SealAes256Gcm(key, nonce, "", "")), "530f8afbc74536b9a963b4f1c4cb738b");
}

TEST(Aes256GcmTest, OpensWhatItSealedAndNothingChanged) {
  AeadKey key{};
  RandomBytes(key);
  AeadNonce nonce{};
  RandomBytes(nonce);
  const std::string sealed = SealAes256Gcm(key, nonce, "header", "secret keys");
  ASSERT_EQ(sealed.size(), 11 + kAeadTagBytes);
  EXPECT_EQ(OpenAes256Gcm(key, nonce, "header", sealed), "secret keys");

  AeadKey other_key = key;
  other_key[0] ^= 1;
  EXPECT_EQ(OpenAes256Gcm(other_key, nonce, "header", sealed), std::nullopt);
  AeadNonce other_nonce = nonce;
  other_nonce[11] ^= 1;
  EXPECT_EQ(OpenAes256Gcm(key, other_nonce, "header", sealed), std::nullopt);
  EXPECT_EQ(OpenAes256Gcm(key, nonce, "headeR", sealed), std::nullopt);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string flipped = sealed;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
    EXPECT_EQ(OpenAes256Gcm(key, nonce, "header", flipped), std::nullopt) << "byte " << i;
  }
  EXPECT_EQ(OpenAes256Gcm(key, nonce, "header", sealed.substr(0, 15)), std::nullopt);
}

}  // namespace
}  // namespace powchain
