#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/hex.h"
#include "util/memory.h"
#include "util/result.h"

namespace powchain {
namespace {

TEST(HexTest, EncodesLowerCase) {
  const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes), "0001abff");
  EXPECT_EQ(HexEncode(ByteSpan()), "");
}

TEST(HexTest, DecodesEitherCase) {
  const auto bytes = HexDecode("00aBcDeF");
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(*bytes, (std::vector<std::uint8_t>{0x00, 0xab, 0xcd, 0xef}));
  EXPECT_EQ(HexDecode("")->size(), 0u);
}

TEST(HexTest, RejectsBadInput) {
  for (const char* bad : {"0", "abc", "0g", "g0", " 0", "00 ", "0x00", "-1", "zz", "\xff\xff"}) {
    EXPECT_FALSE(HexDecode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(HexDecode(std::string("0\0", 2)).has_value());
}

TEST(HexTest, Hash32NeedsExactly64Digits) {
  const std::string ok(64, 'a');
  EXPECT_TRUE(HexToHash32(ok).has_value());
  EXPECT_FALSE(HexToHash32(ok.substr(1)).has_value());
  EXPECT_FALSE(HexToHash32(ok + "aa").has_value());
  EXPECT_FALSE(HexToHash32(std::string(63, 'a') + "x").has_value());
}

RC_GTEST_PROP(HexTest, RoundTrips, (const std::vector<std::uint8_t>& bytes)) {
  const std::string hex = HexEncode(bytes);
  RC_ASSERT(hex.size() == 2 * bytes.size());
  RC_ASSERT(HexDecode(hex) == bytes);
}

TEST(BytesTest, LeadingZeroBits) {
  struct Case {
    std::vector<std::uint8_t> bytes;
    unsigned expected;
  };
  const std::vector<Case> cases = {
      {{0x80}, 0},
      {{0x40}, 1},
      {{0x01}, 7},
      {{0x00, 0x80}, 8},
      {{0x00, 0x01}, 15},
      {{0x00, 0x00}, 16},
      {{0x0f, 0xff}, 4},
      {{}, 0},
      {{0x00, 0x00, 0x00, 0x10}, 27},
  };
  for (const Case& c : cases) EXPECT_EQ(LeadingZeroBits(c.bytes), c.expected);
  EXPECT_EQ(LeadingZeroBits(Hash32{}), 256u);
}

TEST(BytesTest, LittleEndian) {
  std::uint8_t buf[8];
  WriteLE32(buf, 0x01020304);
  EXPECT_EQ(buf[0], 0x04);
  EXPECT_EQ(buf[3], 0x01);
  EXPECT_EQ(ReadLE32(buf), 0x01020304u);
  WriteLE64(buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 0x08);
  EXPECT_EQ(buf[7], 0x01);
  EXPECT_EQ(ReadLE64(buf), 0x0102030405060708ull);
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> ok = 5;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  Result<int> bad = Error{"nope"};
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "nope");
  Status s;
  EXPECT_TRUE(s.ok());
  Status f = Error{"disk full"};
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(f.error(), "disk full");
}

TEST(PrefaultTest, KeepsTheContents) {
  // Whole pages inside a large buffer, at an unaligned start, and ranges
  // holding no whole page: the bytes stay as written.
  std::string buffer(std::size_t{3} * 1024 * 1024 + 123, '\0');
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<char>(i * 31 + 7);
  const std::string expected = buffer;
  PrefaultForWrite(buffer.data() + 1, buffer.size() - 1);
  PrefaultForWrite(buffer.data() + 10, 100);
  PrefaultForWrite(buffer.data(), 0);
  EXPECT_EQ(buffer, expected);
  // Memory reserved but not yet written can be mapped ahead and then filled.
  std::string fresh;
  fresh.reserve(expected.size());
  PrefaultForWrite(fresh.data(), expected.size());
  fresh.append(expected);
  EXPECT_EQ(fresh, expected);
}

}  // namespace
}  // namespace powchain
