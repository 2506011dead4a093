// The block tree and the active chain (SPEC section 3).
//
// Every valid block is kept, side branches included. The active chain ends
// at the block with the most cumulative work; ties go to the block seen
// first. Blocks whose parent is unknown wait in a bounded orphan pool and
// connect when the parent arrives. A block enters the tree only after the
// store has committed it, so nothing the chain reports is lost on a crash of
// a durable store. If a commit fails, the chain refuses every later write
// (Failed() turns true) and keeps serving what it has.
//
// Thread-safe: every public method takes the chain's lock.
#pragma once

#include <boost/unordered/unordered_flat_set.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chain/notifications.h"
#include "chain/orphans.h"
#include "consensus/params.h"
#include "consensus/validation.h"
#include "consensus/work.h"
#include "primitives/block.h"
#include "storage/block_store.h"
#include "util/hash_map.h"
#include "util/result.h"

namespace powchain {

struct ChainOptions {
  static constexpr std::size_t kDefaultRecheckDepth = 10;

  std::size_t max_orphans = OrphanPool::kDefaultMaxBlocks;
  std::size_t max_orphan_bytes = OrphanPool::kDefaultMaxBytes;
  // Load() re-checks this many blocks at the top of the active chain in
  // full (data read back, every consensus rule but future drift).
  std::size_t recheck_depth = kDefaultRecheckDepth;
};

enum class AcceptStatus {
  kNewTip,       // stored and now (part of) the active chain
  kSideBranch,   // stored on a branch with no more work than the active one
  kOrphan,       // parent unknown; held in the orphan pool
  kDuplicate,    // already stored or already held as an orphan
  kInvalid,      // refused by a consensus rule (see `validation`)
  kStoreFailed,  // the store failed; nothing was acknowledged
};

struct AcceptResult {
  AcceptStatus status = AcceptStatus::kInvalid;
  ValidationResult validation;  // the reason when status is kInvalid
  std::string store_error;      // when status is kStoreFailed
  // Blocks added to the tree by this call: the block itself plus any orphans
  // that connected behind it.
  std::size_t added = 0;
  // For kOrphan: the parent to fetch.
  Hash32 missing_parent{};
  bool ok() const { return status == AcceptStatus::kNewTip || status == AcceptStatus::kSideBranch; }
};

class ChainState {
 public:
  // One node of the block tree, about 200 bytes: the whole per-block cost
  // of the index, with a pointer-sized slot in the hash set and one in the
  // active chain (block data stays in the store). Entries live as long as
  // the ChainState and never move.
  struct Entry {
    Hash32 hash;
    BlockHeader header;
    Work chain_work;
    const Entry* parent;     // nullptr for genesis
    std::uint64_t sequence;  // order in which blocks entered the tree
  };

  ChainState(Params params, BlockStore& store, ChainOptions options = {});
  ChainState(const ChainState&) = delete;
  ChainState& operator=(const ChainState&) = delete;

  // Loads the tree from the store, or writes genesis into an empty store.
  // Must be called once before anything else. Headers are trusted as
  // stored (not re-hashed), except the top `recheck_depth` active blocks,
  // which are read back and checked in full.
  Status Load();

  // Validates `block` and adds it to the tree, reorganizing when it makes a
  // branch heavier than the active one. `now_ms` is the local time for the
  // future-drift check. A block too far in the future is refused now
  // (kInvalid, kTimeTooNew) without being remembered as bad, so the same
  // block may be accepted later.
  AcceptResult AcceptBlock(Block block, std::uint64_t now_ms,
                           BlockOrigin origin = BlockOrigin::kUnknown);

  // Accepts `blocks` in order with a single store commit for all of them
  // (sync batches). Returns one result per block; if the commit fails,
  // every block that would have been stored reports kStoreFailed.
  std::vector<AcceptResult> AcceptBlocks(std::vector<Block> blocks, std::uint64_t now_ms,
                                         BlockOrigin origin = BlockOrigin::kUnknown);

  ChainTip Tip() const;
  const Params& params() const { return params_; }
  Hash32 GenesisHash() const;

  // Active-chain lookups. Block data comes from the store.
  std::optional<Hash32> HashAtHeight(std::uint64_t height) const;
  Result<std::optional<Block>> BlockAtHeight(std::uint64_t height) const;
  Result<std::optional<Block>> BlockByHash(const Hash32& hash) const;
  // Blocks read from the store by hash, in order, as BlockStore::ReadBlocks
  // (which may stop early: compare the sizes): for runs of hashes got from
  // this tree (HashesInChain, LocateAfter), read more cheaply than one by one.
  Result<std::vector<Block>> ReadBlocks(
      std::span<const Hash32> hashes,
      std::size_t max_data_bytes = std::numeric_limits<std::size_t>::max()) const {
    return store_.ReadBlocks(hashes, max_data_bytes);
  }
  // Hashes of up to `limit` active blocks starting at `from`.
  std::vector<Hash32> ActiveHashes(std::uint64_t from, std::size_t limit) const;
  // Hashes of up to `limit` blocks at heights from, from+1, ... of the chain
  // ending at `tip` (active or not); nullopt when `tip` is unknown. Fast
  // while `tip` is active; otherwise walks back from `tip`.
  std::optional<std::vector<Hash32>> HashesInChain(const Hash32& tip, std::uint64_t from,
                                                   std::size_t limit) const;

  // A block locator of the active chain: the tip, the nine blocks below it,
  // then hashes spaced back exponentially, and always genesis last. At most
  // about 10 + log2(height) hashes.
  std::vector<Hash32> Locator() const;
  // The locator Locator() will return once `appended` (hashes of a run of
  // blocks, the first a child of `parent`, each the next's parent) has
  // joined the active chain; nullopt unless `parent` is the active tip. For
  // asking a peer for the blocks after a batch while the batch is still
  // being checked.
  std::optional<std::vector<Hash32>> LocatorWith(const Hash32& parent,
                                                 std::span<const Hash32> appended) const;

  // For a peer's locator: hashes of up to `limit` active blocks after the
  // last block the locator and the active chain share (the first locator
  // hash this tree knows, or its active ancestor when it is on a side
  // branch; genesis when none is known).
  std::vector<Hash32> LocateAfter(const std::vector<Hash32>& locator, std::size_t limit) const;

  // True when the block is in the tree (any branch).
  bool Contains(const Hash32& hash) const;
  bool IsActive(const Hash32& hash) const;
  std::size_t BlockCount() const;
  std::size_t OrphanCount() const;
  bool Failed() const;

  // The context a child of `hash` would be checked against; nullopt when
  // `hash` is not in the tree.
  std::optional<ParentContext> ContextFor(const Hash32& hash) const;

  // Registers an observer (not owned; must outlive this ChainState or be
  // removed first).
  void AddObserver(ChainObserver* observer);
  void RemoveObserver(ChainObserver* observer);

 private:
  struct Staged;  // blocks of one call, added to the tree before commit

  ParentContext ContextForLocked(const Entry& entry) const;
  ChainTip TipOfLocked(const Entry& entry) const;
  const Entry* FindLocked(const Hash32& hash) const;
  bool IsActiveLocked(const Entry& entry) const {
    return entry.header.height < active_.size() && active_[entry.header.height] == &entry;
  }
  // Validates and stages one block plus any orphans it releases.
  AcceptResult StageLocked(Block block, std::uint64_t now_ms, Staged& staged);
  const Entry* InsertEntryLocked(const Hash32& hash, const BlockHeader& header,
                                 const Entry* parent);
  // Removes `entry` from the tree; it must be the newest entry.
  void RemoveNewestEntryLocked(const Entry* entry);
  // Commits what `staged` holds and moves the tip; on failure undoes it.
  Status CommitLocked(Staged& staged, BlockOrigin origin);
  void SetActiveTipLocked(const Entry* tip, TipChange* change);

  // The top recheck_depth active blocks pass every rule; requires mutex_.
  Status RecheckTopLocked() const;

  // The index finds entries by block hash while holding only pointers to
  // them: hashing and equality look through the pointer, and lookups take
  // a bare Hash32.
  struct EntryHash {
    using is_transparent = void;
    std::size_t operator()(const Entry* e) const noexcept { return Hash32Hasher{}(e->hash); }
    std::size_t operator()(const Hash32& h) const noexcept { return Hash32Hasher{}(h); }
  };
  struct EntryEq {
    using is_transparent = void;
    bool operator()(const Entry* a, const Entry* b) const noexcept { return a->hash == b->hash; }
    bool operator()(const Hash32& a, const Entry* b) const noexcept { return a == b->hash; }
    bool operator()(const Entry* a, const Hash32& b) const noexcept { return a->hash == b; }
  };
  // Entries are allocated this many at a time, in order of insertion.
  static constexpr std::size_t kEntriesPerChunk = 2048;

  const Params params_;
  const ChainOptions options_;
  BlockStore& store_;  // not owned
  mutable std::mutex mutex_;
  // Every entry, in insertion order: entry i is entry_chunks_[i / k][i % k]
  // (k = kEntriesPerChunk). Only the newest entries are ever removed (a
  // failed commit), so the storage never moves and never has holes.
  std::vector<std::unique_ptr<Entry[]>> entry_chunks_;
  std::size_t entry_count_ = 0;
  boost::unordered_flat_set<const Entry*, EntryHash, EntryEq> index_;
  std::vector<const Entry*> active_;  // active_[h] is the active block at height h
  OrphanPool orphans_;
  std::uint64_t next_sequence_ = 0;
  bool failed_ = false;
  std::vector<ChainObserver*> observers_;  // not owned
};

}  // namespace powchain
