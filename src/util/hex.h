// Hexadecimal encoding. Encoding is lower case; decoding accepts either case
// and refuses anything else (odd length, non-hex characters, wrong size).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"

namespace powchain {

// The value of a hex digit of either case, or -1.
int HexDigitValue(char c);
inline bool IsHexDigit(char c) { return HexDigitValue(c) >= 0; }

std::string HexEncode(ByteSpan bytes);

// Appends the hex of `bytes` to `out` (no temporary string).
void AppendHex(std::string& out, ByteSpan bytes);

// Returns nullopt when `hex` is not an even-length string of hex digits.
std::optional<std::vector<std::uint8_t>> HexDecode(std::string_view hex);

// Returns nullopt unless `hex` is exactly 64 hex digits.
std::optional<Hash32> HexToHash32(std::string_view hex);

inline std::string HexEncode(const Hash32& h) { return HexEncode(ByteSpan(h)); }

}  // namespace powchain
