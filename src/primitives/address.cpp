#include "primitives/address.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "util/bech32.h"

namespace powchain {
namespace {

// Number of quintets of a 32-byte program: ceil(256 / 5).
constexpr std::size_t kProgramQuintets = 52;

// The 32-byte program from the quintets after the version.
Result<XOnlyPubKey> ProgramOf(std::span<const std::uint8_t> quintets) {
  const std::size_t bits = 5 * quintets.size();
  if (bits % 8 > 4) {
    return Error{"address has " + std::to_string(bits % 8) +
                 " bits of padding; at most 4 are allowed"};
  }
  std::vector<std::uint8_t> program;
  program.reserve(bits / 8);
  if (!ConvertBits(program, quintets, 5, 8, false)) {
    return Error{"address has non-zero padding bits"};
  }
  if (program.size() != XOnlyPubKey{}.size()) {
    return Error{"address holds a " + std::to_string(program.size()) +
                 "-byte program; version 1 addresses hold exactly 32 bytes"};
  }
  XOnlyPubKey key;
  std::copy(program.begin(), program.end(), key.begin());
  return key;
}

}  // namespace

std::string EncodeAddress(std::string_view hrp, const XOnlyPubKey& key) {
  std::vector<std::uint8_t> quintets;
  quintets.reserve(1 + kProgramQuintets);
  quintets.push_back(kAddressVersion);
  const bool converted = ConvertBits(quintets, key, 8, 5, true);
  assert(converted);  // bytes always fit in 8 bits
  (void)converted;
  return Bech32Encode(Bech32Encoding::kBech32m, hrp, quintets);
}

Result<DecodedAddress> DecodeAddress(std::string_view text) {
  Result<Bech32Decoded> decoded = Bech32Decode(text);
  if (!decoded) return Error{"invalid address: " + decoded.error()};
  if (decoded->encoding != Bech32Encoding::kBech32m) {
    return Error{"address has a bech32 (BIP 173) checksum; addresses use bech32m (BIP 350)"};
  }
  const std::vector<std::uint8_t>& quintets = decoded->quintets;
  if (quintets.empty()) return Error{"address has no data (no version, no key)"};
  if (quintets[0] != kAddressVersion) {
    return Error{"address has version " + std::to_string(quintets[0]) +
                 "; only version 1 is supported"};
  }
  Result<XOnlyPubKey> key = ProgramOf(std::span(quintets).subspan(1));
  if (!key) return Error{key.error()};
  if (!IsValidXOnlyPubKey(*key)) {
    return Error{"address key is not a valid public key (no curve point has that x coordinate)"};
  }
  return DecodedAddress{std::move(decoded->hrp), *key};
}

Result<XOnlyPubKey> DecodeAddressFor(std::string_view text, std::string_view hrp) {
  Result<DecodedAddress> decoded = DecodeAddress(text);
  if (!decoded) return Error{decoded.error()};
  if (decoded->hrp != hrp) {
    return Error{"address is for network prefix \"" + decoded->hrp + "\", this node uses \"" +
                 std::string(hrp) + "\""};
  }
  return decoded->key;
}

}  // namespace powchain
