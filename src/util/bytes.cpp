#include "util/bytes.h"

#include <bit>

namespace powchain {

unsigned LeadingZeroBits(ByteSpan bytes) {
  unsigned bits = 0;
  for (std::uint8_t b : bytes) {
    if (b != 0) return bits + static_cast<unsigned>(std::countl_zero(b));
    bits += 8;
  }
  return bits;
}

}  // namespace powchain
