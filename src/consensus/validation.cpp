#include "consensus/validation.h"

#include <algorithm>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/pow.h"
#include "crypto/sha256.h"
#include "util/hex.h"

namespace powchain {

std::string_view BlockErrorName(BlockError e) {
  switch (e) {
    case BlockError::kNone:
      return "ok";
    case BlockError::kOversize:
      return "oversize";
    case BlockError::kBadVersion:
      return "bad-version";
    case BlockError::kBadHash:
      return "bad-hash";
    case BlockError::kBadDifficulty:
      return "bad-difficulty";
    case BlockError::kHighHash:
      return "high-hash";
    case BlockError::kBadDataHash:
      return "bad-data-hash";
    case BlockError::kBadTransaction:
      return "bad-transaction";
    case BlockError::kBadHeight:
      return "bad-height";
    case BlockError::kBadLastHash:
      return "bad-last-hash";
    case BlockError::kTimeTooOld:
      return "time-too-old";
    case BlockError::kTimeTooNew:
      return "time-too-new";
    case BlockError::kBadParent:
      return "bad-parent";
    case BlockError::kBadGenesis:
      return "bad-genesis";
  }
  return "unknown";
}

ValidationResult CheckHeaderContextFree(const BlockHeader& h, const Hash32& hash,
                                        const Params& params) {
  if (h.version != kBlockVersion) {
    return ValidationResult::Fail(BlockError::kBadVersion,
                                  "unknown block version " + std::to_string(h.version));
  }
  if (h.difficulty < params.min_difficulty || h.difficulty > params.max_difficulty) {
    return ValidationResult::Fail(BlockError::kBadDifficulty,
                                  "difficulty " + std::to_string(h.difficulty) + " is outside [" +
                                      std::to_string(params.min_difficulty) + ", " +
                                      std::to_string(params.max_difficulty) + "]");
  }
  if (h.ComputeHash() != hash) {
    return ValidationResult::Fail(BlockError::kBadHash,
                                  "hash does not match the header it was sent with");
  }
  if (!CheckProofOfWork(hash, h.difficulty)) {
    return ValidationResult::Fail(
        BlockError::kHighHash,
        "hash has fewer than " + std::to_string(h.difficulty) + " leading zero bits");
  }
  return ValidationResult::Ok();
}

ValidationResult CheckBlockContextFree(const Block& block, const Params& params,
                                       std::vector<Hash32>* txids) {
  if (block.SerializedSize() > params.max_block_bytes) {
    return ValidationResult::Fail(BlockError::kOversize,
                                  "block of " + std::to_string(block.SerializedSize()) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(params.max_block_bytes));
  }
  ValidationResult header = CheckHeaderContextFree(block.header, block.hash, params);
  if (!header.ok()) return header;
  std::vector<Hash32> ids = ComputeTxids(block);
  if (ComputeDataHash(block, ids) != block.header.data_hash) {
    return ValidationResult::Fail(BlockError::kBadDataHash,
                                  "dataHash is not the Merkle root of the data and the txids");
  }
  if (txids != nullptr) *txids = std::move(ids);
  return CheckBlockTransactions(block, params);
}

ValidationResult CheckBlockTransactions(const Block& block, const Params& params) {
  std::vector<OutPoint> spent;
  for (std::size_t i = 0; i < block.txs.size(); ++i) {
    const Transaction& tx = block.txs[i];
    if (TxResult r = CheckTransaction(tx, params); !r.ok()) {
      return ValidationResult::BadTx(i, std::move(r));
    }
    if (tx.IsCoinbase() && i != 0) {
      return ValidationResult::BadTx(
          i, TxResult::Fail(TxError::kMisplacedCoinbase, "a coinbase may only be txs[0]"));
    }
    if (tx.IsCoinbase() && *tx.coinbase != block.header.height) {
      return ValidationResult::BadTx(
          i, TxResult::Fail(TxError::kBadCoinbaseHeight,
                            "the coinbase names height " + std::to_string(*tx.coinbase) +
                                " in a block of height " + std::to_string(block.header.height)));
    }
    for (const TxIn& in : tx.inputs) spent.push_back(in.prevout);
  }
  std::sort(spent.begin(), spent.end());
  if (auto dup = std::adjacent_find(spent.begin(), spent.end()); dup != spent.end()) {
    // Name the second transaction to spend it.
    std::size_t second = 0;
    for (std::size_t i = 0, seen = 0; i < block.txs.size() && seen < 2; ++i) {
      for (const TxIn& in : block.txs[i].inputs) {
        if (in.prevout == *dup && ++seen == 2) second = i;
      }
    }
    return ValidationResult::BadTx(
        second, TxResult::Fail(TxError::kDoubleSpendInBlock, "output " + HexEncode(dup->txid) +
                                                                 ":" + std::to_string(dup->vout) +
                                                                 " is spent twice in the block"));
  }
  return ValidationResult::Ok();
}

ValidationResult CheckBlockContextual(const BlockHeader& header, const ParentContext& parent,
                                      std::uint64_t now_ms, const Params& params) {
  if (header.height != parent.header.height + 1) {
    return ValidationResult::Fail(BlockError::kBadHeight,
                                  "height " + std::to_string(header.height) + " should be " +
                                      std::to_string(parent.header.height + 1));
  }
  if (header.last_hash != parent.hash) {
    return ValidationResult::Fail(BlockError::kBadLastHash, "lastHash is not the parent's hash");
  }
  const std::uint32_t expected = NextDifficulty(parent.header, header.timestamp, params);
  if (header.difficulty != expected) {
    return ValidationResult::Fail(BlockError::kBadDifficulty,
                                  "difficulty " + std::to_string(header.difficulty) +
                                      " should be " + std::to_string(expected));
  }
  if (header.timestamp <= parent.median_time_past) {
    return ValidationResult::Fail(BlockError::kTimeTooOld,
                                  "timestamp " + std::to_string(header.timestamp) +
                                      " is not after the median time past " +
                                      std::to_string(parent.median_time_past));
  }
  if (header.timestamp > now_ms + params.max_future_drift_ms) {
    return ValidationResult::Fail(
        BlockError::kTimeTooNew, "timestamp " + std::to_string(header.timestamp) +
                                     " is more than " + std::to_string(params.max_future_drift_ms) +
                                     " ms ahead of local time " + std::to_string(now_ms));
  }
  return ValidationResult::Ok();
}

ValidationResult CheckBlock(const Block& block, const ParentContext& parent, std::uint64_t now_ms,
                            const Params& params) {
  ValidationResult r = CheckBlockContextFree(block, params);
  if (!r.ok()) return r;
  return CheckBlockContextual(block.header, parent, now_ms, params);
}

ValidationResult CheckChain(std::span<const Block> blocks, std::uint64_t now_ms,
                            const Params& params, std::uint64_t* error_height) {
  auto fail = [&](std::uint64_t height, ValidationResult r) {
    if (error_height != nullptr) *error_height = height;
    return r;
  };
  if (blocks.empty() || blocks[0] != MakeGenesis(params)) {
    return fail(
        0, ValidationResult::Fail(BlockError::kBadGenesis, "the chain does not start with the " +
                                                               params.network + " genesis block"));
  }
  std::vector<std::uint64_t> window;  // timestamps of the last mtp_window blocks
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    const Block& parent = blocks[i - 1];
    window.push_back(parent.header.timestamp);
    if (window.size() > params.mtp_window) window.erase(window.begin());
    const ParentContext ctx{parent.header, parent.hash, MedianTimePast(window)};
    ValidationResult r = CheckBlock(blocks[i], ctx, now_ms, params);
    if (!r.ok()) return fail(i, std::move(r));
  }
  return ValidationResult::Ok();
}

}  // namespace powchain
