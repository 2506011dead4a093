#include "testutil/chain_builder.h"

#include <algorithm>
#include <cassert>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/pow.h"
#include "crypto/sha256.h"
#include "primitives/canonical_json.h"

namespace powchain::test {

Params TinyParams() {
  Params p = Params::Regtest();
  p.network = "tiny";
  p.initial_difficulty = 1;
  p.min_difficulty = 1;
  p.mine_rate_ms = 1000;
  p.mtp_window = 3;
  return p;
}

Block MineChild(const ParentContext& parent, const std::string& data_json, std::uint64_t timestamp,
                const Params& params, std::vector<Transaction> txs) {
  auto canonical = CanonicalizeJsonText(data_json);
  assert(canonical.ok());
  Block body;
  body.data = *canonical;
  body.txs = txs;
  BlockHeader h;
  h.height = parent.header.height + 1;
  h.last_hash = parent.hash;
  h.data_hash = ComputeDataHash(body);
  h.timestamp = timestamp;
  h.difficulty = NextDifficulty(parent.header, timestamp, params);
  for (h.nonce = 0;; ++h.nonce) {
    if (CheckProofOfWork(h.ComputeHash(), h.difficulty)) break;
  }
  return MakeBlock(h, std::move(canonical).value(), std::move(txs));
}

void Solve(Block& block) {
  for (block.header.nonce = 0;; ++block.header.nonce) {
    block.hash = block.header.ComputeHash();
    if (CheckProofOfWork(block.hash, block.header.difficulty)) return;
  }
}

void SetDataAndSolve(Block& block, const std::string& data_json) {
  auto canonical = CanonicalizeJsonText(data_json);
  assert(canonical.ok());
  block.data = std::move(canonical).value();
  block.header.data_hash =
      Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(block.data.data()), block.data.size()));
  Solve(block);
}

ChainBuilder::ChainBuilder(const Params& params) : params_(params) {
  blocks_.push_back(MakeGenesis(params));
}

ChainBuilder::ChainBuilder(const Params& params, std::vector<Block> prefix)
    : params_(params), blocks_(std::move(prefix)) {
  assert(!blocks_.empty());
}

ParentContext ChainBuilder::TipContext() const {
  std::vector<std::uint64_t> window;
  for (auto it = blocks_.rbegin(); it != blocks_.rend() && window.size() < params_.mtp_window;
       ++it) {
    window.push_back(it->header.timestamp);
  }
  return ParentContext{blocks_.back().header, blocks_.back().hash, MedianTimePast(window)};
}

const Block& ChainBuilder::Add(std::uint64_t dt_ms, const std::string& data_json,
                               std::vector<Transaction> txs) {
  blocks_.push_back(MineChild(TipContext(), data_json, blocks_.back().header.timestamp + dt_ms,
                              params_, std::move(txs)));
  return blocks_.back();
}

const Block& ChainBuilder::AddFast(const std::string& data_json) {
  return Add(params_.mine_rate_ms / 2, data_json);
}

const Block& ChainBuilder::AddSlow(const std::string& data_json) {
  return Add(params_.mine_rate_ms, data_json);
}

std::vector<Block> ChainBuilder::WithoutGenesis() const {
  return {blocks_.begin() + 1, blocks_.end()};
}

}  // namespace powchain::test
