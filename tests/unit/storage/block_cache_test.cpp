#include "storage/block_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace powchain {
namespace {

// A block whose hash is `id` in its first byte, with `data_bytes` of data.
// The cache keys on the hash it is given and checks nothing else.
Block Numbered(std::uint8_t id, std::size_t data_bytes = 10) {
  Block b;
  b.header.height = id;
  b.hash[0] = id;
  b.hash[31] = id;
  b.data = std::string(data_bytes, 'x');
  return b;
}

constexpr std::size_t Charge(std::size_t data_bytes) {
  return data_bytes + BlockCache::kOverheadBytes;
}

TEST(BlockCacheTest, ReturnsACopyOfWhatWasPut) {
  BlockCache cache(Charge(10) * 16);
  EXPECT_FALSE(cache.Get(Numbered(1).hash).has_value());
  cache.Put(Numbered(1));
  auto got = cache.Get(Numbered(1).hash);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, Numbered(1));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), Charge(10));
  cache.Put(Numbered(1));  // again: no second copy
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), Charge(10));
}

TEST(BlockCacheTest, EvictsTheLeastRecentlyUsedToStayWithinItsBound) {
  BlockCache cache(Charge(10) * 8);  // room for eight
  for (std::uint8_t i = 1; i <= 8; ++i) cache.Put(Numbered(i));
  EXPECT_EQ(cache.size(), 8u);
  ASSERT_TRUE(cache.Get(Numbered(1).hash).has_value());  // 1 is now the most recent
  cache.Put(Numbered(9));                                // evicts 2, the least recent
  EXPECT_TRUE(cache.Get(Numbered(1).hash).has_value());
  EXPECT_FALSE(cache.Get(Numbered(2).hash).has_value());
  EXPECT_TRUE(cache.Get(Numbered(9).hash).has_value());
  EXPECT_EQ(cache.size(), 8u);
  EXPECT_LE(cache.bytes(), cache.max_bytes());
  for (std::uint8_t i = 10; i < 100; ++i) {
    cache.Put(Numbered(i, i % 3 == 0 ? 60 : 10));
    EXPECT_LE(cache.bytes(), cache.max_bytes());
  }
}

TEST(BlockCacheTest, DoesNotCacheBlocksLargerThanAnEighthOfIt) {
  const std::size_t max = Charge(100) * 8;
  BlockCache cache(max);
  cache.Put(Numbered(1));
  cache.Put(Numbered(2, max / 8));  // charged more than an eighth
  EXPECT_FALSE(cache.Get(Numbered(2).hash).has_value());
  EXPECT_TRUE(cache.Get(Numbered(1).hash).has_value());  // and nothing was evicted for it
  cache.Put(Numbered(3, 100));                           // exactly an eighth
  EXPECT_TRUE(cache.Get(Numbered(3).hash).has_value());
}

TEST(BlockCacheTest, ChargesABlocksTransactions) {
  Block with_txs = Numbered(1);
  Transaction tx;
  tx.outputs.push_back(TxOut{std::string(300, 'a'), XOnlyPubKey{}, 1});
  with_txs.txs.assign(10, tx);
  const std::size_t tx_bytes = 10 * CanonicalTxSize(tx);
  BlockCache cache(Charge(10 + tx_bytes) * 8);
  cache.Put(with_txs);
  EXPECT_EQ(cache.bytes(), Charge(10 + tx_bytes));
  // A block whose transactions alone take more than an eighth stays out.
  Block big = Numbered(2);
  big.txs.assign(11, tx);
  cache.Put(big);
  EXPECT_FALSE(cache.Get(big.hash).has_value());
}

TEST(BlockCacheTest, ZeroBytesDisablesIt) {
  BlockCache cache(0);
  cache.Put(Numbered(1, 0));
  EXPECT_FALSE(cache.Get(Numbered(1).hash).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace powchain
