#include "chain/chainstate.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "util/hex.h"

namespace powchain {
namespace {

// Fork choice (SPEC section 3): more cumulative work wins; on a tie, the
// block that entered the tree first.
bool IsBetter(const ChainState::Entry& a, const ChainState::Entry& b) {
  if (a.chain_work != b.chain_work) return a.chain_work > b.chain_work;
  return a.sequence < b.sequence;
}

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

}  // namespace

struct ChainState::Staged {
  std::vector<Block> blocks;          // in insertion order, parents first
  std::vector<const Entry*> entries;  // entries[i] belongs to blocks[i]
};

ChainState::ChainState(Params params, BlockStore& store, ChainOptions options)
    : params_(std::move(params)),
      options_(options),
      store_(store),
      orphans_(options.max_orphans, options.max_orphan_bytes) {}

Status ChainState::Load() {
  std::lock_guard lock(mutex_);
  assert(index_.empty());
  const Block genesis = MakeGenesis(params_);

  auto tip = store_.ReadTip();
  if (!tip) return Error{"cannot read the chain tip: " + tip.error()};

  std::string load_error;
  Status read = store_.ForEachHeader([&](const Hash32& hash, const BlockHeader& header) {
    if (!load_error.empty()) return;
    if (index_.empty()) {
      if (hash != genesis.hash) {
        load_error = "the store holds a chain of another network (genesis " + HexEncode(hash) +
                     ", expected " + HexEncode(genesis.hash) + " for " + params_.network + ")";
        return;
      }
      InsertEntryLocked(hash, header, nullptr);
      return;
    }
    const Entry* parent = FindLocked(header.last_hash);
    if (parent == nullptr) {
      load_error = "the store is inconsistent: block " + HexEncode(hash) + " has no parent";
      return;
    }
    InsertEntryLocked(hash, header, parent);
  });
  if (!read) return Error{"cannot read the block index: " + read.error()};
  if (!load_error.empty()) return Error{load_error};

  if (index_.empty()) {
    WriteBatch batch;
    batch.blocks.push_back(&genesis);
    batch.tip = genesis.hash;
    Status s = store_.Commit(batch);
    if (!s) return Error{"cannot store the genesis block: " + s.error()};
    SetActiveTipLocked(InsertEntryLocked(genesis.hash, genesis.header, nullptr), nullptr);
    return {};
  }

  if (!tip->has_value()) return Error{"the store has blocks but no tip"};
  const Entry* tip_entry = FindLocked(**tip);
  if (tip_entry == nullptr) {
    return Error{"the store's tip " + HexEncode(**tip) + " is not among its blocks"};
  }
  SetActiveTipLocked(tip_entry, nullptr);
  return RecheckTopLocked();
}

Status ChainState::RecheckTopLocked() const {
  // Stored blocks were valid when they arrived; future drift is a rule of
  // arrival, so `now` is set where it cannot fail.
  const std::uint64_t now = std::numeric_limits<std::uint64_t>::max() - params_.max_future_drift_ms;
  const std::size_t top = active_.size() - 1;
  for (std::size_t h = top; h > 0 && top - h < options_.recheck_depth; --h) {
    const Entry& entry = *active_[h];
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

const ChainState::Entry* ChainState::FindLocked(const Hash32& hash) const {
  auto it = index_.find(hash);
  return it == index_.end() ? nullptr : *it;
}

const ChainState::Entry* ChainState::InsertEntryLocked(const Hash32& hash,
                                                       const BlockHeader& header,
                                                       const Entry* parent) {
  if (entry_count_ == entry_chunks_.size() * kEntriesPerChunk) {
    entry_chunks_.push_back(std::make_unique<Entry[]>(kEntriesPerChunk));
  }
  Entry& entry = entry_chunks_[entry_count_ / kEntriesPerChunk][entry_count_ % kEntriesPerChunk];
  ++entry_count_;
  entry.hash = hash;
  entry.header = header;
  const Work own = BlockWork(std::min(header.difficulty, params_.max_difficulty));
  entry.chain_work = parent != nullptr ? AddWork(parent->chain_work, own) : own;
  entry.parent = parent;
  entry.sequence = next_sequence_++;
  index_.insert(&entry);
  return &entry;
}

void ChainState::RemoveNewestEntryLocked(const Entry* entry) {
  assert(entry_count_ > 0 && entry == &entry_chunks_[(entry_count_ - 1) / kEntriesPerChunk]
                                                    [(entry_count_ - 1) % kEntriesPerChunk]);
  index_.erase(entry->hash);
  --entry_count_;
}

ParentContext ChainState::ContextForLocked(const Entry& entry) const {
  std::uint64_t window[64];
  const std::size_t cap = std::min<std::size_t>(params_.mtp_window, std::size(window));
  std::size_t n = 0;
  for (const Entry* e = &entry; e != nullptr && n < cap; e = e->parent) {
    window[n++] = e->header.timestamp;
  }
  return ParentContext{entry.header, entry.hash, MedianTimePast(std::span(window, n))};
}

ChainTip ChainState::TipOfLocked(const Entry& entry) const {
  return ChainTip{ContextForLocked(entry), entry.chain_work};
}

AcceptResult ChainState::StageLocked(Block block, std::uint64_t now_ms, Staged& staged) {
  AcceptResult result;
  // A duplicate is a known hash that matches its header. The lookups come
  // first: the hash is recomputed only for a known one, since a new block
  // pays for that in CheckBlockContextFree below.
  if ((FindLocked(block.hash) != nullptr || orphans_.Contains(block.hash)) &&
      block.header.ComputeHash() == block.hash) {
    result.status = AcceptStatus::kDuplicate;
    return result;
  }
  result.validation = CheckBlockContextFree(block, params_);
  if (!result.validation.ok()) {
    result.status = AcceptStatus::kInvalid;
    return result;
  }
  const Entry* parent = FindLocked(block.header.last_hash);
  if (parent == nullptr) {
    result.status = AcceptStatus::kOrphan;
    result.missing_parent = block.header.last_hash;
    orphans_.Add(std::move(block));
    return result;
  }
  result.validation =
      CheckBlockContextual(block.header, ContextForLocked(*parent), now_ms, params_);
  if (!result.validation.ok()) {
    result.status = AcceptStatus::kInvalid;
    return result;
  }

  // The block is valid: stage it, then every orphan waiting on it (and on
  // those, breadth first). An orphan that fails its contextual checks is
  // dropped; its own waiting children stay in the pool until evicted.
  std::vector<Block> pending;
  pending.push_back(std::move(block));
  for (std::size_t i = 0; i < pending.size(); ++i) {
    Block& b = pending[i];
    const Entry* p = FindLocked(b.header.last_hash);
    if (i > 0 && !CheckBlockContextual(b.header, ContextForLocked(*p), now_ms, params_).ok()) {
      continue;
    }
    const Entry* entry = InsertEntryLocked(b.hash, b.header, p);
    std::vector<Block> children = orphans_.TakeChildren(entry->hash);
    staged.entries.push_back(entry);
    staged.blocks.push_back(std::move(b));
    ++result.added;
    for (Block& c : children) pending.push_back(std::move(c));
  }
  result.status = AcceptStatus::kSideBranch;  // CommitLocked may promote it
  return result;
}

Status ChainState::CommitLocked(Staged& staged, BlockOrigin origin) {
  if (staged.entries.empty()) return {};
  const Entry* old_tip = active_.back();
  const Entry* best = old_tip;
  for (const Entry* e : staged.entries) {
    if (IsBetter(*e, *best)) best = e;
  }

  WriteBatch batch;
  batch.blocks.reserve(staged.blocks.size());
  for (const Block& b : staged.blocks) batch.blocks.push_back(&b);
  if (best != old_tip) batch.tip = best->hash;

  Status s = store_.Commit(batch);
  if (!s) {
    // Nothing refers to the staged entries yet, and they are the newest:
    // drop them, newest first.
    for (auto it = staged.entries.rbegin(); it != staged.entries.rend(); ++it) {
      RemoveNewestEntryLocked(*it);
    }
    failed_ = true;
    spdlog::critical(
        "the block store failed to commit: {}; no further block is accepted, "
        "mined or acknowledged (what was committed is intact)",
        s.error());
    return s;
  }
  if (best != old_tip) {
    TipChange change;
    change.origin = origin;
    change.old_tip = TipOfLocked(*old_tip);
    SetActiveTipLocked(best, &change);
    change.new_tip = TipOfLocked(*best);
    for (ChainObserver* o : observers_) o->OnTipChanged(change);
  }
  return {};
}

void ChainState::SetActiveTipLocked(const Entry* tip, TipChange* change) {
  std::vector<const Entry*> path;  // new active blocks above the fork, tip first
  const Entry* e = tip;
  while (e != nullptr && !IsActiveLocked(*e)) {
    path.push_back(e);
    e = e->parent;
  }
  const std::size_t keep = e == nullptr ? 0 : e->header.height + 1;
  if (change != nullptr) {
    for (std::size_t h = active_.size(); h > keep; --h) {
      change->disconnected.push_back(active_[h - 1]->hash);
    }
    for (auto it = path.rbegin(); it != path.rend(); ++it) change->connected.push_back((*it)->hash);
  }
  active_.resize(keep);
  for (auto it = path.rbegin(); it != path.rend(); ++it) active_.push_back(*it);
}

AcceptResult ChainState::AcceptBlock(Block block, std::uint64_t now_ms, BlockOrigin origin) {
  std::vector<Block> one;
  one.push_back(std::move(block));
  return std::move(AcceptBlocks(std::move(one), now_ms, origin).front());
}

std::vector<AcceptResult> ChainState::AcceptBlocks(std::vector<Block> blocks, std::uint64_t now_ms,
                                                   BlockOrigin origin) {
  std::lock_guard lock(mutex_);
  std::vector<AcceptResult> results;
  results.reserve(blocks.size());
  if (failed_) {
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      AcceptResult r;
      r.status = AcceptStatus::kStoreFailed;
      r.store_error = "the store failed earlier; the chain accepts no more blocks";
      results.push_back(std::move(r));
    }
    return results;
  }
  Staged staged;
  std::vector<std::size_t> first_entry;  // index into staged.entries per result
  for (Block& b : blocks) {
    first_entry.push_back(staged.entries.size());
    results.push_back(StageLocked(std::move(b), now_ms, staged));
  }
  Status s = CommitLocked(staged, origin);
  for (std::size_t i = 0; i < results.size(); ++i) {
    AcceptResult& r = results[i];
    if (r.status != AcceptStatus::kSideBranch) continue;
    if (!s) {
      r.status = AcceptStatus::kStoreFailed;
      r.store_error = s.error();
      r.added = 0;
      continue;
    }
    if (IsActiveLocked(*staged.entries[first_entry[i]])) r.status = AcceptStatus::kNewTip;
  }
  return results;
}

ChainTip ChainState::Tip() const {
  std::lock_guard lock(mutex_);
  return TipOfLocked(*active_.back());
}

Hash32 ChainState::GenesisHash() const {
  std::lock_guard lock(mutex_);
  return active_.front()->hash;
}

std::optional<Hash32> ChainState::HashAtHeight(std::uint64_t height) const {
  std::lock_guard lock(mutex_);
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

std::vector<Hash32> ChainState::ActiveHashes(std::uint64_t from, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<Hash32> out;
  for (std::uint64_t h = from; h < active_.size() && out.size() < limit; ++h) {
    out.push_back(active_[h]->hash);
  }
  return out;
}

std::vector<Hash32> ChainState::Locator() const {
  std::lock_guard lock(mutex_);
  return MakeLocator(active_.size() - 1, [this](std::uint64_t h) { return active_[h]->hash; });
}

std::optional<std::vector<Hash32>> ChainState::LocatorWith(const Hash32& parent,
                                                           std::span<const Hash32> appended) const {
  std::lock_guard lock(mutex_);
  if (active_.back()->hash != parent) return std::nullopt;
  const std::uint64_t base = active_.size();  // the height of appended[0]
  return MakeLocator(base + appended.size() - 1, [&](std::uint64_t h) {
    return h >= base ? appended[h - base] : active_[h]->hash;
  });
}

std::vector<Hash32> ChainState::LocateAfter(const std::vector<Hash32>& locator,
                                            std::size_t limit) const {
  std::lock_guard lock(mutex_);
  const Entry* fork = active_.front();
  for (const Hash32& h : locator) {
    const Entry* e = FindLocked(h);
    if (e == nullptr) continue;
    while (!IsActiveLocked(*e)) e = e->parent;  // genesis is always active
    fork = e;
    break;
  }
  std::vector<Hash32> out;
  for (std::uint64_t h = fork->header.height + 1; h < active_.size() && out.size() < limit; ++h) {
    out.push_back(active_[h]->hash);
  }
  return out;
}

bool ChainState::Contains(const Hash32& hash) const {
  std::lock_guard lock(mutex_);
  return FindLocked(hash) != nullptr;
}

bool ChainState::IsActive(const Hash32& hash) const {
  std::lock_guard lock(mutex_);
  const Entry* e = FindLocked(hash);
  return e != nullptr && IsActiveLocked(*e);
}

std::optional<std::vector<Hash32>> ChainState::HashesInChain(const Hash32& tip, std::uint64_t from,
                                                             std::size_t limit) const {
  std::lock_guard lock(mutex_);
  const Entry* e = FindLocked(tip);
  if (e == nullptr) return std::nullopt;
  std::vector<Hash32> out;
  if (from > e->header.height || limit == 0) return out;
  const std::uint64_t last = from + std::min<std::uint64_t>(limit - 1, e->header.height - from);
  if (IsActiveLocked(*e)) {
    for (std::uint64_t h = from; h <= last; ++h) out.push_back(active_[h]->hash);
    return out;
  }
  while (e->header.height > last) e = e->parent;
  out.resize(last - from + 1);
  for (std::size_t i = out.size(); i > 0; --i, e = e->parent) out[i - 1] = e->hash;
  return out;
}

std::size_t ChainState::BlockCount() const {
  std::lock_guard lock(mutex_);
  return index_.size();
}

std::size_t ChainState::OrphanCount() const {
  std::lock_guard lock(mutex_);
  return orphans_.size();
}

bool ChainState::Failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

std::optional<ParentContext> ChainState::ContextFor(const Hash32& hash) const {
  std::lock_guard lock(mutex_);
  const Entry* e = FindLocked(hash);
  if (e == nullptr) return std::nullopt;
  return ContextForLocked(*e);
}

void ChainState::AddObserver(ChainObserver* observer) {
  std::lock_guard lock(mutex_);
  observers_.push_back(observer);
}

void ChainState::RemoveObserver(ChainObserver* observer) {
  std::lock_guard lock(mutex_);
  std::erase(observers_, observer);
}

}  // namespace powchain
