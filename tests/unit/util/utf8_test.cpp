#include "util/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace powchain {
namespace {

TEST(Utf8Test, SequenceLengths) {
  struct Case {
    std::string bytes;
    std::size_t want;
  };
  const Case cases[] = {
      {"a", 1},
      {"\xC3\xA9", 2},          // é
      {"\xE2\x82\xAC", 3},      // €
      {"\xF0\x9F\x98\x80", 4},  // 😀
      {"\xC0\xAF", 0},          // overlong '/'
      {"\xE0\x80\xAF", 0},      // overlong
      {"\xED\xA0\x80", 0},      // UTF-8-encoded surrogate
      {"\xF4\x90\x80\x80", 0},  // above U+10FFFF
      {"\xF5\x80\x80\x80", 0},
      {"\x80", 0},          // stray continuation byte
      {"\xE2\x82", 0},      // truncated
      {"\xE2\x28\xA1", 0},  // bad continuation
  };
  for (const Case& c : cases) EXPECT_EQ(Utf8SequenceLength(c.bytes, 0), c.want) << c.bytes;
}

TEST(Utf8Test, RepairsInvalidBytes) {
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8(""), "");
}

}  // namespace
}  // namespace powchain
