#include "util/hex.h"

namespace powchain {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// Returns the value of a hex digit, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool DecodeInto(std::string_view hex, std::uint8_t* out) {
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return true;
}

}  // namespace

std::string HexEncode(ByteSpan bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out(hex.size() / 2);
  if (!DecodeInto(hex, out.data())) return std::nullopt;
  return out;
}

std::optional<Hash32> HexToHash32(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Hash32 out{};
  if (!DecodeInto(hex, out.data())) return std::nullopt;
  return out;
}

}  // namespace powchain
