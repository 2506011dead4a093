// The mempool: transactions valid on the active chain, waiting for a block
// (docs/mempool.md).
//
// A transaction enters only if it is valid on the active tip plus the pool
// (its inputs are coins of the chain or outputs of pool transactions that
// nothing else in the pool spends), pays at least the fee floor per byte of
// canonical size, and keeps every chain of unconfirmed transactions within
// the ancestor and descendant caps. The first transaction seen wins a
// conflict: there is no replacement. When the pool's bytes pass the cap, the
// transaction with the lowest descendant fee rate goes, with its
// descendants, and the floor rises above it (decaying back with time).
// Entries older than the expiry go too. A peer's transaction whose parent
// is unknown waits in a small orphan pool.
//
// On a new tip, confirmed transactions leave and so do those that conflict
// with the block (with their descendants); on a reorganization the
// disconnected blocks' transactions come back where still valid and those
// no longer valid (an input gone, a coinbase no longer mature) leave.
//
// Signatures are checked without the pool's lock and at most once: a
// transaction that passes goes into the chain's VerifiedTxs, so the block
// that confirms it connects without checking it again.
//
// Thread-safety: every public method may be called from any thread. Lock
// order: the chain's writer lock (held while OnTipChanged runs), then the
// pool's `mutex_`, then the chain's tree and coin locks. Listeners are
// called without the pool's lock.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/tx_check.h"
#include "mempool/orphan_txs.h"
#include "util/clock.h"
#include "util/hash_map.h"
#include "util/mutex.h"
#include "util/result.h"

namespace powchain {

class PrefetchedView;

struct MempoolOptions {
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{64} * 1024 * 1024;
  static constexpr std::uint64_t kDefaultMinFeeRate = 1;  // units per byte
  static constexpr std::size_t kDefaultMaxAncestors = 25;
  static constexpr std::size_t kDefaultMaxDescendants = 25;
  static constexpr std::uint64_t kDefaultExpiryMs = std::uint64_t{336} * 3600 * 1000;  // 2 weeks
  static constexpr std::size_t kDefaultMaxOrphans = 100;
  static constexpr std::size_t kDefaultMaxOrphanBytes = std::size_t{5} * 1024 * 1024;
  static constexpr std::uint64_t kDefaultOrphanExpiryMs = std::uint64_t{20} * 60 * 1000;

  // Canonical bytes of every pool transaction together.
  std::size_t max_bytes = kDefaultMaxBytes;
  // The fee floor: units of fee per byte of canonical size.
  std::uint64_t min_fee_rate = kDefaultMinFeeRate;
  // A transaction with its unconfirmed ancestors, and one with its
  // unconfirmed descendants, counts at most this many (itself included).
  std::size_t max_ancestors = kDefaultMaxAncestors;
  std::size_t max_descendants = kDefaultMaxDescendants;
  std::uint64_t expiry_ms = kDefaultExpiryMs;
  std::size_t max_orphans = kDefaultMaxOrphans;
  std::size_t max_orphan_bytes = kDefaultMaxOrphanBytes;
  std::uint64_t orphan_expiry_ms = kDefaultOrphanExpiryMs;
  // After an eviction the floor is the evicted fee rate plus this; it then
  // halves every `floor_half_life_ms` until it is back at min_fee_rate.
  std::uint64_t floor_increment = 1;
  std::uint64_t floor_half_life_ms = std::uint64_t{12} * 3600 * 1000;
};

// Why a transaction was not taken.
enum class MempoolError {
  kNone,
  kInvalid,           // breaks a consensus rule (tx_error says which)
  kCoinbase,          // a coinbase: valid only in a block
  kAlreadyConfirmed,  // its outputs are in the chain's coin set
  kConflict,          // spends an output a pool transaction already spends
  kMissingInputs,     // an input names a transaction nobody knows (held as an orphan for peers)
  kFeeTooLow,         // below the fee floor
  kTooLongChain,      // over the ancestor or descendant cap
  kPoolFull,          // evicted at once: its fee rate is the lowest in a full pool
};

// A short stable name, e.g. "fee-too-low"; for kInvalid, the TxError's.
std::string_view MempoolErrorName(MempoolError e, TxError tx_error);

struct MempoolResult {
  enum class Status {
    kAccepted,   // in the pool now
    kDuplicate,  // was in the pool already
    kOrphan,     // held until its parent arrives
    kRejected,   // see `error`
  };
  Status status = Status::kRejected;
  MempoolError error = MempoolError::kNone;
  TxError tx_error = TxError::kNone;  // for kInvalid
  std::string message;
  Hash32 txid{};
  bool ok() const { return status == Status::kAccepted || status == Status::kDuplicate; }
  std::string_view reason() const { return MempoolErrorName(error, tx_error); }
  // The sender broke a consensus rule that no chain state excuses (a bad
  // signature, a malformed transaction): peers are punished for it.
  bool Punishable() const;
};

// One pool transaction as readers see it.
struct MempoolEntryInfo {
  TxRef tx;
  Hash32 txid{};
  std::size_t size = 0;  // canonical bytes
  std::uint64_t fee = 0;
  std::uint64_t time_ms = 0;  // when it entered
  // Itself with its unconfirmed ancestors.
  std::size_t ancestor_count = 0;
  std::size_t ancestor_size = 0;
  std::uint64_t ancestor_fee = 0;
  std::vector<Hash32> parents;  // unconfirmed parents
};

struct MempoolStats {
  std::size_t count = 0;
  std::size_t bytes = 0;  // canonical bytes
  std::uint64_t fees = 0;
  std::uint64_t fee_floor = 0;  // units per byte a new transaction must pay now
  std::size_t orphans = 0;
  std::size_t max_bytes = 0;
  std::uint64_t accepted = 0;  // since start
  std::uint64_t rejected = 0;
  std::uint64_t evicted = 0;
  std::uint64_t expired = 0;
};

// Transactions chosen for a block, in an order valid to connect.
struct BlockTemplateTxs {
  std::vector<TxRef> txs;
  std::size_t bytes = 0;
  std::uint64_t fees = 0;
};

class MempoolListener {
 public:
  virtual ~MempoolListener() = default;
  // A transaction entered the pool; `peer` sent it (0: not a peer). Called
  // without the pool's lock, from the accepting thread; must be quick.
  virtual void OnTxAccepted(const TxRef& tx, const Hash32& txid, std::uint64_t peer) = 0;
};

class Mempool final : public ChainObserver {
 public:
  // `chain` and `clock` are not owned and must outlive the pool. The pool
  // is in step with the chain's tip at construction; register it as the
  // chain's observer (before the miner) to keep it so.
  Mempool(ChainState& chain, const Clock& clock, MempoolOptions options = {});
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;

  // Checks `tx` and takes it into the pool (see above). `peer` is the
  // sending peer (0 for a local submission): only a peer's transaction with
  // unknown inputs is held as an orphan; a local one is refused. Orphans
  // the new transaction was the missing parent of are tried next; each
  // accepted transaction is announced to the listeners.
  MempoolResult Accept(Transaction tx, std::uint64_t peer = 0) EXCLUDES(mutex_);

  // Readers.
  std::optional<MempoolEntryInfo> Get(const Hash32& txid) const EXCLUDES(mutex_);
  bool Contains(const Hash32& txid) const EXCLUDES(mutex_);
  bool HasOrphan(const Hash32& txid) const EXCLUDES(mutex_);
  MempoolStats Stats() const EXCLUDES(mutex_);
  // Up to `limit` entries, highest ancestor fee rate first (the order a
  // block would take them in, but for the block's size).
  std::vector<MempoolEntryInfo> ByFeeRate(std::size_t limit) const EXCLUDES(mutex_);
  // Txids of up to `limit` entries, in an order valid to connect (parents
  // first): what a peer that connects is told of.
  std::vector<Hash32> Txids(std::size_t limit) const EXCLUDES(mutex_);
  // What the pool adds to and takes from `key`'s balance: outputs paying it
  // minus coins of it that pool transactions spend.
  std::int64_t UnconfirmedBalance(const XOnlyPubKey& key) const EXCLUDES(mutex_);
  // The pool transaction spending `outpoint`, if any.
  std::optional<Hash32> SpentBy(const OutPoint& outpoint) const EXCLUDES(mutex_);

  // The transactions for a block on `parent` with room for `max_bytes` of
  // them: the best ancestor fee rate first, each after its unconfirmed
  // parents. Empty when the pool is not in step with `parent` (a tip change
  // not yet applied).
  BlockTemplateTxs SelectForBlock(const Hash32& parent, std::size_t max_bytes) const
      EXCLUDES(mutex_);

  // Drops entries older than the expiry and orphans whose time is up;
  // called on every Accept and tip change, and by the node's timer.
  void Expire() EXCLUDES(mutex_);

  // Saves the pool to `path` (written beside it, synced, renamed into
  // place: a crash leaves the old file or the new one). Loading re-checks
  // every transaction as Accept does, keeping its entry time; a missing
  // file is an empty pool, a damaged one an error naming it.
  Status Save(const std::filesystem::path& path) const EXCLUDES(mutex_);
  struct LoadResult {
    std::size_t read = 0;
    std::size_t accepted = 0;
  };
  Result<LoadResult> Load(const std::filesystem::path& path) EXCLUDES(mutex_);

  // Not owned; must outlive the pool or be removed first.
  void AddListener(MempoolListener* listener) EXCLUDES(mutex_);
  void RemoveListener(MempoolListener* listener) EXCLUDES(mutex_);

  void OnTipChanged(const TipChange& change) override EXCLUDES(mutex_);

 private:
  struct Entry;
  // Eviction order: lowest descendant score first (the better of its own
  // fee rate and that of it with its descendants), newest first on ties.
  struct EvictionLess {
    bool operator()(const Entry* a, const Entry* b) const;
  };
  using ScoreIndex = std::set<Entry*, EvictionLess>;
  // By (entry time, sequence): unique keys, so an entry is found in O(log n)
  // even when many share a time (a reorganization re-adds a block's
  // transactions within one millisecond).
  using TimeIndex = std::map<std::pair<std::uint64_t, std::uint64_t>, Entry*>;
  struct Entry {
    TxRef tx;
    Hash32 txid{};
    std::size_t size = 0;
    std::uint64_t fee = 0;
    std::uint64_t time_ms = 0;
    std::uint64_t sequence = 0;  // order of entry, for ties
    std::vector<Entry*> parents;
    std::vector<Entry*> children;
    // The coins it spends, as they were when it entered (for balances).
    std::vector<Coin> spent;
    // Totals over itself and its pool ancestors / descendants.
    std::size_t ancestor_count = 1;
    std::size_t ancestor_size = 0;
    std::uint64_t ancestor_fee = 0;
    std::size_t descendant_count = 1;
    std::size_t descendant_size = 0;
    std::uint64_t descendant_fee = 0;
    // Its places in by_score_ and by_time_, so that leaving them costs no
    // search (a block takes thousands of entries out at once).
    ScoreIndex::iterator score_it;
    TimeIndex::iterator time_it;
  };
  // What Accept's checks found, kept for the insert.
  struct Checked {
    std::uint64_t fee = 0;
    std::vector<Coin> spent;
    std::vector<Entry*> parents;
    std::vector<SigCheck> sig_checks;
    std::vector<Hash32> missing;  // parents nobody knows (kMissingInputs)
  };
  struct Announcement {
    TxRef tx;
    Hash32 txid{};
    std::uint64_t peer = 0;
  };
  struct Candidate {
    TxRef tx;
    Hash32 txid{};
    std::size_t size = 0;
    std::uint64_t peer = 0;
    std::uint64_t time_ms = 0;  // 0: now
  };
  enum class Mode {
    kNew,    // a submission: every policy applies
    kReorg,  // back from a disconnected block: no fee floor, no orphan
    kLoad,   // from the saved pool: time kept
  };

  // Accept for one transaction; orphans it unlocks are added to `more`.
  MempoolResult AcceptOne(const Candidate& c, Mode mode, std::vector<Candidate>* more,
                          std::vector<Announcement>* announce) EXCLUDES(mutex_);
  // Every check but signatures, against the chain's coins and the pool.
  MempoolResult CheckLocked(const Candidate& c, Mode mode, bool want_sigs, Checked* out)
      REQUIRES(mutex_);
  // CheckLocked, step by step. The coins the inputs spend into `view` and
  // the pool parents into out->parents; a result when that settles it
  // (a conflict, missing inputs, ...).
  std::optional<MempoolResult> GatherInputsLocked(const Candidate& c, Mode mode,
                                                  PrefetchedView* view, Checked* out)
      REQUIRES(mutex_);
  // Why a child of `parents` would break the ancestor or descendant cap
  // (empty: it would not).
  std::string ChainLimitsLocked(const std::vector<Entry*>& parents) const REQUIRES(mutex_);
  Entry* InsertLocked(const Candidate& c, Checked checked) REQUIRES(mutex_);
  // Removes `entries` and every descendant of them.
  std::size_t RemoveWithDescendantsLocked(std::vector<Entry*> entries) REQUIRES(mutex_);
  // Removes exactly `doomed` (closed under descendants, or confirmed
  // transactions whose parents are gone) and repairs the totals of what
  // stays.
  void RemoveSetLocked(const std::set<Entry*>& doomed) REQUIRES(mutex_);
  // Evicts the lowest descendant scores until the pool fits its cap.
  void TrimLocked(std::uint64_t now_ms) REQUIRES(mutex_);
  void ExpireLocked(std::uint64_t now_ms) REQUIRES(mutex_);
  std::uint64_t FeeFloorLocked(std::uint64_t now_ms) const REQUIRES(mutex_);
  // Transactions that may no longer be valid after a reorganization.
  void RecheckAllLocked() REQUIRES(mutex_);
  void RecomputeTotalsLocked(Entry* e) REQUIRES(mutex_);
  std::vector<Entry*> AncestorsLocked(const Entry* e) const REQUIRES(mutex_);
  std::vector<Entry*> DescendantsLocked(const Entry* e) const REQUIRES(mutex_);
  void IndexLocked(Entry* e) REQUIRES(mutex_);
  void UnindexLocked(Entry* e) REQUIRES(mutex_);
  // SelectForBlock's choice, as entries in block order.
  std::vector<const Entry*> SelectLocked(
      const Hash32& parent, std::size_t max_bytes,
      std::size_t max_count = std::numeric_limits<std::size_t>::max()) const REQUIRES(mutex_);
  static MempoolEntryInfo InfoOf(const Entry& e);

  ChainState& chain_;   // not owned
  const Clock& clock_;  // not owned
  const MempoolOptions options_;
  const Hash32 genesis_hash_;

  mutable Mutex mutex_;
  // Open addressing: a block's thousands of lookups each touch one slot
  // group rather than a chain of nodes.
  boost::unordered_flat_map<Hash32, std::unique_ptr<Entry>, Hash32Hasher> entries_
      GUARDED_BY(mutex_);
  boost::unordered_flat_map<OutPoint, Entry*, OutPointHasher> spent_by_ GUARDED_BY(mutex_);
  ScoreIndex by_score_ GUARDED_BY(mutex_);
  TimeIndex by_time_ GUARDED_BY(mutex_);
  std::unordered_map<XOnlyPubKey, std::int64_t, Hash32Hasher> balance_ GUARDED_BY(mutex_);
  OrphanTxs orphans_ GUARDED_BY(mutex_);
  Hash32 tip_hash_ GUARDED_BY(mutex_){};  // the tip the pool is valid on
  std::uint64_t tip_height_ GUARDED_BY(mutex_) = 0;
  // Bumped by every change to the pool or its tip: an Accept that checked
  // signatures without the lock re-checks the rest when it moved.
  std::uint64_t generation_ GUARDED_BY(mutex_) = 0;
  std::uint64_t next_sequence_ GUARDED_BY(mutex_) = 0;
  std::size_t bytes_ GUARDED_BY(mutex_) = 0;
  std::uint64_t fees_ GUARDED_BY(mutex_) = 0;
  // The raised floor after an eviction (units per byte) and when it was set.
  std::uint64_t floor_ GUARDED_BY(mutex_) = 0;
  std::uint64_t floor_set_ms_ GUARDED_BY(mutex_) = 0;
  std::uint64_t accepted_ GUARDED_BY(mutex_) = 0;
  std::uint64_t rejected_ GUARDED_BY(mutex_) = 0;
  std::uint64_t evicted_ GUARDED_BY(mutex_) = 0;
  std::uint64_t expired_ GUARDED_BY(mutex_) = 0;
  std::vector<MempoolListener*> listeners_ GUARDED_BY(mutex_);  // not owned
};

}  // namespace powchain
