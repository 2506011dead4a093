// Fixed-size byte strings and little-endian helpers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace powchain {

// A 32-byte digest, in the byte order SHA-256 produces it.
using Hash32 = std::array<std::uint8_t, 32>;

using ByteSpan = std::span<const std::uint8_t>;

// Number of leading zero bits, counted from the most significant bit of
// bytes[0]. Returns 8 * bytes.size() for an all-zero input.
unsigned LeadingZeroBits(ByteSpan bytes);

inline void WriteLE32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void WriteLE64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint32_t ReadLE32(const std::uint8_t* in) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}
inline std::uint64_t ReadLE64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | in[i];
  return v;
}

}  // namespace powchain
