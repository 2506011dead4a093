#include "util/bech32.h"

#include <array>
#include <cassert>
#include <cstddef>

namespace powchain {
namespace {

constexpr std::string_view kAlphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::size_t kMaxLength = 90;
constexpr std::size_t kMaxHrpLength = 83;
constexpr std::size_t kChecksumLength = 6;
constexpr std::uint32_t kBech32Constant = 1;
constexpr std::uint32_t kBech32mConstant = 0x2bc830a3;

// The value of each byte as an alphabet character (either case), or -1.
constexpr auto kAlphabetValues = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    const char c = kAlphabet[i];
    t[static_cast<unsigned char>(c)] = static_cast<std::int8_t>(i);
    if (c >= 'a' && c <= 'z')
      t[static_cast<unsigned char>(c - 'a' + 'A')] = static_cast<std::int8_t>(i);
  }
  return t;
}();

std::uint32_t Constant(Bech32Encoding encoding) {
  return encoding == Bech32Encoding::kBech32 ? kBech32Constant : kBech32mConstant;
}

char ToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The BCH code's generator step (BIP 173, bech32_polymod), one value at a time.
class Checksum {
 public:
  void Add(std::uint8_t value) {
    const std::uint32_t top = chk_ >> 25;
    chk_ = ((chk_ & 0x1ffffff) << 5) ^ value;
    constexpr std::array<std::uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                                         0x3d4233dd, 0x2a1462b3};
    for (std::size_t i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk_ ^= kGenerator[i];
    }
  }
  // The hrp's expansion: high bits of every character, a zero, low bits.
  void AddHrp(std::string_view lower_hrp) {
    for (const char c : lower_hrp)
      Add(static_cast<std::uint8_t>(static_cast<unsigned char>(c) >> 5));
    Add(0);
    for (const char c : lower_hrp) Add(static_cast<std::uint8_t>(c & 31));
  }
  std::uint32_t value() const { return chk_; }

 private:
  std::uint32_t chk_ = 1;
};

// Checks the rules on characters and case over the whole string; on success
// `lower` is the string in lower case.
Status CheckCharacters(std::string_view text, std::string& lower) {
  if (text.size() > kMaxLength) {
    return Error{"bech32 string is " + std::to_string(text.size()) +
                 " characters long; at most 90 are allowed"};
  }
  bool has_lower = false;
  bool has_upper = false;
  lower.clear();
  lower.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 33 || c > 126) {
      return Error{"bech32 string has a character out of range (byte " + std::to_string(c) +
                   ") at position " + std::to_string(i)};
    }
    has_lower |= c >= 'a' && c <= 'z';
    has_upper |= c >= 'A' && c <= 'Z';
    lower.push_back(ToLower(static_cast<char>(c)));
  }
  if (has_lower && has_upper) return Error{"bech32 string mixes upper and lower case"};
  return {};
}

}  // namespace

std::string_view Bech32EncodingName(Bech32Encoding encoding) {
  return encoding == Bech32Encoding::kBech32 ? "bech32" : "bech32m";
}

std::string Bech32Encode(Bech32Encoding encoding, std::string_view hrp,
                         std::span<const std::uint8_t> quintets) {
  assert(!hrp.empty() && hrp.size() <= kMaxHrpLength);
  std::string out;
  out.reserve(hrp.size() + 1 + quintets.size() + kChecksumLength);
  for (const char c : hrp) {
    assert(static_cast<unsigned char>(c) >= 33 && static_cast<unsigned char>(c) <= 126);
    out.push_back(ToLower(c));
  }
  Checksum checksum;
  checksum.AddHrp(out);
  out.push_back('1');
  for (const std::uint8_t q : quintets) {
    assert(q < 32);
    checksum.Add(q);
    out.push_back(kAlphabet[q]);
  }
  for (std::size_t i = 0; i < kChecksumLength; ++i) checksum.Add(0);
  const std::uint32_t mod = checksum.value() ^ Constant(encoding);
  for (std::size_t i = 0; i < kChecksumLength; ++i) {
    out.push_back(kAlphabet[(mod >> (5 * (kChecksumLength - 1 - i))) & 31]);
  }
  return out;
}

Result<Bech32Decoded> Bech32Decode(std::string_view text) {
  std::string lower;
  if (Status s = CheckCharacters(text, lower); !s) return Error{s.error()};
  const std::size_t separator = lower.rfind('1');
  if (separator == std::string::npos) return Error{"bech32 string has no separator '1'"};
  if (separator == 0) return Error{"bech32 string has an empty human-readable part"};
  // Unreachable while the total is limited to 90 (83 + '1' + 6), but it is a
  // rule of its own in BIP 173.
  if (separator > kMaxHrpLength) {
    return Error{"bech32 human-readable part is " + std::to_string(separator) +
                 " characters long; at most 83 are allowed"};
  }
  const std::size_t data_length = lower.size() - separator - 1;
  if (data_length < kChecksumLength) {
    return Error{"bech32 checksum too short: " + std::to_string(data_length) +
                 " characters after the separator, at least 6 needed"};
  }
  Bech32Decoded decoded{Bech32Encoding::kBech32m, lower.substr(0, separator), {}};
  Checksum checksum;
  checksum.AddHrp(decoded.hrp);
  decoded.quintets.reserve(data_length - kChecksumLength);
  for (std::size_t i = separator + 1; i < lower.size(); ++i) {
    const int v = kAlphabetValues[static_cast<unsigned char>(lower[i])];
    if (v < 0) {
      return Error{std::string("bech32 string has an invalid data character '") + text[i] +
                   "' at position " + std::to_string(i)};
    }
    checksum.Add(static_cast<std::uint8_t>(v));
    if (i + kChecksumLength < lower.size())
      decoded.quintets.push_back(static_cast<std::uint8_t>(v));
  }
  if (checksum.value() == kBech32Constant) {
    decoded.encoding = Bech32Encoding::kBech32;
  } else if (checksum.value() != kBech32mConstant) {
    return Error{"bech32 checksum does not match (neither bech32 nor bech32m)"};
  }
  return decoded;
}

bool ConvertBits(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> in, int from_bits,
                 int to_bits, bool pad) {
  assert(from_bits >= 1 && from_bits <= 8 && to_bits >= 1 && to_bits <= 8);
  const std::uint32_t max_out = (1u << to_bits) - 1;
  const std::uint32_t max_acc = (1u << (from_bits + to_bits - 1)) - 1;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const std::uint8_t value : in) {
    if ((value >> from_bits) != 0) return false;
    acc = ((acc << from_bits) | value) & max_acc;
    bits += from_bits;
    while (bits >= to_bits) {
      bits -= to_bits;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & max_out));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (to_bits - bits)) & max_out));
  } else if (bits >= from_bits || ((acc << (to_bits - bits)) & max_out) != 0) {
    return false;
  }
  return true;
}

}  // namespace powchain
