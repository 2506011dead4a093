#include "primitives/canonical_json.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "crypto/sha256.h"
#include "primitives/json.h"
#include "util/hex.h"

namespace powchain {
namespace {

using namespace std::string_literals;

std::string Canonical(std::string_view text) {
  const Result<std::string> r = CanonicalizeJsonText(text);
  return r.ok() ? *r : "ERROR: " + r.error();
}

std::string HashHex(std::string_view bytes) {
  return HexEncode(
      Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())));
}

// UTF-16 code units of valid UTF-8 (test helper; no validation).
std::u16string Utf16(std::string_view s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t n = 1;
    if (b < 0x80) {
      cp = b;
    } else if (b < 0xE0) {
      cp = b & 0x1F;
      n = 2;
    } else if (b < 0xF0) {
      cp = b & 0x0F;
      n = 3;
    } else {
      cp = b & 0x07;
      n = 4;
    }
    for (std::size_t k = 1; k < n; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    if (cp < 0x10000) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    }
  }
  return out;
}

struct Case {
  std::string input;
  std::string expected;
};

TEST(CanonicalJsonTest, RemovesWhitespaceAndKeepsLiterals) {
  const std::vector<Case> cases = {
      {"null", "null"},
      {"true", "true"},
      {" false ", "false"},
      {" [ 1 , [ ] , { } , null ] ", "[1,[],{},null]"},
      {"{ \"a\" : [ true , false ] }", "{\"a\":[true,false]}"},
      {"\t\n\r\"x\"\r\n\t", "\"x\""},
      {"[3,1,2]", "[3,1,2]"},  // arrays keep their order
  };
  for (const Case& c : cases) EXPECT_EQ(Canonical(c.input), c.expected) << c.input;
}

TEST(CanonicalJsonTest, EscapesStrings) {
  const std::vector<Case> cases = {
      {R"("\"")", R"("\"")"},
      {R"("\\")", R"("\\")"},
      {R"("\/")", R"("/")"},
      {R"("/")", R"("/")"},
      {R"("\u0022\u005c\u002f")", R"("\"\\/")"},
      {R"("\b\f\n\r\t")", R"("\b\f\n\r\t")"},
      {R"("\u0008\u000C\u000a\u000D\u0009")", R"("\b\f\n\r\t")"},
      {R"("\u0000")", R"("\u0000")"},
      {R"("\u000B")", R"("\u000b")"},
      {R"("\u001F")", R"("\u001f")"},
      {R"("\u001a\u001B")", R"("\u001a\u001b")"},
      {R"("\u0020")", R"(" ")"},
      {R"("\u0041\u007e")", R"("A~")"},
      {R"("\u007f")", "\"\x7F\""},
      {R"("\u0080")", "\"\xC2\x80\""},
      {R"("\u00e9")", "\"\xC3\xA9\""},
      {R"("\u2028\u2029")", "\"\xE2\x80\xA8\xE2\x80\xA9\""},
      {R"("\ufeff")", "\"\xEF\xBB\xBF\""},
      {R"("\uffff")", "\"\xEF\xBF\xBF\""},
      {R"("\ud83d\ude00")", "\"\xF0\x9F\x98\x80\""},
      {R"("\uDBFF\uDFFF")", "\"\xF4\x8F\xBF\xBF\""},
      {R"("'<>&")", R"("'<>&")"},
  };
  for (const Case& c : cases) EXPECT_EQ(Canonical(c.input), c.expected) << c.input;
}

TEST(CanonicalJsonTest, EscapesEveryControlCharacter) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int c = 0; c < 0x20; ++c) {
    const std::string text = std::string("\"\\u00") + kHex[c >> 4] +
                             static_cast<char>(std::toupper(kHex[c & 15])) + "\"";
    // RFC 8785 / ECMAScript: five controls have short escapes.
    std::string expected = std::string("\\u00") + kHex[c >> 4] + kHex[c & 15];
    if (c == 0x08) expected = "\\b";
    if (c == 0x09) expected = "\\t";
    if (c == 0x0A) expected = "\\n";
    if (c == 0x0C) expected = "\\f";
    if (c == 0x0D) expected = "\\r";
    EXPECT_EQ(Canonical(text), "\"" + expected + "\"") << c;
    // The same from a value built in code, including NUL inside a string.
    const Result<std::string> built = CanonicalJson(JsonValue::String("a"s + char(c) + "b"));
    ASSERT_TRUE(built.ok());
    EXPECT_EQ(*built, "\"a" + expected + "b\"") << c;
  }
}

TEST(CanonicalJsonTest, WritesNonAsciiLiterally) {
  const std::string literal = "\xE2\x82\xAC \xC3\xA9 \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87";
  EXPECT_EQ(Canonical("\"" + literal + "\""), "\"" + literal + "\"");
  EXPECT_EQ(Canonical(R"("\u20ac \u00E9 \uD83D\uDE00 \u4e2d\u6587")"), "\"" + literal + "\"");
}

TEST(CanonicalJsonTest, SortsKeysByUtf16) {
  // U+1F600 is F0 9F 98 80 in UTF-8 (after EE 80 80 = U+E000) but D83D DE00 in
  // UTF-16 (before E000): UTF-16 order puts it first.
  const std::string emoji = "\xF0\x9F\x98\x80";
  const std::string private_use = "\xEE\x80\x80";
  ASSERT_LT(private_use, emoji);  // byte order is the other way round
  EXPECT_EQ(Canonical(R"({"\ue000":1,"\ud83d\ude00":2})"),
            "{\"" + emoji + "\":2,\"" + private_use + "\":1}");
  EXPECT_EQ(Canonical(R"({"\ud83d\ude00":2,"\ue000":1})"),
            "{\"" + emoji + "\":2,\"" + private_use + "\":1}");
  // U+10000 sorts before U+FF61 and U+FFFF, after U+D7FF.
  EXPECT_EQ(Canonical(R"({"\uffff":1,"\uff61":2,"\ud800\udc00":3,"\ud7ff":4})"),
            "{\"\xED\x9F\xBF\":4,\"\xF0\x90\x80\x80\":3,\"\xEF\xBD\xA1\":2,\"\xEF\xBF\xBF\":1}");
}

TEST(CanonicalJsonTest, SortsKeysOfDifferentLength) {
  const std::vector<Case> cases = {
      {R"({"aa":1,"a":2,"":3,"b":4})", R"({"":3,"a":2,"aa":1,"b":4})"},
      {R"({"b":1,"a":2})", R"({"a":2,"b":1})"},
      {R"({"B":1,"a":2,"A":3,"_":4})", R"({"A":3,"B":1,"_":4,"a":2})"},
      {R"({"10":1,"9":2,"1":3,"01":4})", R"({"01":4,"1":3,"10":1,"9":2})"},
      {R"({"a\u0000":1,"a":2,"a\u0001":3})", R"({"a":2,"a\u0000":1,"a\u0001":3})"},
      {R"({"ab":1,"a\u00e9":2,"a~":3})", "{\"ab\":1,\"a~\":3,\"a\xC3\xA9\":2}"},
  };
  for (const Case& c : cases) EXPECT_EQ(Canonical(c.input), c.expected) << c.input;
}

TEST(CanonicalJsonTest, SortsRfc8785Example) {
  // RFC 8785 section 3.2.3.
  EXPECT_EQ(Canonical(R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })"),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\","
            "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
            "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
            "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(CanonicalJsonTest, SortsNestedObjects) {
  EXPECT_EQ(Canonical(R"({"z":{"y":2,"x":[{"b":1,"a":0}]},"a":[{"d":4,"c":3},[{"f":6,"e":5}]]})"),
            R"({"a":[{"c":3,"d":4},[{"e":5,"f":6}]],"z":{"x":[{"a":0,"b":1}],"y":2}})");
}

TEST(CanonicalJsonTest, FormatsNumbersLikeEcmaScript) {
  // Expected outputs: node -e 'console.log(JSON.stringify(JSON.parse(x)))'.
  const std::vector<Case> cases = {
      {"0", "0"},
      {"-0", "0"},
      {"0.0", "0"},
      {"-0.0e10", "0"},
      {"1", "1"},
      {"-1", "-1"},
      {"0.5", "0.5"},
      {"-0.5", "-0.5"},
      {"1.0", "1"},
      {"1.50", "1.5"},
      {"4.50", "4.5"},
      {"1E3", "1000"},
      {"1e2", "100"},
      {"100", "100"},
      {"1e20", "100000000000000000000"},
      {"1e21", "1e+21"},
      {"-1e21", "-1e+21"},
      {"1e22", "1e+22"},
      {"1e23", "1e+23"},
      {"1e-6", "0.000001"},
      {"-1e-6", "-0.000001"},
      {"1e-7", "1e-7"},
      {"1e-5", "0.00001"},
      {"0.000001", "0.000001"},
      {"0.0000001", "1e-7"},
      {"0.000001234", "0.000001234"},
      {"0.0000001234", "1.234e-7"},
      {"123e-20", "1.23e-18"},
      {"12.5e-1", "1.25"},
      {"20e-1", "2"},
      {"10.50e1", "105"},
      {"0.1", "0.1"},
      {"0.30000000000000004", "0.30000000000000004"},
      {"123456789012345680000", "123456789012345680000"},
      {"999999999999999900000", "999999999999999900000"},
      {"1e300", "1e+300"},
      {"1.5e300", "1.5e+300"},
      {"-1.5e-300", "-1.5e-300"},
      {"5e-324", "5e-324"},
      {"-5e-324", "-5e-324"},
      {"2.2250738585072014e-308", "2.2250738585072014e-308"},
      {"1.7976931348623157e308", "1.7976931348623157e+308"},
      {"9007199254740992", "9007199254740992"},
      {"-9007199254740992", "-9007199254740992"},
      {"9007199254740991", "9007199254740991"},
      {"1152921504606847000", "1152921504606847000"},
      {"18446744073709552000", "18446744073709552000"},
      {"1234567890.123", "1234567890.123"},
      {"0.000123456789", "0.000123456789"},
      {"333333333.3333333", "333333333.3333333"},
      {"1e+0", "1"},
      {"1E-0", "1"},
  };
  for (const Case& c : cases) {
    const Result<std::string> r = CanonicalNumber(c.input);
    ASSERT_TRUE(r.ok()) << c.input << ": " << r.error();
    EXPECT_EQ(*r, c.expected) << c.input;
    EXPECT_EQ(Canonical("[" + c.input + "]"), "[" + c.expected + "]");
  }
}

TEST(CanonicalJsonTest, RefusesNumbersThatWouldChange) {
  // "Would become" values: node -e 'console.log(JSON.stringify(JSON.parse(x)))'.
  const std::vector<Case> cases = {
      {"9007199254740993", "9007199254740992"},
      {"-9007199254740993", "-9007199254740992"},
      {"1.00000000000000000001", "1"},
      {"333333333.33333329", "333333333.3333333"},
      {"0.1000000000000000055511151231257827", "0.1"},
      {"0.30000000000000001", "0.3"},
      {"18446744073709551615", "18446744073709552000"},
      {"1152921504606846976", "1152921504606847000"},  // 2^60: a double, but not shortest
      {"123456789012345678", "123456789012345680"},
      {"100000000000000000001", "100000000000000000000"},
      {"0.12345678901234567890", "0.12345678901234568"},
      {"2.4703282292062328e-324", "5e-324"},
      {"3e-324", "5e-324"},
  };
  for (const Case& c : cases) {
    const Result<std::string> r = CanonicalNumber(c.input);
    ASSERT_FALSE(r.ok()) << c.input << " -> " << *r;
    EXPECT_EQ(r.error(), "number " + c.input +
                             " cannot be represented exactly in canonical JSON (it would become " +
                             c.expected + ")");
    const std::string in_document = Canonical("{\"amount\":" + c.input + "}");
    EXPECT_EQ(in_document, "ERROR: " + r.error());
  }
  // Out of the double range, above or below (underflow to zero).
  for (const std::string text :
       {"1e400", "-1e400", "1e23000", "1.7976931348623159e308", "1e-400", "-1e-400", "1e-324",
        "1e99999999999999999999999", "1e-99999999999999999999999"}) {
    const Result<std::string> r = CanonicalNumber(text);
    ASSERT_FALSE(r.ok()) << text << " -> " << *r;
    EXPECT_EQ(r.error().rfind("number " + text + " ", 0), 0u) << r.error();
  }
}

TEST(CanonicalJsonTest, AcceptsExactSpellingsOfTheSameValue) {
  // Leading/trailing zeros and exponent shifts do not change the value.
  for (const std::string text :
       {"1000", "1e3", "1E3", "1E+3", "10e2", "0.1e4", "1000.000", "100000e-2",
        "0.00000000000000000001e23", "1000000000000000000000000000000e-27"}) {
    const Result<std::string> r = CanonicalNumber(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error();
    EXPECT_EQ(*r, "1000") << text;
  }
  const std::string many_zeros = "1." + std::string(5000, '0');
  EXPECT_EQ(Canonical(many_zeros), "1");
  EXPECT_EQ(Canonical("0." + std::string(5000, '0') + "1e5001"), "1");
  EXPECT_EQ(Canonical("0e999999999999999999999999"), "0");
  EXPECT_EQ(Canonical("-0.000e-999999999999999999999999"), "0");
}

TEST(CanonicalJsonTest, CanonicalNumberRejectsNonNumbers) {
  for (const std::string text : {"", " 1", "1 ", "abc", "01", "+1", "1.", ".5", "NaN", "Infinity",
                                 "\"1\"", "[1]", "null", "0x1", "1,2", "--1"}) {
    const Result<std::string> r = CanonicalNumber(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error(), "not a JSON number: \"" + text + "\"");
  }
}

TEST(CanonicalJsonTest, ChecksValuesBuiltInCode) {
  const Result<std::string> duplicate =
      CanonicalJson(JsonValue::Object({{"a", JsonValue::Null()}, {"a", JsonValue::Null()}}));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error(), "duplicate object key \"a\"");

  const Result<std::string> bad_string = CanonicalJson(JsonValue::String("\xC3("));
  ASSERT_FALSE(bad_string.ok());
  EXPECT_EQ(bad_string.error(), "string is not valid UTF-8");

  const Result<std::string> bad_key =
      CanonicalJson(JsonValue::Object({{"\xED\xA0\x80", JsonValue::Null()}}));
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error(), "object key is not valid UTF-8");

  const Result<std::string> bad_number =
      CanonicalJson(JsonValue::Array({JsonValue::Number("1"), JsonValue::Number("1.")}));
  ASSERT_FALSE(bad_number.ok());
  EXPECT_EQ(bad_number.error(), "not a JSON number: \"1.\"");

  const Result<std::string> good = CanonicalJson(JsonValue::Object(
      {{"b", JsonValue::Array({JsonValue::Number("2.50"), JsonValue::Bool(false)})},
       {"a", JsonValue::String("x\ny")}}));
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(*good, R"({"a":"x\ny","b":[2.5,false]})");
}

TEST(CanonicalJsonTest, WritesValuesDeeperThanTheParseLimit) {
  // The writer keeps its own stack, so depth is not call depth. (1000 levels
  // keeps the implicit recursive destructor of JsonValue cheap.)
  constexpr int kDepth = 1000;
  JsonValue v = JsonValue::Number("1");
  for (int i = 0; i < kDepth; ++i) {
    if (i % 2 == 0) {
      std::vector<JsonValue> items;
      items.push_back(std::move(v));
      v = JsonValue::Array(std::move(items));
    } else {
      std::vector<JsonValue::Member> members;
      members.emplace_back("k", std::move(v));
      v = JsonValue::Object(std::move(members));
    }
  }
  const Result<std::string> r = CanonicalJson(v);
  ASSERT_TRUE(r.ok()) << r.error();
  std::string open;
  std::string close;
  for (int i = kDepth - 1; i >= 0; --i) {
    open += (i % 2 == 0) ? "[" : "{\"k\":";
    close += (i % 2 == 0) ? "]" : "}";
  }
  std::reverse(close.begin(), close.end());
  EXPECT_EQ(*r, open + "1" + close);
}

TEST(CanonicalJsonTest, PassesParseErrorsThrough) {
  EXPECT_EQ(Canonical("{\"a\":1,\"a\":2}"), "ERROR: invalid JSON at byte 7: duplicate object key");
  EXPECT_EQ(Canonical("[1,]"), "ERROR: invalid JSON at byte 3: unexpected ']', expected a value");
  JsonLimits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(CanonicalizeJsonText("[[1]]", limits).ok());
  EXPECT_FALSE(CanonicalizeJsonText("[[[1]]]", limits).ok());
  limits.max_bytes = 4;
  EXPECT_FALSE(CanonicalizeJsonText("[[1]]", limits).ok());
}

TEST(CanonicalJsonTest, CanonicalTextIsAFixedPoint) {
  for (const std::string text :
       {"0", "-1.5e-300", "1e+21", "\"\\u0000\\b\\t\\n\\f\\r\\u001f\\\"\\\\\"",
        "{\"\":[],\"a\":{},\"b\":[null,true,false]}", "{\"\xF0\x9F\x98\x80\":2,\"\xEE\x80\x80\":1}",
        "[1e-7,0.000001,100000000000000000000,1e+21,-0.5]"}) {
    EXPECT_EQ(Canonical(text), text);
  }
}

// tests/vectors/canonical_json.txt: input TAB canonical TAB sha256 per line,
// all computed outside this code base (see tests/vectors/README.md).
TEST(CanonicalJsonTest, KnownAnswerVectors) {
  const std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/canonical_json.txt";
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file.is_open()) << path;
  std::string line;
  int count = 0;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t tab1 = line.find('\t');
    const std::size_t tab2 = line.find('\t', tab1 + 1);
    ASSERT_NE(tab1, std::string::npos) << line;
    ASSERT_NE(tab2, std::string::npos) << line;
    ASSERT_EQ(line.find('\t', tab2 + 1), std::string::npos) << line;
    const std::string input = line.substr(0, tab1);
    const std::string canonical = line.substr(tab1 + 1, tab2 - tab1 - 1);
    const std::string sha256 = line.substr(tab2 + 1);
    const Result<std::string> r = CanonicalizeJsonText(input);
    ASSERT_TRUE(r.ok()) << input << ": " << r.error();
    EXPECT_EQ(*r, canonical) << input;
    EXPECT_EQ(HashHex(*r), sha256) << input;
    EXPECT_EQ(Canonical(canonical), canonical) << input;
    ++count;
  }
  EXPECT_GE(count, 15);
}

// --- Property tests -------------------------------------------------------

// Unicode scalar values, weighted towards controls, ASCII, the BMP edges and
// astral planes.
rc::Gen<std::uint32_t> GenCodePoint() {
  return rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0, 0x20),
                        rc::gen::inRange<std::uint32_t>(0x20, 0x80),
                        rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
                        rc::gen::inRange<std::uint32_t>(0xE000, 0x10000),
                        rc::gen::inRange<std::uint32_t>(0x10000, 0x110000));
}

std::string EncodeUtf8(const std::vector<std::uint32_t>& cps) {
  std::string out;
  for (std::uint32_t cp : cps) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

rc::Gen<std::string> GenUtf8String() {
  return rc::gen::map(rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 12),
                                      [](std::size_t n) {
                                        return rc::gen::container<std::vector<std::uint32_t>>(
                                            n, GenCodePoint());
                                      }),
                      EncodeUtf8);
}

rc::Gen<double> GenFiniteDouble() {
  return rc::gen::oneOf(
      rc::gen::map(rc::gen::suchThat(rc::gen::arbitrary<std::uint64_t>(),
                                     [](std::uint64_t bits) {
                                       return std::isfinite(std::bit_cast<double>(bits));
                                     }),
                   [](std::uint64_t bits) { return std::bit_cast<double>(bits); }),
      rc::gen::suchThat(rc::gen::arbitrary<double>(), [](double d) { return std::isfinite(d); }));
}

// Shortest round-trip text of a double. Scientific, or general (which may
// choose fixed notation) for values below 2^53 where fixed digits are exact.
std::string ShortestText(double d, bool scientific) {
  char buf[64];
  const bool use_general = !scientific && std::fabs(d) < 9007199254740992.0;
  const auto r =
      std::to_chars(buf, buf + sizeof(buf), d,
                    use_general ? std::chars_format::general : std::chars_format::scientific);
  return std::string(buf, r.ptr);
}

rc::Gen<std::string> GenNumberText() {
  return rc::gen::oneOf(rc::gen::map(rc::gen::inRange<std::int64_t>(-(std::int64_t{1} << 53),
                                                                    (std::int64_t{1} << 53) + 1),
                                     [](std::int64_t v) { return std::to_string(v); }),
                        rc::gen::map(rc::gen::pair(GenFiniteDouble(), rc::gen::arbitrary<bool>()),
                                     [](const std::pair<double, bool>& p) {
                                       return ShortestText(p.first, p.second);
                                     }));
}

rc::Gen<JsonValue> GenJson(int depth) {
  rc::Gen<JsonValue> scalar = rc::gen::oneOf(
      rc::gen::just(JsonValue::Null()), rc::gen::map(rc::gen::arbitrary<bool>(), JsonValue::Bool),
      rc::gen::map(GenNumberText(), [](std::string t) { return JsonValue::Number(std::move(t)); }),
      rc::gen::map(GenUtf8String(), [](std::string s) { return JsonValue::String(std::move(s)); }));
  if (depth == 0) return scalar;
  const rc::Gen<JsonValue> array =
      rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 6), [depth](std::size_t n) {
        return rc::gen::map(rc::gen::container<std::vector<JsonValue>>(n, GenJson(depth - 1)),
                            JsonValue::Array);
      });
  const rc::Gen<JsonValue> object =
      rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 6), [depth](std::size_t n) {
        return rc::gen::map(
            rc::gen::pair(rc::gen::container<std::vector<std::string>>(n, GenUtf8String()),
                          rc::gen::container<std::vector<JsonValue>>(n, GenJson(depth - 1))),
            [](std::pair<std::vector<std::string>, std::vector<JsonValue>> p) {
              std::vector<JsonValue::Member> members;
              for (std::size_t i = 0; i < p.first.size(); ++i) {
                const bool seen =
                    std::any_of(members.begin(), members.end(),
                                [&](const JsonValue::Member& m) { return m.first == p.first[i]; });
                if (!seen) members.emplace_back(std::move(p.first[i]), std::move(p.second[i]));
              }
              return JsonValue::Object(std::move(members));
            });
      });
  return rc::gen::weightedOneOf<JsonValue>({{1, scalar}, {2, array}, {3, object}});
}

// Object keys appear in strictly increasing UTF-16 order, at every level.
bool KeysSorted(const JsonValue& v) {
  if (v.is_array()) return std::all_of(v.items().begin(), v.items().end(), KeysSorted);
  if (!v.is_object()) return true;
  for (std::size_t i = 0; i < v.members().size(); ++i) {
    if (i > 0 && !(Utf16(v.members()[i - 1].first) < Utf16(v.members()[i].first))) return false;
    if (!KeysSorted(v.members()[i].second)) return false;
  }
  return true;
}

RC_GTEST_PROP(CanonicalJsonProperty, RandomTreesCanonicalizeIdempotently, ()) {
  const JsonValue value = *GenJson(3);
  const Result<std::string> first = CanonicalJson(value);
  RC_ASSERT(first.ok());
  RC_LOG() << *first << "\n";
  const Result<JsonValue> parsed = ParseJson(*first);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(KeysSorted(*parsed));
  const Result<std::string> second = CanonicalJson(*parsed);
  RC_ASSERT(second.ok());
  RC_ASSERT(*second == *first);
  const Result<std::string> from_text = CanonicalizeJsonText(*first);
  RC_ASSERT(from_text.ok());
  RC_ASSERT(*from_text == *first);
}

RC_GTEST_PROP(CanonicalJsonProperty, ShortestDoublesRoundTrip, (bool scientific)) {
  const double d = *GenFiniteDouble();
  const std::string text = ShortestText(d, scientific);
  RC_LOG() << text << "\n";
  const Result<std::string> canonical = CanonicalNumber(text);
  RC_ASSERT(canonical.ok());
  double back = 0;
  const auto [ptr, ec] =
      std::from_chars(canonical->data(), canonical->data() + canonical->size(), back);
  RC_ASSERT(ec == std::errc());
  RC_ASSERT(ptr == canonical->data() + canonical->size());
  RC_ASSERT(back == d);
  RC_ASSERT((*canonical)[0] != '-' || d < 0);  // no "-0"
  const Result<std::string> again = CanonicalNumber(*canonical);
  RC_ASSERT(again.ok());
  RC_ASSERT(*again == *canonical);
}

RC_GTEST_PROP(CanonicalJsonProperty, SafeIntegersAreUnchanged, ()) {
  const std::int64_t v =
      *rc::gen::inRange<std::int64_t>(-(std::int64_t{1} << 53), (std::int64_t{1} << 53) + 1);
  const Result<std::string> canonical = CanonicalNumber(std::to_string(v));
  RC_ASSERT(canonical.ok());
  RC_ASSERT(*canonical == std::to_string(v));
}

// Arbitrary grammar-valid number texts: either refused with a reason, or the
// canonical form has the same double value and is itself canonical.
RC_GTEST_PROP(CanonicalJsonProperty, ArbitraryNumberTexts, ()) {
  const auto digits = [](std::size_t min) {
    return rc::gen::mapcat(rc::gen::inRange<std::size_t>(min, 25), [](std::size_t n) {
      return rc::gen::container<std::string>(n, rc::gen::elementOf(std::string("0123456789")));
    });
  };
  std::string text = *rc::gen::element(std::string(), std::string("-"));
  std::string integer = *digits(1);
  if (integer.size() > 1 && integer[0] == '0') integer[0] = '1';
  text += integer;
  if (*rc::gen::arbitrary<bool>()) text += "." + *digits(1);
  if (*rc::gen::arbitrary<bool>()) {
    text += *rc::gen::element(std::string("e"), std::string("E"), std::string("e+"),
                              std::string("e-"), std::string("E-"));
    text += std::to_string(*rc::gen::inRange(0, 400));
  }
  RC_LOG() << text << "\n";
  const Result<std::string> canonical = CanonicalNumber(text);
  if (!canonical.ok()) {
    const bool inexact =
        canonical.error().find("cannot be represented exactly") != std::string::npos;
    const bool out_of_range = canonical.error().find("outside the range") != std::string::npos;
    RC_ASSERT(inexact || out_of_range);
    return;
  }
  double a = 0;
  double b = 0;
  RC_ASSERT(std::from_chars(text.data(), text.data() + text.size(), a).ec == std::errc());
  RC_ASSERT(std::from_chars(canonical->data(), canonical->data() + canonical->size(), b).ec ==
            std::errc());
  RC_ASSERT(a == b);
  const Result<std::string> again = CanonicalNumber(*canonical);
  RC_ASSERT(again.ok());
  RC_ASSERT(*again == *canonical);
}

}  // namespace
}  // namespace powchain
