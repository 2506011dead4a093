// Hex text from outside (hashes in block JSON, peer messages and HTTP paths):
// HexDecode, HexToHash32, and HexEncode of the raw bytes.
//
// Properties: HexEncode(bytes) decodes back to the bytes; text that decodes
// re-encodes to the same text in lower case; HexToHash32 accepts exactly the
// 64-digit texts HexDecode accepts, with the same bytes.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "util/hex.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  const std::string_view text = AsText(data, size);

  const std::string encoded = HexEncode(ByteSpan(data, size));
  FUZZ_CHECK(encoded.size() == 2 * size);
  const auto back = HexDecode(encoded);
  FUZZ_CHECK(back.has_value() && std::equal(back->begin(), back->end(), data, data + size) &&
             back->size() == size);

  const auto decoded = HexDecode(text);
  if (decoded) {
    FUZZ_CHECK(decoded->size() * 2 == size);
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    FUZZ_CHECK(HexEncode(ByteSpan(*decoded)) == lower);
  }
  const auto hash = HexToHash32(text);
  FUZZ_CHECK(hash.has_value() == (decoded.has_value() && size == 64));
  if (hash) FUZZ_CHECK(std::equal(hash->begin(), hash->end(), decoded->begin(), decoded->end()));
  return 0;
}
