// Skip pointers: every ancestor is found, and in a logarithmic number of
// steps whatever the heights.
#include "chain/block_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

namespace powchain {
namespace {

// A bare chain of `n` nodes (heights 0 .. n-1), linked and with skips.
std::vector<std::unique_ptr<BlockIndex>> MakeChain(std::uint64_t n) {
  std::vector<std::unique_ptr<BlockIndex>> nodes;
  nodes.reserve(n);
  for (std::uint64_t h = 0; h < n; ++h) {
    auto node = std::make_unique<BlockIndex>();
    node->header.height = h;
    node->hash[0] = static_cast<std::uint8_t>(h);
    node->hash[1] = static_cast<std::uint8_t>(h >> 8);
    node->hash[2] = static_cast<std::uint8_t>(h >> 16);
    node->parent = h == 0 ? nullptr : nodes.back().get();
    node->BuildSkip();
    nodes.push_back(std::move(node));
  }
  return nodes;
}

TEST(BlockIndexTest, SkipHeightIsAlwaysBelow) {
  EXPECT_EQ(SkipHeight(0), 0u);
  EXPECT_EQ(SkipHeight(1), 0u);
  for (std::uint64_t h = 2; h < 100000; ++h) ASSERT_LT(SkipHeight(h), h) << h;
  for (std::uint64_t h :
       {std::uint64_t{1} << 40, (std::uint64_t{1} << 63) + 12345, ~std::uint64_t{0}}) {
    EXPECT_LT(SkipHeight(h), h);
  }
}

TEST(BlockIndexTest, FindsEveryAncestor) {
  const auto chain = MakeChain(3000);
  for (std::uint64_t from : {0ull, 1ull, 2ull, 17ull, 1024ull, 2047ull, 2999ull}) {
    const BlockIndex* node = chain[from].get();
    for (std::uint64_t h = 0; h <= from; ++h) {
      ASSERT_EQ(node->GetAncestor(h), chain[h].get()) << from << " -> " << h;
    }
    EXPECT_EQ(node->GetAncestor(from + 1), nullptr);
  }
}

// The bound the chain relies on: from any height to any lower one in
// O(log n) steps. Among 100,000 blocks the worst pair sampled here takes 73
// steps (about 4.4 log2 n); a parent-by-parent walk takes up to 100,000.
TEST(BlockIndexTest, AncestorLookupsAreLogarithmic) {
  constexpr std::uint64_t kN = 100000;
  const auto chain = MakeChain(kN);
  std::uint64_t worst = 0;
  for (std::uint64_t from = kN - 1; from >= 997; from -= 997) {
    for (std::uint64_t to = 0; to < from; to += 1009) {
      AncestorSteps() = 0;
      ASSERT_EQ(chain[from]->GetAncestor(to), chain[to].get());
      worst = std::max(worst, AncestorSteps());
    }
  }
  EXPECT_LE(worst, 6 * static_cast<std::uint64_t>(std::log2(kN))) << worst;
  AncestorSteps() = 0;
  chain[kN - 1]->GetAncestor(0);
  EXPECT_LE(AncestorSteps(), 40u);
}

}  // namespace
}  // namespace powchain
