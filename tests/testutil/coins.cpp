#include "testutil/coins.h"

#include <array>
#include <cassert>

namespace powchain::test {

SecretKey KeyFromSeed(std::uint8_t seed) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[31] = seed;
  bytes[0] = 0x42;
  auto key = SecretKey::FromBytes(bytes);
  assert(key.has_value());
  return std::move(*key);
}

Transaction Coinbase(std::uint64_t height, const XOnlyPubKey& key, std::uint64_t amount,
                     const Params& params) {
  Transaction tx;
  tx.coinbase = height;
  tx.outputs.push_back(MakeTxOut(params.address_prefix, key, amount));
  return tx;
}

void SignAll(Transaction& tx, const SecretKey& key, const Hash32& genesis) {
  const SighashContext sighash(tx, genesis);
  for (std::uint32_t i = 0; i < tx.inputs.size(); ++i) {
    tx.inputs[i].sig = SignSchnorr(key, sighash.ForInput(i), Hash32{});
  }
}

Transaction Spend(const std::vector<OutPoint>& inputs,
                  const std::vector<std::pair<XOnlyPubKey, std::uint64_t>>& outputs,
                  const SecretKey& key, const Hash32& genesis, const Params& params) {
  Transaction tx;
  for (const OutPoint& o : inputs) tx.inputs.push_back(TxIn{o, {}});
  for (const auto& [k, amount] : outputs)
    tx.outputs.push_back(MakeTxOut(params.address_prefix, k, amount));
  SignAll(tx, key, genesis);
  return tx;
}

}  // namespace powchain::test
