// Helpers for tests of transactions and coins: keys, coinbases and signed
// spends.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "consensus/coins.h"
#include "consensus/params.h"
#include "crypto/schnorr.h"
#include "primitives/transaction.h"

namespace powchain::test {

// A secret key made from one byte (deterministic, valid for 1..255).
SecretKey KeyFromSeed(std::uint8_t seed);

// A coinbase at `height` paying `amount` to `key`.
Transaction Coinbase(std::uint64_t height, const XOnlyPubKey& key, std::uint64_t amount,
                     const Params& params);

// A transaction spending `inputs` (all owned by `key`) to `outputs`,
// signed for the network whose genesis hash is `genesis`.
Transaction Spend(const std::vector<OutPoint>& inputs,
                  const std::vector<std::pair<XOnlyPubKey, std::uint64_t>>& outputs,
                  const SecretKey& key, const Hash32& genesis, const Params& params);

// Signs every input of `tx` with `key` (after the caller changed it).
void SignAll(Transaction& tx, const SecretKey& key, const Hash32& genesis);

// The consensus layer's map-backed coin view, under the name tests use.
using MapCoinView = ::powchain::MapCoinView;

}  // namespace powchain::test
