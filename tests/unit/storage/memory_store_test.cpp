#include "storage/memory_store.h"

#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "consensus/genesis.h"
#include "testutil/chain_builder.h"

namespace powchain {
namespace {

TEST(MemoryStoreTest, CommitsAndReadsBack) {
  test::ChainBuilder chain(test::TinyParams());
  chain.AddSlow("\"x\"");
  chain.AddSlow("\"y\"");
  MemoryBlockStore store;
  WriteBatch batch;
  for (const Block& b : chain.blocks()) batch.blocks.push_back(&b);
  batch.tip = chain.tip().hash;
  ASSERT_TRUE(store.Commit(batch).ok());
  EXPECT_EQ(store.BlockCount(), 3u);
  auto tip = store.ReadTip();
  ASSERT_TRUE(tip.ok());
  EXPECT_EQ(**tip, chain.tip().hash);
  auto b = store.ReadBlock(chain.blocks()[1].hash);
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ(**b, chain.blocks()[1]);
  auto missing = store.ReadBlock(Hash32{});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  std::vector<Hash32> order;
  ASSERT_TRUE(
      store.ForEachHeader([&](const Hash32& h, const BlockHeader&) { order.push_back(h); }).ok());
  ASSERT_EQ(order.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(order[i], chain.blocks()[i].hash);
}

TEST(MemoryStoreTest, InjectedFailureWritesNothing) {
  test::ChainBuilder chain(test::TinyParams());
  MemoryBlockStore store;
  WriteBatch batch;
  batch.blocks.push_back(&chain.tip());
  batch.tip = chain.tip().hash;
  store.FailNextCommits(1);
  EXPECT_FALSE(store.Commit(batch).ok());
  EXPECT_EQ(store.BlockCount(), 0u);
  auto tip = store.ReadTip();
  ASSERT_TRUE(tip.ok());
  EXPECT_FALSE(tip->has_value());
  EXPECT_TRUE(store.Commit(batch).ok());
  store.SetFailReads(true);
  EXPECT_FALSE(store.ReadBlock(chain.tip().hash).ok());
  EXPECT_FALSE(store.ReadTip().ok());
}

// The interface's ReadBlocks, as every store but SQLite reads runs: one by
// one, stopping before a block not stored and after the data budget.
TEST(MemoryStoreTest, ReadsRunsOfBlocks) {
  test::ChainBuilder chain(test::TinyParams());
  for (int i = 0; i < 4; ++i) chain.AddSlow("\"abcd\"");
  MemoryBlockStore store;
  WriteBatch batch;
  for (const Block& b : chain.blocks()) batch.blocks.push_back(&b);
  ASSERT_TRUE(store.Commit(batch).ok());
  std::vector<Hash32> hashes;
  for (const Block& b : chain.blocks()) hashes.push_back(b.hash);
  auto all = store.ReadBlocks(hashes);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, chain.blocks());
  std::vector<Hash32> gap{hashes[1], Hash32{}, hashes[2]};
  auto stopped = store.ReadBlocks(gap);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(*stopped, std::vector<Block>{chain.blocks()[1]});
  auto budget = store.ReadBlocks(std::span(hashes).subspan(1), 2 * chain.tip().data.size());
  ASSERT_TRUE(budget.ok());
  EXPECT_EQ(budget->size(), 2u);
  store.SetFailReads(true);
  EXPECT_FALSE(store.ReadBlocks(hashes).ok());
}

}  // namespace
}  // namespace powchain
