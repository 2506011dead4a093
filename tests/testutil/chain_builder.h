// Helpers for tests that need valid blocks quickly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "consensus/params.h"
#include "consensus/validation.h"
#include "primitives/block.h"

namespace powchain::test {

// Parameters for a tiny world: difficulty starts and floors at 1 bit, so a
// block takes about two attempts to mine.
Params TinyParams();

// A block on `parent` with `data` (a JSON text, canonicalized here) and the
// given timestamp, its difficulty derived by the rule and its nonce found by
// search from 0.
Block MineChild(const ParentContext& parent, const std::string& data_json, std::uint64_t timestamp,
                const Params& params, std::vector<Transaction> txs = {});

// Searches nonces from 0 until block.header meets its own difficulty, then
// sets block.hash. For building blocks that break one rule but not PoW.
void Solve(Block& block);

// Sets data (canonicalized) and dataHash, then Solve()s.
void SetDataAndSolve(Block& block, const std::string& data_json);

// A linear chain in memory, for building competing branches.
class ChainBuilder {
 public:
  // Starts at `base` (a block and its ancestors' timestamps for the median).
  explicit ChainBuilder(const Params& params);  // starts at genesis
  ChainBuilder(const Params& params, std::vector<Block> prefix);

  // Appends a block `dt_ms` after the current tip and returns it.
  const Block& Add(std::uint64_t dt_ms, const std::string& data_json = "null",
                   std::vector<Transaction> txs = {});
  // A fast block (dt < mineRate: difficulty rises) or a slow one (falls).
  const Block& AddFast(const std::string& data_json = "null");
  const Block& AddSlow(const std::string& data_json = "null");

  ParentContext TipContext() const;
  const Block& tip() const { return blocks_.back(); }
  const std::vector<Block>& blocks() const { return blocks_; }
  // The blocks after the genesis.
  std::vector<Block> WithoutGenesis() const;

 private:
  Params params_;
  std::vector<Block> blocks_;
};

}  // namespace powchain::test
