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

// The SHA-NI backend, where the CPU has it, against OpenSSL. On a CPU without
// it these tests are skipped and the node uses OpenSSL alone.
class ShaNiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Sha256BackendAvailable(Sha256Backend::kShaNi)) GTEST_SKIP() << "no SHA-NI on this cpu";
  }
};

TEST_F(ShaNiTest, SelfTestPassesAndIsActive) {
  EXPECT_TRUE(ShaNiSelfTest());
  EXPECT_EQ(ActiveSha256Backend(), Sha256Backend::kShaNi);
  EXPECT_EQ(DescribeSha256Backend(), "sha-ni (self-test against openssl passed)");
}

TEST_F(ShaNiTest, KnownAnswers) {
  const std::string abc = "abc";
  EXPECT_EQ(HexEncode(Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(abc.data()), 3),
                             Sha256Backend::kShaNi)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::array<std::uint8_t, 96> msg;
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i);
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(msg.data(), 64));
  EXPECT_EQ(HexEncode(mid.Finish32(std::span<const std::uint8_t, 32>(msg.data() + 64, 32),
                                   Sha256Backend::kShaNi)),
            "08359b108fa567f5dcf319fa3434da6abbc1d595f426372666447f09cc5a87dc");
}

RC_GTEST_FIXTURE_PROP(ShaNiTest, OneShotMatchesOpenSsl, ()) {
  const auto size = *rc::gen::inRange<std::size_t>(0, 600);
  const auto msg =
      *rc::gen::container<std::vector<std::uint8_t>>(size, rc::gen::arbitrary<std::uint8_t>());
  RC_ASSERT(Sha256(msg, Sha256Backend::kShaNi) == Sha256(msg, Sha256Backend::kOpenSsl));
}

// Counter scans: the same hit (counter and digest) as OpenSSL, for any
// midstate, tail, start, stride, count and difficulty, including counts that
// leave a remainder after the interleaved lanes and counters that wrap.
RC_GTEST_FIXTURE_PROP(ShaNiTest, ScanMatchesOpenSsl, ()) {
  const auto prefix =
      *rc::gen::container<std::vector<std::uint8_t>>(64, rc::gen::arbitrary<std::uint8_t>());
  const auto tail =
      *rc::gen::container<std::vector<std::uint8_t>>(32, rc::gen::arbitrary<std::uint8_t>());
  const auto start = *rc::gen::arbitrary<std::uint64_t>();
  const auto stride = *rc::gen::inRange<std::uint64_t>(1, 5);
  const auto count = *rc::gen::inRange<std::uint64_t>(0, 3000);
  const auto bits = *rc::gen::inRange<std::uint32_t>(0, 14);
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(prefix.data(), 64));
  const std::span<const std::uint8_t, 32> t(tail.data(), 32);
  const auto a = ScanCounter(mid, t, start, stride, count, bits, Sha256Backend::kShaNi);
  const auto b = ScanCounter(mid, t, start, stride, count, bits, Sha256Backend::kOpenSsl);
  const auto c = ScanCounterSingleStream(mid, t, start, stride, count, bits, Sha256Backend::kShaNi);
  RC_ASSERT(a.has_value() == b.has_value());
  RC_ASSERT(c.has_value() == b.has_value());
  if (a) {
    RC_ASSERT(a->counter == b->counter);
    RC_ASSERT(a->hash == b->hash);
    RC_ASSERT(c->counter == b->counter);
    RC_ASSERT(c->hash == b->hash);
  }
}

// A hit's digest is the SHA-256 of the whole message with the counter
// written into it, and every counter before it fails the difficulty.
TEST_F(ShaNiTest, ScanHitIsTheFirstQualifyingCounter) {
  std::array<std::uint8_t, 96> msg{};
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i * 31);
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(msg.data(), 64));
  const std::span<const std::uint8_t, 32> tail(msg.data() + 64, 32);
  const auto hit = ScanCounter(mid, tail, 1000, 1, 1 << 20, 16, Sha256Backend::kShaNi);
  ASSERT_TRUE(hit.has_value());
  WriteLE64(msg.data() + 88, hit->counter);
  EXPECT_EQ(hit->hash, Sha256(msg, Sha256Backend::kOpenSsl));
  EXPECT_GE(LeadingZeroBits(hit->hash), 16u);
  for (std::uint64_t c = 1000; c < hit->counter; ++c) {
    WriteLE64(msg.data() + 88, c);
    ASSERT_LT(LeadingZeroBits(Sha256(msg, Sha256Backend::kOpenSsl)), 16u) << c;
  }
}

TEST_F(ShaNiTest, ScanOfNothingFindsNothing) {
  std::array<std::uint8_t, 96> msg{};
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(msg.data(), 64));
  const std::span<const std::uint8_t, 32> tail(msg.data() + 64, 32);
  EXPECT_FALSE(ScanCounter(mid, tail, 0, 1, 0, 0, Sha256Backend::kShaNi).has_value());
  // 40 bits over 10,000 counters: the first-word filter passes none.
  EXPECT_FALSE(ScanCounter(mid, tail, 0, 1, 10000, 40, Sha256Backend::kShaNi).has_value());
  EXPECT_EQ(ScanCounter(mid, tail, 5, 1, 3, 0, Sha256Backend::kShaNi)->counter, 5u);
}

}  // namespace
}  // namespace powchain
