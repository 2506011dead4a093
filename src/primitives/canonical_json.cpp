#include "primitives/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "util/utf8.h"

namespace powchain {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The UTF-16 code units of a UTF-8 string; nullopt when it is not valid UTF-8.
std::optional<std::u16string> ToUtf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint32_t cp = 0;
    if (!DecodeUtf8(s, &i, &cp)) return std::nullopt;
    if (cp < 0x10000) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    }
  }
  return out;
}

// True when `text` is exactly one JSON number (RFC 8259 section 6):
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, nothing before or after.
bool IsJsonNumber(std::string_view text) {
  std::size_t i = 0;
  const auto skip_digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!skip_digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!skip_digits()) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!skip_digits()) return false;
  }
  return i == text.size();
}

// True for a JSON number text that is an integer of at most 15 digits, with
// no fraction or exponent. Such a value is an exact double (below 2^53) and
// ECMAScript writes it with the same digits (an integer below 10^21 has no
// exponent form), so its canonical form is the text itself, "-0" aside.
// Requires IsJsonNumber(text).
bool IsShortInteger(std::string_view text) {
  const std::size_t digits = text.size() - (text[0] == '-' ? 1 : 0);
  return digits <= 15 &&
         std::all_of(text.end() - static_cast<std::ptrdiff_t>(digits), text.end(), IsDigit);
}

// A decimal value as sign, significant digits (no leading or trailing zeros)
// and exponent: value = (negative ? -1 : 1) * 0.digits * 10^exponent. Zero has
// empty digits, and then sign and exponent do not matter.
struct Decimal {
  bool negative = false;
  std::string digits;
  std::int64_t exponent = 0;

  bool SameValue(const Decimal& other) const {
    if (digits.empty() || other.digits.empty()) return digits.empty() && other.digits.empty();
    return negative == other.negative && digits == other.digits && exponent == other.exponent;
  }
};

// Requires `text` to match the JSON number grammar. An exponent beyond
// kExponentCap is clamped: any such nonzero value is far outside the double
// range, and the clamp keeps the arithmetic free of overflow.
Decimal ToDecimal(std::string_view text) {
  constexpr std::int64_t kExponentCap = std::int64_t{1} << 52;
  Decimal d;
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    d.negative = true;
    ++i;
  }
  std::string all;
  std::int64_t int_digits = 0;
  while (i < text.size() && IsDigit(text[i])) {
    all.push_back(text[i++]);
    ++int_digits;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) all.push_back(text[i++]);
  }
  std::int64_t exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    while (i < text.size() && IsDigit(text[i])) {
      exp = std::min(kExponentCap, exp * 10 + (text[i++] - '0'));
    }
    if (exp_negative) exp = -exp;
  }
  const std::size_t first = all.find_first_not_of('0');
  if (first == std::string::npos) return d;  // zero
  const std::size_t last = all.find_last_not_of('0');
  d.digits = all.substr(first, last - first + 1);
  d.exponent = int_digits - static_cast<std::int64_t>(first) + exp;
  return d;
}

// ECMAScript Number::toString for a finite double (ECMA-262 Number::toString
// with radix 10), using the shortest round-trip digits of std::to_chars.
std::string EcmaScriptNumber(double value) {
  if (value == 0) return "0";  // both zeros
  char buf[64];
  const auto res =
      std::to_chars(buf, buf + sizeof(buf), std::fabs(value), std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));  // d[.ddd]e±xx
  const std::size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int sci_exp = 0;
  const std::string_view exp_text = sci.substr(e_pos + 1);
  const char* exp_begin = exp_text.data() + (exp_text[0] == '+' ? 1 : 0);
  std::from_chars(exp_begin, exp_text.data() + exp_text.size(), sci_exp);
  // value = 0.d1..dk * 10^n
  const int k = static_cast<int>(digits.size());
  const int n = sci_exp + 1;
  std::string out = value < 0 ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(n - 1 >= 0 ? n - 1 : 1 - n);
  }
  return out;
}

// `text` shortened for an error message.
std::string Abbreviate(std::string_view text) {
  constexpr std::size_t kMax = 64;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

// Writes canonical JSON for a tree without recursion: open containers live
// on an explicit stack, so depth costs heap, not call stack.
class Writer {
 public:
  Result<std::string> Write(const JsonValue& root) {
    if (!Begin(root)) return Error{error_};
    while (!stack_.empty()) {
      Frame& frame = stack_.back();
      if (frame.value->is_array()) {
        const std::vector<JsonValue>& items = frame.value->items();
        if (frame.next == items.size()) {
          out_.push_back(']');
          stack_.pop_back();
          continue;
        }
        if (frame.next > 0) out_.push_back(',');
        const JsonValue& child = items[frame.next++];
        if (!Begin(child)) return Error{error_};  // may invalidate `frame`
      } else {
        const std::vector<JsonValue::Member>& members = frame.value->members();
        if (frame.next == frame.order.size()) {
          out_.push_back('}');
          stack_.pop_back();
          continue;
        }
        if (frame.next > 0) out_.push_back(',');
        const JsonValue::Member& member = members[frame.order[frame.next++]];
        AppendCanonicalString(member.first, &out_);  // validated by SortedOrder
        out_.push_back(':');
        if (!Begin(member.second)) return Error{error_};  // may invalidate `frame`
      }
    }
    return std::move(out_);
  }

 private:
  struct Frame {
    const JsonValue* value;
    std::vector<std::size_t> order;  // objects: member indices in key order
    std::size_t next = 0;
  };

  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  // Writes a scalar, or the opening bracket of a container and pushes it.
  bool Begin(const JsonValue& v) {
    switch (v.kind()) {
      case JsonValue::Kind::kNull:
        out_.append("null");
        return true;
      case JsonValue::Kind::kBool:
        out_.append(v.as_bool() ? "true" : "false");
        return true;
      case JsonValue::Kind::kNumber: {
        Result<std::string> number = CanonicalNumber(v.number_text());
        if (!number.ok()) return Fail(number.error());
        out_.append(*number);
        return true;
      }
      case JsonValue::Kind::kString:
        if (!AppendCanonicalString(v.as_string(), &out_)) return Fail("string is not valid UTF-8");
        return true;
      case JsonValue::Kind::kArray:
        out_.push_back('[');
        stack_.push_back(Frame{&v, {}, 0});
        return true;
      case JsonValue::Kind::kObject: {
        std::vector<std::size_t> order;
        if (!SortedOrder(v.members(), &order)) return false;
        out_.push_back('{');
        stack_.push_back(Frame{&v, std::move(order), 0});
        return true;
      }
    }
    return Fail("unknown JSON value kind");
  }

  // Member indices sorted by the UTF-16 code units of the keys (RFC 8785
  // section 3.2.3). Fails on a key that is not UTF-8 or on duplicate keys.
  bool SortedOrder(const std::vector<JsonValue::Member>& members, std::vector<std::size_t>* order) {
    order->resize(members.size());
    for (std::size_t i = 0; i < order->size(); ++i) (*order)[i] = i;
    // ASCII keys (the usual case): UTF-16 code unit order is byte order, so
    // they sort as they are, with no conversion.
    const bool ascii = std::all_of(members.begin(), members.end(), [](const JsonValue::Member& m) {
      return std::all_of(m.first.begin(), m.first.end(),
                         [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    });
    if (ascii) {
      std::sort(order->begin(), order->end(),
                [&](std::size_t a, std::size_t b) { return members[a].first < members[b].first; });
      for (std::size_t i = 1; i < order->size(); ++i) {
        if (members[(*order)[i]].first == members[(*order)[i - 1]].first) {
          return Fail("duplicate object key \"" + Abbreviate(members[(*order)[i]].first) + "\"");
        }
      }
      return true;
    }
    std::vector<std::u16string> keys;
    keys.reserve(members.size());
    for (const JsonValue::Member& m : members) {
      std::optional<std::u16string> key = ToUtf16(m.first);
      if (!key) return Fail("object key is not valid UTF-8");
      keys.push_back(std::move(*key));
    }
    std::sort(order->begin(), order->end(),
              [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
    for (std::size_t i = 1; i < order->size(); ++i) {
      if (keys[(*order)[i]] == keys[(*order)[i - 1]]) {
        return Fail("duplicate object key \"" + Abbreviate(members[(*order)[i]].first) + "\"");
      }
    }
    return true;
  }

  std::string out_;
  std::vector<Frame> stack_;
  std::string error_;
};

}  // namespace

bool AppendCanonicalString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Controls with a two-character escape, and the letter of each.
  static constexpr std::string_view kShortControls = "\b\t\n\f\r";
  static constexpr std::string_view kShortEscapes = "btnfr";
  out->push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // The run of bytes written as they are (printable ASCII other than the
    // quote and backslash, and well-formed multi-byte sequences), appended
    // at once; then the one byte that needs an escape.
    const std::size_t run = i;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x80) {
        std::uint32_t cp = 0;
        if (!DecodeUtf8(s, &i, &cp)) return false;
      } else if (c >= 0x20 && c != '"' && c != '\\') {
        ++i;
      } else {
        break;
      }
    }
    out->append(s.substr(run, i - run));
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    ++i;
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (const std::size_t k = kShortControls.find(static_cast<char>(c));
               k != std::string_view::npos) {
      out->push_back('\\');
      out->push_back(kShortEscapes[k]);
    } else {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
  }
  out->push_back('"');
  return true;
}

Result<std::string> CanonicalNumber(std::string_view number_text) {
  if (!IsJsonNumber(number_text)) {
    return Error{"not a JSON number: \"" + Abbreviate(number_text) + "\""};
  }
  if (IsShortInteger(number_text)) {
    return number_text == "-0" ? std::string("0") : std::string(number_text);
  }
  double value = 0;
  const char* end = number_text.data() + number_text.size();
  const auto [ptr, ec] = std::from_chars(number_text.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    return Error{"number " + Abbreviate(number_text) +
                 " is outside the range of canonical JSON numbers (IEEE 754 double)"};
  }
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return Error{"number " + Abbreviate(number_text) + " cannot be converted to a double"};
  }
  std::string canonical = EcmaScriptNumber(value);
  if (!ToDecimal(number_text).SameValue(ToDecimal(canonical))) {
    return Error{"number " + Abbreviate(number_text) +
                 " cannot be represented exactly in canonical JSON (it would become " + canonical +
                 ")"};
  }
  return canonical;
}

Result<std::string> CanonicalJson(const JsonValue& value) { return Writer().Write(value); }

Result<std::string> CanonicalizeJsonText(std::string_view text, const JsonLimits& limits) {
  Result<JsonValue> parsed = ParseJson(text, limits);
  if (!parsed.ok()) return Error{parsed.error()};
  return CanonicalJson(*parsed);
}

}  // namespace powchain
