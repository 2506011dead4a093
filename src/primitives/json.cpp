#include "primitives/json.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <system_error>
#include <utility>

#include "util/hex.h"
#include "util/utf8.h"

namespace powchain {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Objects with at most this many members are checked for duplicate keys by
// comparing every pair (no allocation); larger ones by sorting.
constexpr std::size_t kSmallObjectMembers = 16;

// A readable name for the byte at an error position.
std::string DescribeByte(char c) {
  const auto b = static_cast<unsigned char>(c);
  if (b >= 0x21 && b <= 0x7E) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[b >> 4] + kHex[b & 0xF];
}

// Iterative recursive-descent parser: nesting lives in an explicit stack of
// open containers, so input depth never becomes call depth. Offsets in error
// messages are 0-based byte offsets into the text.
class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  Result<JsonValue> Parse();

 private:
  // An array or object whose closing bracket has not been read yet.
  struct Frame {
    bool is_object = false;
    std::vector<JsonValue> items;
    std::vector<JsonValue::Member> members;
    std::vector<std::size_t> key_offsets;  // parallel to members
    std::string key;                       // key of the member being read
    std::size_t key_offset = 0;
  };

  // Records the error and returns false.
  bool Fail(std::size_t offset, std::string_view what);
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipWhitespace() {
    while (!AtEnd() && IsWhitespace(Peek())) ++pos_;
  }

  // Each reads one token starting at pos_ and leaves pos_ just after it.
  bool ParseScalar(JsonValue* out);
  bool ParseLiteral(std::string_view word, JsonValue value, JsonValue* out);
  bool ParseNumber(JsonValue* out);
  bool ParseString(std::string* out);
  bool ParseEscape(std::string* out);
  bool ReadHex4(std::size_t at, std::uint32_t* out);
  // Reads `"key" :` into frame->key (whitespace before it already skipped).
  bool ParseKey(Frame* frame);
  // Turns a finished frame into its value; checks object keys are unique.
  bool CloseFrame(Frame* frame, JsonValue* out);

  std::string_view text_;
  JsonLimits limits_;
  std::size_t pos_ = 0;
  std::string error_;
};

bool Parser::Fail(std::size_t offset, std::string_view what) {
  error_ = "invalid JSON at byte " + std::to_string(offset) + ": " + std::string(what);
  return false;
}

Result<JsonValue> Parser::Parse() {
  if (text_.size() > limits_.max_bytes) {
    return Error{"invalid JSON: text is " + std::to_string(text_.size()) +
                 " bytes, more than the limit of " + std::to_string(limits_.max_bytes)};
  }
  const std::size_t max_depth = std::min(limits_.max_depth, JsonLimits::kMaxSupportedDepth);
  std::vector<Frame> stack;
  JsonValue value;
  bool need_value = true;  // else `value` holds a complete value
  for (;;) {
    if (need_value) {
      SkipWhitespace();
      if (AtEnd()) {
        Fail(pos_, "unexpected end of text, expected a value");
        return Error{error_};
      }
      const char c = Peek();
      if (c != '[' && c != '{') {
        if (!ParseScalar(&value)) return Error{error_};
        need_value = false;
        continue;
      }
      if (stack.size() >= max_depth) {
        Fail(pos_, "nesting deeper than the limit of " + std::to_string(max_depth));
        return Error{error_};
      }
      ++pos_;
      stack.emplace_back();
      Frame& frame = stack.back();
      frame.is_object = c == '{';
      SkipWhitespace();
      const char close = frame.is_object ? '}' : ']';
      if (!AtEnd() && Peek() == close) {
        ++pos_;
        if (!CloseFrame(&frame, &value)) return Error{error_};
        stack.pop_back();
        need_value = false;
      } else if (frame.is_object && !ParseKey(&frame)) {
        return Error{error_};
      }
      continue;
    }

    if (stack.empty()) {
      SkipWhitespace();
      if (!AtEnd()) {
        Fail(pos_, "unexpected " + DescribeByte(Peek()) + " after the JSON value");
        return Error{error_};
      }
      return value;
    }
    Frame& frame = stack.back();
    if (frame.is_object) {
      frame.members.emplace_back(std::move(frame.key), std::exchange(value, JsonValue()));
      frame.key_offsets.push_back(frame.key_offset);
    } else {
      frame.items.push_back(std::exchange(value, JsonValue()));
    }
    SkipWhitespace();
    const char close = frame.is_object ? '}' : ']';
    if (!AtEnd() && Peek() == ',') {
      ++pos_;
      need_value = true;
      if (frame.is_object) {
        SkipWhitespace();
        if (!ParseKey(&frame)) return Error{error_};
      }
    } else if (!AtEnd() && Peek() == close) {
      ++pos_;
      if (!CloseFrame(&frame, &value)) return Error{error_};
      stack.pop_back();
    } else {
      Fail(pos_, frame.is_object ? "expected ',' or '}' after object member"
                                 : "expected ',' or ']' after array element");
      return Error{error_};
    }
  }
}

bool Parser::ParseKey(Frame* frame) {
  if (AtEnd() || Peek() != '"') return Fail(pos_, "expected '\"' to start an object key");
  frame->key_offset = pos_;
  if (!ParseString(&frame->key)) return false;
  SkipWhitespace();
  if (AtEnd() || Peek() != ':') return Fail(pos_, "expected ':' after object key");
  ++pos_;
  return true;
}

// Gives back what growing a large container left unused, so a finished
// value holds little more than its elements.
template <typename T>
void Fit(std::vector<T>& v) {
  const std::size_t spare = v.capacity() - v.size();
  if (spare > 16 && spare > v.size() / 4) v.shrink_to_fit();
}

bool Parser::CloseFrame(Frame* frame, JsonValue* out) {
  if (!frame->is_object) {
    Fit(frame->items);
    *out = JsonValue::Array(std::move(frame->items));
    return true;
  }
  // Report the earliest second occurrence of a key: the first member whose
  // key an earlier member has.
  const std::vector<JsonValue::Member>& members = frame->members;
  std::size_t duplicate = members.size();
  if (members.size() <= kSmallObjectMembers) {
    for (std::size_t j = 1; j < members.size() && duplicate == members.size(); ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        if (members[i].first == members[j].first) {
          duplicate = j;
          break;
        }
      }
    }
  } else {
    // Sort member indices by key; equal neighbours are duplicates.
    std::vector<std::size_t> order(members.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return members[a].first < members[b].first;
    });
    for (std::size_t i = 1; i < order.size(); ++i) {
      if (members[order[i]].first == members[order[i - 1]].first) {
        duplicate = std::min(duplicate, order[i]);
      }
    }
  }
  if (duplicate != members.size()) {
    return Fail(frame->key_offsets[duplicate], "duplicate object key");
  }
  Fit(frame->members);
  *out = JsonValue::Object(std::move(frame->members));
  return true;
}

bool Parser::ParseScalar(JsonValue* out) {
  const char c = Peek();
  if (c == '"') {
    std::string s;
    if (!ParseString(&s)) return false;
    *out = JsonValue::String(std::move(s));
    return true;
  }
  if (c == 't') return ParseLiteral("true", JsonValue::Bool(true), out);
  if (c == 'f') return ParseLiteral("false", JsonValue::Bool(false), out);
  if (c == 'n') return ParseLiteral("null", JsonValue::Null(), out);
  if (c == '-' || IsDigit(c)) return ParseNumber(out);
  return Fail(pos_, "unexpected " + DescribeByte(c) + ", expected a value");
}

bool Parser::ParseLiteral(std::string_view word, JsonValue value, JsonValue* out) {
  if (text_.substr(pos_, word.size()) != word) {
    return Fail(pos_, "invalid literal, expected '" + std::string(word) + "'");
  }
  pos_ += word.size();
  *out = std::move(value);
  return true;
}

bool Parser::ParseNumber(JsonValue* out) {
  const std::size_t start = pos_;
  if (Peek() == '-') ++pos_;
  if (AtEnd() || !IsDigit(Peek())) return Fail(pos_, "expected a digit in number");
  if (Peek() == '0') {
    ++pos_;
    if (!AtEnd() && IsDigit(Peek())) return Fail(pos_, "leading zeros are not allowed in numbers");
  } else {
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  }
  if (!AtEnd() && Peek() == '.') {
    ++pos_;
    if (AtEnd() || !IsDigit(Peek())) return Fail(pos_, "expected a digit after the decimal point");
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  }
  if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
    ++pos_;
    if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
    if (AtEnd() || !IsDigit(Peek())) return Fail(pos_, "expected a digit in the exponent");
    while (!AtEnd() && IsDigit(Peek())) ++pos_;
  }
  *out = JsonValue::Number(std::string(text_.substr(start, pos_ - start)));
  return true;
}

bool Parser::ParseString(std::string* out) {
  const std::size_t start = pos_;
  ++pos_;  // the opening quote
  out->clear();
  for (;;) {
    if (AtEnd()) return Fail(start, "unterminated string");
    const auto c = static_cast<unsigned char>(Peek());
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c == '\\') {
      if (!ParseEscape(out)) return false;
    } else if (c < 0x20) {
      return Fail(pos_, "unescaped control character in string");
    } else if (c < 0x80) {
      // Copy the run of plain ASCII up to the next byte that needs a look.
      std::size_t end = pos_ + 1;
      while (end < text_.size()) {
        const auto b = static_cast<unsigned char>(text_[end]);
        if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
        ++end;
      }
      out->append(text_.substr(pos_, end - pos_));
      pos_ = end;
    } else {
      const std::size_t n = Utf8SequenceLength(text_, pos_);
      if (n == 0) return Fail(pos_, "invalid UTF-8 in string");
      out->append(text_.substr(pos_, n));
      pos_ += n;
    }
  }
}

bool Parser::ReadHex4(std::size_t at, std::uint32_t* out) {
  if (text_.size() - at < 4) return false;
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const int h = HexDigitValue(text_[at + i]);
    if (h < 0) return false;
    v = (v << 4) | static_cast<std::uint32_t>(h);
  }
  *out = v;
  return true;
}

bool Parser::ParseEscape(std::string* out) {
  const std::size_t start = pos_;  // the backslash
  if (text_.size() - pos_ < 2) return Fail(start, "unterminated escape in string");
  const char e = text_[pos_ + 1];
  if (e != 'u') {
    // The one-character escapes and the bytes they stand for.
    static constexpr std::string_view kEscapes = "\"\\/bfnrt";
    static constexpr std::string_view kMeanings = "\"\\/\b\f\n\r\t";
    const std::size_t index = kEscapes.find(e);
    if (index == std::string_view::npos) {
      return Fail(start, "invalid escape \\" + DescribeByte(e) + " in string");
    }
    out->push_back(kMeanings[index]);
    pos_ += 2;
    return true;
  }
  std::uint32_t unit = 0;
  if (!ReadHex4(pos_ + 2, &unit)) return Fail(start, "\\u must be followed by 4 hex digits");
  pos_ += 6;
  if (unit >= 0xDC00 && unit <= 0xDFFF) {
    return Fail(start, "low surrogate escape without a preceding high surrogate");
  }
  if (unit < 0xD800 || unit > 0xDBFF) {
    AppendUtf8(unit, out);
    return true;
  }
  std::uint32_t low = 0;
  if (text_.size() - pos_ < 2 || text_[pos_] != '\\' || text_[pos_ + 1] != 'u' ||
      !ReadHex4(pos_ + 2, &low) || low < 0xDC00 || low > 0xDFFF) {
    return Fail(start, "high surrogate escape not followed by a low surrogate escape");
  }
  pos_ += 6;
  AppendUtf8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), out);
  return true;
}

}  // namespace

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.value_ = b;
  return v;
}

JsonValue JsonValue::Number(std::string text) {
  JsonValue v;
  v.value_ = NumberText{std::move(text)};
  return v;
}

JsonValue JsonValue::String(std::string utf8) {
  JsonValue v;
  v.value_ = std::move(utf8);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> items) {
  JsonValue v;
  v.value_ = std::move(items);
  return v;
}

JsonValue JsonValue::Object(std::vector<Member> members) {
  JsonValue v;
  v.value_ = std::move(members);
  return v;
}

bool JsonValue::as_bool() const {
  assert(is_bool());
  return std::get<bool>(value_);
}

const std::string& JsonValue::number_text() const {
  assert(is_number());
  return std::get<NumberText>(value_).text;
}

const std::string& JsonValue::as_string() const {
  assert(is_string());
  return std::get<std::string>(value_);
}

const std::vector<JsonValue>& JsonValue::items() const {
  assert(is_array());
  return std::get<std::vector<JsonValue>>(value_);
}

const std::vector<JsonValue::Member>& JsonValue::members() const {
  assert(is_object());
  return std::get<std::vector<Member>>(value_);
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  const auto* members = std::get_if<std::vector<Member>>(&value_);
  if (members == nullptr) return nullptr;
  for (const Member& m : *members) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

std::optional<std::uint64_t> JsonValue::AsU64() const {
  const auto* number = std::get_if<NumberText>(&value_);
  if (number == nullptr || number->text.empty()) return std::nullopt;
  const std::string& text = number->text;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), IsDigit)) return std::nullopt;
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits) {
  return Parser(text, limits).Parse();
}

}  // namespace powchain
