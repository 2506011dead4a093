#include "mempool/mempool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <deque>
#include <limits>
#include <queue>
#include <unordered_set>

#include "consensus/genesis.h"
#include "primitives/json.h"
#include "util/file.h"
#include "util/hex.h"

namespace powchain {
namespace {

__extension__ typedef unsigned __int128 U128;  // NOLINT(modernize-use-using)

// a_fee / a_size < b_fee / b_size, exactly.
bool RateLess(std::uint64_t a_fee, std::size_t a_size, std::uint64_t b_fee, std::size_t b_size) {
  return static_cast<U128>(a_fee) * b_size < static_cast<U128>(b_fee) * a_size;
}

// The height pool outputs are given as coins: never a coinbase, so it
// matters to no rule.
constexpr std::uint64_t kPoolCoinHeight = 0;

// The saved pool: a first line naming the format and the chain, then one
// line per transaction, parents before children.
constexpr std::string_view kSaveFormat = "powchain-mempool-1";
constexpr std::size_t kMaxSaveLine = kMaxTxBytes + 256;

}  // namespace

// The coins a transaction's inputs name, fetched once: CheckTxInputs reads
// them through this view.
class PrefetchedView final : public CoinView {
 public:
  std::optional<Coin> GetCoin(const OutPoint& outpoint) const override {
    for (const auto& [o, c] : coins) {
      if (o == outpoint) return c;
    }
    return std::nullopt;
  }
  std::vector<std::pair<OutPoint, Coin>> coins;
};

std::string_view MempoolErrorName(MempoolError e, TxError tx_error) {
  switch (e) {
    case MempoolError::kNone:
      return "ok";
    case MempoolError::kInvalid:
      return TxErrorName(tx_error);
    case MempoolError::kCoinbase:
      return "coinbase";
    case MempoolError::kAlreadyConfirmed:
      return "already-confirmed";
    case MempoolError::kConflict:
      return "conflict";
    case MempoolError::kMissingInputs:
      return "missing-inputs";
    case MempoolError::kFeeTooLow:
      return "fee-too-low";
    case MempoolError::kTooLongChain:
      return "too-long-chain";
    case MempoolError::kPoolFull:
      return "mempool-full";
  }
  return "unknown";
}

bool MempoolResult::Punishable() const {
  if (status != Status::kRejected) return false;
  if (error == MempoolError::kCoinbase) return true;
  if (error != MempoolError::kInvalid) return false;
  switch (tx_error) {
    case TxError::kMissingInput:   // spent meanwhile, or on another branch
    case TxError::kImmatureSpend:  // mature on a chain a block longer
      return false;
    default:
      return true;
  }
}

bool Mempool::EvictionLess::operator()(const Entry* a, const Entry* b) const {
  // Each entry's score is the better of its own rate and its package's.
  auto score = [](const Entry* e) {
    if (RateLess(e->fee, e->size, e->descendant_fee, e->descendant_size)) {
      return std::pair{e->descendant_fee, e->descendant_size};
    }
    return std::pair{e->fee, e->size};
  };
  const auto [af, as] = score(a);
  const auto [bf, bs] = score(b);
  if (RateLess(af, as, bf, bs)) return true;
  if (RateLess(bf, bs, af, as)) return false;
  return a->sequence > b->sequence;  // the newest goes first
}

Mempool::Mempool(ChainState& chain, const Clock& clock, MempoolOptions options)
    : chain_(chain),
      clock_(clock),
      options_(options),
      genesis_hash_(chain.GenesisHash()),
      orphans_(options.max_orphans, options.max_orphan_bytes, options.orphan_expiry_ms) {
  const ChainTip tip = chain.Tip();
  MutexLock lock(mutex_);
  tip_hash_ = tip.hash();
  tip_height_ = tip.height();
}

// --- Accepting -------------------------------------------------------------

MempoolResult Mempool::Accept(Transaction tx, std::uint64_t peer) {
  std::deque<Candidate> work;
  auto ref = std::make_shared<const Transaction>(std::move(tx));
  work.push_back(Candidate{ref, ComputeTxid(*ref), CanonicalTxSize(*ref), peer, 0});
  std::optional<MempoolResult> first;
  std::vector<Announcement> announce;
  // The transaction itself, then any orphans it (or they) unlocked; the
  // orphan pool bounds how many.
  while (!work.empty()) {
    Candidate c = std::move(work.front());
    work.pop_front();
    std::vector<Candidate> more;
    MempoolResult r = AcceptOne(c, Mode::kNew, &more, &announce);
    if (!first.has_value()) first = std::move(r);
    for (Candidate& m : more) work.push_back(std::move(m));
  }
  std::vector<MempoolListener*> listeners;
  {
    MutexLock lock(mutex_);
    listeners = listeners_;
  }
  for (const Announcement& a : announce) {
    for (MempoolListener* l : listeners) l->OnTxAccepted(a.tx, a.txid, a.peer);
  }
  return std::move(*first);
}

MempoolResult Mempool::AcceptOne(const Candidate& c, Mode mode, std::vector<Candidate>* more,
                                 std::vector<Announcement>* announce) {
  MempoolResult result;
  result.txid = c.txid;
  const Transaction& tx = *c.tx;
  if (tx.IsCoinbase()) {
    result.error = MempoolError::kCoinbase;
    result.message = "a coinbase is valid only as the first transaction of a block";
  } else if (TxResult r = CheckTransaction(tx, chain_.params()); !r.ok()) {
    result.error = MempoolError::kInvalid;
    result.tx_error = r.error;
    result.message = std::move(r.message);
  }
  if (result.error != MempoolError::kNone) {
    MutexLock lock(mutex_);
    ++rejected_;
    return result;
  }
  const bool verified = chain_.verified_txs().Contains(c.txid);
  Checked checked;
  std::uint64_t generation = 0;
  {
    MutexLock lock(mutex_);
    ExpireLocked(clock_.NowMs());
    result = CheckLocked(c, mode, !verified, &checked);
    if (result.status == MempoolResult::Status::kRejected) ++rejected_;
    if (result.status != MempoolResult::Status::kAccepted) return result;
    generation = generation_;
  }
  // The expensive part, without the lock.
  if (!verified) {
    if (auto bad = FirstBadSignature(checked.sig_checks)) {
      MutexLock lock(mutex_);
      ++rejected_;
      result.status = MempoolResult::Status::kRejected;
      result.error = MempoolError::kInvalid;
      result.tx_error = TxError::kBadSignature;
      result.message = "the signature of input " + std::to_string(*bad) + " does not verify";
      return result;
    }
    chain_.verified_txs().Insert(c.txid);
  }
  MutexLock lock(mutex_);
  if (generation != generation_) {
    // The pool or its tip moved while signatures were checked: everything
    // but the signatures (which depend only on the txid) again.
    checked = Checked{};
    result = CheckLocked(c, mode, false, &checked);
    if (result.status == MempoolResult::Status::kRejected) ++rejected_;
    if (result.status != MempoolResult::Status::kAccepted) return result;
  }
  InsertLocked(c, std::move(checked));
  TrimLocked(clock_.NowMs());
  if (!entries_.contains(c.txid)) {
    ++rejected_;
    result.status = MempoolResult::Status::kRejected;
    result.error = MempoolError::kPoolFull;
    result.message = "the mempool is full and this transaction pays the lowest fee rate in it";
    return result;
  }
  ++accepted_;
  announce->push_back(Announcement{c.tx, c.txid, c.peer});
  for (OrphanTxs::Orphan& o : orphans_.TakeChildren(c.txid)) {
    more->push_back(Candidate{std::move(o.tx), o.txid, o.size, o.peer, 0});
  }
  return result;
}

MempoolResult Mempool::CheckLocked(const Candidate& c, Mode mode, bool want_sigs, Checked* out) {
  MempoolResult result;
  result.txid = c.txid;
  result.status = MempoolResult::Status::kRejected;
  auto reject = [&](MempoolError e, std::string message) {
    result.error = e;
    result.message = std::move(message);
    return result;
  };
  if (entries_.contains(c.txid)) {
    result.status = MempoolResult::Status::kDuplicate;
    return result;
  }
  if (orphans_.Contains(c.txid) && mode == Mode::kNew && c.peer != 0) {
    result.status = MempoolResult::Status::kOrphan;
    return result;
  }
  PrefetchedView view;
  if (std::optional<MempoolResult> r = GatherInputsLocked(c, mode, &view, out)) return *r;
  TxResult r = CheckTxInputs(*c.tx, view, tip_height_ + 1, genesis_hash_, chain_.params(),
                             &out->fee, want_sigs ? &out->sig_checks : nullptr);
  if (!r.ok()) {
    result.tx_error = r.error;
    return reject(MempoolError::kInvalid, std::move(r.message));
  }
  if (c.size > options_.max_bytes) {
    return reject(MempoolError::kPoolFull, "the transaction is larger than the whole mempool");
  }
  if (mode != Mode::kReorg) {
    const std::uint64_t floor = FeeFloorLocked(clock_.NowMs());
    if (static_cast<U128>(out->fee) < static_cast<U128>(floor) * c.size) {
      return reject(MempoolError::kFeeTooLow, "fee " + std::to_string(out->fee) +
                                                  " is below the floor of " +
                                                  std::to_string(floor) + " per byte for its " +
                                                  std::to_string(c.size) + " bytes");
    }
  }
  if (std::string why = ChainLimitsLocked(out->parents); !why.empty()) {
    return reject(MempoolError::kTooLongChain, std::move(why));
  }
  for (const TxIn& in : c.tx->inputs) out->spent.push_back(*view.GetCoin(in.prevout));
  result.status = MempoolResult::Status::kAccepted;
  return result;
}

std::optional<MempoolResult> Mempool::GatherInputsLocked(const Candidate& c, Mode mode,
                                                         PrefetchedView* view, Checked* out) {
  MempoolResult result;
  result.txid = c.txid;
  auto reject = [&](MempoolError e, std::string message) {
    result.error = e;
    result.message = std::move(message);
    return result;
  };
  CacheView chain_coins(chain_.coins());
  for (const TxIn& in : c.tx->inputs) {
    if (auto it = spent_by_.find(in.prevout); it != spent_by_.end()) {
      return reject(MempoolError::kConflict,
                    "input " + HexEncode(in.prevout.txid) + ":" + std::to_string(in.prevout.vout) +
                        " is already spent by pool transaction " + HexEncode(it->second->txid));
    }
    if (auto it = entries_.find(in.prevout.txid); it != entries_.end()) {
      Entry* parent = it->second.get();
      if (in.prevout.vout >= parent->tx->outputs.size()) continue;  // CheckTxInputs names it
      view->coins.emplace_back(
          in.prevout, CoinOf(parent->tx->outputs[in.prevout.vout], kPoolCoinHeight, false));
      if (std::find(out->parents.begin(), out->parents.end(), parent) == out->parents.end()) {
        out->parents.push_back(parent);
      }
      continue;
    }
    if (auto coin = chain_coins.GetCoin(in.prevout)) {
      view->coins.emplace_back(in.prevout, *coin);
    } else if (std::find(out->missing.begin(), out->missing.end(), in.prevout.txid) ==
               out->missing.end()) {
      out->missing.push_back(in.prevout.txid);
    }
  }
  if (chain_coins.error()) {
    return reject(MempoolError::kInvalid, "cannot read the coins: " + *chain_coins.error());
  }
  if (out->missing.empty()) return std::nullopt;
  // A confirmed transaction spent its inputs, so only one with an input
  // missing can be in the chain: the store is asked only then.
  if (chain_coins.GetCoin(OutPoint{c.txid, 0}).has_value()) {
    return reject(MempoolError::kAlreadyConfirmed, "the transaction is in the active chain");
  }
  if (mode == Mode::kNew && c.peer != 0 &&
      orphans_.Add(c.tx, c.txid, c.size, c.peer, out->missing, clock_.NowMs())) {
    result.status = MempoolResult::Status::kOrphan;
    result.error = MempoolError::kMissingInputs;
    result.message = "waiting for transaction " + HexEncode(out->missing.front());
    return result;
  }
  return reject(MempoolError::kMissingInputs,
                "input transaction " + HexEncode(out->missing.front()) +
                    " is neither in the pool nor an unspent output of the active chain");
}

std::string Mempool::ChainLimitsLocked(const std::vector<Entry*>& parents) const {
  // The new transaction with its ancestors, and each ancestor with its
  // descendants plus the new one.
  std::unordered_set<const Entry*> ancestors;
  std::vector<const Entry*> stack(parents.begin(), parents.end());
  while (!stack.empty()) {
    const Entry* e = stack.back();
    stack.pop_back();
    if (!ancestors.insert(e).second) continue;
    if (ancestors.size() + 1 > options_.max_ancestors) {
      return "more than " + std::to_string(options_.max_ancestors) +
             " unconfirmed transactions in its chain (itself included)";
    }
    for (const Entry* p : e->parents) stack.push_back(p);
  }
  for (const Entry* a : ancestors) {
    if (a->descendant_count + 1 > options_.max_descendants) {
      return "pool transaction " + HexEncode(a->txid) + " would have more than " +
             std::to_string(options_.max_descendants) +
             " unconfirmed descendants (itself included)";
    }
  }
  return {};
}

Mempool::Entry* Mempool::InsertLocked(const Candidate& c, Checked checked) {
  auto owned = std::make_unique<Entry>();
  Entry* e = owned.get();
  e->tx = c.tx;
  e->txid = c.txid;
  e->size = c.size;
  e->fee = checked.fee;
  e->time_ms = c.time_ms != 0 ? c.time_ms : clock_.NowMs();
  e->sequence = next_sequence_++;
  e->parents = std::move(checked.parents);
  e->spent = std::move(checked.spent);
  entries_.emplace(c.txid, std::move(owned));
  for (Entry* p : e->parents) p->children.push_back(e);
  for (const TxIn& in : c.tx->inputs) spent_by_[in.prevout] = e;
  // Pool transactions that already spend its outputs (it came back from a
  // disconnected block) become its children.
  for (std::uint32_t v = 0; v < c.tx->outputs.size(); ++v) {
    auto it = spent_by_.find(OutPoint{c.txid, v});
    if (it == spent_by_.end()) continue;
    Entry* child = it->second;
    if (std::find(e->children.begin(), e->children.end(), child) == e->children.end()) {
      e->children.push_back(child);
      child->parents.push_back(e);
    }
  }
  bytes_ += e->size;
  fees_ += e->fee;
  for (const TxOut& out : c.tx->outputs) balance_[out.key] += static_cast<std::int64_t>(out.amount);
  for (const Coin& coin : e->spent) balance_[coin.key] -= static_cast<std::int64_t>(coin.amount);
  e->time_it = by_time_.emplace(std::make_pair(e->time_ms, e->sequence), e).first;
  e->descendant_size = e->size;
  e->descendant_fee = e->fee;
  e->score_it = by_score_.insert(e).first;
  // Totals: of the new entry, of everything above it, and (when it has
  // children) of everything below.
  std::vector<Entry*> affected = AncestorsLocked(e);
  for (Entry* d : DescendantsLocked(e)) affected.push_back(d);
  affected.push_back(e);
  for (Entry* a : affected) RecomputeTotalsLocked(a);
  ++generation_;
  return e;
}

// --- Graph walks -------------------------------------------------------------

std::vector<Mempool::Entry*> Mempool::AncestorsLocked(const Entry* e) const {
  std::vector<Entry*> out;
  if (e->parents.empty()) return out;  // most entries: no set to build
  std::unordered_set<const Entry*> seen{e};
  std::vector<Entry*> stack(e->parents.begin(), e->parents.end());
  while (!stack.empty()) {
    Entry* a = stack.back();
    stack.pop_back();
    if (!seen.insert(a).second) continue;
    out.push_back(a);
    for (Entry* p : a->parents) stack.push_back(p);
  }
  return out;
}

std::vector<Mempool::Entry*> Mempool::DescendantsLocked(const Entry* e) const {
  std::vector<Entry*> out;
  if (e->children.empty()) return out;
  std::unordered_set<const Entry*> seen{e};
  std::vector<Entry*> stack(e->children.begin(), e->children.end());
  while (!stack.empty()) {
    Entry* d = stack.back();
    stack.pop_back();
    if (!seen.insert(d).second) continue;
    out.push_back(d);
    for (Entry* ch : d->children) stack.push_back(ch);
  }
  return out;
}

void Mempool::RecomputeTotalsLocked(Entry* e) {
  by_score_.erase(e->score_it);
  e->ancestor_count = 1;
  e->ancestor_size = e->size;
  e->ancestor_fee = e->fee;
  for (const Entry* a : AncestorsLocked(e)) {
    ++e->ancestor_count;
    e->ancestor_size += a->size;
    e->ancestor_fee += a->fee;
  }
  e->descendant_count = 1;
  e->descendant_size = e->size;
  e->descendant_fee = e->fee;
  for (const Entry* d : DescendantsLocked(e)) {
    ++e->descendant_count;
    e->descendant_size += d->size;
    e->descendant_fee += d->fee;
  }
  e->score_it = by_score_.insert(e).first;
}

// --- Removing ----------------------------------------------------------------

std::size_t Mempool::RemoveWithDescendantsLocked(std::vector<Entry*> entries) {
  std::set<Entry*> doomed;
  for (Entry* e : entries) {
    if (!doomed.insert(e).second) continue;
    for (Entry* d : DescendantsLocked(e)) doomed.insert(d);
  }
  RemoveSetLocked(doomed);
  return doomed.size();
}

void Mempool::RemoveSetLocked(const std::set<Entry*>& doomed) {
  if (doomed.empty()) return;
  std::unordered_set<Entry*> affected;
  for (Entry* e : doomed) {
    for (Entry* a : AncestorsLocked(e)) {
      if (!doomed.contains(a)) affected.insert(a);
    }
    for (Entry* d : DescendantsLocked(e)) {
      if (!doomed.contains(d)) affected.insert(d);
    }
  }
  for (Entry* e : doomed) {
    for (Entry* p : e->parents) {
      if (!doomed.contains(p)) std::erase(p->children, e);
    }
    for (Entry* ch : e->children) {
      if (!doomed.contains(ch)) std::erase(ch->parents, e);
    }
    for (const TxIn& in : e->tx->inputs) {
      if (auto it = spent_by_.find(in.prevout); it != spent_by_.end() && it->second == e) {
        spent_by_.erase(it);
      }
    }
    for (const TxOut& out : e->tx->outputs) {
      balance_[out.key] -= static_cast<std::int64_t>(out.amount);
    }
    for (const Coin& coin : e->spent) balance_[coin.key] += static_cast<std::int64_t>(coin.amount);
    by_score_.erase(e->score_it);
    by_time_.erase(e->time_it);
    bytes_ -= e->size;
    fees_ -= e->fee;
  }
  std::erase_if(balance_, [](const auto& kv) { return kv.second == 0; });
  for (Entry* e : doomed) {
    const Hash32 txid = e->txid;
    entries_.erase(txid);  // frees e
  }
  for (Entry* a : affected) RecomputeTotalsLocked(a);
  ++generation_;
}

void Mempool::TrimLocked(std::uint64_t now_ms) {
  while (bytes_ > options_.max_bytes && !by_score_.empty()) {
    Entry* worst = *by_score_.begin();
    // The floor rises above what was evicted, so the same package cannot
    // come straight back.
    const std::uint64_t rate =
        worst->descendant_fee / std::max<std::size_t>(1, worst->descendant_size);
    floor_ = std::max(floor_, rate + options_.floor_increment);
    floor_set_ms_ = now_ms;
    const std::size_t n = RemoveWithDescendantsLocked({worst});
    evicted_ += n;
  }
}

std::uint64_t Mempool::FeeFloorLocked(std::uint64_t now_ms) const {
  std::uint64_t raised = floor_;
  if (raised != 0 && options_.floor_half_life_ms != 0 && now_ms > floor_set_ms_) {
    const std::uint64_t halvings = (now_ms - floor_set_ms_) / options_.floor_half_life_ms;
    raised = halvings >= 64 ? 0 : raised >> halvings;
  }
  return std::max(options_.min_fee_rate, raised);
}

void Mempool::ExpireLocked(std::uint64_t now_ms) {
  orphans_.Expire(now_ms);
  if (options_.expiry_ms == 0 || now_ms < options_.expiry_ms) return;
  std::vector<Entry*> old;
  for (auto it = by_time_.begin();
       it != by_time_.end() && it->first.first <= now_ms - options_.expiry_ms; ++it) {
    old.push_back(it->second);
  }
  if (!old.empty()) expired_ += RemoveWithDescendantsLocked(std::move(old));
}

void Mempool::Expire() {
  MutexLock lock(mutex_);
  ExpireLocked(clock_.NowMs());
}

// --- The chain moves ---------------------------------------------------------

void Mempool::OnTipChanged(const TipChange& change) {
  MutexLock lock(mutex_);
  std::set<Entry*> gone;          // confirmed: their children stay
  std::vector<Entry*> conflicts;  // spend what a block spent: with descendants
  for (const TipChange::BlockRef& ref : change.connected_blocks) {
    const Block& block = *ref.block;
    for (std::size_t i = 0; i < block.txs.size(); ++i) {
      const Transaction& tx = block.txs[i];
      const Hash32& txid = (*ref.txids)[i];
      Entry* same = nullptr;
      if (auto it = entries_.find(txid); it != entries_.end()) same = it->second.get();
      if (same != nullptr) gone.insert(same);
      for (const TxIn& in : tx.inputs) {
        auto it = spent_by_.find(in.prevout);
        if (it != spent_by_.end() && it->second != same) conflicts.push_back(it->second);
      }
    }
  }
  for (Entry* e : conflicts) {
    gone.insert(e);
    for (Entry* d : DescendantsLocked(e)) gone.insert(d);
  }
  RemoveSetLocked(gone);
  tip_hash_ = change.new_tip.hash();
  tip_height_ = change.new_tip.height();
  ++generation_;
  if (!change.disconnected_blocks.empty()) {
    // Back into the pool, in chain order, as far as the cap allows; then
    // whatever the new branch made invalid leaves.
    std::size_t budget = options_.max_bytes;
    std::size_t readded = 0;
    for (auto it = change.disconnected_blocks.rbegin(); it != change.disconnected_blocks.rend();
         ++it) {
      const Block& block = *it->block;
      for (std::size_t i = 0; i < block.txs.size(); ++i) {
        const Transaction& tx = block.txs[i];
        if (tx.IsCoinbase()) continue;
        const std::size_t size = CanonicalTxSize(tx);
        if (size > budget) continue;
        Candidate c{std::make_shared<const Transaction>(tx), (*it->txids)[i], size, 0, 0};
        const bool verified = chain_.verified_txs().Contains(c.txid);
        Checked checked;
        MempoolResult r = CheckLocked(c, Mode::kReorg, !verified, &checked);
        if (r.status != MempoolResult::Status::kAccepted) continue;
        if (!verified) {
          if (FirstBadSignature(checked.sig_checks).has_value()) continue;
          chain_.verified_txs().Insert(c.txid);
        }
        InsertLocked(c, std::move(checked));
        budget -= size;
        ++readded;
      }
    }
    RecheckAllLocked();
    TrimLocked(clock_.NowMs());
    spdlog::info("mempool: {} transaction(s) of disconnected blocks back in the pool", readded);
  }
  ExpireLocked(clock_.NowMs());
}

void Mempool::RecheckAllLocked() {
  CacheView chain_coins(chain_.coins());
  const Params& params = chain_.params();
  std::vector<Entry*> doomed;
  for (const auto& [txid, e] : entries_) {
    for (const TxIn& in : e->tx->inputs) {
      if (auto it = entries_.find(in.prevout.txid); it != entries_.end()) continue;
      const std::optional<Coin> coin = chain_coins.GetCoin(in.prevout);
      if (!coin.has_value() ||
          (coin->coinbase && tip_height_ + 1 < coin->height + params.coinbase_maturity)) {
        doomed.push_back(e.get());
        break;
      }
    }
  }
  RemoveWithDescendantsLocked(std::move(doomed));
}

// --- Readers -----------------------------------------------------------------

MempoolEntryInfo Mempool::InfoOf(const Entry& e) {
  MempoolEntryInfo info;
  info.tx = e.tx;
  info.txid = e.txid;
  info.size = e.size;
  info.fee = e.fee;
  info.time_ms = e.time_ms;
  info.ancestor_count = e.ancestor_count;
  info.ancestor_size = e.ancestor_size;
  info.ancestor_fee = e.ancestor_fee;
  for (const Entry* p : e.parents) info.parents.push_back(p->txid);
  return info;
}

std::optional<MempoolEntryInfo> Mempool::Get(const Hash32& txid) const {
  MutexLock lock(mutex_);
  auto it = entries_.find(txid);
  if (it == entries_.end()) return std::nullopt;
  return InfoOf(*it->second);
}

bool Mempool::Contains(const Hash32& txid) const {
  MutexLock lock(mutex_);
  return entries_.contains(txid);
}

bool Mempool::HasOrphan(const Hash32& txid) const {
  MutexLock lock(mutex_);
  return orphans_.Contains(txid);
}

MempoolStats Mempool::Stats() const {
  MutexLock lock(mutex_);
  MempoolStats s;
  s.count = entries_.size();
  s.bytes = bytes_;
  s.fees = fees_;
  s.fee_floor = FeeFloorLocked(clock_.NowMs());
  s.orphans = orphans_.size();
  s.max_bytes = options_.max_bytes;
  s.accepted = accepted_;
  s.rejected = rejected_;
  s.evicted = evicted_;
  s.expired = expired_;
  return s;
}

std::vector<MempoolEntryInfo> Mempool::ByFeeRate(std::size_t limit) const {
  MutexLock lock(mutex_);
  std::vector<MempoolEntryInfo> out;
  // The selection stops after `limit` (a package may take it a little past).
  for (const Entry* e : SelectLocked(tip_hash_, std::numeric_limits<std::size_t>::max(), limit)) {
    if (out.size() >= limit) break;
    out.push_back(InfoOf(*e));
  }
  return out;
}

std::vector<Hash32> Mempool::Txids(std::size_t limit) const {
  MutexLock lock(mutex_);
  std::vector<const Entry*> all;
  all.reserve(entries_.size());
  for (const auto& [txid, e] : entries_) all.push_back(e.get());
  // Fewer ancestors first: a parent always has fewer than its child.
  std::sort(all.begin(), all.end(), [](const Entry* a, const Entry* b) {
    if (a->ancestor_count != b->ancestor_count) return a->ancestor_count < b->ancestor_count;
    return a->sequence < b->sequence;
  });
  std::vector<Hash32> out;
  for (const Entry* e : all) {
    if (out.size() >= limit) break;
    out.push_back(e->txid);
  }
  return out;
}

std::int64_t Mempool::UnconfirmedBalance(const XOnlyPubKey& key) const {
  MutexLock lock(mutex_);
  auto it = balance_.find(key);
  return it == balance_.end() ? 0 : it->second;
}

std::optional<Hash32> Mempool::SpentBy(const OutPoint& outpoint) const {
  MutexLock lock(mutex_);
  auto it = spent_by_.find(outpoint);
  if (it == spent_by_.end()) return std::nullopt;
  return it->second->txid;
}

// --- Block templates ---------------------------------------------------------

BlockTemplateTxs Mempool::SelectForBlock(const Hash32& parent, std::size_t max_bytes) const {
  MutexLock lock(mutex_);
  BlockTemplateTxs out;
  for (const Entry* e : SelectLocked(parent, max_bytes)) {
    out.txs.push_back(e->tx);
    out.bytes += e->size;
    out.fees += e->fee;
  }
  return out;
}

std::vector<const Mempool::Entry*> Mempool::SelectLocked(const Hash32& parent,
                                                         std::size_t max_bytes,
                                                         std::size_t max_count) const {
  std::vector<const Entry*> out;
  std::size_t bytes = 0;
  if (parent != tip_hash_ || entries_.empty()) return out;
  // Each entry's ancestor totals over what is not in the block yet; a heap
  // of (rate, version) where a stale version is skipped (Bitcoin Core's
  // "modified" entries, done lazily).
  struct State {
    std::size_t size = 0;
    std::uint64_t fee = 0;
    std::uint32_t version = 0;
    bool in_block = false;
  };
  std::unordered_map<const Entry*, State> state;
  state.reserve(entries_.size());
  struct Item {
    std::uint64_t fee;
    std::size_t size;
    std::uint64_t sequence;
    std::uint32_t version;
    const Entry* entry;
  };
  auto worse = [](const Item& a, const Item& b) {
    if (RateLess(a.fee, a.size, b.fee, b.size)) return true;
    if (RateLess(b.fee, b.size, a.fee, a.size)) return false;
    return a.sequence > b.sequence;  // older first on a tie
  };
  std::vector<Item> items;
  items.reserve(entries_.size());
  for (const auto& [txid, e] : entries_) {
    state[e.get()] = State{e->ancestor_size, e->ancestor_fee, 0, false};
    items.push_back(Item{e->ancestor_fee, e->ancestor_size, e->sequence, 0, e.get()});
  }
  // Built in one pass (make_heap), not by n pushes.
  std::priority_queue<Item, std::vector<Item>, decltype(worse)> heap(worse, std::move(items));
  // Stop after this many packages in a row that did not fit, once the
  // block is nearly full (Bitcoin Core's rule).
  constexpr std::size_t kMaxFailures = 1000;
  constexpr std::size_t kNearlyFull = 4000;
  std::size_t failures = 0;
  while (!heap.empty() && out.size() < max_count) {
    const Item top = heap.top();
    heap.pop();
    State& st = state[top.entry];
    if (st.in_block || st.version != top.version) continue;
    if (bytes + st.size > max_bytes) {
      if (++failures > kMaxFailures && bytes + kNearlyFull > max_bytes) break;
      continue;
    }
    failures = 0;
    std::vector<const Entry*> package;
    for (const Entry* a : AncestorsLocked(top.entry)) {
      if (!state[a].in_block) package.push_back(a);
    }
    package.push_back(top.entry);
    std::sort(package.begin(), package.end(), [](const Entry* a, const Entry* b) {
      if (a->ancestor_count != b->ancestor_count) return a->ancestor_count < b->ancestor_count;
      return a->sequence < b->sequence;
    });
    for (const Entry* p : package) {
      state[p].in_block = true;
      out.push_back(p);
      bytes += p->size;
    }
    for (const Entry* p : package) {
      for (const Entry* d : DescendantsLocked(p)) {
        State& ds = state[d];
        if (ds.in_block) continue;
        ds.size -= p->size;
        ds.fee -= p->fee;
        ++ds.version;
        heap.push(Item{ds.fee, ds.size, d->sequence, ds.version, d});
      }
    }
  }
  return out;
}

// --- Listeners ---------------------------------------------------------------

void Mempool::AddListener(MempoolListener* listener) {
  MutexLock lock(mutex_);
  listeners_.push_back(listener);
}

void Mempool::RemoveListener(MempoolListener* listener) {
  MutexLock lock(mutex_);
  std::erase(listeners_, listener);
}

// --- Saving and loading ------------------------------------------------------

Status Mempool::Save(const std::filesystem::path& path) const {
  std::string text;
  {
    MutexLock lock(mutex_);
    JsonWriter head(text);
    head.BeginObject().Key("format").String(kSaveFormat);
    head.Key("genesis").Hex(genesis_hash_).EndObject();
    text += '\n';
    std::vector<const Entry*> all;
    for (const auto& [txid, e] : entries_) all.push_back(e.get());
    std::sort(all.begin(), all.end(), [](const Entry* a, const Entry* b) {
      if (a->ancestor_count != b->ancestor_count) return a->ancestor_count < b->ancestor_count;
      return a->sequence < b->sequence;
    });
    for (const Entry* e : all) {
      JsonWriter w(text);
      w.BeginObject().Key("time").UInt(e->time_ms).Key("tx");
      WriteTxJson(w, *e->tx);
      w.EndObject();
      text += '\n';
    }
  }
  return WriteFileAtomic(path, text, 0600);
}

Result<Mempool::LoadResult> Mempool::Load(const std::filesystem::path& path) {
  // A pool at its cap, written one line per transaction, with room to spare.
  const std::size_t max_file = options_.max_bytes * 2 + kMaxSaveLine * 16;
  auto read = ReadFileLimited(path, max_file);
  if (!read) return Error{read.error()};
  LoadResult result;
  if (!read->has_value()) return result;
  std::string_view rest = **read;
  std::size_t line_no = 0;
  auto fail = [&](const std::string& why) {
    return Error{path.string() + " line " + std::to_string(line_no) + ": " + why};
  };
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    if (end == std::string_view::npos) {
      ++line_no;
      return fail("the last line is cut short (no newline)");
    }
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    ++line_no;
    if (line.size() > kMaxSaveLine) return fail("line too long");
    JsonLimits limits;
    limits.max_bytes = kMaxSaveLine;
    auto value = ParseJson(line, limits);
    if (!value) return fail(value.error());
    if (line_no == 1) {
      const JsonValue* format = value->Find("format");
      const JsonValue* genesis = value->Find("genesis");
      if (format == nullptr || !format->is_string() || format->as_string() != kSaveFormat) {
        return fail("not a saved mempool (expected format " + std::string(kSaveFormat) + ")");
      }
      if (genesis == nullptr || !genesis->is_string() ||
          genesis->as_string() != HexEncode(genesis_hash_)) {
        return fail("saved by a node of another network");
      }
      continue;
    }
    const JsonValue* time = value->Find("time");
    const JsonValue* tx_json = value->Find("tx");
    if (time == nullptr || !time->AsU64().has_value() || tx_json == nullptr) {
      return fail("expected {\"time\": <ms>, \"tx\": {...}}");
    }
    auto tx = TxFromJson(*tx_json);
    if (!tx) return fail(tx.error());
    ++result.read;
    auto ref = std::make_shared<const Transaction>(std::move(*tx));
    Candidate c{ref, ComputeTxid(*ref), CanonicalTxSize(*ref), 0, *time->AsU64()};
    std::vector<Candidate> more;
    std::vector<Announcement> announce;
    if (AcceptOne(c, Mode::kLoad, &more, &announce).status == MempoolResult::Status::kAccepted) {
      ++result.accepted;
    }
  }
  if (line_no == 0) return Error{path.string() + " is empty"};
  return result;
}

}  // namespace powchain
