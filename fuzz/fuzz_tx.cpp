// Transactions from outside (a tx or txs message, POST /transactions, a
// block's txs, the mempool file, a wallet's sent list): the JSON decoder
// (TxFromJsonText, TxsFromJsonText), the canonical form, the context-free
// checks, the signature hash and verification, and Merkle proofs over the
// txids.
//
// Input: the first byte picks the part, the rest is its input.
//   'a' and most others  one transaction's JSON text
//   'b'                  a JSON array of transactions (TxsFromJsonText)
//   'm'                  a Merkle proof: leaf count and index (4 bytes
//                        each), then 32-byte hashes, the first the leaf,
//                        the rest the proof
//
// Properties: a decoded transaction's canonical bytes decode to the same
// transaction and are their own canonical form (the differential of the
// one writer against the parser); CanonicalTxSize is their length; the
// txid is their hash; CheckTransaction gives the same verdict for the
// re-decoded copy; signature hashes and verification run on every input.
// For arrays, TxsToJson of the result reads back the same. For proofs,
// MerkleRootFromProof never accepts a proof of the wrong length, and a
// proof MerkleProof builds from leaves taken from the input leads to
// MerkleRoot.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/genesis.h"
#include "consensus/params.h"
#include "consensus/tx_check.h"
#include "crypto/schnorr.h"
#include "crypto/sha256.h"
#include "fuzz_check.h"
#include "primitives/canonical_json.h"
#include "primitives/merkle.h"
#include "primitives/transaction.h"

namespace powchain::fuzz {
namespace {

void OneTx(std::string_view text) {
  static const Params regtest = Params::Regtest();
  static const Params main = Params::Main();
  static const Hash32 genesis = MakeGenesis(regtest).hash;
  const Result<Transaction> tx = TxFromJsonText(text);
  if (!tx) {
    FUZZ_CHECK(!tx.error().empty());
    return;
  }
  const std::string canonical = CanonicalTxBytes(*tx);
  FUZZ_CHECK(CanonicalTxSize(*tx) == canonical.size());
  const Result<std::string> recanonical = CanonicalizeJsonText(canonical);
  FUZZ_CHECK(recanonical.ok() && *recanonical == canonical);
  const Result<Transaction> again = TxFromJsonText(canonical);
  FUZZ_CHECK(again.ok() && *again == *tx);
  const Hash32 txid = ComputeTxid(*tx);
  FUZZ_CHECK(txid == Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(canonical.data()),
                                     canonical.size())));
  FUZZ_CHECK(ComputeTxid(*again) == txid);
  for (const Params* params : {&regtest, &main}) {
    const TxResult r = CheckTransaction(*tx, *params);
    FUZZ_CHECK(CheckTransaction(*again, *params).error == r.error);
    if (!r.ok()) FUZZ_CHECK(!r.message.empty());
  }
  FUZZ_CHECK(UnsignedTxBytes(*tx).size() <= canonical.size());
  if (!tx->inputs.empty()) {
    const SighashContext sighash(*tx, genesis);
    for (std::uint32_t i = 0; i < tx->inputs.size() && i < 4; ++i) {
      const Hash32 msg = sighash.ForInput(i);
      FUZZ_CHECK(msg == SignatureHash(*tx, i, genesis));
      // Any key: the input names no coin here. A random signature must not
      // verify, and verification must not crash on any bytes.
      if (!tx->outputs.empty()) (void)VerifySchnorr(tx->outputs[0].key, msg, tx->inputs[i].sig);
    }
  }
}

void TxArray(std::string_view text) {
  const Result<std::vector<Transaction>> txs = TxsFromJsonText(text);
  if (!txs) {
    FUZZ_CHECK(!txs.error().empty());
    return;
  }
  const std::string json = TxsToJson(*txs);
  const Result<std::vector<Transaction>> again = TxsFromJsonText(json);
  FUZZ_CHECK(again.ok() && *again == *txs);
}

void Proof(const std::uint8_t* data, std::size_t size) {
  if (size < 8 + 32) return;
  std::uint32_t count = 0;
  std::uint32_t index = 0;
  std::memcpy(&count, data, 4);
  std::memcpy(&index, data + 4, 4);
  data += 8;
  size -= 8;
  std::vector<Hash32> hashes(size / 32);
  for (std::size_t i = 0; i < hashes.size(); ++i) std::memcpy(hashes[i].data(), data + 32 * i, 32);
  const Hash32 leaf = hashes.front();
  const std::span<const Hash32> proof = std::span<const Hash32>(hashes).subspan(1);
  const auto root = MerkleRootFromProof(leaf, index, count, proof);
  // A proof has one hash per level above the leaf; no other length passes.
  if (root) FUZZ_CHECK(index < count);

  // The hashes as leaves (at most 64): every leaf's proof leads to the root.
  const std::size_t n = std::min<std::size_t>(hashes.size(), 64);
  const std::span<const Hash32> leaves(hashes.data(), n);
  const Hash32 expected = MerkleRoot(leaves);
  const std::size_t at = index % n;
  const std::vector<Hash32> built = MerkleProof(leaves, at);
  const auto from_proof = MerkleRootFromProof(leaves[at], at, n, built);
  FUZZ_CHECK(from_proof.has_value() && *from_proof == expected);
  if (!built.empty()) {
    std::vector<Hash32> shorter(built.begin(), built.end() - 1);
    FUZZ_CHECK(!MerkleRootFromProof(leaves[at], at, n, shorter).has_value());
  }
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain::fuzz;
  if (size == 0) return 0;
  const std::string_view rest = AsText(data + 1, size - 1);
  switch (data[0]) {
    case 'b':
      TxArray(rest);
      break;
    case 'm':
      Proof(data + 1, size - 1);
      break;
    default:
      OneTx(rest);
      break;
  }
  return 0;
}
