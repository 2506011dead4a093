// Canonical JSON bytes (RFC 8785, the JSON Canonicalization Scheme) for block
// data. docs/consensus.md describes the form and lists test vectors.
//
// Output: object members sorted by the UTF-16 code units of their keys; no
// whitespace; strings escape only '"', '\\' and U+0000..U+001F (with \b \t \n
// \f \r where they exist, else \u00xx in lower case); everything else is
// literal UTF-8; numbers in the ECMAScript shortest round-trip form.
//
// Exactness: a number is accepted only when its canonical form denotes the
// same decimal value as the text it was written as. "4.50", "1E3" and
// "0.1" are accepted (as 4.5, 1000 and 0.1); "9007199254740993" (2^53 + 1),
// "1.00000000000000000001" and "1e400" are refused, because the scheme would
// change them. Canonical output always parses back to the same bytes.
#pragma once

#include <string>
#include <string_view>

#include "primitives/json.h"
#include "util/result.h"

namespace powchain {

// The canonical bytes of `value`, or an error naming the first number that
// cannot be carried exactly.
Result<std::string> CanonicalJson(const JsonValue& value);

// Appends `s` as a canonical JSON string (quoted; only the quote, the
// backslash and controls escaped). False, with `out` partly written, when
// `s` is not valid UTF-8.
bool AppendCanonicalString(std::string_view s, std::string* out);

// ParseJson followed by CanonicalJson.
Result<std::string> CanonicalizeJsonText(std::string_view text, const JsonLimits& limits = {});

// The canonical (ECMAScript) form of one JSON number text, or an error when
// the text is not a JSON number or cannot be carried exactly.
Result<std::string> CanonicalNumber(std::string_view number_text);

}  // namespace powchain
