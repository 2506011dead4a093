// Addresses from outside (transaction outputs, --miner-address, the
// wallet's send command, GET /addresses/{a}): Bech32Decode, DecodeAddress
// and DecodeAddressFor, with the encoders as the reference.
//
// Input: the text to decode.
//
// Properties: a decoded Bech32 string encodes back to the input in lower
// case; a decoded address is Bech32m, encodes back to the input in lower
// case and names a key on the curve; DecodeAddressFor accepts exactly the
// addresses DecodeAddress accepts with that prefix; every refusal says why.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/schnorr.h"
#include "fuzz_check.h"
#include "primitives/address.h"
#include "util/bech32.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  const std::string_view text = AsText(data, size);
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  const Result<Bech32Decoded> bech = Bech32Decode(text);
  if (bech) {
    FUZZ_CHECK(Bech32Encode(bech->encoding, bech->hrp, bech->quintets) == lower);
  } else {
    FUZZ_CHECK(!bech.error().empty());
  }

  const Result<DecodedAddress> address = DecodeAddress(text);
  if (address) {
    FUZZ_CHECK(bech.ok() && bech->encoding == Bech32Encoding::kBech32m);
    FUZZ_CHECK(EncodeAddress(address->hrp, address->key) == lower);
    FUZZ_CHECK(IsValidXOnlyPubKey(address->key));
  } else {
    FUZZ_CHECK(!address.error().empty());
  }
  for (const std::string_view hrp : {"pow", "powrt"}) {
    const Result<XOnlyPubKey> key = DecodeAddressFor(text, hrp);
    FUZZ_CHECK(key.ok() == (address.ok() && address->hrp == hrp));
    if (key) FUZZ_CHECK(*key == address->key);
  }
  return 0;
}
