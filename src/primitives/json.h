// A strict JSON reader for everything that arrives from outside: block data,
// request bodies and peer messages.
//
// Why a reader of our own rather than boost::json::parse: it keeps every
// number as the text that was sent (Boost.JSON 1.81 turns each number into
// an int64, a uint64 or a double while parsing, and the written form is
// lost), so consensus can refuse numbers that canonical JSON would rewrite
// and read u64 header fields digit by digit; and every error names the byte
// offset and what was wrong there, which the answers to peers and HTTP
// clients pass on.
//
// The reader follows RFC 8259 with I-JSON (RFC 7493) restrictions: strings
// must be valid UTF-8 with no lone surrogate escapes, object keys must be
// unique. Depth and size are limited; exceeding either is an error, never a
// crash or deep recursion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "util/result.h"

namespace powchain {

struct JsonLimits {
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{4} * 1024 * 1024;
  static constexpr std::size_t kDefaultMaxDepth = 64;
  // ParseJson never recurses, but destroying a JsonValue does (one frame per
  // level), so a larger max_depth is treated as this.
  static constexpr std::size_t kMaxSupportedDepth = 1000;
  std::size_t max_bytes = kDefaultMaxBytes;  // length of the whole text
  std::size_t max_depth = kDefaultMaxDepth;  // nesting of arrays and objects
};

class JsonValue {
 public:
  // In the order of the alternatives of `value_`.
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  // `text` must be a valid JSON number; it is kept as written.
  static JsonValue Number(std::string text);
  static JsonValue String(std::string utf8);
  static JsonValue Array(std::vector<JsonValue> items);
  // Members keep their order; keys must be unique.
  static JsonValue Object(std::vector<Member> members);

  Kind kind() const { return static_cast<Kind>(value_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_number() const { return kind() == Kind::kNumber; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_object() const { return kind() == Kind::kObject; }

  // Each accessor requires the matching kind.
  bool as_bool() const;
  // The number exactly as written in the source text.
  const std::string& number_text() const;
  // The decoded string (UTF-8, escapes resolved).
  const std::string& as_string() const;
  const std::vector<JsonValue>& items() const;
  const std::vector<Member>& members() const;

  // Object member lookup; nullptr when absent or when this is not an object.
  const JsonValue* Find(std::string_view key) const;

  // The number as an unsigned 64-bit integer: only plain digits are accepted
  // (no sign, fraction or exponent) and the value must fit. nullopt otherwise,
  // including when this is not a number.
  std::optional<std::uint64_t> AsU64() const;

 private:
  struct NumberText {
    std::string text;
  };
  // One alternative per Kind, so a value costs 40 bytes (a member 72): a
  // parse of hostile text holds at most about 20 times the text's size.
  std::variant<std::monostate, bool, NumberText, std::string, std::vector<JsonValue>,
               std::vector<Member>>
      value_;
};

// Parses one JSON text (surrounding whitespace allowed, nothing else after
// it). Errors name the byte offset and what was wrong.
Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits = {});

}  // namespace powchain
