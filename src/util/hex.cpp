#include "util/hex.h"

#include <array>
#include <cstdint>

namespace powchain {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// The value of each byte as a hex digit, or -1: one table lookup per digit
// (decoding block and header hashes is on the path of every sync message).
constexpr auto kHexValues = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c)
    t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) {
    t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
    t[static_cast<std::size_t>(c - 'a' + 'A')] = static_cast<std::int8_t>(c - 'a' + 10);
  }
  return t;
}();

bool DecodeInto(std::string_view hex, std::uint8_t* out) {
  int bad = 0;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = kHexValues[static_cast<unsigned char>(hex[i])];
    const int lo = kHexValues[static_cast<unsigned char>(hex[i + 1])];
    bad |= hi | lo;  // negative once any digit is not hex
    out[i / 2] = static_cast<std::uint8_t>(((hi & 0x0f) << 4) | (lo & 0x0f));
  }
  return bad >= 0;
}

}  // namespace

int HexDigitValue(char c) { return kHexValues[static_cast<unsigned char>(c)]; }

void AppendHex(std::string& out, ByteSpan bytes) {
  const std::size_t at = out.size();
  out.resize(at + bytes.size() * 2);
  char* p = out.data() + at;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    p[2 * i] = kDigits[bytes[i] >> 4];
    p[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
}

std::string HexEncode(ByteSpan bytes) {
  std::string out;
  AppendHex(out, bytes);
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
