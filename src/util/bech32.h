// Bech32 (BIP 173) and Bech32m (BIP 350): a human-readable part, the
// separator '1', then 5-bit values ("quintets") and a 6-character BCH
// checksum, in a 32-character alphabet. The two encodings differ only in the
// constant the checksum is XORed with. This file knows nothing of what the
// quintets mean (see primitives/address.h for addresses).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace powchain {

enum class Bech32Encoding { kBech32, kBech32m };

// "bech32" or "bech32m".
std::string_view Bech32EncodingName(Bech32Encoding encoding);

// hrp + '1' + the quintets in the Bech32 alphabet + the checksum, all lower
// case. Requires a valid hrp (1 to 83 characters, each in 33..126; upper
// case is written lower) and every quintet below 32. The result can exceed
// the 90 characters Bech32Decode accepts if there are more than 90 - 7 -
// hrp.size() quintets.
std::string Bech32Encode(Bech32Encoding encoding, std::string_view hrp,
                         std::span<const std::uint8_t> quintets);

struct Bech32Decoded {
  Bech32Encoding encoding;
  std::string hrp;                     // lower case
  std::vector<std::uint8_t> quintets;  // without the checksum
};

// Decodes a Bech32 or Bech32m string under every rule of BIP 173: at most 90
// characters, each in 33..126; all upper or all lower case; the last '1' is
// the separator; 1 to 83 characters of hrp before it; at least 6 characters
// after it, all in the alphabet; and a checksum that matches one of the two
// constants (which one is returned in `encoding`).
Result<Bech32Decoded> Bech32Decode(std::string_view text);

// Regroups `in`, a sequence of `from_bits`-bit values, into `to_bits`-bit
// values appended to `out` (most significant bits first), as
// `convertbits` of the BIP 173 reference code. With `pad`, a final partial
// group is padded with zero bits. Without it, the input must end with fewer
// than `from_bits` leftover bits, all zero. False when an input value does
// not fit in `from_bits` bits or that padding rule is broken; `out` then
// holds a partial result. Requires 1 <= from_bits, to_bits <= 8.
bool ConvertBits(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> in, int from_bits,
                 int to_bits, bool pad);

}  // namespace powchain
