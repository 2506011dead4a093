// UTF-8 well-formedness (RFC 3629).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace powchain {

// Length (1..4) of the well-formed UTF-8 sequence starting at s[i]: no
// overlong forms, no UTF-8-encoded surrogates, nothing above U+10FFFF, no
// truncated sequence. 0 when the bytes there are not one. Requires
// i < s.size().
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i);

// Decodes the well-formed sequence at s[*i] into *cp and advances *i past
// it; false, leaving *i alone, when the bytes there are not one.
bool DecodeUtf8(std::string_view s, std::size_t* i, std::uint32_t* cp);

// Appends the UTF-8 encoding of a Unicode scalar value (not a surrogate,
// at most U+10FFFF).
void AppendUtf8(std::uint32_t cp, std::string* out);

// `s` with every byte that does not start a well-formed sequence replaced by
// U+FFFD, so the result is always valid UTF-8.
std::string ToValidUtf8(std::string_view s);

}  // namespace powchain
