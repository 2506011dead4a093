// Exhaustive fork choice on a tiny world (after libsecp256k1's
// tests_exhaustive.c): every sequence of five unrequested blocks, each a
// fast or slow child of any block sent before, and every arrival order of
// the blocks of small trees whose headers came first. The expected outcome
// is computed here from first principles: a block nobody asked for is kept
// only if its parent is and it brings its chain to at least the tip's work;
// the tip is the most work summed along the path, ties to the block stored
// first.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"

namespace powchain {
namespace {

constexpr std::uint64_t kNow = 1ull << 62;

// A node of the test's own tree model.
struct Node {
  Block block;
  int parent;          // index into the tree, -1 for genesis
  unsigned long work;  // sum of 2^difficulty from genesis
};

class TinyWorld {
 public:
  TinyWorld() : params_(test::TinyParams()) {
    Node g{MakeGenesis(params_), -1, 0};
    g.work = 1ul << g.block.header.difficulty;
    nodes_.push_back(g);
  }
  const Params& params() const { return params_; }

  // The child of node `parent`, fast or slow; memoized so every sequence
  // reuses the same blocks.
  int Child(int parent, bool fast) {
    const auto key = std::make_pair(parent, fast);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    std::vector<Block> path;
    for (int i = parent; i >= 0; i = nodes_[i].parent) path.insert(path.begin(), nodes_[i].block);
    test::ChainBuilder builder(params_, path);
    const Block& b = fast ? builder.AddFast() : builder.AddSlow();
    Node n{b, parent, nodes_[parent].work + (1ul << b.header.difficulty)};
    nodes_.push_back(n);
    memo_[key] = static_cast<int>(nodes_.size() - 1);
    return memo_[key];
  }
  const Node& node(int i) const { return nodes_[i]; }

 private:
  Params params_;
  std::vector<Node> nodes_;
  std::map<std::pair<int, bool>, int> memo_;
};

// The model's tip among `present` (in the order they were added).
int ExpectedTip(const TinyWorld& world, const std::vector<int>& present) {
  int best = 0;
  for (int i : present) {
    if (world.node(i).work > world.node(best).work) best = i;  // strict: first seen wins ties
  }
  return best;
}

TEST(ForkChoiceExhaustiveTest, EveryTreeOfUpToFiveInsertions) {
  TinyWorld world;
  int sequences = 0;
  // Each step picks (position, fast/slow): a child of the block sent at
  // that earlier step (0 = genesis). Same choices can repeat a block.
  std::vector<std::vector<std::pair<int, bool>>> all_choices;
  std::vector<std::pair<int, bool>> choice;
  std::function<void(int)> enumerate = [&](int depth) {
    all_choices.push_back(choice);
    if (depth == 5) return;
    for (int pos = 0; pos <= depth; ++pos) {
      for (bool fast : {false, true}) {
        choice.emplace_back(pos, fast);
        enumerate(depth + 1);
        choice.pop_back();
      }
    }
  };
  enumerate(0);

  for (const auto& steps : all_choices) {
    if (steps.size() != 5) continue;  // prefixes are checked step by step below
    MemoryBlockStore store;
    ChainState chain(world.params(), store);
    ASSERT_TRUE(chain.Load().ok());
    std::vector<int> sent = {0};     // per step, including repeats
    std::vector<int> present = {0};  // distinct, in the order added
    for (const auto& [pos, fast] : steps) {
      const int id = world.Child(sent[pos], fast);
      sent.push_back(id);
      const bool duplicate = std::find(present.begin(), present.end(), id) != present.end();
      const bool parent_present =
          std::find(present.begin(), present.end(), world.node(id).parent) != present.end();
      const int tip_before = ExpectedTip(world, present);
      const AcceptResult r = chain.AcceptBlock(world.node(id).block, kNow);
      if (duplicate) {
        ASSERT_EQ(r.status, AcceptStatus::kDuplicate);
        continue;
      }
      if (!parent_present) {
        ASSERT_EQ(r.status, AcceptStatus::kUnknownParent);
        continue;
      }
      if (world.node(id).work < world.node(tip_before).work) {
        ASSERT_EQ(r.status, AcceptStatus::kTooLittleWork);
        ASSERT_FALSE(chain.HasHeader(world.node(id).block.hash));
        continue;
      }
      ASSERT_TRUE(r.ok()) << AcceptStatusName(r.status) << " " << r.validation.message;
      present.push_back(id);
      const int want = ExpectedTip(world, present);
      ASSERT_EQ(chain.Tip().hash(), world.node(want).block.hash);
      ASSERT_EQ(chain.Tip().work, Work(world.node(want).work));
      ASSERT_EQ(r.status == AcceptStatus::kNewTip, want == id);
      // The active chain is exactly the model's path to the tip.
      for (int i = want; i >= 0; i = world.node(i).parent) {
        ASSERT_EQ(chain.HashAtHeight(world.node(i).block.header.height), world.node(i).block.hash);
      }
      ASSERT_FALSE(chain.HashAtHeight(world.node(want).block.header.height + 1).has_value());
    }
    ASSERT_EQ(chain.BlockCount(), present.size());
    ++sequences;
  }
  EXPECT_EQ(sequences, 2 * 4 * 6 * 8 * 10);
}

TEST(ForkChoiceExhaustiveTest, EveryArrivalOrderOfSmallTrees) {
  TinyWorld world;
  // Trees of four blocks: a chain, a fork at genesis, a fork at height 1,
  // and a fast branch against a slow one.
  const int a1 = world.Child(0, false);
  const int a2 = world.Child(a1, false);
  const int a3 = world.Child(a2, false);
  const int b1 = world.Child(0, true);
  const int b2 = world.Child(b1, false);
  const int c2 = world.Child(a1, true);
  const int c3 = world.Child(c2, true);
  const std::vector<std::vector<int>> trees = {
      {a1, a2, a3, b1}, {a1, a2, b1, b2}, {a1, a2, c2, c3}, {a1, c2, b1, b2}, {a1, a2, a3, c2}};
  int orders = 0;
  for (std::vector<int> tree : trees) {
    std::sort(tree.begin(), tree.end());
    unsigned long max_work = 0;
    for (int i : tree) max_work = std::max(max_work, world.node(i).work);
    do {
      MemoryBlockStore store;
      ChainState chain(world.params(), store);
      ASSERT_TRUE(chain.Load().ok());
      // Every header first (parents before children: ids grow with height
      // here), as headers-first sync delivers them; then the blocks in
      // this order.
      std::vector<int> by_id = tree;
      std::sort(by_id.begin(), by_id.end());
      for (int i : by_id) {
        const Block& b = world.node(i).block;
        ASSERT_TRUE(chain.AddHeaders({{HashedHeader{b.header, b.hash}}}, kNow).ok());
      }
      for (int i : tree) {
        const AcceptResult r = chain.AcceptBlock(world.node(i).block, kNow);
        ASSERT_TRUE(r.ok() || r.status == AcceptStatus::kPending) << AcceptStatusName(r.status);
      }
      ASSERT_EQ(chain.BlockCount(), tree.size() + 1);
      ASSERT_EQ(chain.PendingCount(), 0u);
      ASSERT_EQ(chain.Tip().work, Work(max_work));
      ++orders;
    } while (std::next_permutation(tree.begin(), tree.end()));
  }
  EXPECT_EQ(orders, 5 * 24);
}

}  // namespace
}  // namespace powchain
