// Consensus parameters (docs/consensus.md, "Network parameters and genesis"). Networks differ only
// by this data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace powchain {

struct Params {
  std::string network;
  // Target interval between blocks; a block faster than this raises the
  // difficulty by one bit, a slower one lowers it by one.
  std::uint64_t mine_rate_ms = 3000;
  std::uint32_t initial_difficulty = 16;  // genesis difficulty, in bits
  std::uint32_t min_difficulty = 1;
  // A difficulty of 256 would need an all-zero hash and its work (2^256)
  // does not fit in 256 bits, so the rule stops one below (docs/consensus.md).
  std::uint32_t max_difficulty = 255;
  std::uint64_t max_future_drift_ms = 15000;
  std::uint32_t mtp_window = 11;
  std::size_t max_block_bytes = std::size_t{1024} * 1024;  // header + canonical data
  std::uint64_t genesis_timestamp = 1735689600000;         // 2025-01-01T00:00:00Z

  // Coins (docs/consensus.md, "Transactions and coins"). Amounts in units
  // (10^8 per coin).
  std::uint64_t initial_reward = std::uint64_t{50} * 100'000'000;
  // The subsidy halves every this many blocks: initial_reward >> (height / interval).
  std::uint64_t halving_interval = 210'000;
  // A coinbase output is spendable from this many blocks above its block.
  std::uint64_t coinbase_maturity = 100;
  // The human-readable part of this network's addresses.
  std::string address_prefix = "pow";

  static Params Main();
  static Params Regtest();
  // "main" or "regtest"; nullopt for any other name.
  static std::optional<Params> ForNetwork(std::string_view name);
  static std::vector<std::string> NetworkNames();
};

}  // namespace powchain
