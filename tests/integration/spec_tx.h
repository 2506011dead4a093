// Transactions built the way any outside program would, from the contract
// in docs/consensus.md alone: canonical JSON written by hand, txid and
// signature hash computed with OpenSSL's SHA-256, BIP 340 signatures. None
// of the node's transaction code (primitives/transaction.h) is used, so an
// integration test that sends these checks the node against the contract,
// not against itself.
//
// Keys and addresses come from crypto/schnorr.h and util/bech32.h, which
// their own tests check against the published BIP 340 and BIP 350 vectors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crypto/schnorr.h"

namespace powchain::itest {

// A key and its address on one network.
struct SpecWallet {
  SecretKey key;
  std::string address;  // Bech32m of [1] ++ the x-only key, with `hrp`
};
// A deterministic key made from `seed` (1..255) and its address for `hrp`.
SpecWallet MakeSpecWallet(std::uint8_t seed, const std::string& hrp);

struct SpecInput {
  std::string txid;  // 64 lower-case hex digits
  std::uint32_t vout = 0;
};
struct SpecOutput {
  std::string address;
  std::uint64_t amount = 0;
};

// The canonical JSON of a transaction: members in byte order of their names,
// no spaces. `sigs` is empty for the unsigned form (no "sig" members),
// otherwise one 128-digit hex signature per input. `coinbase` adds the
// coinbase member (inputs must then be empty).
std::string SpecTxJson(const std::vector<SpecInput>& inputs, const std::vector<std::string>& sigs,
                       const std::vector<SpecOutput>& outputs,
                       std::optional<std::uint64_t> coinbase = std::nullopt);

// Hex of SHA-256 of `canonical`: the txid of a transaction whose canonical
// bytes these are.
std::string SpecTxid(const std::string& canonical);

// The signed transaction: every input signed with `key` for the network of
// `genesis_hex` (TaggedHash("powchain/sighash", genesis || SHA-256(unsigned
// bytes) || u32le(i))). Returns its canonical JSON.
std::string SpecSignedTx(const std::vector<SpecInput>& inputs,
                         const std::vector<SpecOutput>& outputs, const SecretKey& key,
                         const std::string& genesis_hex);

}  // namespace powchain::itest
