#include "primitives/address.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/bech32.h"
#include "util/hex.h"

namespace powchain {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

XOnlyPubKey KeyFromHex(std::string_view hex) {
  const std::optional<Hash32> h = HexToHash32(hex);
  EXPECT_TRUE(h.has_value()) << hex;
  return h.value_or(XOnlyPubKey{});
}

// The generator's x coordinate: a valid key.
const XOnlyPubKey kG =
    KeyFromHex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");

// Quintets of an address-like string: version, then the program regrouped.
std::vector<std::uint8_t> Quintets(std::uint8_t version, std::span<const std::uint8_t> program) {
  std::vector<std::uint8_t> q = {version};
  EXPECT_TRUE(ConvertBits(q, program, 8, 5, true));
  return q;
}

std::string ErrorOf(std::string_view text) {
  const Result<DecodedAddress> d = DecodeAddress(text);
  return d.ok() ? std::string("ok") : d.error();
}

TEST(AddressTest, RoundTrip) {
  for (int i = 0; i < 8; ++i) {
    const XOnlyPubKey key = PublicKeyOf(SecretKey::Generate());
    for (const std::string hrp : {"pow", "powrt"}) {
      const std::string address = EncodeAddress(hrp, key);
      EXPECT_EQ(address.rfind(hrp + "1p", 0), 0u) << address;  // version 1 is 'p'
      EXPECT_EQ(address.size(), hrp.size() + 1 + 53 + 6);
      const Result<DecodedAddress> d = DecodeAddress(address);
      ASSERT_TRUE(d.ok()) << d.error();
      EXPECT_EQ(d->hrp, hrp);
      EXPECT_EQ(d->key, key);
      const Result<XOnlyPubKey> k = DecodeAddressFor(address, hrp);
      ASSERT_TRUE(k.ok()) << k.error();
      EXPECT_EQ(*k, key);
    }
  }
}

TEST(AddressTest, UpperCaseAcceptedAndWrittenLower) {
  const std::string address = EncodeAddress("pow", kG);
  const Result<DecodedAddress> d = DecodeAddress(Upper(address));
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->hrp, "pow");
  EXPECT_EQ(d->key, kG);
  EXPECT_EQ(EncodeAddress(d->hrp, d->key), address);
  EXPECT_EQ(EncodeAddress("POW", kG), address);
  EXPECT_TRUE(DecodeAddressFor(Upper(address), "pow").ok());
}

TEST(AddressTest, MixedCaseRefused) {
  std::string address = EncodeAddress("pow", kG);
  address[0] = 'P';
  EXPECT_EQ(ErrorOf(address), "invalid address: bech32 string mixes upper and lower case");
  address = Upper(EncodeAddress("pow", kG));
  const auto letter = std::find_if(address.rbegin(), address.rend(),
                                   [](unsigned char c) { return std::isalpha(c) != 0; });
  ASSERT_NE(letter, address.rend());
  *letter = static_cast<char>(std::tolower(static_cast<unsigned char>(*letter)));
  EXPECT_EQ(ErrorOf(address), "invalid address: bech32 string mixes upper and lower case");
}

TEST(AddressTest, WrongVersionRefused) {
  for (const std::uint8_t version : {0, 2, 16, 31}) {
    const std::string text = Bech32Encode(Bech32Encoding::kBech32m, "pow", Quintets(version, kG));
    EXPECT_EQ(ErrorOf(text),
              "address has version " + std::to_string(version) + "; only version 1 is supported");
  }
}

TEST(AddressTest, WrongLengthRefused) {
  for (const std::size_t length : {2, 20, 31, 33, 40}) {
    const std::vector<std::uint8_t> program(length, 0x42);
    const std::string text = Bech32Encode(Bech32Encoding::kBech32m, "pow", Quintets(1, program));
    EXPECT_EQ(ErrorOf(text), "address holds a " + std::to_string(length) +
                                 "-byte program; version 1 addresses hold exactly 32 bytes");
  }
  // 51 quintets: 31 bytes and 7 bits of padding.
  std::vector<std::uint8_t> q = Quintets(1, kG);
  q.pop_back();
  EXPECT_EQ(ErrorOf(Bech32Encode(Bech32Encoding::kBech32m, "pow", q)),
            "address has 7 bits of padding; at most 4 are allowed");
}

TEST(AddressTest, Bech32ChecksumRefused) {
  const std::string text = Bech32Encode(Bech32Encoding::kBech32, "pow", Quintets(1, kG));
  EXPECT_EQ(ErrorOf(text),
            "address has a bech32 (BIP 173) checksum; addresses use bech32m (BIP 350)");
}

TEST(AddressTest, NonZeroPaddingRefused) {
  std::vector<std::uint8_t> q = Quintets(1, kG);
  ASSERT_EQ(q.size(), 53u);
  ASSERT_EQ(q.back() & 0x0f, 0);  // 256 bits in 52 quintets: 4 bits of padding
  for (const std::uint8_t bit : {1, 2, 4, 8}) {
    std::vector<std::uint8_t> bad = q;
    bad.back() |= bit;
    EXPECT_EQ(ErrorOf(Bech32Encode(Bech32Encoding::kBech32m, "pow", bad)),
              "address has non-zero padding bits");
  }
}

TEST(AddressTest, EmptyDataAndBadKeyRefused) {
  EXPECT_EQ(ErrorOf(Bech32Encode(Bech32Encoding::kBech32m, "pow", {})),
            "address has no data (no version, no key)");
  XOnlyPubKey five{};
  five[31] = 5;  // no curve point has x = 5
  EXPECT_EQ(ErrorOf(EncodeAddress("pow", five)),
            "address key is not a valid public key (no curve point has that x coordinate)");
  std::string address = EncodeAddress("pow", kG);
  address[10] = address[10] == 'q' ? 'p' : 'q';
  EXPECT_EQ(ErrorOf(address),
            "invalid address: bech32 checksum does not match (neither bech32 nor bech32m)");
  EXPECT_EQ(ErrorOf("pow1"),
            "invalid address: bech32 checksum too short: 0 characters after "
            "the separator, at least 6 needed");
}

TEST(AddressTest, OtherNetworkRefusedByDecodeAddressFor) {
  const std::string main_address = EncodeAddress("pow", kG);
  const std::string regtest_address = EncodeAddress("powrt", kG);
  const Result<XOnlyPubKey> a = DecodeAddressFor(main_address, "powrt");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error(), "address is for network prefix \"pow\", this node uses \"powrt\"");
  const Result<XOnlyPubKey> b = DecodeAddressFor(Upper(regtest_address), "pow");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(), "address is for network prefix \"powrt\", this node uses \"pow\"");
  // DecodeAddress itself takes either.
  EXPECT_TRUE(DecodeAddress(main_address).ok());
  EXPECT_TRUE(DecodeAddress(regtest_address).ok());
}

struct Vector {
  std::string kind, text, extra;
};

// The address lists of tests/vectors/bip350_vectors.txt (no escapes occur
// in them).
std::vector<Vector> ReadAddressVectors() {
  const std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/bip350_vectors.txt";
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.is_open()) << path;
  std::vector<Vector> out;
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("valid_address\t", 0) != 0 && line.rfind("invalid_address\t", 0) != 0) continue;
    const std::size_t tab1 = line.find('\t');
    const std::size_t tab2 = line.find('\t', tab1 + 1);
    out.push_back(
        {line.substr(0, tab1), line.substr(tab1 + 1, tab2 - tab1 - 1), line.substr(tab2 + 1)});
  }
  EXPECT_EQ(out.size(), 23u);
  return out;
}

// BIP 350's v1 address of the generator's x coordinate, under hrp "bc".
TEST(AddressTest, Bip350TaprootVector) {
  const std::string text = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0";
  const Result<XOnlyPubKey> key = DecodeAddressFor(text, "bc");
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(HexEncode(*key), "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  EXPECT_EQ(EncodeAddress("bc", *key), text);
  EXPECT_EQ(DecodeAddressFor(text, "pow").error(),
            "address is for network prefix \"bc\", this node uses \"pow\"");
}

// Every valid BIP 350 address that is version 1 with a 32-byte program
// decodes to that program (when it is a curve point); every other valid one
// (other versions, other lengths) and every invalid one is refused.
TEST(AddressTest, Bip350AddressTables) {
  int v1_accepted = 0;
  for (const Vector& v : ReadAddressVectors()) {
    const Result<DecodedAddress> d = DecodeAddress(v.text);
    if (v.kind == "invalid_address") {
      EXPECT_FALSE(DecodeAddressFor(v.text, "bc").ok()) << v.text << " (" << v.extra << ")";
      EXPECT_FALSE(DecodeAddressFor(v.text, "tb").ok()) << v.text << " (" << v.extra << ")";
      continue;
    }
    const bool v1_32 = v.extra.size() == 68 && v.extra.substr(0, 4) == "5120";
    if (!v1_32) {
      EXPECT_FALSE(d.ok()) << v.text;
      continue;
    }
    const XOnlyPubKey program = KeyFromHex(v.extra.substr(4));
    if (!IsValidXOnlyPubKey(program)) {
      EXPECT_FALSE(d.ok()) << v.text;
      continue;
    }
    ASSERT_TRUE(d.ok()) << v.text << ": " << d.error();
    EXPECT_EQ(d->key, program);
    EXPECT_EQ(EncodeAddress(d->hrp, d->key), v.text);
    ++v1_accepted;
  }
  EXPECT_EQ(v1_accepted, 2);  // bc1p0xlx... and tb1pqqqqp399...: both programs are curve points
}

RC_GTEST_PROP(AddressTest, EncodeDecodeRoundTrip, (std::array<std::uint8_t, 32> secret)) {
  const std::optional<SecretKey> sk = SecretKey::FromBytes(secret);
  RC_PRE(sk.has_value());
  const XOnlyPubKey key = PublicKeyOf(*sk);
  const Result<XOnlyPubKey> back = DecodeAddressFor(EncodeAddress("powrt", key), "powrt");
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == key);
}

}  // namespace
}  // namespace powchain
