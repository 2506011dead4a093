#include "util/token_bucket.h"

#include <gtest/gtest.h>

namespace powchain {
namespace {

TEST(TokenBucketTest, StartsFullAndRefillsAtTheRate) {
  TokenBucket bucket(/*rate_per_second=*/4, /*burst=*/3, /*now_ms=*/1000);
  EXPECT_TRUE(bucket.Take(1000));
  EXPECT_TRUE(bucket.Take(1000));
  EXPECT_TRUE(bucket.Take(1000));
  EXPECT_FALSE(bucket.Take(1000));
  EXPECT_FALSE(bucket.Take(1249));  // 0.996 of a token
  EXPECT_TRUE(bucket.Take(1250));   // one token after 250 ms
  EXPECT_FALSE(bucket.Take(1250));
}

TEST(TokenBucketTest, NeverHoldsMoreThanTheBurst) {
  TokenBucket bucket(1000, 2, 0);
  EXPECT_TRUE(bucket.Take(1'000'000));
  EXPECT_TRUE(bucket.Take(1'000'000));
  EXPECT_FALSE(bucket.Take(1'000'000));
}

TEST(TokenBucketTest, AClockSteppingBackAddsNothing) {
  TokenBucket bucket(1, 1, 5000);
  EXPECT_TRUE(bucket.Take(5000));
  EXPECT_FALSE(bucket.Take(1000));
  EXPECT_FALSE(bucket.Take(5999));
  EXPECT_TRUE(bucket.Take(6000));
}

}  // namespace
}  // namespace powchain
