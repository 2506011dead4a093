#include "chain/chainstate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

#include "chain/chainstate_internal.h"
#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "crypto/sha256.h"
#include "util/hex.h"

namespace powchain {
namespace {

constexpr std::uint64_t kNoSequence = std::numeric_limits<std::uint64_t>::max();

// A locator of the chain whose tip is at `tip_height`: the tip, the nine
// blocks below it, then hashes spaced back exponentially, genesis last.
// `hash_at(h)` gives the chain's hash at height h.
template <typename HashAt>
std::vector<Hash32> MakeLocator(std::uint64_t tip_height, HashAt hash_at) {
  std::vector<Hash32> out;
  std::uint64_t step = 1;
  for (std::uint64_t h = tip_height;; h -= step) {
    out.push_back(hash_at(h));
    if (out.size() >= 10) step *= 2;
    if (h == 0) break;
    if (h < step) step = h;  // end exactly at genesis
  }
  return out;
}

bool DataMatchesHeader(const Block& block) {
  return Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(block.data.data()),
                         block.data.size())) == block.header.data_hash;
}

}  // namespace

std::string_view AcceptStatusName(AcceptStatus status) {
  switch (status) {
    case AcceptStatus::kNewTip:
      return "new-tip";
    case AcceptStatus::kSideBranch:
      return "side-branch";
    case AcceptStatus::kPending:
      return "pending";
    case AcceptStatus::kDuplicate:
      return "duplicate";
    case AcceptStatus::kUnknownParent:
      return "unknown-parent";
    case AcceptStatus::kTooLittleWork:
      return "too-little-work";
    case AcceptStatus::kNoSpace:
      return "no-space";
    case AcceptStatus::kInvalid:
      return "invalid";
    case AcceptStatus::kStoreFailed:
      return "store-failed";
  }
  return "unknown";
}

ChainState::ChainState(Params params, BlockStore& store, ChainOptions options)
    : params_(std::move(params)),
      options_(options),
      store_(store),
      pending_(options.max_pending, options.max_pending_bytes),
      genesis_hash_(MakeGenesis(params_).hash),
      coins_(store, options.coin_cache_entries),
      verified_(options.verified_tx_entries),
      checks_(options.verify_threads != 0 ? options.verify_threads
                                          : std::max(1U, std::thread::hardware_concurrency())) {}

Status ChainState::Load() {
  MutexLock lock(mutex_);
  assert(index_.empty());
  const Block genesis = MakeGenesis(params_);

  auto tip = store_.ReadTip();
  if (!tip) return Error{"cannot read the chain tip: " + tip.error()};

  std::string load_error;
  auto add_stored = [this](const Hash32& hash, const BlockHeader& header, BlockIndex* parent)
                        REQUIRES(mutex_) {
                          BlockIndex* entry = InsertLocked(hash, header, parent);
                          entry->status |= BlockIndex::kHaveData;
                          entry->sequence = next_sequence_++;
                          ++stored_count_;
                          return entry;
                        };
  Status read =
      store_.ForEachHeader([&](const Hash32& hash, const BlockHeader& header) REQUIRES(mutex_) {
        if (!load_error.empty()) return;
        if (index_.empty()) {
          if (hash != genesis.hash) {
            load_error = "the store holds a chain of another network (genesis " + HexEncode(hash) +
                         ", expected " + HexEncode(genesis.hash) + " for " + params_.network + ")";
            return;
          }
          if (header != genesis.header) {
            load_error = "the store is damaged: its genesis row holds another header";
            return;
          }
          add_stored(hash, header, nullptr);
          return;
        }
        // The index trusts these two facts (heights step by one along
        // parents; a hash names its header), so a damaged row must stop
        // the load rather than build a tree that breaks them.
        if (header.ComputeHash() != hash) {
          load_error = "the store is damaged: block " + HexEncode(hash) +
                       " is stored with a header of another hash; run powchain verify";
          return;
        }
        BlockIndex* parent = FindLocked(header.last_hash);
        if (parent == nullptr) {
          load_error = "the store is inconsistent: block " + HexEncode(hash) + " has no parent";
          return;
        }
        if (header.height != parent->height() + 1) {
          load_error = "the store is damaged: block " + HexEncode(hash) + " claims height " +
                       std::to_string(header.height) + " on a parent at height " +
                       std::to_string(parent->height()) + "; run powchain verify";
          return;
        }
        add_stored(hash, header, parent);
      });
  if (!read) return Error{"cannot read the block index: " + read.error()};
  if (!load_error.empty()) return Error{load_error};

  if (index_.empty()) {
    WriteBatch batch;
    batch.blocks.push_back(&genesis);
    batch.tip = genesis.hash;
    Status s = store_.Commit(batch);
    if (!s) return Error{"cannot store the genesis block: " + s.error()};
    const BlockIndex* g = add_stored(genesis.hash, genesis.header, nullptr);
    SetActiveTipLocked(g, nullptr);
    best_header_ = g;
    return {};
  }

  if (!tip->has_value()) return Error{"the store has blocks but no tip"};
  const BlockIndex* tip_entry = FindLocked(**tip);
  if (tip_entry == nullptr) {
    return Error{"the store's tip " + HexEncode(**tip) + " is not among its blocks"};
  }
  SetActiveTipLocked(tip_entry, nullptr);
  best_header_ = tip_entry;
  if (Status s = CatchUpCoinsLocked(); !s) return s;
  return RecheckTopLocked();
}

Status ChainState::RecheckTopLocked() const {
  // Stored blocks were valid when they arrived; future drift is a rule of
  // arrival, so `now` is set where it cannot fail.
  const std::uint64_t now = std::numeric_limits<std::uint64_t>::max() - params_.max_future_drift_ms;
  const std::size_t top = active_.size() - 1;
  for (std::size_t h = top; h > 0 && top - h < options_.recheck_depth; --h) {
    const BlockIndex& entry = *active_[h];
    auto block = store_.ReadBlock(entry.hash);
    if (!block) return Error{"cannot read block " + HexEncode(entry.hash) + ": " + block.error()};
    if (!block->has_value() || (*block)->header != entry.header) {
      return Error{"the store's block at height " + std::to_string(h) +
                   " does not match its index entry; run powchain verify"};
    }
    const ValidationResult r = CheckBlock(**block, ContextForLocked(*entry.parent), now, params_);
    if (!r.ok()) {
      return Error{"the store's block at height " + std::to_string(h) + " (" +
                   HexEncode(entry.hash) + ") fails " + std::string(BlockErrorName(r.error)) +
                   ": " + r.message + "; run powchain verify"};
    }
  }
  return {};
}

BlockIndex* ChainState::FindLocked(const Hash32& hash) const {
  auto it = index_.find(hash);
  return it == index_.end() ? nullptr : *it;
}

BlockIndex* ChainState::InsertLocked(const Hash32& hash, const BlockHeader& header,
                                     BlockIndex* parent) {
  if (entry_count_ == entry_chunks_.size() * kEntriesPerChunk) {
    entry_chunks_.push_back(std::make_unique<BlockIndex[]>(kEntriesPerChunk));
  }
  BlockIndex& entry =
      entry_chunks_[entry_count_ / kEntriesPerChunk][entry_count_ % kEntriesPerChunk];
  ++entry_count_;
  entry.hash = hash;
  entry.header = header;
  const Work own = BlockWork(std::min(header.difficulty, params_.max_difficulty));
  entry.chain_work = parent != nullptr ? AddWork(parent->chain_work, own) : own;
  entry.parent = parent;
  entry.sequence = kNoSequence;
  entry.status = BlockIndex::kHeaderOnly;
  if (parent != nullptr && parent->failed()) entry.status |= BlockIndex::kFailed;
  entry.BuildSkip();
  index_.insert(&entry);
  leaves_.insert(&entry);
  if (parent != nullptr) leaves_.erase(parent);
  // The best header: more work wins, a tie keeps the one seen first.
  if (!entry.failed() && (best_header_ == nullptr || entry.chain_work > best_header_->chain_work)) {
    best_header_ = &entry;
  }
  return &entry;
}

void ChainState::MarkFailedLocked(BlockIndex* entry) {
  entry->status |= BlockIndex::kFailed;
  // Entries are in insertion order, parents first: one pass marks every
  // descendant. Rare (a block whose data breaks a rule, after a header
  // chain with more work than ours), so a full pass is fine.
  best_header_ = active_.back();
  for (std::size_t i = 0; i < entry_count_; ++i) {
    BlockIndex& e = entry_chunks_[i / kEntriesPerChunk][i % kEntriesPerChunk];
    if (e.parent != nullptr && e.parent->failed()) e.status |= BlockIndex::kFailed;
    if (!e.failed() && e.chain_work > best_header_->chain_work) best_header_ = &e;
  }
}

ParentContext ChainState::ContextForLocked(const BlockIndex& entry) const {
  std::uint64_t window[64];
  const std::size_t cap = std::min<std::size_t>(params_.mtp_window, std::size(window));
  std::size_t n = 0;
  for (const BlockIndex* e = &entry; e != nullptr && n < cap; e = e->parent) {
    window[n++] = e->header.timestamp;
  }
  return ParentContext{entry.header, entry.hash, MedianTimePast(std::span(window, n))};
}

ChainTip ChainState::TipOfLocked(const BlockIndex& entry) const {
  return ChainTip{ContextForLocked(entry), entry.chain_work};
}

HeaderInfo ChainState::InfoOfLocked(const BlockIndex& entry) const {
  return HeaderInfo{entry.hash, entry.height(), entry.chain_work, entry.has_data(), entry.failed()};
}

const BlockIndex* ChainState::ActiveAncestorLocked(const BlockIndex& entry) const {
  if (IsActiveLocked(entry)) return &entry;
  // Being on the active chain holds for every height up to the fork and
  // for none above it: binary search, each probe an O(log n) ancestor
  // lookup. Genesis (height 0) is always active.
  std::uint64_t lo = 0;
  std::uint64_t hi = std::min<std::uint64_t>(entry.height(), active_.size() - 1);
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (active_[mid] == entry.GetAncestor(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return active_[lo];
}

const BlockIndex* ChainState::LocateLocked(const std::vector<Hash32>& locator) const {
  for (const Hash32& h : locator) {
    const BlockIndex* e = FindLocked(h);
    if (e != nullptr) return ActiveAncestorLocked(*e);
  }
  return active_.front();
}

const BlockIndex* ChainState::LastStoredLocked(const BlockIndex& entry) const {
  if (entry.has_data()) return &entry;
  // Stored blocks form a prefix of every chain (a block is stored only
  // after its parent): binary search from the fork with the active chain.
  std::uint64_t lo = ActiveAncestorLocked(entry)->height();
  std::uint64_t hi = entry.height();
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (entry.GetAncestor(mid)->has_data()) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return entry.GetAncestor(lo);
}

std::vector<Hash32> ChainState::LocatorOfLocked(const BlockIndex& tip) const {
  if (IsActiveLocked(tip)) {
    const BlockIndex* const* active = active_.data();  // read under the lock held here
    return MakeLocator(tip.height(), [&active](std::uint64_t h) { return active[h]->hash; });
  }
  return MakeLocator(tip.height(), [&tip](std::uint64_t h) { return tip.GetAncestor(h)->hash; });
}

AcceptResult ChainState::StageLocked(Block block, const ValidationResult& context_free,
                                     std::uint64_t now_ms, Staged& staged) {
  AcceptResult result;
  BlockIndex* entry = FindLocked(block.hash);
  if (!context_free.ok()) {
    // An oversize block whose data is really the header's: the block
    // itself is invalid, so is every descendant. Any other context-free
    // failure is the sender's (data that is not the block's, a hash that
    // is not the header's) and says nothing about the block.
    if (context_free.error == BlockError::kOversize && entry != nullptr && !entry->has_data() &&
        !entry->failed() && block.header == entry->header && DataMatchesHeader(block)) {
      MarkFailedLocked(entry);
    }
    result.status = AcceptStatus::kInvalid;
    result.validation = context_free;
    return result;
  }
  if (entry != nullptr &&
      (entry->has_data() || storing_.contains(entry) || pending_.Contains(block.hash))) {
    result.status = AcceptStatus::kDuplicate;
    return result;
  }
  if (entry != nullptr && entry->failed()) {
    result.status = AcceptStatus::kInvalid;
    result.validation =
        ValidationResult::Fail(BlockError::kBadParent, "the block or an ancestor is invalid");
    return result;
  }
  BlockIndex* parent = entry != nullptr ? entry->parent : FindLocked(block.header.last_hash);
  if (parent == nullptr) {
    result.status = AcceptStatus::kUnknownParent;
    result.missing_parent = block.header.last_hash;
    return result;
  }
  if (entry == nullptr) {
    if (parent->failed()) {
      result.status = AcceptStatus::kInvalid;
      result.validation =
          ValidationResult::Fail(BlockError::kBadParent, "the parent block is invalid");
      return result;
    }
    result.validation =
        CheckBlockContextual(block.header, ContextForLocked(*parent), now_ms, params_);
    if (!result.validation.ok()) {
      result.status = AcceptStatus::kInvalid;
      return result;
    }
    // Nobody proved a header chain for it: keep it only if it brings its
    // chain to at least the active tip's work.
    const Work work = AddWork(parent->chain_work,
                              BlockWork(std::min(block.header.difficulty, params_.max_difficulty)));
    if (work < active_.back()->chain_work) {
      result.status = AcceptStatus::kTooLittleWork;
      return result;
    }
    entry = InsertLocked(block.hash, block.header, parent);
  }
  if (!parent->has_data() && !storing_.contains(parent)) {
    pending_.Add(std::move(block));
    result.status = AcceptStatus::kPending;
    return result;
  }

  // Stage the block, then every held block waiting on it (and on those,
  // breadth first). Held blocks have entries: their headers were checked.
  std::vector<std::pair<Block, BlockIndex*>> queue;
  queue.emplace_back(std::move(block), entry);
  for (std::size_t i = 0; i < queue.size(); ++i) {
    BlockIndex* e = queue[i].second;
    storing_.insert(e);
    e->sequence = next_sequence_++;
    for (Block& child : pending_.TakeChildren(e->hash)) {
      BlockIndex* c = FindLocked(child.hash);
      if (c != nullptr && !c->failed() && c->parent == e) queue.emplace_back(std::move(child), c);
    }
    staged.entries.push_back(e);
    staged.blocks.push_back(std::move(queue[i].first));
    ++result.added;
  }
  result.status = AcceptStatus::kSideBranch;  // AcceptBlocks may promote it
  return result;
}

void ChainState::SetActiveTipLocked(const BlockIndex* tip, TipChange* change) {
  std::vector<const BlockIndex*> path;  // new active blocks above the fork, tip first
  const BlockIndex* fork = active_.empty() ? nullptr : ActiveAncestorLocked(*tip);
  for (const BlockIndex* e = tip; e != fork; e = e->parent) path.push_back(e);
  const std::size_t keep = fork == nullptr ? 0 : fork->height() + 1;
  if (change != nullptr) {
    for (std::size_t h = active_.size(); h > keep; --h) {
      change->disconnected.push_back(active_[h - 1]->hash);
    }
    for (auto it = path.rbegin(); it != path.rend(); ++it) change->connected.push_back((*it)->hash);
  }
  active_.resize(keep);
  for (auto it = path.rbegin(); it != path.rend(); ++it) active_.push_back(*it);
}

AcceptResult ChainState::AcceptBlock(Block block, std::uint64_t now_ms, BlockSource source) {
  std::vector<Block> one;
  one.push_back(std::move(block));
  return std::move(AcceptBlocks(std::move(one), now_ms, source).front());
}

std::vector<ValidationResult> ChainState::CheckContextFree(
    const std::vector<Block>& blocks, std::vector<std::vector<Hash32>>& txids) const {
  // A block already stored or held costs one header hash to recognize;
  // the checks that need no chain (hashing header and data) run for the
  // others. Both without the tree's lock.
  std::vector<bool> known(blocks.size(), false);
  {
    MutexLock lock(mutex_);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const BlockIndex* e = FindLocked(blocks[i].hash);
      known[i] = e != nullptr && e->header == blocks[i].header &&
                 (e->has_data() || pending_.Contains(e->hash));
    }
  }
  std::vector<ValidationResult> context_free;
  context_free.reserve(blocks.size());
  txids.assign(blocks.size(), {});
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Block& b = blocks[i];
    const bool skip = known[i] && b.header.ComputeHash() == b.hash;
    context_free.push_back(skip ? ValidationResult::Ok()
                                : CheckBlockContextFree(b, params_, &txids[i]));
  }
  return context_free;
}

bool ChainState::LacksSpaceFor(const Staged& staged) const {
  // Side data must not fill the disk the active chain needs: when space is
  // low, a batch that neither moves the tip nor leads to the best header
  // (the chain being fetched to move to) is refused.
  if (staged.best != staged.old_tip) return false;
  const std::optional<std::uint64_t> free = store_.AvailableBytes();
  if (!free.has_value() || *free >= options_.side_data_min_free_bytes) return false;
  MutexLock lock(mutex_);
  return !std::all_of(staged.entries.begin(), staged.entries.end(),
                      [this](const BlockIndex* e)
                          REQUIRES(mutex_) { return best_header_->GetAncestor(e->height()) == e; });
}

std::optional<TipChange> ChainState::FinishLocked(const Staged& staged, const Status& committed,
                                                  bool no_space, BlockSource source,
                                                  std::vector<AcceptResult>& results) {
  for (const BlockIndex* e : staged.entries) storing_.erase(e);
  std::optional<TipChange> change;
  if (!no_space && !committed) {
    failed_ = true;
    spdlog::critical(
        "the block store failed to commit: {}; no further block is accepted, "
        "mined or acknowledged (what was committed is intact)",
        committed.error());
  } else if (!no_space) {
    for (BlockIndex* e : staged.entries) e->status |= BlockIndex::kHaveData;
    stored_count_ += staged.entries.size();
    if (staged.best != staged.old_tip) {
      change.emplace();
      change->source = source;
      change->old_tip = TipOfLocked(*staged.old_tip);
      SetActiveTipLocked(staged.best, &*change);
      change->new_tip = TipOfLocked(*staged.best);
    }
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    AcceptResult& r = results[i];
    if (r.status != AcceptStatus::kSideBranch) continue;
    if (const BlockIndex* e = staged.entries[staged.first_entry[i]]; e->failed()) {
      // It broke rule 7 as it connected, or sits on a block that did.
      r.status = AcceptStatus::kInvalid;
      r.validation =
          ValidationResult::Fail(BlockError::kBadParent, "an ancestor broke a transaction rule");
      for (const auto& [bad, why] : staged.invalid) {
        if (bad == e) r.validation = why;
      }
      continue;
    }
    if (no_space) {
      r.status = AcceptStatus::kNoSpace;
      r.added = 0;
    } else if (!committed) {
      r.status = AcceptStatus::kStoreFailed;
      r.store_error = committed.error();
      r.added = 0;
    } else if (IsActiveLocked(*staged.entries[staged.first_entry[i]])) {
      r.status = AcceptStatus::kNewTip;
    }
  }
  return change;
}

std::vector<AcceptResult> ChainState::AcceptBlocks(std::vector<Block> blocks, std::uint64_t now_ms,
                                                   BlockSource source) {
  MutexLock write_lock(write_mutex_);
  std::vector<AcceptResult> results = AcceptBlocksUncounted(std::move(blocks), now_ms, source);
  for (const AcceptResult& r : results) {
    accepted_by_status_[static_cast<std::size_t>(r.status)].fetch_add(1, std::memory_order_relaxed);
    if (r.status == AcceptStatus::kInvalid) {
      invalid_by_error_[static_cast<std::size_t>(r.validation.error)].fetch_add(
          1, std::memory_order_relaxed);
    }
  }
  return results;
}

AcceptCounts ChainState::GetAcceptCounts() const {
  AcceptCounts out;
  for (std::size_t i = 0; i < out.by_status.size(); ++i) {
    out.by_status[i] = accepted_by_status_[i].load(std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < out.invalid_by_error.size(); ++i) {
    out.invalid_by_error[i] = invalid_by_error_[i].load(std::memory_order_relaxed);
  }
  return out;
}

std::vector<AcceptResult> ChainState::AcceptBlocksUncounted(std::vector<Block> blocks,
                                                            std::uint64_t now_ms,
                                                            BlockSource source) {
  std::vector<AcceptResult> results;
  results.reserve(blocks.size());
  if (Failed()) {
    AcceptResult r;
    r.status = AcceptStatus::kStoreFailed;
    r.store_error = "the store failed earlier; the chain accepts no more blocks";
    results.assign(blocks.size(), r);
    return results;
  }
  std::vector<std::vector<Hash32>> txids;
  const std::vector<ValidationResult> context_free = CheckContextFree(blocks, txids);

  Staged staged;
  {
    MutexLock lock(mutex_);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      staged.first_entry.push_back(staged.entries.size());
      results.push_back(StageLocked(std::move(blocks[i]), context_free[i], now_ms, staged));
      // A staged block comes first among those its call staged.
      if (results.back().added > 0 && !txids[i].empty()) {
        staged.txids.emplace(staged.entries[staged.first_entry[i]], std::move(txids[i]));
      }
    }
    staged.old_tip = active_.back();
    staged.best = staged.old_tip;
    for (const BlockIndex* e : staged.entries) {
      if (IsBetterEntry(*e, *staged.best)) staged.best = e;
    }
  }
  if (staged.entries.empty()) return results;

  // Without mutex_: readers go on while coins are checked and committed.
  TipMove move;
  Status committed = PlanTipMove(staged, move);
  const bool no_space = committed && LacksSpaceFor(staged);
  if (committed && !no_space) {
    WriteBatch batch;
    batch.blocks.reserve(staged.blocks.size());
    for (const Block& b : staged.blocks) batch.blocks.push_back(&b);
    if (staged.best != staged.old_tip) batch.tip = staged.best->hash;
    FillCoinWrites(move, batch);
    committed = store_.Commit(batch);
    if (committed && move.coins) coins_.Apply(*move.coins);
  }
  std::optional<TipChange> change;
  {
    MutexLock lock(mutex_);
    change = FinishLocked(staged, committed, no_space, source, results);
  }
  // Still under write_mutex_, so observers hear of changes in commit order.
  if (change.has_value()) {
    assert(change->disconnected.size() == move.disconnect.size() &&
           change->connected.size() == move.connect.size());
    for (const auto& step : move.disconnect) {
      change->disconnected_blocks.push_back({step->block, &step->txids});
    }
    for (const auto& step : move.connect) {
      change->connected_blocks.push_back({step->block, &step->txids});
    }
    for (ChainObserver* o : observers_) o->OnTipChanged(*change);
  }
  return results;
}

AddHeadersResult ChainState::AddHeaders(std::span<const HashedHeader> headers,
                                        std::uint64_t now_ms) {
  AddHeadersResult result;
  MutexLock lock(mutex_);
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const HashedHeader& h = headers[i];
    result.index = i;
    if (BlockIndex* known = FindLocked(h.hash); known != nullptr && known->header == h.header) {
      if (known->failed()) {
        result.validation =
            ValidationResult::Fail(BlockError::kBadParent, "the block or an ancestor is invalid");
        return result;
      }
      result.last = InfoOfLocked(*known);
      continue;
    }
    result.validation = CheckHeaderContextFree(h.header, h.hash, params_);
    if (!result.validation.ok()) return result;
    BlockIndex* parent = FindLocked(h.header.last_hash);
    if (parent == nullptr) {
      result.validation =
          ValidationResult::Fail(BlockError::kBadLastHash, "the parent header is unknown");
      return result;
    }
    if (parent->failed()) {
      result.validation =
          ValidationResult::Fail(BlockError::kBadParent, "the parent block is invalid");
      return result;
    }
    result.validation = CheckBlockContextual(h.header, ContextForLocked(*parent), now_ms, params_);
    if (!result.validation.ok()) return result;
    result.last = InfoOfLocked(*InsertLocked(h.hash, h.header, parent));
    ++result.added;
  }
  result.index = headers.size();
  return result;
}

std::size_t ChainState::KnownPrefix(std::span<const HashedHeader> headers,
                                    std::optional<HeaderInfo>* last) const {
  MutexLock lock(mutex_);
  std::size_t n = 0;
  for (const HashedHeader& h : headers) {
    const BlockIndex* e = FindLocked(h.hash);
    if (e == nullptr || e->failed() || e->header != h.header) break;
    *last = InfoOfLocked(*e);
    ++n;
  }
  return n;
}

std::optional<HeaderAnchor> ChainState::AnchorFor(const Hash32& hash) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(hash);
  if (e == nullptr) return std::nullopt;
  HeaderAnchor anchor;
  anchor.context = ContextForLocked(*e);
  anchor.chain_work = e->chain_work;
  for (const BlockIndex* a = e; a != nullptr && anchor.timestamps.size() < params_.mtp_window;
       a = a->parent) {
    anchor.timestamps.push_back(a->header.timestamp);
  }
  std::reverse(anchor.timestamps.begin(), anchor.timestamps.end());
  anchor.failed = e->failed();
  return anchor;
}

ChainTip ChainState::Tip() const {
  MutexLock lock(mutex_);
  return TipOfLocked(*active_.back());
}

HeaderInfo ChainState::BestHeader() const {
  MutexLock lock(mutex_);
  return InfoOfLocked(*best_header_);
}

std::optional<std::uint64_t> ChainState::StoredHeightOn(const Hash32& hash) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(hash);
  if (e == nullptr) return std::nullopt;
  return LastStoredLocked(*e)->height();
}

bool ChainState::OnBestHeaderChain(const Hash32& hash) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(hash);
  return e != nullptr && best_header_->GetAncestor(e->height()) == e;
}

std::optional<HeaderInfo> ChainState::Header(const Hash32& hash) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(hash);
  if (e == nullptr) return std::nullopt;
  return InfoOfLocked(*e);
}

Hash32 ChainState::GenesisHash() const {
  MutexLock lock(mutex_);
  return active_.front()->hash;
}

std::optional<Hash32> ChainState::HashAtHeight(std::uint64_t height) const {
  MutexLock lock(mutex_);
  if (height >= active_.size()) return std::nullopt;
  return active_[height]->hash;
}

Result<std::optional<Block>> ChainState::BlockAtHeight(std::uint64_t height) const {
  const auto hash = HashAtHeight(height);
  if (!hash) return std::optional<Block>();
  return store_.ReadBlock(*hash);
}

Result<std::optional<Block>> ChainState::BlockByHash(const Hash32& hash) const {
  if (!Contains(hash)) return std::optional<Block>();
  return store_.ReadBlock(hash);
}

Result<std::optional<std::string>> ChainState::BlockJsonAtHeight(std::uint64_t height) const {
  const auto hash = HashAtHeight(height);
  if (!hash) return std::optional<std::string>();
  return store_.ReadBlockJson(*hash);
}

Result<std::optional<std::string>> ChainState::BlockJsonByHash(const Hash32& hash) const {
  if (!Contains(hash)) return std::optional<std::string>();
  return store_.ReadBlockJson(hash);
}

std::vector<Hash32> ChainState::ActiveHashes(std::uint64_t from, std::size_t limit) const {
  MutexLock lock(mutex_);
  std::vector<Hash32> out;
  for (std::uint64_t h = from; h < active_.size() && out.size() < limit; ++h) {
    out.push_back(active_[h]->hash);
  }
  return out;
}

std::vector<Hash32> ChainState::Locator() const {
  MutexLock lock(mutex_);
  return LocatorOfLocked(*active_.back());
}

std::vector<Hash32> ChainState::HeaderLocator() const {
  MutexLock lock(mutex_);
  return LocatorOfLocked(*best_header_);
}

std::vector<Hash32> ChainState::LocateAfter(const std::vector<Hash32>& locator,
                                            std::size_t limit) const {
  MutexLock lock(mutex_);
  const BlockIndex* fork = LocateLocked(locator);
  std::vector<Hash32> out;
  for (std::uint64_t h = fork->height() + 1; h < active_.size() && out.size() < limit; ++h) {
    out.push_back(active_[h]->hash);
  }
  return out;
}

std::vector<HashedHeader> ChainState::HeadersAfter(const std::vector<Hash32>& locator,
                                                   std::size_t limit) const {
  MutexLock lock(mutex_);
  const BlockIndex* fork = LocateLocked(locator);
  std::vector<HashedHeader> out;
  for (std::uint64_t h = fork->height() + 1; h < active_.size() && out.size() < limit; ++h) {
    out.push_back(HashedHeader{active_[h]->header, active_[h]->hash});
  }
  return out;
}

std::vector<Hash32> ChainState::BlocksToDownload(const Hash32& target, std::size_t window) const {
  MutexLock lock(mutex_);
  const BlockIndex* t = FindLocked(target);
  if (t == nullptr || t->has_data() || t->failed() || window == 0) return {};
  const std::uint64_t lo = LastStoredLocked(*t)->height();
  const std::uint64_t top = std::min<std::uint64_t>(t->height(), lo + window);
  std::vector<const BlockIndex*> run;  // heights top down to lo + 1
  for (const BlockIndex* e = t->GetAncestor(top); e->height() > lo; e = e->parent) run.push_back(e);
  std::vector<Hash32> out;
  for (auto it = run.rbegin(); it != run.rend(); ++it) {
    const BlockIndex* e = *it;
    if (e->failed()) break;
    if (storing_.contains(e) || pending_.Contains(e->hash)) continue;
    out.push_back(e->hash);
  }
  return out;
}

bool ChainState::Contains(const Hash32& hash) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(hash);
  return e != nullptr && e->has_data();
}

bool ChainState::HasHeader(const Hash32& hash) const {
  MutexLock lock(mutex_);
  return FindLocked(hash) != nullptr;
}

bool ChainState::IsActive(const Hash32& hash) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(hash);
  return e != nullptr && IsActiveLocked(*e);
}

std::optional<std::vector<Hash32>> ChainState::HashesInChain(const Hash32& tip, std::uint64_t from,
                                                             std::size_t limit) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(tip);
  if (e == nullptr) return std::nullopt;
  std::vector<Hash32> out;
  if (from > e->height() || limit == 0) return out;
  const std::uint64_t last = from + std::min<std::uint64_t>(limit - 1, e->height() - from);
  if (IsActiveLocked(*e)) {
    for (std::uint64_t h = from; h <= last; ++h) out.push_back(active_[h]->hash);
    return out;
  }
  const BlockIndex* walk = e->GetAncestor(last);
  out.resize(last - from + 1);
  for (std::size_t i = out.size(); i > 0; --i, walk = walk->parent) out[i - 1] = walk->hash;
  return out;
}

std::size_t ChainState::BlockCount() const {
  MutexLock lock(mutex_);
  return stored_count_;
}

std::string_view ChainTipKindName(ChainTipInfo::Kind kind) {
  switch (kind) {
    case ChainTipInfo::Kind::kActive:
      return "active";
    case ChainTipInfo::Kind::kValidFork:
      return "valid-fork";
    case ChainTipInfo::Kind::kHeadersOnly:
      return "headers-only";
    case ChainTipInfo::Kind::kInvalid:
      return "invalid";
  }
  return "?";
}

std::vector<ChainTipInfo> ChainState::Tips(std::size_t limit) const {
  MutexLock lock(mutex_);
  if (active_.empty()) return {};
  std::vector<const BlockIndex*> tips(leaves_.begin(), leaves_.end());
  const BlockIndex* active = active_.back();
  // The active tip is a leaf unless headers beyond it are known.
  if (!leaves_.contains(active)) tips.push_back(active);
  const auto higher = [](const BlockIndex* a, const BlockIndex* b) {
    if (a->height() != b->height()) return a->height() > b->height();
    if (a->chain_work != b->chain_work) return a->chain_work > b->chain_work;
    return a->hash < b->hash;
  };
  const std::size_t keep = std::min(limit, tips.size());
  std::partial_sort(tips.begin(), tips.begin() + static_cast<std::ptrdiff_t>(keep), tips.end(),
                    higher);
  tips.resize(keep);
  std::vector<ChainTipInfo> out;
  out.reserve(keep);
  for (const BlockIndex* e : tips) {
    ChainTipInfo info;
    info.hash = e->hash;
    info.height = e->height();
    info.chain_work = e->chain_work;
    const BlockIndex* fork = ActiveAncestorLocked(*e);
    info.fork = fork->hash;
    info.fork_height = fork->height();
    if (e == active) {
      info.kind = ChainTipInfo::Kind::kActive;
    } else if (e->failed()) {
      info.kind = ChainTipInfo::Kind::kInvalid;
    } else if (e->has_data()) {
      info.kind = ChainTipInfo::Kind::kValidFork;
    } else {
      info.kind = ChainTipInfo::Kind::kHeadersOnly;
    }
    out.push_back(info);
  }
  return out;
}

std::size_t ChainState::TipCount() const {
  MutexLock lock(mutex_);
  if (active_.empty()) return leaves_.size();
  return leaves_.size() + (leaves_.contains(active_.back()) ? 0 : 1);
}

std::size_t ChainState::HeaderCount() const {
  MutexLock lock(mutex_);
  return index_.size();
}

std::size_t ChainState::PendingCount() const {
  MutexLock lock(mutex_);
  return pending_.size();
}

bool ChainState::Failed() const {
  MutexLock lock(mutex_);
  return failed_;
}

std::optional<ParentContext> ChainState::ContextFor(const Hash32& hash) const {
  MutexLock lock(mutex_);
  const BlockIndex* e = FindLocked(hash);
  if (e == nullptr) return std::nullopt;
  return ContextForLocked(*e);
}

void ChainState::AddObserver(ChainObserver* observer) {
  MutexLock write_lock(write_mutex_);
  observers_.push_back(observer);
}

void ChainState::RemoveObserver(ChainObserver* observer) {
  // write_mutex_ first: once this returns, no call to `observer` is running.
  MutexLock write_lock(write_mutex_);
  std::erase(observers_, observer);
}

}  // namespace powchain
