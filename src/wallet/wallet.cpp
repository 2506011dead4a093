#include "wallet/wallet.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <set>

#include "consensus/genesis.h"
#include "primitives/address.h"
#include "util/hex.h"

namespace powchain::wallet {
namespace {

// One coin the wallet may spend.
struct Coin {
  OutPoint outpoint;
  std::uint64_t amount = 0;
  XOnlyPubKey key{};
  bool confirmed = true;
};

Result<std::uint64_t> U64Of(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.is_object() ? object.Find(key) : nullptr;
  if (v == nullptr || !v->AsU64())
    return Error{"the node's answer has no integer " + std::string(key)};
  return *v->AsU64();
}

// A JSON integer that may be negative (GET /addresses' "unconfirmed").
Result<std::int64_t> I64Of(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.is_object() ? object.Find(key) : nullptr;
  std::int64_t out = 0;
  if (v != nullptr && v->is_number()) {
    const std::string& t = v->number_text();
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    if (ec == std::errc() && end == t.data() + t.size()) return out;
  }
  return Error{"the node's answer has no integer " + std::string(key)};
}

bool IsConfirmed(const JsonValue& tx_answer) {
  const JsonValue* status = tx_answer.is_object() ? tx_answer.Find("status") : nullptr;
  const JsonValue* confirmed =
      status != nullptr && status->is_object() ? status->Find("confirmed") : nullptr;
  return confirmed != nullptr && confirmed->is_bool() && confirmed->as_bool();
}

}  // namespace

Status CheckNetwork(NodeClient& node, const Params& params) {
  auto status = node.Get("/status");
  if (!status) return Error{status.error()};
  const JsonValue* network = status->is_object() ? status->Find("network") : nullptr;
  const JsonValue* genesis = status->is_object() ? status->Find("genesis") : nullptr;
  if (network == nullptr || !network->is_string() || genesis == nullptr || !genesis->is_string()) {
    return Error{"the node's /status names no network and genesis"};
  }
  if (network->as_string() != params.network ||
      genesis->as_string() != HexEncode(MakeGenesis(params).hash)) {
    return Error{"the wallet is for network " + params.network + ", the node at " +
                 node.url().ToString() + " runs " + network->as_string().substr(0, 40) +
                 " (or another genesis)"};
  }
  return {};
}

Result<Balance> GetBalance(NodeClient& node, const WalletFile& wallet) {
  Balance total;
  for (const std::string& address : wallet.addresses()) {
    auto a = node.Get("/addresses/" + address);
    if (!a) return Error{a.error()};
    auto balance = U64Of(*a, "balance");
    auto coins = U64Of(*a, "coinCount");
    auto unconfirmed = I64Of(*a, "unconfirmed");
    if (!balance || !coins || !unconfirmed)
      return Error{"GET /addresses: an answer without balances"};
    total.confirmed += *balance;
    total.coins += *coins;
    total.unconfirmed += *unconfirmed;
  }
  return total;
}

Status FollowSent(NodeClient& node, WalletFile& wallet, bool& changed,
                  std::vector<std::string>& notes) {
  std::vector<SentTx>& sent = wallet.sent();
  for (auto it = sent.begin(); it != sent.end();) {
    const std::string txid = HexEncode(it->txid);
    auto reply = node.Call("GET", "/transactions/" + txid);
    if (!reply) return Error{reply.error()};
    bool keep = true;
    if (reply->status == 200) {
      keep = !IsConfirmed(reply->json);
    } else if (reply->status == 404) {
      auto again = node.Call("POST", "/transactions", CanonicalTxBytes(it->tx));
      if (!again) return Error{again.error()};
      keep = again->status == 202;
      notes.push_back(keep ? "submitted " + txid + " again: the node did not have it"
                           : "forgot " + txid + ": " + DescribeReply(*again));
    } else {
      return Error{"GET /transactions/" + txid + ": " + DescribeReply(*reply)};
    }
    if (keep) {
      ++it;
    } else {
      it = sent.erase(it);
      changed = true;
    }
  }
  return {};
}

namespace {

// The wallet's coins: its confirmed unspent outputs that neither the
// mempool nor one of its own sent transactions spends, then the outputs
// its sent transactions pay back to it.
Result<std::vector<Coin>> CollectCoins(NodeClient& node, const WalletFile& wallet) {
  std::set<OutPoint> spent;
  for (const SentTx& s : wallet.sent()) {
    for (const TxIn& in : s.tx.inputs) spent.insert(in.prevout);
  }
  std::map<OutPoint, Coin> coins;
  constexpr std::uint64_t kPage = 500;
  for (std::size_t k = 0; k < wallet.addresses().size(); ++k) {
    for (std::uint64_t offset = 0;; offset += kPage) {
      auto page = node.Get("/addresses/" + wallet.addresses()[k] + "/utxos?offset=" +
                           std::to_string(offset) + "&limit=" + std::to_string(kPage));
      if (!page) return Error{page.error()};
      const JsonValue* list = page->is_object() ? page->Find("utxos") : nullptr;
      if (list == nullptr || !list->is_array()) return Error{"GET utxos: no list in the answer"};
      for (const JsonValue& u : list->items()) {
        const JsonValue* spendable = u.Find("spendable");
        const JsonValue* in_pool = u.Find("spentInMempool");
        const JsonValue* txid = u.Find("txid");
        auto vout = U64Of(u, "vout");
        auto amount = U64Of(u, "amount");
        std::optional<Hash32> hash =
            txid && txid->is_string() ? HexToHash32(txid->as_string()) : std::nullopt;
        if (!vout || !amount || !hash || spendable == nullptr || !spendable->is_bool() ||
            !MoneyRange(*amount) || *vout > UINT32_MAX) {
          return Error{"GET utxos: an entry without txid, vout, amount or spendable in range"};
        }
        const OutPoint op{*hash, static_cast<std::uint32_t>(*vout)};
        const bool free = spendable->as_bool() && (in_pool == nullptr || in_pool->is_null());
        if (free && spent.count(op) == 0) coins[op] = Coin{op, *amount, wallet.pubkeys()[k], true};
      }
      if (list->items().size() < kPage) break;
    }
  }
  for (const SentTx& s : wallet.sent()) {
    for (std::uint32_t i = 0; i < s.tx.outputs.size(); ++i) {
      const TxOut& out = s.tx.outputs[i];
      const OutPoint op{s.txid, i};
      const bool mine = std::find(wallet.pubkeys().begin(), wallet.pubkeys().end(), out.key) !=
                        wallet.pubkeys().end();
      if (mine && spent.count(op) == 0) coins.try_emplace(op, Coin{op, out.amount, out.key, false});
    }
  }
  std::vector<Coin> out;
  for (auto& [op, coin] : coins) out.push_back(coin);
  return out;
}

Transaction BuildTx(const std::vector<Coin>& inputs, const std::vector<TxOut>& outputs) {
  Transaction tx;
  for (const Coin& c : inputs) tx.inputs.push_back(TxIn{c.outpoint, {}});
  tx.outputs = outputs;
  return tx;
}

struct Selection {
  std::vector<Coin> inputs;
  std::uint64_t fee = 0;
  std::uint64_t change = 0;  // 0: no change output
};

// The fee for the size the transaction has with its real change amount
// (the sizes were counted with the largest amount, whose digits take the
// most room), and the change that leaves.
Selection SettleChange(Selection s, const TxOut& pay, TxOut change_out, std::uint64_t fee_rate) {
  std::uint64_t sum = 0;
  for (const Coin& c : s.inputs) sum += c.amount;
  for (int round = 0; round < 4; ++round) {
    change_out.amount = s.change;
    const std::uint64_t fee = fee_rate * CanonicalTxSize(BuildTx(s.inputs, {pay, change_out}));
    if (fee <= s.fee && round > 0) break;
    s.fee = fee;
    s.change = sum - pay.amount - fee;
  }
  return s;
}

// Coins to pay `amount` to `pay` at `fee_rate`: one coin that covers it
// with change if there is one (the smallest such), else the largest coins
// until they cover it (confirmed coins before unconfirmed ones). Change too
// small to be worth spending later goes to the fee.
Result<Selection> SelectCoins(std::vector<Coin> coins, const TxOut& pay, const TxOut& change_out,
                              std::uint64_t fee_rate) {
  const std::uint64_t dust = std::max<std::uint64_t>(1, fee_rate * 200);
  auto fee_for = [&](const std::vector<Coin>& in, bool with_change) {
    std::vector<TxOut> outs{pay};
    if (with_change) outs.push_back(change_out);
    return fee_rate * CanonicalTxSize(BuildTx(in, outs));
  };
  std::sort(coins.begin(), coins.end(), [](const Coin& a, const Coin& b) {
    return a.confirmed != b.confirmed ? a.confirmed : a.amount > b.amount;
  });
  for (auto it = coins.rbegin(); it != coins.rend(); ++it) {
    const std::uint64_t need = pay.amount + fee_for({*it}, true) + dust;
    if (it->confirmed && it->amount >= need) {
      const std::uint64_t fee = fee_for({*it}, true);
      return SettleChange(Selection{{*it}, fee, it->amount - pay.amount - fee}, pay, change_out,
                          fee_rate);
    }
  }
  Selection s;
  std::uint64_t sum = 0;
  for (const Coin& c : coins) {
    s.inputs.push_back(c);
    sum += c.amount;
    if (CanonicalTxSize(BuildTx(s.inputs, {pay, change_out})) > kMaxTxBytes) {
      return Error{"paying this takes more than " + std::to_string(s.inputs.size() - 1) +
                   " coins, beyond the transaction size limit; send less at once"};
    }
    const std::uint64_t with_change = pay.amount + fee_for(s.inputs, true);
    if (sum >= with_change + dust) {
      s.fee = with_change - pay.amount;
      s.change = sum - with_change;
      return SettleChange(std::move(s), pay, change_out, fee_rate);
    }
    if (sum >= pay.amount + fee_for(s.inputs, false)) {
      s.fee = sum - pay.amount;
      return s;
    }
  }
  return Error{"insufficient funds: " + FormatCoins(static_cast<std::int64_t>(sum)) +
               " spendable, " + FormatCoins(static_cast<std::int64_t>(pay.amount)) +
               " and its fee needed (coinbase outputs wait for maturity)"};
}

}  // namespace

Result<SendResult> Send(NodeClient& node, WalletFile& wallet, const SendRequest& request) {
  const Params& params = wallet.params();
  auto to = DecodeAddressFor(request.to, params.address_prefix);
  if (!to) return Error{"cannot pay " + request.to.substr(0, 100) + ": " + to.error()};
  if (request.amount == 0 || !MoneyRange(request.amount)) {
    return Error{"the amount must be more than 0 and at most 21 million coins"};
  }
  if (wallet.locked()) return Error{"the wallet is locked"};
  if (request.fee_rate > kMaxFeeRate) {
    return Error{"the fee rate is above " + std::to_string(kMaxFeeRate) + " units a byte"};
  }
  bool changed = false;
  std::vector<std::string> notes;
  if (Status s = FollowSent(node, wallet, changed, notes); !s) return Error{s.error()};
  std::uint64_t fee_rate = request.fee_rate;
  if (fee_rate == 0) {
    auto status = node.Get("/status");
    if (!status) return Error{status.error()};
    const JsonValue* pool = status->Find("mempool");
    auto floor = pool != nullptr ? U64Of(*pool, "feeFloor") : Result<std::uint64_t>(Error{""});
    fee_rate = std::clamp<std::uint64_t>(floor ? *floor : 1, 1, kMaxFeeRate);
  }
  auto coins = CollectCoins(node, wallet);
  if (!coins) return Error{coins.error()};
  const TxOut pay = MakeTxOut(params.address_prefix, *to, request.amount);
  // The change key is made only if the selection needs it; a placeholder of
  // the same size stands in while sizes are counted.
  const TxOut placeholder = MakeTxOut(params.address_prefix, wallet.pubkeys()[0], kMaxMoney);
  auto selection = SelectCoins(std::move(coins).value(), pay, placeholder, fee_rate);
  if (!selection) return Error{selection.error()};
  std::vector<TxOut> outputs{pay};
  SendResult result;
  if (selection->change > 0) {
    auto change_address = wallet.NewAddress();
    if (!change_address) return Error{change_address.error()};
    result.change_address = *change_address;
    outputs.push_back(MakeTxOut(params.address_prefix, wallet.pubkeys().back(), selection->change));
  }
  Transaction tx = BuildTx(selection->inputs, outputs);
  const SighashContext sighash(tx, MakeGenesis(params).hash);
  for (std::uint32_t i = 0; i < tx.inputs.size(); ++i) {
    const SecretKey* key = wallet.SecretFor(selection->inputs[i].key);
    if (key == nullptr) return Error{"the wallet has no key for a coin it chose"};
    tx.inputs[i].sig = SignSchnorr(*key, sighash.ForInput(i));
  }
  result.txid = ComputeTxid(tx);
  result.fee = selection->fee;
  result.size = CanonicalTxSize(tx);
  result.change = selection->change;
  result.inputs = tx.inputs.size();
  // Recorded before it leaves: a send cut off after this point is finished
  // by the next command (FollowSent), never forgotten while it may spread.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  wallet.sent().push_back(
      SentTx{tx, result.txid,
             static_cast<std::uint64_t>(
                 std::chrono::duration_cast<std::chrono::milliseconds>(now).count())});
  if (Status s = wallet.Save(); !s) return Error{"not sent: " + s.error()};
  auto reply = node.Call("POST", "/transactions", CanonicalTxBytes(tx));
  if (!reply) {
    return Error{reply.error() + "; transaction " + HexEncode(result.txid) +
                 " is recorded and the next wallet command submits it again"};
  }
  if (reply->status != 202) {
    wallet.sent().pop_back();
    if (Status s = wallet.Save(); !s) return Error{s.error()};
    return Error{"the node refused the transaction: " + DescribeReply(*reply)};
  }
  return result;
}

namespace {

// The amount output `vout` of `txid` pays to one of the wallet's keys (0
// when it pays someone else), from GET /transactions.
Result<std::uint64_t> OwnOutputAmount(NodeClient& node, const WalletFile& wallet,
                                      std::map<Hash32, Transaction>& cache, const OutPoint& op) {
  auto it = cache.find(op.txid);
  if (it == cache.end()) {
    auto answer = node.Get("/transactions/" + HexEncode(op.txid));
    if (!answer) return Error{answer.error()};
    const JsonValue* tx = answer->Find("tx");
    auto parsed = tx != nullptr ? TxFromJson(*tx) : Result<Transaction>(Error{"no tx"});
    if (!parsed) return Error{"GET /transactions: " + parsed.error()};
    it = cache.emplace(op.txid, std::move(parsed).value()).first;
  }
  if (op.vout >= it->second.outputs.size()) return Error{"an input names a missing output"};
  const TxOut& out = it->second.outputs[op.vout];
  const auto& keys = wallet.pubkeys();
  return std::find(keys.begin(), keys.end(), out.key) != keys.end() ? out.amount : 0;
}

}  // namespace

Result<std::vector<HistoryEntry>> History(NodeClient& node, const WalletFile& wallet,
                                          std::size_t limit) {
  // Newest first: (height, index) of every address's recent transactions.
  std::map<std::pair<std::uint64_t, std::uint64_t>, Hash32, std::greater<>> found;
  for (const std::string& address : wallet.addresses()) {
    auto page = node.Get("/addresses/" + address + "/txs?limit=" + std::to_string(limit));
    if (!page) return Error{page.error()};
    const JsonValue* list = page->Find("txs");
    if (list == nullptr || !list->is_array()) return Error{"GET txs: no list in the answer"};
    for (const JsonValue& e : list->items()) {
      auto height = U64Of(e, "height");
      auto index = U64Of(e, "index");
      const JsonValue* txid = e.Find("txid");
      auto hash = txid && txid->is_string() ? HexToHash32(txid->as_string()) : std::nullopt;
      if (!height || !index || !hash) return Error{"GET txs: an entry without txid or height"};
      found.emplace(std::make_pair(*height, *index), *hash);
    }
  }
  std::vector<Hash32> txids;
  for (const SentTx& s : wallet.sent()) txids.push_back(s.txid);
  for (const auto& [where, txid] : found) txids.push_back(txid);
  if (txids.size() > limit) txids.resize(limit);
  std::map<Hash32, Transaction> cache;
  std::vector<HistoryEntry> out;
  for (const Hash32& txid : txids) {
    auto answer = node.Get("/transactions/" + HexEncode(txid));
    if (!answer) return Error{answer.error()};
    HistoryEntry e;
    e.txid = txid;
    const JsonValue* tx_json = answer->Find("tx");
    auto tx = tx_json != nullptr ? TxFromJson(*tx_json) : Result<Transaction>(Error{"no tx"});
    if (!tx) return Error{"GET /transactions: " + tx.error()};
    if (IsConfirmed(*answer)) {
      auto height = U64Of(*answer, "height");
      auto confirmations = U64Of(*answer, "confirmations");
      if (!height || !confirmations) return Error{"GET /transactions: no height"};
      e.height = *height;
      e.confirmations = *confirmations;
    }
    auto fee = U64Of(*answer, "fee");
    e.fee = fee ? *fee : 0;
    e.coinbase = tx->IsCoinbase();
    cache.emplace(txid, *tx);
    for (std::uint32_t i = 0; i < tx->outputs.size(); ++i) {
      auto mine = OwnOutputAmount(node, wallet, cache, OutPoint{txid, i});
      if (!mine) return Error{mine.error()};
      e.amount += static_cast<std::int64_t>(*mine);
    }
    for (const TxIn& in : tx->inputs) {
      auto mine = OwnOutputAmount(node, wallet, cache, in.prevout);
      if (!mine) return Error{mine.error()};
      e.amount -= static_cast<std::int64_t>(*mine);
    }
    out.push_back(e);
  }
  return out;
}

Result<std::uint64_t> ParseCoins(std::string_view text) {
  const Error bad{"amount '" + std::string(text.substr(0, 40)) +
                  "' is not a number of coins with at most 8 decimals, e.g. 1.5"};
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  const auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if ((whole.empty() && frac.empty()) || whole.size() > 8 || frac.size() > 8 || !digits(whole) ||
      !digits(frac) || (dot != std::string_view::npos && frac.empty())) {
    return bad;
  }
  std::uint64_t units = 0;
  for (char c : whole) units = units * 10 + static_cast<std::uint64_t>(c - '0');
  units *= kCoin;
  std::uint64_t scale = kCoin / 10;
  for (char c : frac) {
    units += static_cast<std::uint64_t>(c - '0') * scale;
    scale /= 10;
  }
  if (!MoneyRange(units)) return Error{"amount is more than 21 million coins"};
  return units;
}

std::string FormatCoins(std::int64_t units) {
  const std::uint64_t abs =
      units < 0 ? ~static_cast<std::uint64_t>(units) + 1 : static_cast<std::uint64_t>(units);
  std::string frac = std::to_string(abs % kCoin);
  frac.insert(0, 8 - frac.size(), '0');
  return (units < 0 ? "-" : "") + std::to_string(abs / kCoin) + "." + frac;
}

}  // namespace powchain::wallet
