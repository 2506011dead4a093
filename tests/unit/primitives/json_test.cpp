#include "primitives/json.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace powchain {
namespace {

using namespace std::string_literals;

std::string ErrorOf(std::string_view text, const JsonLimits& limits = {}) {
  const Result<JsonValue> r = ParseJson(text, limits);
  return r.ok() ? "" : r.error();
}

TEST(JsonParseTest, AcceptsValidTexts) {
  struct Case {
    std::string text;
    JsonValue::Kind kind;
  };
  const std::vector<Case> cases = {
      {"null", JsonValue::Kind::kNull},
      {"true", JsonValue::Kind::kBool},
      {"false", JsonValue::Kind::kBool},
      {"0", JsonValue::Kind::kNumber},
      {"-0", JsonValue::Kind::kNumber},
      {"-0.0e-0", JsonValue::Kind::kNumber},
      {"123", JsonValue::Kind::kNumber},
      {"1.5E+10", JsonValue::Kind::kNumber},
      {"1e-10", JsonValue::Kind::kNumber},
      {"\"\"", JsonValue::Kind::kString},
      {"\"abc\"", JsonValue::Kind::kString},
      {"[]", JsonValue::Kind::kArray},
      {"[1,\"a\",null,[],{}]", JsonValue::Kind::kArray},
      {"{}", JsonValue::Kind::kObject},
      {"{\"a\":{\"b\":[true]}}", JsonValue::Kind::kObject},
      {" \t\n\r[ \t\n\r1 \t\n\r, \t\n\r2 \t\n\r] \t\n\r", JsonValue::Kind::kArray},
      {"{ \"k\" : 1 , \"l\" : 2 }", JsonValue::Kind::kObject},
      {"\"\\\"\"", JsonValue::Kind::kString},
  };
  for (const Case& c : cases) {
    const Result<JsonValue> r = ParseJson(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error();
    EXPECT_EQ(r->kind(), c.kind) << c.text;
  }
}

TEST(JsonParseTest, RejectsGrammarErrors) {
  struct Case {
    std::string text;
    std::size_t offset;
    std::string what;  // a substring of the message
  };
  const std::vector<Case> cases = {
      // Empty or incomplete.
      {"", 0, "unexpected end of text"},
      {" \t\n\r", 4, "unexpected end of text"},
      {"[", 1, "unexpected end of text"},
      {"[1", 2, "expected ',' or ']'"},
      {"{", 1, "expected '\"' to start an object key"},
      {"{\"a\"", 4, "expected ':'"},
      {"{\"a\":", 5, "unexpected end of text"},
      {"{\"a\":1", 6, "expected ',' or '}'"},
      // Stray or mismatched brackets.
      {"]", 0, "unexpected ']'"},
      {"}", 0, "unexpected '}'"},
      {"[}", 1, "unexpected '}'"},
      {"{]", 1, "expected '\"'"},
      {"[1}", 2, "expected ',' or ']'"},
      {"{\"a\":1]", 6, "expected ',' or '}'"},
      {"{\"a\":1}}", 7, "after the JSON value"},
      // Commas.
      {"[1,]", 3, "expected a value"},
      {"[,1]", 1, "expected a value"},
      {"[1,,2]", 3, "expected a value"},
      {"{\"a\":1,}", 7, "expected '\"' to start an object key"},
      {"{,}", 1, "expected '\"'"},
      {"[1 2]", 3, "expected ',' or ']'"},
      {"{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"},
      // Keys and colons.
      {"{\"a\" 1}", 5, "expected ':' after object key"},
      {"{\"a\"::1}", 5, "unexpected ':'"},
      {"{\"a\":}", 5, "unexpected '}'"},
      {"{1:2}", 1, "expected '\"'"},
      {"{a:1}", 1, "expected '\"'"},
      {"{'a':1}", 1, "expected '\"'"},
      {"{null:1}", 1, "expected '\"'"},
      // Literals.
      {"tru", 0, "expected 'true'"},
      {"nul", 0, "expected 'null'"},
      {"fals", 0, "expected 'false'"},
      {"True", 0, "unexpected 'T'"},
      {"NULL", 0, "unexpected 'N'"},
      {"nulll", 4, "after the JSON value"},
      {"truefalse", 4, "after the JSON value"},
      {"undefined", 0, "unexpected 'u'"},
      {"NaN", 0, "unexpected 'N'"},
      {"Infinity", 0, "unexpected 'I'"},
      {"-Infinity", 1, "expected a digit"},
      {"'a'", 0, "unexpected '''"},
      // Numbers.
      {"+1", 0, "unexpected '+'"},
      {".5", 0, "unexpected '.'"},
      {"-.5", 1, "expected a digit"},
      {"-", 1, "expected a digit"},
      {"--1", 1, "expected a digit"},
      {"01", 1, "leading zeros"},
      {"-01", 2, "leading zeros"},
      {"00", 1, "leading zeros"},
      {"[007]", 2, "leading zeros"},
      {"1.", 2, "expected a digit after the decimal point"},
      {"1.e5", 2, "expected a digit after the decimal point"},
      {"1e", 2, "expected a digit in the exponent"},
      {"1e+", 3, "expected a digit in the exponent"},
      {"1E-", 3, "expected a digit in the exponent"},
      {"1.5.2", 3, "after the JSON value"},
      {"1e5e5", 3, "after the JSON value"},
      {"0x10", 1, "after the JSON value"},
      {"1_000", 1, "after the JSON value"},
      // Trailing content, comments.
      {"1 2", 2, "after the JSON value"},
      {"[] []", 3, "after the JSON value"},
      {"[1]x", 3, "after the JSON value"},
      {"//c\n1", 0, "unexpected '/'"},
      {"/*c*/1", 0, "unexpected '/'"},
      {"1 // c", 2, "unexpected '/'"},
      {"[1/*c*/]", 2, "expected ',' or ']'"},
      {"# c\n1", 0, "unexpected '#'"},
      {"1\0"s, 1, "byte 0x00 after the JSON value"},
      // Whitespace other than space, tab, LF, CR.
      {"\f1", 0, "byte 0x0c"},
      {"\v1", 0, "byte 0x0b"},
      {"\xC2\xA0"
       "1",
       0, "byte 0xc2"},
      {"\xEF\xBB\xBF"
       "1",
       0, "byte 0xef"},  // byte order mark
      {"[1,\f2]", 3, "byte 0x0c"},
      // Strings.
      {"\"abc", 0, "unterminated string"},
      {"\"abc\\\"", 0, "unterminated string"},
      {"\"\\", 1, "unterminated escape"},
      {"\"\\x\"", 1, "invalid escape"},
      {"\"\\a\"", 1, "invalid escape"},
      {"\"\\U0041\"", 1, "invalid escape"},
      {"\"\\'\"", 1, "invalid escape"},
      {"\"\\0\"", 1, "invalid escape"},
      {"\"\\u12\"", 1, "4 hex digits"},
      {"\"\\u12G4\"", 1, "4 hex digits"},
      {"\"\\u\"", 1, "4 hex digits"},
      {"\"\\u 123\"", 1, "4 hex digits"},
      {"\"a\tb\"", 2, "unescaped control character"},
      {"\"a\nb\"", 2, "unescaped control character"},
      {"\"\x01\"", 1, "unescaped control character"},
      {"\"\x1f\"", 1, "unescaped control character"},
      {"\"\0\""s, 1, "unescaped control character"},
  };
  for (const Case& c : cases) {
    const std::string error = ErrorOf(c.text);
    ASSERT_FALSE(error.empty()) << "accepted: " << c.text;
    const std::string prefix = "invalid JSON at byte " + std::to_string(c.offset) + ": ";
    EXPECT_EQ(error.substr(0, prefix.size()), prefix) << c.text << " -> " << error;
    EXPECT_NE(error.find(c.what), std::string::npos) << c.text << " -> " << error;
  }
}

TEST(JsonParseTest, ErrorMessageFormat) {
  EXPECT_EQ(ErrorOf("{\"height\": 1, \"x\" 2}"),
            "invalid JSON at byte 18: expected ':' after object key");
  EXPECT_EQ(ErrorOf("[1,]"), "invalid JSON at byte 3: unexpected ']', expected a value");
  EXPECT_EQ(ErrorOf("{\"a\":1,\"a\":2}"), "invalid JSON at byte 7: duplicate object key");
}

TEST(JsonParseTest, DepthExactlyAtLimitPasses) {
  for (std::size_t limit : {0u, 1u, 2u, 5u, 64u, 200u}) {
    JsonLimits limits;
    limits.max_depth = limit;
    const std::string arrays = std::string(limit, '[') + "0" + std::string(limit, ']');
    EXPECT_TRUE(ParseJson(arrays, limits).ok()) << limit;
    std::string objects;
    for (std::size_t i = 0; i < limit; ++i) objects += "{\"k\":";
    objects += "1" + std::string(limit, '}');
    EXPECT_TRUE(ParseJson(objects, limits).ok()) << limit;
    // Mixed nesting counts both kinds.
    std::string mixed;
    for (std::size_t i = 0; i < limit; ++i) mixed += (i % 2 == 0) ? "[" : "{\"k\":";
    mixed += "0";
    for (std::size_t i = limit; i-- > 0;) mixed += (i % 2 == 0) ? "]" : "}";
    EXPECT_TRUE(ParseJson(mixed, limits).ok()) << limit << " " << mixed;
  }
  // The default limit is 64.
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']')).ok());
}

TEST(JsonParseTest, DepthOneMoreThanLimitFails) {
  for (std::size_t limit : {0u, 1u, 2u, 5u, 64u, 200u}) {
    JsonLimits limits;
    limits.max_depth = limit;
    const std::string arrays = std::string(limit + 1, '[') + std::string(limit + 1, ']');
    EXPECT_EQ(ErrorOf(arrays, limits), "invalid JSON at byte " + std::to_string(limit) +
                                           ": nesting deeper than the limit of " +
                                           std::to_string(limit));
    std::string objects;
    for (std::size_t i = 0; i <= limit; ++i) objects += "{\"k\":";
    objects += "1" + std::string(limit + 1, '}');
    EXPECT_NE(ErrorOf(objects, limits).find("nesting deeper"), std::string::npos) << limit;
  }
  EXPECT_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']')).ok());
  // Scalars have depth 0.
  JsonLimits zero;
  zero.max_depth = 0;
  EXPECT_TRUE(ParseJson("\"x\"", zero).ok());
  EXPECT_FALSE(ParseJson("[]", zero).ok());
  EXPECT_FALSE(ParseJson("{}", zero).ok());
}

TEST(JsonParseTest, HugeNestingFailsQuickly) {
  const std::vector<std::string> texts = {
      std::string(100000, '['),
      std::string(100000, '[') + std::string(100000, ']'),
      [] {
        std::string s;
        for (int i = 0; i < 100000; ++i) s += "{\"a\":";
        return s;
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 100000; ++i) s += "[{\"a\":";
        return s;
      }(),
  };
  for (const std::string& text : texts) {
    const std::string error = ErrorOf(text);
    EXPECT_NE(error.find("nesting deeper than the limit of 64"), std::string::npos) << error;
  }
  // A larger limit is capped, since destroying a value recurses per level.
  JsonLimits deep;
  deep.max_depth = 1000000;
  EXPECT_NE(ErrorOf(std::string(100000, '['), deep).find("nesting deeper than the limit of 1000"),
            std::string::npos);
  EXPECT_TRUE(ParseJson(std::string(1000, '[') + std::string(1000, ']'), deep).ok());
}

TEST(JsonParseTest, SizeLimit) {
  JsonLimits limits;
  limits.max_bytes = 10;
  EXPECT_TRUE(ParseJson("[1,2,3,44]", limits).ok());    // exactly 10 bytes
  EXPECT_TRUE(ParseJson("   [1,2]  ", limits).ok());    // whitespace counts
  EXPECT_FALSE(ParseJson("[1,2,3,444]", limits).ok());  // 11 bytes
  EXPECT_FALSE(ParseJson("   [1,2]   ", limits).ok());  // 11 bytes
  EXPECT_EQ(ErrorOf("[1,2,3,444]", limits),
            "invalid JSON: text is 11 bytes, more than the limit of 10");
  limits.max_bytes = 0;
  EXPECT_FALSE(ParseJson("1", limits).ok());
  // The default is 4 MiB.
  const std::string big = "\"" + std::string(JsonLimits::kDefaultMaxBytes - 2, 'x') + "\"";
  EXPECT_TRUE(ParseJson(big).ok());
  EXPECT_FALSE(ParseJson(big + " ").ok());
}

TEST(JsonParseTest, Utf8Validation) {
  struct Case {
    std::string bytes;  // string contents between the quotes
    bool valid;
    std::string description;
  };
  const std::vector<Case> cases = {
      {"\x41", true, "ASCII"},
      {"\x7F", true, "DEL"},
      {"\xC2\x80", true, "U+0080, smallest 2-byte"},
      {"\xDF\xBF", true, "U+07FF, largest 2-byte"},
      {"\xE0\xA0\x80", true, "U+0800, smallest 3-byte"},
      {"\xED\x9F\xBF", true, "U+D7FF, below the surrogates"},
      {"\xEE\x80\x80", true, "U+E000, above the surrogates"},
      {"\xEF\xBF\xBF", true, "U+FFFF"},
      {"\xEF\xBB\xBF", true, "U+FEFF inside a string"},
      {"\xE2\x80\xA8", true, "U+2028"},
      {"\xF0\x90\x80\x80", true, "U+10000, smallest 4-byte"},
      {"\xF0\x9F\x98\x80", true, "U+1F600"},
      {"\xF4\x8F\xBF\xBF", true, "U+10FFFF, largest"},
      {"\xC0\x80", false, "overlong NUL"},
      {"\xC0\xAF", false, "overlong '/'"},
      {"\xC1\xBF", false, "overlong 2-byte"},
      {"\xE0\x80\x80", false, "overlong 3-byte NUL"},
      {"\xE0\x9F\xBF", false, "overlong U+07FF"},
      {"\xF0\x80\x80\x80", false, "overlong 4-byte NUL"},
      {"\xF0\x8F\xBF\xBF", false, "overlong U+FFFF"},
      {"\xED\xA0\x80", false, "U+D800 encoded"},
      {"\xED\xAF\xBF", false, "U+DBFF encoded"},
      {"\xED\xB0\x80", false, "U+DC00 encoded"},
      {"\xED\xBF\xBF", false, "U+DFFF encoded"},
      {"\xED\xA0\xBD\xED\xB8\x80", false, "CESU-8 surrogate pair"},
      {"\xF4\x90\x80\x80", false, "U+110000"},
      {"\xF5\x80\x80\x80", false, "lead byte F5"},
      {"\xF7\xBF\xBF\xBF", false, "lead byte F7"},
      {"\xF8\x88\x80\x80\x80", false, "5-byte form"},
      {"\xFC\x84\x80\x80\x80\x80", false, "6-byte form"},
      {"\xFE", false, "byte FE"},
      {"\xFF", false, "byte FF"},
      {"\x80", false, "lone continuation byte"},
      {"\xBF", false, "lone continuation byte BF"},
      {"a\x80"
       "b",
       false, "continuation byte after ASCII"},
      {"\xC2", false, "truncated 2-byte"},
      {"\xE2\x82", false, "truncated 3-byte"},
      {"\xF0\x9F\x98", false, "truncated 4-byte"},
      {"\xC2\x41", false, "bad continuation"},
      {"\xE2\x28\xA1", false, "bad second byte"},
      {"\xE2\x82\x28", false, "bad third byte"},
      {"\xF0\x9F\x98\x28", false, "bad fourth byte"},
      {"\xC2\xC2\x80", false, "lead byte as continuation"},
  };
  for (const Case& c : cases) {
    const std::string text = "\"" + c.bytes + "\"";
    const Result<JsonValue> r = ParseJson(text);
    ASSERT_EQ(r.ok(), c.valid) << c.description;
    if (c.valid) {
      EXPECT_EQ(r->as_string(), c.bytes) << c.description;
    } else {
      EXPECT_NE(r.error().find("invalid UTF-8 in string"), std::string::npos) << c.description;
    }
    // The same in an object key.
    EXPECT_EQ(ParseJson("{" + text + ":1}").ok(), c.valid) << c.description;
  }
  // Truncated sequence at the very end of the text.
  EXPECT_FALSE(ParseJson("\"\xE2\x82").ok());
  EXPECT_FALSE(ParseJson("\"\xF0").ok());
}

TEST(JsonParseTest, DecodesEscapes) {
  struct Case {
    std::string text;
    std::string decoded;
  };
  const std::vector<Case> cases = {
      {R"("\"")", "\""},
      {R"("\\")", "\\"},
      {R"("\/")", "/"},
      {R"("\b\f\n\r\t")", "\b\f\n\r\t"},
      {R"("a\u0041b")", "aAb"},
      {R"("\u0000")", "\0"s},
      {R"("\u001f")", "\x1f"},
      {R"("\u007F")", "\x7f"},
      {R"("\u00e9\u00E9")", "\xC3\xA9\xC3\xA9"},
      {R"("\u07FF")", "\xDF\xBF"},
      {R"("\u0800")", "\xE0\xA0\x80"},
      {R"("\u20AC")", "\xE2\x82\xAC"},
      {R"("\uD7FF")", "\xED\x9F\xBF"},
      {R"("\uE000")", "\xEE\x80\x80"},
      {R"("\uFFFF")", "\xEF\xBF\xBF"},
      {R"("\uD800\uDC00")", "\xF0\x90\x80\x80"},
      {R"("\ud83d\ude00")", "\xF0\x9F\x98\x80"},
      {R"("\uD83D\uDE00")", "\xF0\x9F\x98\x80"},
      {R"("\uDBFF\uDFFF")", "\xF4\x8F\xBF\xBF"},
      {R"("x\uD834\uDD1Ey")", "x\xF0\x9D\x84\x9Ey"},
      {R"("\\u0041")", "\\u0041"},
      {R"("\"\\\/\b")", "\"\\/\b"},
  };
  for (const Case& c : cases) {
    const Result<JsonValue> r = ParseJson(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error();
    EXPECT_EQ(r->as_string(), c.decoded) << c.text;
  }
}

TEST(JsonParseTest, RejectsLoneAndMisorderedSurrogates) {
  struct Case {
    std::string text;
    std::string what;
  };
  const std::vector<Case> cases = {
      {R"("\uD800")", "high surrogate escape not followed"},
      {R"("\uDBFF")", "high surrogate escape not followed"},
      {R"("\uD800x")", "high surrogate escape not followed"},
      {R"("\uD800\u0041")", "high surrogate escape not followed"},
      {R"("\uD800\uD800")", "high surrogate escape not followed"},
      {R"("\uD800\uE000")", "high surrogate escape not followed"},
      {R"("\uD800\n")", "high surrogate escape not followed"},
      {R"("\uD800\u")", "high surrogate escape not followed"},
      {R"("\uD800\uDC0")", "high surrogate escape not followed"},
      {R"("\uD800)", "high surrogate escape not followed"},
      {R"("\uDC00")", "low surrogate escape without"},
      {R"("\uDFFF")", "low surrogate escape without"},
      {R"("\uDC00\uD800")", "low surrogate escape without"},
      {R"("a\uDE00b")", "low surrogate escape without"},
      {R"("\uD83D\uDE00\uDE00")", "low surrogate escape without"},
      {R"({"\uD800":1})", "high surrogate escape not followed"},
  };
  for (const Case& c : cases) {
    const std::string error = ErrorOf(c.text);
    EXPECT_NE(error.find(c.what), std::string::npos) << c.text << " -> " << error;
  }
  // A raw high surrogate followed by an escaped low one is still invalid UTF-8.
  EXPECT_FALSE(ParseJson("\"\xED\xA0\xBD\\uDE00\"").ok());
}

TEST(JsonParseTest, RejectsDuplicateKeys) {
  struct Case {
    std::string text;
    std::size_t offset;  // of the second occurrence
  };
  const std::vector<Case> cases = {
      {R"({"a":1,"a":2})", 7},
      {R"({"a":1,"a":1})", 7},
      {R"({"a":1,"\u0061":2})", 7},
      {R"({"\u00e9":1,"é":2})", 12},
      {R"({"b":1,"a":2,"c":3,"a":4,"b":5})", 19},
      {R"({"":1,"":2})", 6},
      {R"({"x":{"k":1,"k":2}})", 12},
      {R"([{"k":1},{"k":1,"k":2}])", 16},
      {"{\"a\\u0000\":1,\"a\\u0000\":2}", 13},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(c.text),
              "invalid JSON at byte " + std::to_string(c.offset) + ": duplicate object key")
        << c.text;
  }
  // Not duplicates: same key in different objects, keys differing in case,
  // length or a NUL.
  for (const std::string text : {R"({"a":{"a":1},"b":{"a":2}})", R"({"a":1,"A":2})",
                                 R"({"a":1,"aa":2,"":3})", "{\"a\":1,\"a\\u0000\":2}"}) {
    EXPECT_TRUE(ParseJson(text).ok()) << text;
  }
}

TEST(JsonParseTest, RejectsDuplicateKeysInLargeObjects) {
  // Objects of up to 16 members compare every pair; larger ones sort. Both
  // must name the same member: the first whose key an earlier one has.
  for (const std::size_t size : {15u, 16u, 17u, 40u}) {
    std::string text = "{";
    std::size_t expected = 0;
    for (std::size_t i = 0; i < size; ++i) {
      if (i > 0) text += ',';
      // Two late members repeat earlier keys; the first of them is reported.
      std::size_t key = i;
      if (i == size - 3) key = 5;
      if (i == size - 1) key = 1;
      if (i == size - 3) expected = text.size();
      text += "\"k" + std::to_string(key) + "\":" + std::to_string(i);
    }
    text += "}";
    EXPECT_EQ(ErrorOf(text),
              "invalid JSON at byte " + std::to_string(expected) + ": duplicate object key")
        << text;
  }
  std::string distinct = "{";
  for (int i = 0; i < 40; ++i) distinct += (i > 0 ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  EXPECT_TRUE(ParseJson(distinct + "}").ok());
}

TEST(JsonParseTest, NumbersKeepSourceText) {
  for (const std::string text :
       {"0", "-0", "-0.0", "1.50", "1E+05", "1e-0", "123456789012345678901234567890",
        "0.000000000000000000000000000001", "1.7976931348623157e309", "9007199254740993"}) {
    const Result<JsonValue> r = ParseJson(" " + text + " ");
    ASSERT_TRUE(r.ok()) << text;
    ASSERT_TRUE(r->is_number());
    EXPECT_EQ(r->number_text(), text);
  }
}

TEST(JsonParseTest, AsU64) {
  struct Case {
    std::string text;
    std::optional<std::uint64_t> expected;
  };
  const std::vector<Case> cases = {
      {"0", 0},
      {"1", 1},
      {"42", 42},
      {"9007199254740993", 9007199254740993ULL},
      {"18446744073709551615", 18446744073709551615ULL},
      {"18446744073709551616", std::nullopt},
      {"99999999999999999999", std::nullopt},
      {"100000000000000000000000", std::nullopt},
      {"-1", std::nullopt},
      {"-0", std::nullopt},
      {"1.0", std::nullopt},
      {"0.0", std::nullopt},
      {"1e3", std::nullopt},
      {"1E3", std::nullopt},
      {"10e0", std::nullopt},
      {"\"1\"", std::nullopt},
      {"true", std::nullopt},
      {"null", std::nullopt},
      {"[1]", std::nullopt},
  };
  for (const Case& c : cases) {
    const Result<JsonValue> r = ParseJson(c.text);
    ASSERT_TRUE(r.ok()) << c.text;
    EXPECT_EQ(r->AsU64(), c.expected) << c.text;
  }
  // "01" is not JSON; a value built in code with that text is refused too.
  EXPECT_FALSE(ParseJson("01").ok());
  EXPECT_EQ(JsonValue::Number("01").AsU64(), std::nullopt);
  EXPECT_EQ(JsonValue::Number("").AsU64(), std::nullopt);
  EXPECT_EQ(JsonValue::Number("+1").AsU64(), std::nullopt);
}

TEST(JsonValueTest, BuildersAndAccessors) {
  EXPECT_TRUE(JsonValue().is_null());
  EXPECT_TRUE(JsonValue::Null().is_null());
  EXPECT_TRUE(JsonValue::Bool(true).as_bool());
  EXPECT_FALSE(JsonValue::Bool(false).as_bool());
  EXPECT_EQ(JsonValue::Number("1.50").number_text(), "1.50");
  EXPECT_EQ(JsonValue::String("x").as_string(), "x");
  const JsonValue array = JsonValue::Array({JsonValue::Null(), JsonValue::Bool(true)});
  ASSERT_TRUE(array.is_array());
  EXPECT_EQ(array.items().size(), 2u);
  EXPECT_EQ(array.Find("a"), nullptr);
  const JsonValue object =
      JsonValue::Object({{"b", JsonValue::Number("2")}, {"a", JsonValue::String("s")}});
  ASSERT_TRUE(object.is_object());
  ASSERT_EQ(object.members().size(), 2u);
  EXPECT_EQ(object.members()[0].first, "b");  // order kept
  ASSERT_NE(object.Find("a"), nullptr);
  EXPECT_EQ(object.Find("a")->as_string(), "s");
  EXPECT_EQ(object.Find("c"), nullptr);
  EXPECT_EQ(JsonValue::Number("1").Find("a"), nullptr);
}

TEST(JsonParseTest, ParsedStructure) {
  const Result<JsonValue> r =
      ParseJson(R"({"height": 7, "txs": [{"to": "bob", "ok": true}, null], "k\u00e9y": "v"})");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->members().size(), 3u);
  EXPECT_EQ(r->members()[0].first, "height");
  EXPECT_EQ(r->members()[1].first, "txs");
  EXPECT_EQ(r->members()[2].first, "k\xC3\xA9y");
  EXPECT_EQ(r->Find("height")->AsU64(), 7u);
  const JsonValue* txs = r->Find("txs");
  ASSERT_NE(txs, nullptr);
  ASSERT_EQ(txs->items().size(), 2u);
  EXPECT_EQ(txs->items()[0].Find("to")->as_string(), "bob");
  EXPECT_TRUE(txs->items()[0].Find("ok")->as_bool());
  EXPECT_TRUE(txs->items()[1].is_null());
}

// Arbitrary sequences of JSON-ish fragments: the parser returns a value or an
// "invalid JSON" error, never crashes (run under the sanitizers).
RC_GTEST_PROP(JsonParseProperty, NeverCrashesOnArbitraryInput, ()) {
  static const std::vector<std::string> kFragments = {"[",
                                                      "]",
                                                      "{",
                                                      "}",
                                                      ",",
                                                      ":",
                                                      "\"",
                                                      "\\",
                                                      "\\u",
                                                      "d83d",
                                                      "de00",
                                                      "0",
                                                      "1",
                                                      "-",
                                                      ".",
                                                      "e",
                                                      "E+",
                                                      "true",
                                                      "null",
                                                      "fals",
                                                      " ",
                                                      "\t",
                                                      "\n",
                                                      "\xC3",
                                                      "\xA9",
                                                      "\xED\xA0\x80",
                                                      "\xF0\x9F\x98\x80",
                                                      "\x01",
                                                      "a",
                                                      "\"a\"",
                                                      "\"a\":",
                                                      "1e400",
                                                      "00"};
  const auto pieces = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, kFragments.size()));
  std::string text;
  for (std::size_t i : pieces) text += kFragments[i];
  JsonLimits limits;
  limits.max_depth = 8;
  const Result<JsonValue> r = ParseJson(text, limits);
  if (!r.ok()) {
    RC_ASSERT(r.error().rfind("invalid JSON", 0) == 0);
  }
}

RC_GTEST_PROP(JsonParseProperty, RandomBytesNeverCrash, (const std::string& bytes)) {
  const Result<JsonValue> r = ParseJson(bytes);
  if (!r.ok()) {
    RC_ASSERT(r.error().rfind("invalid JSON", 0) == 0);
  }
}

}  // namespace
}  // namespace powchain
