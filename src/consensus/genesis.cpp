#include "consensus/genesis.h"

#include <cassert>
#include <string>

#include "crypto/sha256.h"
#include "primitives/canonical_json.h"
#include "primitives/json.h"

namespace powchain {

Block MakeGenesis(const Params& params) {
  auto num = [](std::uint64_t v) { return JsonValue::Number(std::to_string(v)); };
  const JsonValue data = JsonValue::Object({
      {"network", JsonValue::String(params.network)},
      {"mineRate", num(params.mine_rate_ms)},
      {"initialDifficulty", num(params.initial_difficulty)},
      {"minDifficulty", num(params.min_difficulty)},
      {"maxDifficulty", num(params.max_difficulty)},
      {"maxFutureDriftMs", num(params.max_future_drift_ms)},
      {"mtpWindow", num(params.mtp_window)},
      {"maxBlockBytes", num(params.max_block_bytes)},
      {"initialReward", num(params.initial_reward)},
      {"halvingInterval", num(params.halving_interval)},
      {"coinbaseMaturity", num(params.coinbase_maturity)},
      {"addressPrefix", JsonValue::String(params.address_prefix)},
  });
  auto canonical = CanonicalJson(data);
  // Every parameter is far below 2^53, so canonicalization cannot fail.
  assert(canonical.ok());

  BlockHeader h;
  h.version = kBlockVersion;
  h.height = 0;
  h.last_hash = Hash32{};
  h.data_hash =
      Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(canonical->data()), canonical->size()));
  h.timestamp = params.genesis_timestamp;
  h.difficulty = params.initial_difficulty;
  h.nonce = 0;
  return MakeBlock(h, std::move(canonical).value());
}

}  // namespace powchain
