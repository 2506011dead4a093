#include "util/bech32.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/hex.h"

namespace powchain {
namespace {

struct Vector {
  std::string kind, text, extra;
};

// "\xNN" escapes (bytes the BIPs write outside the string) to raw bytes.
std::string Unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// tests/vectors/bip350_vectors.txt (see tests/vectors/README.md), by kind.
std::map<std::string, std::vector<Vector>> ReadVectors() {
  const std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/bip350_vectors.txt";
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.is_open()) << path;
  std::map<std::string, std::vector<Vector>> out;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t tab1 = line.find('\t');
    const std::size_t tab2 = line.find('\t', tab1 + 1);
    EXPECT_NE(tab1, std::string::npos) << line;
    if (tab1 == std::string::npos) continue;
    Vector v;
    v.kind = line.substr(0, tab1);
    v.text = Unescape(line.substr(tab1 + 1, tab2 == std::string::npos ? tab2 : tab2 - tab1 - 1));
    if (tab2 != std::string::npos) v.extra = line.substr(tab2 + 1);
    out[v.kind].push_back(v);
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

TEST(Bech32Test, VectorFileHasEveryList) {
  const auto v = ReadVectors();
  EXPECT_EQ(v.at("valid_bech32m").size(), 7u);
  EXPECT_EQ(v.at("invalid_bech32m").size(), 14u);
  EXPECT_EQ(v.at("valid_address").size(), 8u);
  EXPECT_EQ(v.at("invalid_address").size(), 15u);
  EXPECT_EQ(v.at("valid_bech32").size(), 7u);
  EXPECT_EQ(v.at("invalid_bech32").size(), 12u);
  EXPECT_EQ(v.at("invalid_bech32m")[0].text, " 1xj0phk");
  EXPECT_EQ(v.at("invalid_bech32")[8].text, "de1lg7wt\xff");
}

// Valid strings decode with the right encoding and re-encode to their
// lower-case form.
void CheckValid(const std::vector<Vector>& vectors, Bech32Encoding expected) {
  for (const Vector& v : vectors) {
    const Result<Bech32Decoded> d = Bech32Decode(v.text);
    ASSERT_TRUE(d.ok()) << v.text << ": " << d.error();
    EXPECT_EQ(d->encoding, expected) << v.text;
    EXPECT_EQ(d->hrp, Lower(v.text.substr(0, v.text.rfind('1')))) << v.text;
    EXPECT_EQ(Bech32Encode(d->encoding, d->hrp, d->quintets), Lower(v.text));
  }
}

TEST(Bech32Test, ValidBech32mStrings) {
  CheckValid(ReadVectors().at("valid_bech32m"), Bech32Encoding::kBech32m);
}

TEST(Bech32Test, ValidBech32Strings) {
  CheckValid(ReadVectors().at("valid_bech32"), Bech32Encoding::kBech32);
}

TEST(Bech32Test, InvalidStrings) {
  const auto v = ReadVectors();
  for (const char* kind : {"invalid_bech32m", "invalid_bech32"}) {
    for (const Vector& vec : v.at(kind)) {
      const Result<Bech32Decoded> d = Bech32Decode(vec.text);
      EXPECT_FALSE(d.ok()) << kind << " " << vec.text << " (" << vec.extra << ")";
      if (!d.ok()) {
        EXPECT_EQ(d.error().find('\n'), std::string::npos);
      }
    }
  }
}

// Each BIP 173 / 350 reason gets its own message.
TEST(Bech32Test, ErrorMessages) {
  auto error = [](std::string_view text) {
    const Result<Bech32Decoded> d = Bech32Decode(text);
    return d.ok() ? std::string("ok") : d.error();
  };
  EXPECT_EQ(error(" 1xj0phk"),
            "bech32 string has a character out of range (byte 32) at position 0");
  EXPECT_EQ(error("\x80"
                  "1vctc34"),
            "bech32 string has a character out of range (byte 128) at position 0");
  EXPECT_EQ(error(std::string(91, 'a')),
            "bech32 string is 91 characters long; at most 90 are allowed");
  EXPECT_EQ(error("qyrz8wqd2c9m"), "bech32 string has no separator '1'");
  EXPECT_EQ(error("1qyrz8wqd2c9m"), "bech32 string has an empty human-readable part");
  EXPECT_EQ(error("y1b0jsk6g"), "bech32 string has an invalid data character 'b' at position 2");
  EXPECT_EQ(error("in1muywd"),
            "bech32 checksum too short: 5 characters after the separator, at least 6 needed");
  EXPECT_EQ(error("M1VUXWEZ"), "bech32 checksum does not match (neither bech32 nor bech32m)");
  EXPECT_EQ(error("A1lqfn3a"), "bech32 string mixes upper and lower case");
}

// The 83-character hrp limit is reached only together with the 90-character
// total; an 84-character hrp with a 6-character checksum is 91 long.
TEST(Bech32Test, HrpLengthLimit) {
  const std::string hrp83(83, 'x');
  const std::string s = Bech32Encode(Bech32Encoding::kBech32m, hrp83, {});
  EXPECT_EQ(s.size(), 90u);
  EXPECT_TRUE(Bech32Decode(s).ok());
}

TEST(Bech32Test, EncodeWritesLowerCase) {
  const std::vector<std::uint8_t> q = {0, 1, 2, 31};
  const std::string s = Bech32Encode(Bech32Encoding::kBech32m, "ABC", q);
  EXPECT_EQ(s, Lower(s));
  const auto d = Bech32Decode(s);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hrp, "abc");
  EXPECT_EQ(d->quintets, q);
  const auto upper = Bech32Decode("ABC1" + Lower(s).substr(4));
  EXPECT_FALSE(upper.ok());  // mixed case
}

// A segwit address decoder (BIP 173 / 350 reference, segwit_addr.decode)
// built on Bech32Decode and ConvertBits: the scriptPubKey, or nullopt.
std::optional<std::string> SegwitScript(const std::string& hrp, const std::string& addr) {
  const Result<Bech32Decoded> d = Bech32Decode(addr);
  if (!d.ok() || d->hrp != hrp || d->quintets.empty() || d->quintets[0] > 16) return std::nullopt;
  std::vector<std::uint8_t> program;
  if (!ConvertBits(program, std::span(d->quintets).subspan(1), 5, 8, false)) return std::nullopt;
  if (program.size() < 2 || program.size() > 40) return std::nullopt;
  const std::uint8_t version = d->quintets[0];
  if (version == 0 && program.size() != 20 && program.size() != 32) return std::nullopt;
  const auto want = version == 0 ? Bech32Encoding::kBech32 : Bech32Encoding::kBech32m;
  if (d->encoding != want) return std::nullopt;
  std::vector<std::uint8_t> script = {static_cast<std::uint8_t>(version ? 0x50 + version : 0),
                                      static_cast<std::uint8_t>(program.size())};
  script.insert(script.end(), program.begin(), program.end());
  return HexEncode(script);
}

TEST(Bech32Test, SegwitAddressVectors) {
  const auto v = ReadVectors();
  for (const Vector& vec : v.at("valid_address")) {
    const std::string hrp = Lower(vec.text.substr(0, 2));
    ASSERT_TRUE(hrp == "bc" || hrp == "tb") << vec.text;
    const std::optional<std::string> script = SegwitScript(hrp, vec.text);
    ASSERT_TRUE(script.has_value()) << vec.text;
    EXPECT_EQ(*script, vec.extra) << vec.text;
    // Re-encoding gives the lower-case address.
    const auto d = Bech32Decode(vec.text);
    EXPECT_EQ(Bech32Encode(d->encoding, d->hrp, d->quintets), Lower(vec.text));
  }
  for (const Vector& vec : v.at("invalid_address")) {
    EXPECT_FALSE(SegwitScript("bc", vec.text).has_value()) << vec.text << " (" << vec.extra << ")";
    EXPECT_FALSE(SegwitScript("tb", vec.text).has_value()) << vec.text << " (" << vec.extra << ")";
  }
}

TEST(Bech32Test, ConvertBitsPadding) {
  std::vector<std::uint8_t> out;
  // 8 -> 5 with padding: 0xff is 11111 111(00).
  ASSERT_TRUE(ConvertBits(out, std::vector<std::uint8_t>{0xff}, 8, 5, true));
  EXPECT_EQ(out, (std::vector<std::uint8_t>{31, 28}));
  // Back without padding: two zero bits left over, fine.
  std::vector<std::uint8_t> back;
  ASSERT_TRUE(ConvertBits(back, out, 5, 8, false));
  EXPECT_EQ(back, (std::vector<std::uint8_t>{0xff}));
  // Non-zero leftover bits are refused.
  back.clear();
  EXPECT_FALSE(ConvertBits(back, std::vector<std::uint8_t>{31, 29}, 5, 8, false));
  // A whole leftover quintet (5 bits of padding) is refused even if zero.
  back.clear();
  EXPECT_FALSE(ConvertBits(back, std::vector<std::uint8_t>{31, 28, 0}, 5, 8, false));
  // Input values too wide for from_bits are refused.
  back.clear();
  EXPECT_FALSE(ConvertBits(back, std::vector<std::uint8_t>{32}, 5, 8, true));
  // 8 -> 5 without padding when the bits do not divide: refused.
  back.clear();
  EXPECT_FALSE(ConvertBits(back, std::vector<std::uint8_t>{0xff}, 8, 5, false));
  back.clear();
  EXPECT_TRUE(ConvertBits(back, std::vector<std::uint8_t>(5, 0xff), 8, 5, false));
  EXPECT_EQ(back, std::vector<std::uint8_t>(8, 31));
}

RC_GTEST_PROP(Bech32Test, EncodeDecodeRoundTrip, (std::vector<std::uint8_t> bytes, bool bech32m)) {
  RC_PRE(bytes.size() <= 40);
  std::vector<std::uint8_t> quintets;
  RC_ASSERT(ConvertBits(quintets, bytes, 8, 5, true));
  const auto encoding = bech32m ? Bech32Encoding::kBech32m : Bech32Encoding::kBech32;
  const std::string s = Bech32Encode(encoding, "hrp", quintets);
  const Result<Bech32Decoded> d = Bech32Decode(s);
  RC_ASSERT(d.ok());
  RC_ASSERT(d->encoding == encoding);
  RC_ASSERT(d->quintets == quintets);
  std::vector<std::uint8_t> back;
  RC_ASSERT(ConvertBits(back, d->quintets, 5, 8, false));
  RC_ASSERT(back == bytes);
}

// A single substituted data character is always detected (BCH distance).
RC_GTEST_PROP(Bech32Test, OneSubstitutionDetected, (std::vector<std::uint8_t> bytes)) {
  RC_PRE(bytes.size() <= 40);
  std::vector<std::uint8_t> quintets;
  RC_ASSERT(ConvertBits(quintets, bytes, 8, 5, true));
  std::string s = Bech32Encode(Bech32Encoding::kBech32m, "pow", quintets);
  const std::size_t pos = *rc::gen::inRange<std::size_t>(4, s.size());
  const char replacement = *rc::gen::elementOf(std::string("qpzry9x8gf2tvdw0s3jn54khce6mua7l"));
  RC_PRE(replacement != s[pos]);
  s[pos] = replacement;
  RC_ASSERT(!Bech32Decode(s).ok());
}

}  // namespace
}  // namespace powchain
