// Addresses: an x-only public key (crypto/schnorr.h) written as Bech32m
// (BIP 350) under a network's human-readable part ("pow" on main, "powrt"
// on regtest). The quintets are [1] ++ convertbits(key, 8 -> 5, pad): the
// layout of a version-1 segwit (taproot) address, so a main-network address
// looks like "pow1p..." and Bitcoin's BIP 350 address vectors apply with
// hrp "bc".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/schnorr.h"
#include "util/result.h"

namespace powchain {

inline constexpr std::uint8_t kAddressVersion = 1;

// The address of `key` under `hrp`, lower case. Requires a valid hrp (see
// Bech32Encode); `key` is not checked.
std::string EncodeAddress(std::string_view hrp, const XOnlyPubKey& key);

struct DecodedAddress {
  std::string hrp;  // lower case
  XOnlyPubKey key;
};

// Decodes an address of any network: all upper or all lower case, a Bech32m
// checksum, version 1, a 32-byte program without non-zero or excess
// padding, and a key that is a point on the curve. Every failure is a
// one-line message.
Result<DecodedAddress> DecodeAddress(std::string_view text);

// DecodeAddress, and the address's hrp must be `hrp` (lower case): it
// refuses another network's address with a message naming both prefixes.
Result<XOnlyPubKey> DecodeAddressFor(std::string_view text, std::string_view hrp);

}  // namespace powchain
