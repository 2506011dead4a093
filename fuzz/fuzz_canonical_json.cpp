// JSON text from outside: ParseJson, then CanonicalJson (RFC 8785), and
// CanonicalNumber on the raw input.
//
// Properties: canonical output parses, and canonicalizes to itself
// (idempotence); CanonicalizeJsonText agrees with the two steps. For
// numbers, an independent oracle: strtod, the shortest round-trip digits by
// printf, the ECMAScript Number::toString layout, and exact decimal
// comparison. CanonicalNumber must accept a number exactly when the oracle's
// form denotes the same decimal value as the text, and must then return the
// oracle's form.
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "primitives/canonical_json.h"
#include "primitives/json.h"

namespace powchain::fuzz {
namespace {

// A decimal value as digits without leading or trailing zeros and a power
// of ten: value = sign * digits * 10^exponent. Zero has no digits and no
// sign.
struct Decimal {
  bool negative = false;
  std::string digits;
  long long exponent = 0;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// Reads a JSON number (RFC 8259 grammar); nullopt for anything else, or for
// an exponent too long to compare (more than 15 digits).
std::optional<Decimal> ReadDecimal(std::string_view s) {
  Decimal d;
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') {
    d.negative = true;
    ++i;
  }
  auto digit = [&](std::size_t at) { return at < s.size() && s[at] >= '0' && s[at] <= '9'; };
  if (!digit(i)) return std::nullopt;
  std::string all;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) all += s[i++];
  }
  long long fraction_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return std::nullopt;
    while (digit(i)) {
      all += s[i++];
      ++fraction_digits;
    }
  }
  long long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool minus = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) minus = s[i++] == '-';
    if (!digit(i)) return std::nullopt;
    std::string e;
    while (digit(i)) e += s[i++];
    e.erase(0, e.find_first_not_of('0'));
    if (e.size() > 15) return std::nullopt;
    exponent = e.empty() ? 0 : std::stoll(e);
    if (minus) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;
  d.exponent = exponent - fraction_digits;
  all.erase(
      0, all.find_first_not_of('0') == std::string::npos ? all.size() : all.find_first_not_of('0'));
  while (!all.empty() && all.back() == '0') {
    all.pop_back();
    ++d.exponent;
  }
  d.digits = all;
  if (d.digits.empty()) d = Decimal{};
  return d;
}

// ECMAScript Number::toString (ECMA-262 section 6.1.6.1.20) of a finite
// double, from the shortest printf digits that read back as the same double.
std::string EcmaScript(double v) {
  if (v == 0) return "0";
  std::string out = v < 0 ? "-" : "";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*e", precision - 1, std::fabs(v));
    if (std::strtod(buf, nullptr) == std::fabs(v)) break;
  }
  const std::string text = buf;  // d.ddde[+-]xx
  const auto e_at = text.find('e');
  std::string digits = text.substr(0, 1) + (e_at > 1 ? text.substr(2, e_at - 2) : "");
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const long long k = static_cast<long long>(digits.size());
  const long long n = std::stoll(text.substr(e_at + 1)) + 1;
  if (k <= n && n <= 21) return out + digits + std::string(static_cast<std::size_t>(n - k), '0');
  if (0 < n && n <= 21) {
    return out + digits.substr(0, static_cast<std::size_t>(n)) + "." +
           digits.substr(static_cast<std::size_t>(n));
  }
  if (-6 < n && n <= 0) return out + "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
  const long long e = n - 1;
  out += digits.substr(0, 1);
  if (k > 1) out += "." + digits.substr(1);
  return out + "e" + (e < 0 ? "-" : "+") + std::to_string(e < 0 ? -e : e);
}

void CheckNumber(std::string_view text) {
  const Result<std::string> number = CanonicalNumber(text);
  const std::optional<Decimal> decimal = ReadDecimal(text);
  if (!decimal) {
    // Not a JSON number, or an exponent this oracle does not compare.
    if (number) FUZZ_CHECK(ReadDecimal(*number).has_value());
    return;
  }
  const std::string owned(text);
  errno = 0;
  const double value = std::strtod(owned.c_str(), nullptr);
  const bool overflow = !std::isfinite(value) || (errno == ERANGE && std::fabs(value) > 1);
  if (overflow) {
    FUZZ_CHECK(!number.ok());
    return;
  }
  const std::string expected = EcmaScript(value);
  const bool exact = ReadDecimal(expected) == *decimal;
  if (!exact || !number) {
    if (exact != number.ok()) {
      std::fprintf(stderr, "number %s: oracle %s (%s), CanonicalNumber %s\n", owned.c_str(),
                   expected.c_str(), exact ? "exact" : "not exact",
                   number ? number->c_str() : number.error().c_str());
    }
    FUZZ_CHECK(exact == number.ok());
    return;
  }
  if (*number != expected) {
    std::fprintf(stderr, "number %s: oracle %s, CanonicalNumber %s\n", owned.c_str(),
                 expected.c_str(), number->c_str());
  }
  FUZZ_CHECK(*number == expected);
  const Result<std::string> again = CanonicalNumber(*number);
  FUZZ_CHECK(again.ok() && *again == *number);
  const Result<std::string> as_value = CanonicalJson(JsonValue::Number(owned));
  FUZZ_CHECK(as_value.ok() && *as_value == *number);
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  const std::string_view text = AsText(data, size);

  CheckNumber(text);

  const Result<JsonValue> parsed = ParseJson(text);
  const Result<std::string> direct = CanonicalizeJsonText(text);
  if (!parsed) {
    FUZZ_CHECK(!direct.ok());
    return 0;
  }
  const Result<std::string> canonical = CanonicalJson(*parsed);
  FUZZ_CHECK(direct.ok() == canonical.ok());
  if (!canonical) return 0;
  FUZZ_CHECK(*direct == *canonical);

  const Result<JsonValue> reparsed = ParseJson(*canonical);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(reparsed->kind() == parsed->kind());
  const Result<std::string> twice = CanonicalJson(*reparsed);
  FUZZ_CHECK(twice.ok() && *twice == *canonical);
  return 0;
}
