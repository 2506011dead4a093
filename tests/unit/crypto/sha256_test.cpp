#include "crypto/sha256.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "util/hex.h"

namespace powchain {
namespace {

Hash32 ShaOf(const std::string& s) {
  return Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

// FIPS 180-2 appendix B examples, and `printf '' | sha256sum`.
TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(HexEncode(ShaOf("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(ShaOf("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(ShaOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// `python3 -c "import hashlib;print(hashlib.sha256(bytes(range(96))).hexdigest())"`
TEST(Sha256Test, MidstateKnownAnswer) {
  std::array<std::uint8_t, 96> msg;
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i);
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(msg.data(), 64));
  const Hash32 h = mid.Finish32(std::span<const std::uint8_t, 32>(msg.data() + 64, 32));
  EXPECT_EQ(HexEncode(h), "08359b108fa567f5dcf319fa3434da6abbc1d595f426372666447f09cc5a87dc");
  EXPECT_EQ(h, Sha256(msg));
}

RC_GTEST_PROP(Sha256Test, MidstateMatchesOneShot, ()) {
  const auto prefix =
      *rc::gen::container<std::vector<std::uint8_t>>(64, rc::gen::arbitrary<std::uint8_t>());
  const auto tail =
      *rc::gen::container<std::vector<std::uint8_t>>(32, rc::gen::arbitrary<std::uint8_t>());
  std::vector<std::uint8_t> whole = prefix;
  whole.insert(whole.end(), tail.begin(), tail.end());
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(prefix.data(), 64));
  RC_ASSERT(mid.Finish32(std::span<const std::uint8_t, 32>(tail.data(), 32)) == Sha256(whole));
}

}  // namespace
}  // namespace powchain
