// The tiny network the fuzz targets and the seed generator check blocks on:
// valid proof of work is cheap there, so seeds can carry valid blocks and a
// block the fuzzer changes often keeps a valid proof of work.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/params.h"
#include "consensus/pow.h"
#include "consensus/validation.h"
#include "crypto/schnorr.h"
#include "crypto/sha256.h"
#include "fuzz_check.h"
#include "primitives/block.h"
#include "primitives/canonical_json.h"

namespace powchain::fuzz {

// The regtest rules with a difficulty that starts and floors at 1 bit, so a
// block takes about two attempts to mine and a block the fuzzer changes keeps
// a valid proof of work half the time (as tests/testutil's TinyParams).
inline Params TinyParams() {
  Params p = Params::Regtest();
  p.network = "fuzz-tiny";
  p.initial_difficulty = 1;
  p.min_difficulty = 1;
  p.mine_rate_ms = 1000;
  p.mtp_window = 3;
  return p;
}

// A secret key made from one byte (the same on every run).
inline SecretKey SeedKey(std::uint8_t seed) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[0] = 0x42;
  bytes[31] = seed;
  auto key = SecretKey::FromBytes(bytes);
  FUZZ_CHECK(key.has_value());
  return std::move(*key);
}

// The local time the targets check blocks at: an hour after genesis.
inline std::uint64_t NowMs(const Params& params) { return params.genesis_timestamp + 3600 * 1000; }

inline Hash32 DataHash(std::string_view canonical_data) {
  return Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(canonical_data.data()),
                         canonical_data.size()));
}

// Searches nonces from `header.nonce` up, at most `max_attempts` of them,
// for one that meets the header's difficulty. Returns whether it found one;
// the header then carries it.
inline bool Solve(BlockHeader& header, std::uint64_t max_attempts) {
  for (std::uint64_t i = 0; i < max_attempts; ++i, ++header.nonce) {
    if (CheckProofOfWork(header.ComputeHash(), header.difficulty)) return true;
  }
  return false;
}

// The context-free and contextual parent data of the last block of `chain`
// (genesis first).
inline ParentContext TipContext(const std::vector<Block>& chain, const Params& params) {
  std::vector<std::uint64_t> window;
  for (auto it = chain.rbegin(); it != chain.rend() && window.size() < params.mtp_window; ++it) {
    window.push_back(it->header.timestamp);
  }
  return ParentContext{chain.back().header, chain.back().hash, MedianTimePast(window)};
}

// A valid child of `parent` carrying `txs`: `data_json` canonicalized,
// difficulty by the rule, the first nonce from 0 that meets it.
// Deterministic.
inline Block MineChild(const ParentContext& parent, std::string_view data_json,
                       std::uint64_t timestamp, const Params& params,
                       std::vector<Transaction> txs = {}) {
  auto canonical = CanonicalizeJsonText(data_json);
  FUZZ_CHECK(canonical.ok());
  Block body;
  body.data = *canonical;
  body.txs = txs;
  BlockHeader h;
  h.height = parent.header.height + 1;
  h.last_hash = parent.hash;
  h.data_hash = ComputeDataHash(body);
  h.timestamp = timestamp;
  h.difficulty = NextDifficulty(parent.header, timestamp, params);
  h.nonce = 0;
  FUZZ_CHECK(Solve(h, std::uint64_t{1} << 32));
  return MakeBlock(h, std::move(canonical).value(), std::move(txs));
}

// The tiny network's genesis and `n` blocks after it, each 1.5 s after its
// parent (slower than the mine rate, so every difficulty is 1), with data
// {"n":<height>}. The same blocks on every call.
inline std::vector<Block> TinyChain(std::size_t n) {
  const Params params = TinyParams();
  std::vector<Block> chain{MakeGenesis(params)};
  for (std::size_t i = 1; i <= n; ++i) {
    chain.push_back(MineChild(TipContext(chain, params), "{\"n\":" + std::to_string(i) + "}",
                              chain.back().header.timestamp + 1500, params));
  }
  return chain;
}

}  // namespace powchain::fuzz
