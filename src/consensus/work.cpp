#include "consensus/work.h"

#include <cassert>

namespace powchain {

Work BlockWork(std::uint32_t difficulty) {
  assert(difficulty <= 255);
  return Work(1) << difficulty;
}

Work AddWork(const Work& a, const Work& b) {
  Work sum = a + b;  // uint256_t wraps modulo 2^256
  if (sum < a) return ~Work(0);
  return sum;
}

std::string WorkToHex(const Work& w) {
  if (w == 0) return "0";
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  Work v = w;
  while (v != 0) {
    out.push_back(kDigits[static_cast<unsigned>(v & 0xf)]);
    v >>= 4;
  }
  return {out.rbegin(), out.rend()};
}

std::optional<Work> WorkFromHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 64) return std::nullopt;
  Work v = 0;
  for (char c : hex) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    v = (v << 4) | d;
  }
  return v;
}

}  // namespace powchain
