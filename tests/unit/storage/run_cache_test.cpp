#include "storage/run_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

namespace powchain {
namespace {

Hash32 Last(std::uint8_t id) {
  Hash32 h{};
  h[31] = id;
  return h;
}

RunCache::Run MakeRun(std::size_t bytes, char fill = 'x') {
  return std::make_shared<const std::string>(bytes, fill);
}

TEST(RunCacheTest, AHitIsTheSameSharedRun) {
  RunCache cache(1 << 20);
  const RunCache::Run run = MakeRun(100);
  EXPECT_EQ(cache.Get(0, Last(1)), nullptr);
  cache.Put(0, Last(1), run);
  EXPECT_EQ(cache.Get(0, Last(1)), run);  // the same string, not a copy
  EXPECT_EQ(cache.bytes(), 100 + RunCache::kOverheadBytes);
}

TEST(RunCacheTest, KeysOnTheFirstHeightAndTheLastHash) {
  RunCache cache(1 << 20);
  cache.Put(0, Last(1), MakeRun(10, 'a'));
  cache.Put(1024, Last(1), MakeRun(10, 'b'));
  cache.Put(0, Last(2), MakeRun(10, 'c'));
  EXPECT_EQ(*cache.Get(0, Last(1)), std::string(10, 'a'));
  EXPECT_EQ(*cache.Get(1024, Last(1)), std::string(10, 'b'));
  EXPECT_EQ(*cache.Get(0, Last(2)), std::string(10, 'c'));
  EXPECT_EQ(cache.Get(1024, Last(2)), nullptr);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(RunCacheTest, StaysWithinItsBoundAndSkipsRunsOverAQuarter) {
  const std::size_t max = 4 * (1000 + RunCache::kOverheadBytes);
  RunCache cache(max);
  cache.Put(0, Last(9), MakeRun(1001));  // over a quarter: not kept
  EXPECT_EQ(cache.Get(0, Last(9)), nullptr);
  for (std::uint8_t i = 0; i < 10; ++i) {
    cache.Put(i, Last(i), MakeRun(1000));
    EXPECT_LE(cache.bytes(), max);
  }
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_EQ(cache.Get(5, Last(5)), nullptr);  // evicted
  EXPECT_NE(cache.Get(9, Last(9)), nullptr);  // the newest kept
}

TEST(RunCacheTest, AnEvictedRunStaysAliveForItsHolder) {
  RunCache cache(2 * (10 + RunCache::kOverheadBytes) * 4);
  cache.Put(0, Last(0), MakeRun(10, 'k'));
  const RunCache::Run held = cache.Get(0, Last(0));
  for (std::uint8_t i = 1; i < 20; ++i) cache.Put(i, Last(i), MakeRun(10));
  EXPECT_EQ(cache.Get(0, Last(0)), nullptr);
  EXPECT_EQ(*held, std::string(10, 'k'));
}

TEST(RunCacheTest, ZeroBytesDisablesIt) {
  RunCache cache(0);
  cache.Put(0, Last(1), MakeRun(0));
  EXPECT_EQ(cache.Get(0, Last(1)), nullptr);
}

}  // namespace
}  // namespace powchain
