#include "crypto/schnorr.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "util/hex.h"

namespace powchain {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> FromHex(const std::string& hex) {
  const std::optional<std::vector<std::uint8_t>> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  EXPECT_EQ(bytes ? bytes->size() : 0, N) << hex;
  std::array<std::uint8_t, N> out{};
  if (bytes && bytes->size() == N) std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

struct Bip340Row {
  std::string index, secret_key, public_key, aux_rand, message, signature, result, comment;
};

// tests/vectors/bip340_vectors.csv: the BIP 340 table, byte for byte (CRLF
// line ends), see tests/vectors/README.md.
std::vector<Bip340Row> ReadBip340Vectors() {
  const std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/bip340_vectors.csv";
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.is_open()) << path;
  std::vector<Bip340Row> rows;
  std::string line;
  bool header = true;
  while (std::getline(file, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (header) {
      EXPECT_EQ(line,
                "index,secret key,public key,aux_rand,message,signature,verification "
                "result,comment");
      header = false;
      continue;
    }
    if (line.empty()) continue;
    const std::vector<std::string> f = SplitCsv(line);
    EXPECT_EQ(f.size(), 8u) << line;
    if (f.size() != 8) continue;
    rows.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]});
  }
  return rows;
}

// Every row: signing with the given aux_rand reproduces the signature, the
// public key is the secret key's, and verification gives the listed result.
// Rows 15-18 sign messages that are not 32 bytes long; SignSchnorr and
// VerifySchnorr take a 32-byte hash only (the project never signs anything
// else), so those rows are skipped, and the test checks that exactly they are.
TEST(SchnorrTest, Bip340Vectors) {
  const std::vector<Bip340Row> rows = ReadBip340Vectors();
  ASSERT_EQ(rows.size(), 19u);
  std::vector<std::string> skipped;
  int signed_rows = 0;
  for (const Bip340Row& row : rows) {
    SCOPED_TRACE("BIP 340 vector " + row.index + " " + row.comment);
    if (row.message.size() != 64) {
      skipped.push_back(row.index);
      continue;
    }
    const auto pub = FromHex<32>(row.public_key);
    const auto msg = FromHex<32>(row.message);
    const auto sig = FromHex<64>(row.signature);
    ASSERT_TRUE(row.result == "TRUE" || row.result == "FALSE");
    if (!row.secret_key.empty()) {
      const auto secret = FromHex<32>(row.secret_key);
      const std::optional<SecretKey> key = SecretKey::FromBytes(secret);
      ASSERT_TRUE(key.has_value());
      EXPECT_EQ(PublicKeyOf(*key), pub);
      EXPECT_EQ(SignSchnorr(*key, msg, FromHex<32>(row.aux_rand)), sig);
      ++signed_rows;
    }
    EXPECT_EQ(VerifySchnorr(pub, msg, sig), row.result == "TRUE");
    const bool bad_key = row.comment.find("public key") != std::string::npos;
    EXPECT_EQ(IsValidXOnlyPubKey(pub), !bad_key);
  }
  EXPECT_EQ(signed_rows, 4);
  EXPECT_EQ(skipped, (std::vector<std::string>{"15", "16", "17", "18"}));
}

SecretKey KeyFromHex(const std::string& hex) {
  std::optional<SecretKey> key = SecretKey::FromBytes(FromHex<32>(hex));
  EXPECT_TRUE(key.has_value()) << hex;
  return key ? std::move(*key) : SecretKey::Generate();
}

// The curve order n is the first invalid value; 0 is invalid as well.
TEST(SchnorrTest, SecretKeyRange) {
  const std::string n = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";
  const std::string n_minus_1 = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140";
  const std::string n_plus_1 = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364142";
  const std::string one = std::string(63, '0') + "1";
  EXPECT_FALSE(SecretKey::FromBytes(FromHex<32>(std::string(64, '0'))).has_value());
  EXPECT_FALSE(SecretKey::FromBytes(FromHex<32>(n)).has_value());
  EXPECT_FALSE(SecretKey::FromBytes(FromHex<32>(n_plus_1)).has_value());
  EXPECT_FALSE(SecretKey::FromBytes(FromHex<32>(std::string(64, 'F'))).has_value());
  EXPECT_TRUE(SecretKey::FromBytes(FromHex<32>(n_minus_1)).has_value());
  EXPECT_TRUE(SecretKey::FromBytes(FromHex<32>(one)).has_value());
  // 1 * G: the x coordinate of the generator.
  EXPECT_EQ(HexEncode(PublicKeyOf(KeyFromHex(one))),
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}

TEST(SchnorrTest, BytesRoundTripAndMoveWipesSource) {
  const auto secret =
      FromHex<32>("B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF");
  std::optional<SecretKey> key = SecretKey::FromBytes(secret);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(std::equal(key->bytes().begin(), key->bytes().end(), secret.begin()));
  SecretKey moved = std::move(*key);
  EXPECT_TRUE(std::equal(moved.bytes().begin(), moved.bytes().end(), secret.begin()));
  EXPECT_TRUE(std::all_of(key->bytes().begin(), key->bytes().end(), [](auto b) { return b == 0; }));
}

TEST(SchnorrTest, GeneratedKeysSignAndVerify) {
  std::set<XOnlyPubKey> seen;
  for (int i = 0; i < 16; ++i) {
    const SecretKey key = SecretKey::Generate();
    ASSERT_TRUE(SecretKey::FromBytes(key.bytes()).has_value());
    const XOnlyPubKey pub = PublicKeyOf(key);
    EXPECT_TRUE(IsValidXOnlyPubKey(pub));
    EXPECT_TRUE(seen.insert(pub).second);
    Hash32 msg{};
    msg[0] = static_cast<std::uint8_t>(i);
    const SchnorrSig sig = SignSchnorr(key, msg);
    EXPECT_TRUE(VerifySchnorr(pub, msg, sig));
    // Fresh auxiliary randomness: a second signature differs, and verifies.
    const SchnorrSig again = SignSchnorr(key, msg);
    EXPECT_NE(sig, again);
    EXPECT_TRUE(VerifySchnorr(pub, msg, again));
  }
}

TEST(SchnorrTest, AnyFlippedBitFails) {
  const SecretKey key = SecretKey::Generate();
  const XOnlyPubKey pub = PublicKeyOf(key);
  Hash32 msg;
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(3 * i + 1);
  const SchnorrSig sig = SignSchnorr(key, msg);
  ASSERT_TRUE(VerifySchnorr(pub, msg, sig));
  for (std::size_t bit = 0; bit < 8 * sig.size(); ++bit) {
    SchnorrSig bad = sig;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(VerifySchnorr(pub, msg, bad)) << "signature bit " << bit;
  }
  for (std::size_t bit = 0; bit < 8 * msg.size(); ++bit) {
    Hash32 bad = msg;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(VerifySchnorr(pub, bad, sig)) << "message bit " << bit;
  }
  for (std::size_t bit = 0; bit < 8 * pub.size(); ++bit) {
    XOnlyPubKey bad = pub;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(VerifySchnorr(bad, msg, sig)) << "key bit " << bit;
  }
  EXPECT_FALSE(VerifySchnorr(PublicKeyOf(SecretKey::Generate()), msg, sig));
}

TEST(SchnorrTest, KeysOffTheCurveAreRefused) {
  // x = 0 and x = 5 have no point on y^2 = x^3 + 7; x = p and above are not
  // field elements.
  EXPECT_FALSE(IsValidXOnlyPubKey(XOnlyPubKey{}));
  XOnlyPubKey five{};
  five[31] = 5;
  EXPECT_FALSE(IsValidXOnlyPubKey(five));
  EXPECT_FALSE(IsValidXOnlyPubKey(
      FromHex<32>("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F")));
  XOnlyPubKey ones;
  ones.fill(0xFF);
  EXPECT_FALSE(IsValidXOnlyPubKey(ones));
  EXPECT_FALSE(VerifySchnorr(five, Hash32{}, SchnorrSig{}));
}

// The shared context is used from many threads at once (run under TSan to
// see it race-free; under ASan this checks the results).
TEST(SchnorrTest, ConcurrentSignAndVerify) {
  std::vector<std::thread> threads;
  std::array<int, 4> failures{};
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 20; ++i) {
        const SecretKey key = SecretKey::Generate();
        Hash32 msg{};
        msg[0] = static_cast<std::uint8_t>(t);
        msg[1] = static_cast<std::uint8_t>(i);
        if (!VerifySchnorr(PublicKeyOf(key), msg, SignSchnorr(key, msg))) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, (std::array<int, 4>{}));
}

RC_GTEST_PROP(SchnorrTest, SignVerifyRoundTrip,
              (std::array<std::uint8_t, 32> secret, std::array<std::uint8_t, 32> msg,
               std::array<std::uint8_t, 32> aux)) {
  const std::optional<SecretKey> key = SecretKey::FromBytes(secret);
  RC_PRE(key.has_value());
  const XOnlyPubKey pub = PublicKeyOf(*key);
  const SchnorrSig sig = SignSchnorr(*key, msg, aux);
  RC_ASSERT(sig == SignSchnorr(*key, msg, aux));
  RC_ASSERT(VerifySchnorr(pub, msg, sig));
  Hash32 other = msg;
  other[31] ^= 1;
  RC_ASSERT(!VerifySchnorr(pub, other, sig));
}

}  // namespace
}  // namespace powchain
