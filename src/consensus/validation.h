// Block validity (docs/consensus.md, "Consensus rules"). Context-free checks need only the block;
// contextual checks need the parent. Both are pure: `now_ms` is a parameter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/params.h"
#include "consensus/tx_check.h"
#include "primitives/block.h"

namespace powchain {

enum class BlockError {
  kNone,
  // Context-free.
  kOversize,        // serialized size above params.max_block_bytes
  kBadVersion,      // unknown header version
  kBadHash,         // the hash sent does not match the recomputed header hash
  kBadDifficulty,   // difficulty out of [min, max] range, or not what rule 4 requires
  kHighHash,        // the hash lacks the required leading zero bits
  kBadDataHash,     // dataHash is not the Merkle root of the data and the txids
  kBadTransaction,  // a transaction breaks a rule of section 6 (see tx_error) bytes
  // Contextual.
  kBadHeight,    // height != parent.height + 1
  kBadLastHash,  // lastHash != parent hash
  kTimeTooOld,   // timestamp <= median time past
  kTimeTooNew,   // timestamp > now + maxFutureDriftMs; may become valid later
  kBadParent,    // a descendant of a block found invalid
  // Whole chains.
  kBadGenesis,  // the first block is not this network's genesis
};

// A short stable name for logs and peer messages, e.g. "high-hash".
std::string_view BlockErrorName(BlockError e);

struct [[nodiscard]] ValidationResult {
  BlockError error = BlockError::kNone;
  std::string message;
  // For kBadTransaction: the rule and the index in txs of the transaction.
  TxError tx_error = TxError::kNone;
  std::size_t tx_index = 0;

  bool ok() const { return error == BlockError::kNone; }
  static ValidationResult Ok() { return {}; }
  static ValidationResult Fail(BlockError e, std::string msg) { return {e, std::move(msg)}; }
  // kBadTransaction for txs[index], with the message naming both.
  static ValidationResult BadTx(std::size_t index, TxResult r) {
    ValidationResult v;
    v.error = BlockError::kBadTransaction;
    v.tx_error = r.error;
    v.tx_index = index;
    v.message = "txs[" + std::to_string(index) + "] " + std::string(TxErrorName(r.error)) + ": " +
                r.message;
    return v;
  }
};

// What the contextual checks need to know about the parent.
struct ParentContext {
  BlockHeader header;
  Hash32 hash{};
  // MedianTimePast over the last mtpWindow timestamps ending at the parent.
  std::uint64_t median_time_past = 0;
};

// The checks of a header that need no chain, cheapest first: version,
// difficulty range, hash recomputation, proof of work. `hash` is the hash
// the header was sent with.
ValidationResult CheckHeaderContextFree(const BlockHeader& header, const Hash32& hash,
                                        const Params& params);

// Checks that need no chain, cheapest first: size, the header's
// (CheckHeaderContextFree), data hash, then the transactions': each one's
// CheckTransaction, a coinbase only as txs[0] naming the block's height,
// no output spent twice in the block.
// `txids` (optional) receives the block's txids (ComputeTxids), computed
// for the data hash, when the checks get that far.
ValidationResult CheckBlockContextFree(const Block& block, const Params& params,
                                       std::vector<Hash32>* txids = nullptr);

// The transaction part of CheckBlockContextFree.
ValidationResult CheckBlockTransactions(const Block& block, const Params& params);

// Checks against the parent: height, lastHash, exact difficulty, median time
// past, future drift against `now_ms`.
ValidationResult CheckBlockContextual(const BlockHeader& header, const ParentContext& parent,
                                      std::uint64_t now_ms, const Params& params);

// Both, context-free first.
ValidationResult CheckBlock(const Block& block, const ParentContext& parent, std::uint64_t now_ms,
                            const Params& params);

// A whole chain, genesis first, as a peer might send it (a chain
// replacing ours wholesale): blocks[0] must equal MakeGenesis(params) field for field,
// and every later block must pass CheckBlock on top of the one before it.
// `error_height` (optional) receives the height of the first bad block.
ValidationResult CheckChain(std::span<const Block> blocks, std::uint64_t now_ms,
                            const Params& params, std::uint64_t* error_height = nullptr);

}  // namespace powchain
