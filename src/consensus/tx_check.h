// Transaction validity (docs/consensus.md, "Transactions and coins"):
// checks that need only the transaction, then those that need the coins it
// spends. Pure functions over data: the coins come through CoinView.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consensus/params.h"
#include "primitives/coin.h"
#include "primitives/transaction.h"

namespace powchain {

enum class TxError {
  kNone,
  // Context-free (the transaction alone).
  kBadVersion,         // version is not 1
  kNoOutputs,          // no outputs
  kBadAmount,          // an output amount outside [1, maxMoney]
  kOutputsTooLarge,    // the outputs sum to more than maxMoney
  kWrongNetwork,       // an output address with another network's prefix
  kNoInputs,           // not a coinbase, and no inputs
  kCoinbaseHasInputs,  // a coinbase with inputs
  kDuplicateInput,     // two inputs name the same output
  kOversize,           // canonical size above kMaxTxBytes
  // Contextual (the coins it spends).
  kMissingInput,        // spends an output that does not exist or is spent
  kImmatureSpend,       // spends a coinbase output fewer than coinbaseMaturity blocks up
  kBadSignature,        // a signature does not verify
  kInputsBelowOutputs,  // the inputs sum to less than the outputs
  kInputsTooLarge,      // the inputs sum to more than maxMoney
  // In a block.
  kMisplacedCoinbase,   // a coinbase anywhere but txs[0]
  kBadCoinbaseHeight,   // the coinbase names another height than its block's
  kCoinbaseTooLarge,    // the coinbase pays more than the subsidy plus the fees
  kDoubleSpendInBlock,  // two inputs of the block spend the same output
};

// A short stable name, e.g. "missing-input", for logs and answers.
std::string_view TxErrorName(TxError e);

struct [[nodiscard]] TxResult {
  TxError error = TxError::kNone;
  std::string message;
  bool ok() const { return error == TxError::kNone; }
  static TxResult Ok() { return {}; }
  static TxResult Fail(TxError e, std::string msg) { return {e, std::move(msg)}; }
};

// The coins as some chain state has them.
class CoinView {
 public:
  virtual ~CoinView() = default;
  // The unspent output `outpoint`; nullopt when it does not exist or is spent.
  virtual std::optional<Coin> GetCoin(const OutPoint& outpoint) const = 0;
};

// The subsidy of a block at `height`: initial_reward >> (height /
// halving_interval), 0 after 63 halvings.
std::uint64_t BlockSubsidy(std::uint64_t height, const Params& params);

// The checks that need only the transaction: version, outputs and their
// amounts and network, inputs (none for a coinbase, at least one and no
// repeats otherwise), size.
TxResult CheckTransaction(const Transaction& tx, const Params& params);

// What the signature of one input must verify against.
struct SigCheck {
  XOnlyPubKey key{};
  Hash32 msg{};
  SchnorrSig sig{};
};

// The contextual checks of a non-coinbase `tx` spent at `spend_height`:
// every input's coin exists in `view` and is mature, the inputs' sum is in
// range and covers the outputs. On success `fee` receives the difference
// and `checks` one SigCheck per input (in input order), to verify with
// FirstBadSignature: signatures are checked apart so that the caller may
// spread them over threads (chain/check_queue.h). A null `checks` skips the
// signature hashes, for a transaction whose signatures are known valid.
// On success the coins the inputs spend are appended to `spent` when it is
// given (the undo data of a block), so that they are not looked up twice.
TxResult CheckTxInputs(const Transaction& tx, const CoinView& view, std::uint64_t spend_height,
                       const Hash32& genesis_hash, const Params& params, std::uint64_t* fee,
                       std::vector<SigCheck>* checks,
                       std::vector<std::pair<OutPoint, Coin>>* spent = nullptr);

// The index of the first check whose signature fails; nullopt when all verify.
std::optional<std::size_t> FirstBadSignature(std::span<const SigCheck> checks);

}  // namespace powchain
