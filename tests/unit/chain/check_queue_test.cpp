// CheckQueue: signature checks spread over threads (chain/check_queue.h).
#include "chain/check_queue.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <random>
#include <vector>

#include "crypto/schnorr.h"
#include "testutil/coins.h"

namespace powchain {
namespace {

// `n` valid checks: 8 keys and messages, cycled.
std::vector<SigCheck> ValidChecks(std::size_t n) {
  static const std::vector<SigCheck> distinct = [] {
    std::vector<SigCheck> v;
    for (std::uint8_t i = 1; i <= 8; ++i) {
      const SecretKey key = test::KeyFromSeed(i);
      SigCheck c;
      c.key = PublicKeyOf(key);
      c.msg.fill(i);
      c.sig = SignSchnorr(key, c.msg, Hash32{});
      v.push_back(c);
    }
    return v;
  }();
  std::vector<SigCheck> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(distinct[i % distinct.size()]);
  return out;
}

TEST(CheckQueueTest, AnswersWhetherEveryCheckVerifiesWithAnyThreadCount) {
  for (std::size_t threads : {0, 1, 2, 4}) {
    CheckQueue queue(threads);
    for (std::size_t n : {0, 1, 16, 17, 200}) {
      std::vector<SigCheck> checks = ValidChecks(n);
      EXPECT_EQ(queue.Run(checks), std::nullopt) << threads << " threads, " << n << " checks";
      if (n == 0) continue;
      // One bad check anywhere is found, at its index.
      for (std::size_t bad : {std::size_t{0}, n / 2, n - 1}) {
        std::vector<SigCheck> broken = checks;
        broken[bad].sig[5] ^= 0x10;
        EXPECT_EQ(queue.Run(broken), bad) << threads << " threads, " << n << " checks";
      }
    }
  }
}

TEST(CheckQueueTest, StartReturnsAtOnceAndFinishGivesTheVerdict) {
  CheckQueue queue(2);
  EXPECT_EQ(queue.Finish(), std::nullopt);  // nothing started
  std::vector<SigCheck> first = ValidChecks(300);
  first[250].msg[0] ^= 1;
  queue.Start(first);
  // The caller is free meanwhile; the pool works on the job.
  const std::vector<SigCheck> second = ValidChecks(100);
  EXPECT_EQ(queue.Finish(), 250u);
  queue.Start(second);
  EXPECT_EQ(queue.Finish(), std::nullopt);
}

// Many jobs of random sizes back to back, some with a bad check: every
// verdict is right (a pool thread that wakes late must never take a batch
// of the wrong job).
TEST(CheckQueueTest, JobsBackToBackKeepTheirVerdicts) {
  CheckQueue queue(3);
  std::mt19937 rng(11);
  const std::vector<SigCheck> pool = ValidChecks(96);
  for (int job = 0; job < 300; ++job) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 96)(rng);
    std::vector<SigCheck> checks(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n));
    std::optional<std::size_t> bad;
    if (n > 0 && rng() % 3 == 0) {
      bad = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
      checks[*bad].key[3] ^= 0x40;
    }
    queue.Start(checks);
    EXPECT_EQ(queue.Finish(), bad) << "job " << job << " of " << n << " checks";
  }
}

}  // namespace
}  // namespace powchain
