#include "consensus/tx_check.h"

#include <algorithm>

#include "util/hex.h"

namespace powchain {

std::string_view TxErrorName(TxError e) {
  switch (e) {
    case TxError::kNone:
      return "ok";
    case TxError::kBadVersion:
      return "bad-tx-version";
    case TxError::kNoOutputs:
      return "no-outputs";
    case TxError::kBadAmount:
      return "bad-amount";
    case TxError::kOutputsTooLarge:
      return "outputs-too-large";
    case TxError::kWrongNetwork:
      return "wrong-network";
    case TxError::kNoInputs:
      return "no-inputs";
    case TxError::kCoinbaseHasInputs:
      return "coinbase-has-inputs";
    case TxError::kDuplicateInput:
      return "duplicate-input";
    case TxError::kOversize:
      return "tx-oversize";
    case TxError::kMissingInput:
      return "missing-input";
    case TxError::kImmatureSpend:
      return "immature-spend";
    case TxError::kBadSignature:
      return "bad-signature";
    case TxError::kInputsBelowOutputs:
      return "inputs-below-outputs";
    case TxError::kInputsTooLarge:
      return "inputs-too-large";
    case TxError::kMisplacedCoinbase:
      return "misplaced-coinbase";
    case TxError::kBadCoinbaseHeight:
      return "bad-coinbase-height";
    case TxError::kCoinbaseTooLarge:
      return "coinbase-too-large";
    case TxError::kDoubleSpendInBlock:
      return "double-spend-in-block";
  }
  return "unknown";
}

std::uint64_t BlockSubsidy(std::uint64_t height, const Params& params) {
  const std::uint64_t halvings = height / params.halving_interval;
  if (halvings >= 64) return 0;
  return params.initial_reward >> halvings;
}

namespace {

std::string OutPointText(const OutPoint& o) {
  return HexEncode(o.txid) + ":" + std::to_string(o.vout);
}

TxResult CheckOutputs(const Transaction& tx, const Params& params) {
  if (tx.outputs.empty())
    return TxResult::Fail(TxError::kNoOutputs, "a transaction needs an output");
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < tx.outputs.size(); ++i) {
    const TxOut& out = tx.outputs[i];
    if (out.amount == 0 || out.amount > kMaxMoney) {
      return TxResult::Fail(TxError::kBadAmount, "output " + std::to_string(i) + " amount " +
                                                     std::to_string(out.amount) +
                                                     " is outside [1, " +
                                                     std::to_string(kMaxMoney) + "]");
    }
    total += out.amount;  // each below 2^51: no overflow before the check
    if (total > kMaxMoney) {
      return TxResult::Fail(TxError::kOutputsTooLarge,
                            "the outputs sum to more than " + std::to_string(kMaxMoney));
    }
    const std::string& a = out.address;
    const std::string& hrp = params.address_prefix;
    if (a.size() <= hrp.size() || a.compare(0, hrp.size(), hrp) != 0 || a[hrp.size()] != '1') {
      return TxResult::Fail(TxError::kWrongNetwork, "output " + std::to_string(i) + " address " +
                                                        a + " is not a " + params.network +
                                                        " address (prefix " + hrp + "1)");
    }
  }
  return TxResult::Ok();
}

TxResult CheckInputs(const Transaction& tx) {
  if (tx.IsCoinbase()) {
    if (!tx.inputs.empty()) {
      return TxResult::Fail(TxError::kCoinbaseHasInputs, "a coinbase has no inputs");
    }
    return TxResult::Ok();
  }
  if (tx.inputs.empty()) return TxResult::Fail(TxError::kNoInputs, "a transaction needs an input");
  std::vector<OutPoint> seen;
  seen.reserve(tx.inputs.size());
  for (const TxIn& in : tx.inputs) seen.push_back(in.prevout);
  std::sort(seen.begin(), seen.end());
  const auto dup = std::adjacent_find(seen.begin(), seen.end());
  if (dup != seen.end()) {
    return TxResult::Fail(TxError::kDuplicateInput,
                          "two inputs spend the same output " + OutPointText(*dup));
  }
  return TxResult::Ok();
}

}  // namespace

TxResult CheckTransaction(const Transaction& tx, const Params& params) {
  if (tx.version != kTxVersion) {
    return TxResult::Fail(TxError::kBadVersion,
                          "unknown transaction version " + std::to_string(tx.version));
  }
  if (TxResult r = CheckOutputs(tx, params); !r.ok()) return r;
  if (TxResult r = CheckInputs(tx); !r.ok()) return r;
  if (const std::size_t size = CanonicalTxSize(tx); size > kMaxTxBytes) {
    return TxResult::Fail(TxError::kOversize, "transaction of " + std::to_string(size) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(kMaxTxBytes));
  }
  return TxResult::Ok();
}

TxResult CheckTxInputs(const Transaction& tx, const CoinView& view, std::uint64_t spend_height,
                       const Hash32& genesis_hash, const Params& params, std::uint64_t* fee,
                       std::vector<SigCheck>* checks,
                       std::vector<std::pair<OutPoint, Coin>>* spent) {
  std::uint64_t in_total = 0;
  const std::size_t first_check = checks != nullptr ? checks->size() : 0;
  const std::size_t first_spent = spent != nullptr ? spent->size() : 0;
  // Leaves the outputs as they were and returns `r`.
  const auto fail = [&](TxResult r) {
    if (checks != nullptr) checks->resize(first_check);
    if (spent != nullptr) spent->resize(first_spent);
    return r;
  };
  for (const TxIn& in : tx.inputs) {
    const std::optional<Coin> coin = view.GetCoin(in.prevout);
    if (!coin.has_value()) {
      return fail(TxResult::Fail(TxError::kMissingInput, "input " + OutPointText(in.prevout) +
                                                             " does not exist or is spent"));
    }
    if (coin->coinbase && spend_height < coin->height + params.coinbase_maturity) {
      return fail(TxResult::Fail(TxError::kImmatureSpend,
                                 "input " + OutPointText(in.prevout) +
                                     " is a coinbase output of height " +
                                     std::to_string(coin->height) + ", spendable from height " +
                                     std::to_string(coin->height + params.coinbase_maturity)));
    }
    in_total += coin->amount;  // each at most maxMoney: no overflow before the check
    if (coin->amount > kMaxMoney || in_total > kMaxMoney) {
      return fail(TxResult::Fail(TxError::kInputsTooLarge,
                                 "the inputs sum to more than " + std::to_string(kMaxMoney)));
    }
    if (checks != nullptr) checks->push_back(SigCheck{coin->key, {}, in.sig});
    if (spent != nullptr) spent->emplace_back(in.prevout, *coin);
  }
  std::uint64_t out_total = 0;
  for (const TxOut& out : tx.outputs) out_total += out.amount;
  if (in_total < out_total) {
    return fail(TxResult::Fail(TxError::kInputsBelowOutputs,
                               "the inputs sum to " + std::to_string(in_total) +
                                   ", less than the " + std::to_string(out_total) +
                                   " of the outputs"));
  }
  if (checks != nullptr) {
    const SighashContext sighash(tx, genesis_hash);
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
      (*checks)[first_check + i].msg = sighash.ForInput(static_cast<std::uint32_t>(i));
    }
  }
  *fee = in_total - out_total;
  return TxResult::Ok();
}

std::optional<std::size_t> FirstBadSignature(std::span<const SigCheck> checks) {
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (!VerifySchnorr(checks[i].key, checks[i].msg, checks[i].sig)) return i;
  }
  return std::nullopt;
}

}  // namespace powchain
