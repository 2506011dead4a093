// The block tree and the active chain (docs/consensus.md; how headers and
// blocks arrive: docs/protocol.md, "Headers-first sync").
//
// The tree holds two kinds of node (BlockIndex): blocks whose data is in the
// store, and headers whose data is not (yet). Headers enter the tree only
// through AddHeaders, which the peer layer calls for a chain that has proved
// more work than the active one (HeaderSync); block data then follows along
// them. The active chain ends at the stored block with the most cumulative
// work; ties go to the block stored first.
//
// What is stored: a block whose header is already in the tree (a header
// chain proved its work), or one that brings its chain to at least the
// active tip's work. Anything else is refused unstored (kTooLittleWork), and
// so is a block whose parent is unknown (kUnknownParent): side-branch
// storage never grows without work comparable to the active chain's. A block
// whose parent's data has not arrived yet waits in a bounded pool (kPending)
// and is stored with its parent. When the disk is low, blocks that do not
// move the tip are refused (kNoSpace) before the active chain is affected.
//
// Durability: a block counts as stored, and the tip moves, only once the
// store has committed it; readers see the old tip until then, never a tip
// that is not durable. If a commit fails, the chain refuses every later
// write (Failed() turns true) and keeps serving what it has.
//
// Thread-safety: every public method may be called from any thread. Two
// locks: `write_mutex_` serializes writers of block data (one store commit
// at a time, observers told in commit order); `mutex_` guards the tree and
// the active chain and is held only for work in memory, never across a
// store commit or an observer call. Lock order: write_mutex_, then mutex_.
// Callers may hold their own locks when calling the readers and AddHeaders
// (which take only mutex_), but not when calling AcceptBlock(s).
#pragma once

#include <array>
#include <atomic>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chain/block_index.h"
#include "chain/check_queue.h"
#include "chain/coins_cache.h"
#include "chain/header_sync.h"
#include "chain/notifications.h"
#include "chain/orphans.h"
#include "chain/verified_txs.h"
#include "consensus/params.h"
#include "consensus/validation.h"
#include "consensus/work.h"
#include "primitives/block.h"
#include "storage/block_store.h"
#include "util/hash_map.h"
#include "util/mutex.h"
#include "util/result.h"

namespace powchain {

struct ChainOptions {
  static constexpr std::size_t kDefaultRecheckDepth = 10;
  static constexpr std::size_t kDefaultMaxPending = 8192;
  static constexpr std::size_t kDefaultMaxPendingBytes = std::size_t{64} * 1024 * 1024;
  static constexpr std::uint64_t kDefaultSideDataMinFreeBytes = std::uint64_t{256} * 1024 * 1024;

  // Blocks held while their parent's data is on its way (see OrphanPool).
  std::size_t max_pending = kDefaultMaxPending;
  std::size_t max_pending_bytes = kDefaultMaxPendingBytes;
  // Load() re-checks this many blocks at the top of the active chain in
  // full (data read back, every consensus rule but future drift).
  std::size_t recheck_depth = kDefaultRecheckDepth;
  // Below this much free space in the store, blocks that would not move
  // the tip are refused (kNoSpace), so that side data never fills the disk
  // the active chain needs. Blocks of the best header chain (the chain the
  // node is moving to) are exempt.
  std::uint64_t side_data_min_free_bytes = kDefaultSideDataMinFreeBytes;
  // Threads that check signatures as a block connects, the writer's own
  // included (0: one per core).
  std::size_t verify_threads = 0;
  // Coins kept in memory in front of the store (CoinsCache).
  std::size_t coin_cache_entries = CoinsCache::kDefaultMaxEntries;
  // Txids whose signatures are known valid (VerifiedTxs).
  std::size_t verified_tx_entries = VerifiedTxs::kDefaultMaxEntries;
};

enum class AcceptStatus {
  kNewTip,         // stored and now (part of) the active chain
  kSideBranch,     // stored on a branch with no more work than the active one
  kPending,        // header known, parent's data not yet: held until it comes
  kDuplicate,      // already stored or already held
  kUnknownParent,  // parent unknown: not kept (the caller may fetch headers)
  kTooLittleWork,  // not asked for and its chain has less work than the active tip: not kept
  kNoSpace,        // would not move the tip, and the disk is low: not kept
  kInvalid,        // refused by a consensus rule (see `validation`)
  kStoreFailed,    // the store failed; nothing was acknowledged
};

// A short stable name, e.g. "too-little-work", for logs.
std::string_view AcceptStatusName(AcceptStatus status);

struct AcceptResult {
  AcceptStatus status = AcceptStatus::kInvalid;
  ValidationResult validation;  // the reason when status is kInvalid
  std::string store_error;      // when status is kStoreFailed
  // Blocks stored by this call for this block: the block itself plus any
  // held blocks that were stored behind it.
  std::size_t added = 0;
  // For kUnknownParent: the parent to fetch.
  Hash32 missing_parent{};
  bool ok() const { return status == AcceptStatus::kNewTip || status == AcceptStatus::kSideBranch; }
};

// How many blocks AcceptBlocks has answered with each status, and the
// kInvalid ones by the rule they broke, since the chain was made (for
// metrics).
struct AcceptCounts {
  static constexpr std::size_t kStatuses = static_cast<std::size_t>(AcceptStatus::kStoreFailed) + 1;
  static constexpr std::size_t kErrors = static_cast<std::size_t>(BlockError::kBadGenesis) + 1;
  std::array<std::uint64_t, kStatuses> by_status{};
  std::array<std::uint64_t, kErrors> invalid_by_error{};
};

// What the tree knows of one block.
struct HeaderInfo {
  Hash32 hash{};
  std::uint64_t height = 0;
  Work chain_work = 0;
  bool has_data = false;
  bool failed = false;
};

// One tip of the block tree (GET /tips): a block no other block builds on,
// or the active tip. As Bitcoin Core's getchaintips.
struct ChainTipInfo {
  enum class Kind {
    kActive,  // the active tip
    // Every block of the branch is stored and none is known to break a
    // rule (a side branch's coins are checked when it becomes active).
    kValidFork,
    kHeadersOnly,  // the tip's data is not stored (some of the branch may be)
    kInvalid,      // the tip or an ancestor broke a rule its data shows
  };
  Hash32 hash{};
  std::uint64_t height = 0;
  Work chain_work = 0;
  Hash32 fork{};                  // the highest ancestor on the active chain
  std::uint64_t fork_height = 0;  // its height; height - fork_height is the branch length
  Kind kind = Kind::kHeadersOnly;
};

// "active", "valid-fork", "headers-only" or "invalid".
std::string_view ChainTipKindName(ChainTipInfo::Kind kind);

struct AddHeadersResult {
  std::size_t added = 0;           // headers new to the tree
  ValidationResult validation;     // the first header refused, if any
  std::size_t index = 0;           // its index (headers before it were added)
  std::optional<HeaderInfo> last;  // the last header added or already known
  bool ok() const { return validation.ok(); }
};

class ChainState {
 public:
  ChainState(Params params, BlockStore& store, ChainOptions options = {});
  ChainState(const ChainState&) = delete;
  ChainState& operator=(const ChainState&) = delete;

  // Loads the tree from the store, or writes genesis into an empty store.
  // Must be called once before anything else. Headers are trusted as
  // stored (not re-hashed), except the top `recheck_depth` active blocks,
  // which are read back and checked in full.
  Status Load() EXCLUDES(mutex_);

  // Validates `block` and stores it (see the policy above), reorganizing
  // when it makes a branch heavier than the active one. `now_ms` is the
  // local time for the future-drift check. A block too far in the future
  // is refused now (kInvalid, kTimeTooNew) without being remembered as bad,
  // so the same block may be accepted later.
  AcceptResult AcceptBlock(Block block, std::uint64_t now_ms, BlockSource source = {})
      EXCLUDES(write_mutex_, mutex_);

  // Accepts `blocks` in order with a single store commit for all of them
  // (sync batches). Returns one result per block; if the commit fails,
  // every block that would have been stored reports kStoreFailed.
  std::vector<AcceptResult> AcceptBlocks(std::vector<Block> blocks, std::uint64_t now_ms,
                                         BlockSource source = {}) EXCLUDES(write_mutex_, mutex_);

  // Adds headers to the tree without data, after checking each against its
  // parent (the first one's must be in the tree). The caller decides that
  // the chain deserves it (HeaderSync proved its work). Headers already in
  // the tree are skipped. Stops at the first header refused.
  AddHeadersResult AddHeaders(std::span<const HashedHeader> headers, std::uint64_t now_ms)
      EXCLUDES(mutex_);

  // How many of `headers`, from the first, the tree already holds (valid,
  // with these very headers); `last` receives the last of them.
  std::size_t KnownPrefix(std::span<const HashedHeader> headers,
                          std::optional<HeaderInfo>* last) const EXCLUDES(mutex_);

  // What checking the children of `hash` needs; nullopt when `hash` is not
  // in the tree.
  std::optional<HeaderAnchor> AnchorFor(const Hash32& hash) const EXCLUDES(mutex_);

  ChainTip Tip() const EXCLUDES(mutex_);
  // The most-work header in the tree that is not known to be invalid
  // (the active tip when nothing is being downloaded).
  HeaderInfo BestHeader() const EXCLUDES(mutex_);
  // The height of the last stored block on the chain ending at `hash`
  // (stored blocks form a prefix of every chain); nullopt when `hash` is
  // unknown. O(log² n).
  std::optional<std::uint64_t> StoredHeightOn(const Hash32& hash) const EXCLUDES(mutex_);
  // Whether the block `hash` is the best header or one of its ancestors.
  bool OnBestHeaderChain(const Hash32& hash) const EXCLUDES(mutex_);
  std::optional<HeaderInfo> Header(const Hash32& hash) const EXCLUDES(mutex_);
  const Params& params() const { return params_; }
  Hash32 GenesisHash() const EXCLUDES(mutex_);

  // Active-chain lookups. Block data comes from the store.
  std::optional<Hash32> HashAtHeight(std::uint64_t height) const EXCLUDES(mutex_);
  Result<std::optional<Block>> BlockAtHeight(std::uint64_t height) const EXCLUDES(mutex_);
  // A stored block, on any branch.
  Result<std::optional<Block>> BlockByHash(const Hash32& hash) const EXCLUDES(mutex_);
  // The same blocks' JSON forms as the store keeps them (BlockStore::ReadBlockJson).
  Result<std::optional<std::string>> BlockJsonAtHeight(std::uint64_t height) const EXCLUDES(mutex_);
  Result<std::optional<std::string>> BlockJsonByHash(const Hash32& hash) const EXCLUDES(mutex_);
  // Blocks read from the store by hash, in order, as BlockStore::ReadBlocks
  // (which may stop early: compare the sizes): for runs of hashes got from
  // this tree (HashesInChain, LocateAfter), read more cheaply than one by one.
  Result<std::vector<Block>> ReadBlocks(
      std::span<const Hash32> hashes,
      std::size_t max_data_bytes = std::numeric_limits<std::size_t>::max()) const {
    return store_.ReadBlocks(hashes, max_data_bytes);
  }
  // Their JSON forms, as BlockStore::AppendBlocksJson.
  Result<JsonRun> AppendBlocksJson(
      std::span<const Hash32> hashes, std::string& out,
      std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) const {
    return store_.AppendBlocksJson(hashes, out, max_bytes);
  }
  // Hashes of up to `limit` active blocks starting at `from`.
  std::vector<Hash32> ActiveHashes(std::uint64_t from, std::size_t limit) const EXCLUDES(mutex_);
  // Hashes of up to `limit` blocks at heights from, from+1, ... of the chain
  // ending at `tip` (active or not); nullopt when `tip` is unknown.
  // O(log n + limit) whatever the branch.
  std::optional<std::vector<Hash32>> HashesInChain(const Hash32& tip, std::uint64_t from,
                                                   std::size_t limit) const EXCLUDES(mutex_);

  // A block locator of the active chain: the tip, the nine blocks below it,
  // then hashes spaced back exponentially, and always genesis last. At most
  // about 10 + log2(height) hashes.
  std::vector<Hash32> Locator() const EXCLUDES(mutex_);
  // The same for the chain ending at the best header (what to ask peers
  // for headers after).
  std::vector<Hash32> HeaderLocator() const EXCLUDES(mutex_);

  // For a peer's locator: hashes of up to `limit` active blocks after the
  // last block the locator and the active chain share (the first locator
  // hash this tree knows, or its active ancestor when it is on a side
  // branch; genesis when none is known). O(log² n) whatever the branch.
  std::vector<Hash32> LocateAfter(const std::vector<Hash32>& locator, std::size_t limit) const
      EXCLUDES(mutex_);
  // The same, as headers (the answer to getheaders).
  std::vector<HashedHeader> HeadersAfter(const std::vector<Hash32>& locator,
                                         std::size_t limit) const EXCLUDES(mutex_);

  // Block data to fetch for the chain ending at `target`: hashes of the
  // blocks above the last one stored on that chain, lowest first, at most
  // `window` heights up, without those being stored or held; stops below a
  // block known to be invalid. Empty when `target` is unknown, stored or
  // invalid.
  std::vector<Hash32> BlocksToDownload(const Hash32& target, std::size_t window) const
      EXCLUDES(mutex_);

  // True when the block's data is stored (any branch).
  bool Contains(const Hash32& hash) const EXCLUDES(mutex_);
  // True when the block is in the tree, with or without data.
  bool HasHeader(const Hash32& hash) const EXCLUDES(mutex_);
  bool IsActive(const Hash32& hash) const EXCLUDES(mutex_);
  // Every tip of the tree, highest first (a tie: more work first), at most
  // `limit`. O(tips x log n).
  std::vector<ChainTipInfo> Tips(std::size_t limit) const EXCLUDES(mutex_);
  std::size_t TipCount() const EXCLUDES(mutex_);
  AcceptCounts GetAcceptCounts() const;              // of the tree, the active tip included
  std::size_t BlockCount() const EXCLUDES(mutex_);   // stored blocks
  std::size_t HeaderCount() const EXCLUDES(mutex_);  // every node of the tree
  std::size_t PendingCount() const EXCLUDES(mutex_);
  bool Failed() const EXCLUDES(mutex_);

  // The context a child of `hash` would be checked against; nullopt when
  // `hash` is not in the tree.
  std::optional<ParentContext> ContextFor(const Hash32& hash) const EXCLUDES(mutex_);

  // Checks `txs` as the transactions (after a coinbase) of a block on the
  // active tip: every rule of docs/consensus.md section "Transactions and
  // coins" but the coinbase's, signatures included. What a miner checks
  // before it spends work on them; the block found is checked again.
  // tx_index in the result is the index in `txs`. When valid and `fees` is
  // not null, *fees receives what the transactions pay.
  ValidationResult CheckTxsOnTip(std::span<const Transaction> txs,
                                 std::uint64_t* fees = nullptr) const EXCLUDES(mutex_);

  // The active chain's coins, as blocks are checked against them. They
  // change after a commit, before observers hear of it (a reader may see
  // the new coins a moment before Tip() moves).
  const CoinsCache& coins() const { return coins_; }
  CoinsCache::Stats CoinCacheStats() const { return coins_.stats(); }
  // Transactions whose signatures need no second check: the mempool adds
  // those it verified; connecting a block skips them.
  VerifiedTxs& verified_txs() { return verified_; }
  std::size_t VerifyThreads() const { return checks_.threads(); }

  // Registers an observer (not owned; must outlive this ChainState or be
  // removed first).
  void AddObserver(ChainObserver* observer) EXCLUDES(write_mutex_, mutex_);
  // Once this returns, `observer` is not being called and will not be.
  // Waits for a write in progress; must not be called from an observer.
  void RemoveObserver(ChainObserver* observer) EXCLUDES(write_mutex_, mutex_);

 private:
  struct Staged;    // blocks of one call, on their way to the store
  struct TipMove;   // the blocks and coin changes of a move of the active tip
  struct MoveStep;  // one block of a TipMove

  // Fills `move` with what moving the active tip to staged.best does to
  // the coins: the old branch disconnected, the new one connected and its
  // signatures checked. A block that breaks rule 7 is marked failed (with
  // its descendants), its reason kept in `staged`, and staged.best falls
  // back to the best block still valid; then it tries again. An error is a
  // store that could not be read.
  Status PlanTipMove(Staged& staged, TipMove& move) EXCLUDES(mutex_);
  // One attempt of PlanTipMove: false when a block failed.
  Result<bool> TryTipMove(Staged& staged, TipMove& move) EXCLUDES(mutex_);
  // The coin set and index writes of `move`, into `batch`.
  static void FillCoinWrites(const TipMove& move, WriteBatch& batch);
  // A block leaving or joining the active chain, read from the store, with
  // its txids.
  Result<std::unique_ptr<MoveStep>> ReadMoveStep(const BlockIndex* entry) const;
  // Disconnects `step`'s block from move.coins with its stored undo data
  // (which it keeps) and appends it to move.disconnect.
  Status DisconnectStep(std::unique_ptr<MoveStep> step, TipMove& move) const;
  // The coin changes that take the coin set of block `from` to that of
  // block `to` (both stored), into `move`; no signature is checked.
  Status PlanReplay(const BlockIndex* from, const BlockIndex* to, TipMove& move) const;
  // Reads (or finds among the staged blocks) a block leaving or joining
  // the active chain, with its txids.
  using StepLoader = std::function<Result<std::unique_ptr<MoveStep>>(const BlockIndex*)>;
  // The joining half of TryTipMove: connects `join` in order over
  // move.coins, checking each block's signatures on the queue while the
  // next one connects. False after marking the first bad block invalid.
  Result<bool> ConnectJoining(Staged& staged, TipMove& move,
                              std::span<const BlockIndex* const> join, const StepLoader& load)
      EXCLUDES(mutex_);
  // Marks `entry` failed with reason `v` and moves staged.best back to the
  // best block still valid. Returns false.
  bool MarkInvalid(Staged& staged, const BlockIndex* entry, ValidationResult v) EXCLUDES(mutex_);
  // The result of one block's signature checks (`bad`: the failing
  // check's index, from CheckQueue), as a ValidationResult.
  static ValidationResult SignatureVerdict(const ConnectResult& connect,
                                           std::optional<std::size_t> bad);

  ParentContext ContextForLocked(const BlockIndex& entry) const REQUIRES(mutex_);
  ChainTip TipOfLocked(const BlockIndex& entry) const REQUIRES(mutex_);
  HeaderInfo InfoOfLocked(const BlockIndex& entry) const REQUIRES(mutex_);
  BlockIndex* FindLocked(const Hash32& hash) const REQUIRES(mutex_);
  bool IsActiveLocked(const BlockIndex& entry) const REQUIRES(mutex_) {
    return entry.height() < active_.size() && active_[entry.height()] == &entry;
  }
  // The highest ancestor of `entry` (itself included) on the active chain.
  const BlockIndex* ActiveAncestorLocked(const BlockIndex& entry) const REQUIRES(mutex_);
  // The fork point of a peer's locator with the active chain.
  const BlockIndex* LocateLocked(const std::vector<Hash32>& locator) const REQUIRES(mutex_);
  // The last stored block on the chain ending at `entry`.
  const BlockIndex* LastStoredLocked(const BlockIndex& entry) const REQUIRES(mutex_);
  std::vector<Hash32> LocatorOfLocked(const BlockIndex& tip) const REQUIRES(mutex_);
  // Validates one block and stages it (and any held children) or holds it.
  AcceptResult StageLocked(Block block, const ValidationResult& context_free, std::uint64_t now_ms,
                           Staged& staged) REQUIRES(mutex_);
  BlockIndex* InsertLocked(const Hash32& hash, const BlockHeader& header, BlockIndex* parent)
      REQUIRES(mutex_);
  // Marks `entry` and every descendant invalid; recomputes the best header.
  void MarkFailedLocked(BlockIndex* entry) REQUIRES(mutex_);
  void SetActiveTipLocked(const BlockIndex* tip, TipChange* change) REQUIRES(mutex_);

  // AcceptBlocks, step by step. The context-free checks of `blocks`,
  // skipped for blocks the tree already holds with these very bytes; the
  // txids they computed go to `txids` (empty where skipped), so that
  // connecting a block does not compute them again.
  std::vector<AcceptResult> AcceptBlocksUncounted(std::vector<Block> blocks, std::uint64_t now_ms,
                                                  BlockSource source) EXCLUDES(mutex_)
      REQUIRES(write_mutex_);
  std::vector<ValidationResult> CheckContextFree(const std::vector<Block>& blocks,
                                                 std::vector<std::vector<Hash32>>& txids) const
      EXCLUDES(mutex_);
  // Whether the disk is too full for this batch (see kNoSpace).
  bool LacksSpaceFor(const Staged& staged) const EXCLUDES(mutex_);
  // After the commit (or the refusal): marks the blocks stored, moves the
  // tip and settles each result; returns the tip change to announce.
  std::optional<TipChange> FinishLocked(const Staged& staged, const Status& committed,
                                        bool no_space, BlockSource source,
                                        std::vector<AcceptResult>& results) REQUIRES(mutex_);

  // The top recheck_depth active blocks pass every rule.
  Status RecheckTopLocked() const REQUIRES(mutex_);
  // At load, when the store's coin set and indexes lag behind its tip (a
  // store that defers them stopped without writing them): replays the
  // blocks between the two onto them and commits the result, tip unchanged.
  Status CatchUpCoinsLocked() REQUIRES(mutex_);

  // The index finds entries by block hash while holding only pointers to
  // them: hashing and equality look through the pointer, and lookups take
  // a bare Hash32.
  struct EntryHash {
    using is_transparent = void;
    std::size_t operator()(const BlockIndex* e) const noexcept { return Hash32Hasher{}(e->hash); }
    std::size_t operator()(const Hash32& h) const noexcept { return Hash32Hasher{}(h); }
  };
  struct EntryEq {
    using is_transparent = void;
    bool operator()(const BlockIndex* a, const BlockIndex* b) const noexcept {
      return a->hash == b->hash;
    }
    bool operator()(const Hash32& a, const BlockIndex* b) const noexcept { return a == b->hash; }
    bool operator()(const BlockIndex* a, const Hash32& b) const noexcept { return a->hash == b; }
  };
  // Entries are allocated this many at a time, in order of insertion.
  static constexpr std::size_t kEntriesPerChunk = 2048;

  const Params params_;
  const ChainOptions options_;
  BlockStore& store_;                          // not owned
  Mutex write_mutex_ ACQUIRED_BEFORE(mutex_);  // held by writers of block data
  mutable Mutex mutex_;
  // Every entry, in insertion order (so a parent always before its
  // children): entry i is entry_chunks_[i / k][i % k] (k =
  // kEntriesPerChunk). Entries are never removed, so they never move.
  std::vector<std::unique_ptr<BlockIndex[]>> entry_chunks_ GUARDED_BY(mutex_);
  std::size_t entry_count_ GUARDED_BY(mutex_) = 0;
  boost::unordered_flat_set<BlockIndex*, EntryHash, EntryEq> index_ GUARDED_BY(mutex_);
  // active_[h] is the active block at height h.
  std::vector<const BlockIndex*> active_ GUARDED_BY(mutex_);
  const BlockIndex* best_header_ GUARDED_BY(mutex_) = nullptr;
  // Entries no other entry builds on (the leaves of the tree).
  boost::unordered_flat_set<const BlockIndex*> leaves_ GUARDED_BY(mutex_);
  std::size_t stored_count_ GUARDED_BY(mutex_) = 0;
  // Staged by the writer and being committed: not stored yet, not to fetch.
  boost::unordered_flat_set<const BlockIndex*> storing_ GUARDED_BY(mutex_);
  OrphanPool pending_ GUARDED_BY(mutex_);
  std::uint64_t next_sequence_ GUARDED_BY(mutex_) = 0;
  bool failed_ GUARDED_BY(mutex_) = false;
  std::vector<ChainObserver*> observers_ GUARDED_BY(write_mutex_);  // not owned
  const Hash32 genesis_hash_;
  CoinsCache coins_;      // its own lock; changed only by writers (write_mutex_)
  VerifiedTxs verified_;  // its own lock
  CheckQueue checks_;     // used only by writers (write_mutex_)
  // AcceptCounts, written by writers (write_mutex_), read by anyone.
  std::array<std::atomic<std::uint64_t>, AcceptCounts::kStatuses> accepted_by_status_{};
  std::array<std::atomic<std::uint64_t>, AcceptCounts::kErrors> invalid_by_error_{};
};

}  // namespace powchain
