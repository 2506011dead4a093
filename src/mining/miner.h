// The mining service: worker threads searching for the next block on the
// active tip (docs/consensus.md, "Mining").
//
// One job at a time, built on the current tip: the data of the oldest queued
// request, or (with `continuous`) the continuous data, or nothing (idle).
// All workers search the same job, each its own share of the nonce space.
// When the tip changes (a block from elsewhere, or one mined here), the job
// is replaced and every worker drops the old search within one check
// interval (a few hundred microseconds at full speed).
//
// Transactions: a job built while a mempool is attached takes the pool's
// best transactions by ancestor fee rate, as many as fit beside the data
// and the coinbase (which claims their fees), unless its request names its
// own. When the pool changes, Refresh() rebuilds a job that is more than a
// second old.
//
// Requests: Submit() queues data; its callback fires once, with the block
// once that block is in the active chain (committed by the chain's store), or
// with an error. If another block takes the tip first, the same data is
// mined again on the new tip, so data is never lost; and because a request
// is finished as soon as one block with its data joins the active chain,
// its data never sits in two blocks of one chain. Requests are served in
// order, one block each.
//
// Thread-safe. Lock order: the chain's lock, then the miner's (the chain
// calls OnTipChanged holding its lock; the miner never calls the chain
// while holding its own).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/params.h"
#include "mempool/mempool.h"
#include "util/clock.h"
#include "util/hash_map.h"
#include "util/mutex.h"
#include "util/result.h"

namespace powchain {

struct MinerOptions {
  static constexpr unsigned kMaxThreads = 256;
  static constexpr std::size_t kDefaultMaxQueue = 1000;

  unsigned threads = 1;
  bool continuous = false;                   // mine without requests (--mine)
  std::string continuous_data = "null";      // canonical JSON for those blocks
  std::size_t max_queue = kDefaultMaxQueue;  // queued requests beyond it are refused
  std::uint32_t check_interval = 4096;       // see SearchOptions
  // When set, every block carries a coinbase paying the subsidy to this key
  // (--miner-address); otherwise blocks carry no transactions.
  std::optional<XOnlyPubKey> reward_key;
};

// The coinbase a miner puts first in a block at `height`: the subsidy to
// `key`; nullopt once the subsidy is zero.
std::optional<Transaction> MakeCoinbase(std::uint64_t height, const XOnlyPubKey& key,
                                        std::uint64_t fees, const Params& params);

// What a request asks to be mined: data, and transactions to put after the
// coinbase.
struct BlockContents {
  std::string canonical_data;    // the block's data, canonical JSON
  std::vector<Transaction> txs;  // none may be a coinbase
  std::uint64_t fees = 0;        // what txs pay; the coinbase claims them
};

class Miner final : public ChainObserver, public MempoolListener {
 public:
  using Callback = std::function<void(Result<Block>)>;

  struct Stats {
    bool continuous = false;
    unsigned threads = 0;
    bool active = false;   // a job is being searched
    double hash_rate = 0;  // hashes/s over the last sampling window (>= 1 s)
    std::size_t queued = 0;
    std::uint64_t blocks_mined = 0;  // blocks of this miner that joined the active chain
    std::uint64_t attempts = 0;      // headers hashed since start
    std::uint64_t job_id = 0;        // increases with every new job
    Hash32 job_parent{};             // the tip the current job builds on
    // For the newest job: the time from its creation until the last worker
    // started searching it (includes dropping the previous search).
    std::chrono::microseconds last_switch_latency{0};
    std::uint64_t last_switch_job = 0;  // the job last_switch_latency belongs to
  };

  // `chain`, `clock` and `mempool` (which may be null: blocks then carry
  // no pool transactions) must outlive the miner.
  Miner(const Params& params, ChainState& chain, const Clock& clock, MinerOptions options,
        Mempool* mempool = nullptr);
  ~Miner() override;
  Miner(const Miner&) = delete;
  Miner& operator=(const Miner&) = delete;

  // Subscribes to tip changes and starts the workers.
  void Start() EXCLUDES(mutex_);
  // Cancels the search, joins the workers, and fails queued requests with
  // "node is stopping". Idempotent.
  void Stop() EXCLUDES(mutex_);

  // Queues `canonical_data`. `done` is called exactly once, from another
  // thread (or from this one, at once, for a refusal); it must not block and
  // must not call back into the miner's Stop().
  void Submit(std::string canonical_data, Callback done) EXCLUDES(mutex_) {
    Submit(BlockContents{std::move(canonical_data), {}, 0}, std::move(done));
  }
  // The same, for a block that also carries `contents.txs` after its
  // coinbase (checked by the caller, e.g. with ChainState::CheckTxsOnTip).
  // If the block found breaks a rule (a transaction spent meanwhile, say),
  // the request fails with the reason rather than being mined again.
  void Submit(BlockContents contents, Callback done) EXCLUDES(mutex_);

  Stats GetStats() EXCLUDES(mutex_);

  void OnTipChanged(const TipChange& change) override EXCLUDES(mutex_);
  // Notes that the pool changed (see Refresh).
  void OnTxAccepted(const TxRef& tx, const Hash32& txid, std::uint64_t peer) override;
  // Rebuilds the current job when the pool changed since it was built and
  // it is at least a second old. The node calls it a few times a second.
  void Refresh() EXCLUDES(mutex_);

 private:
  struct Request {
    std::uint64_t id;
    BlockContents contents;
    Callback done;
  };
  struct Job {
    std::uint64_t id = 0;
    ParentContext parent;
    std::string data;
    std::vector<Transaction> txs;
    std::uint64_t request_id = 0;  // 0 for continuous mining
    bool from_pool = false;        // txs (after the coinbase) came from the mempool
    std::atomic<bool> cancel{false};
    std::chrono::steady_clock::time_point created;
    std::atomic<unsigned> started{0};
    // A worker found a block for this job (guarded by mutex_): one job
    // yields at most one block, whatever the other workers find meanwhile.
    bool claimed = false;
  };
  struct Found {
    std::uint64_t request_id;
    Block block;
  };
  using Completion = std::pair<Callback, Result<Block>>;

  void WorkerLoop(unsigned index) EXCLUDES(mutex_);
  void HandleFound(const std::shared_ptr<Job>& job, Block block) EXCLUDES(mutex_);
  // Replaces the current job for tip_ and the queue head.
  void NewJobLocked() REQUIRES(mutex_);
  // The job's coinbase and transactions: the request's own, or the pool's.
  void FillTxsLocked(Job& job, const BlockContents* request) REQUIRES(mutex_);
  // Removes every request and returns their callbacks with `error`.
  std::vector<Completion> FailAllLocked(const std::string& error) REQUIRES(mutex_);
  static void Run(std::vector<Completion>& completions);

  const Params params_;
  ChainState& chain_;   // not owned
  Mempool* mempool_;    // not owned; may be null
  const Clock& clock_;  // not owned
  const MinerOptions options_;
  const unsigned thread_count_;  // workers, fixed at construction

  Mutex mutex_;
  ConditionVariable cv_;
  std::deque<Request> queue_ GUARDED_BY(mutex_);
  std::shared_ptr<Job> job_ GUARDED_BY(mutex_);  // nullptr when idle
  ChainTip tip_ GUARDED_BY(mutex_);
  bool tip_known_ GUARDED_BY(mutex_) = false;
  bool started_ GUARDED_BY(mutex_) = false;
  bool stopping_ GUARDED_BY(mutex_) = false;
  bool failed_ GUARDED_BY(mutex_) = false;  // the chain refused a mined block for a store failure
  std::uint64_t next_request_id_ GUARDED_BY(mutex_) = 1;
  std::uint64_t next_job_id_ GUARDED_BY(mutex_) = 1;
  // Mined for a request, not yet active.
  std::unordered_map<Hash32, Found, Hash32Hasher> found_ GUARDED_BY(mutex_);
  std::uint64_t blocks_mined_ GUARDED_BY(mutex_) = 0;
  // A pool-filled block on this parent was refused: jobs on it take no
  // pool transactions (so a bad template cannot loop).
  std::optional<Hash32> skip_pool_parent_ GUARDED_BY(mutex_);
  std::atomic<bool> pool_changed_{false};
  std::chrono::microseconds last_switch_latency_ GUARDED_BY(mutex_){0};
  std::uint64_t last_switch_job_ GUARDED_BY(mutex_) = 0;
  // Hash-rate sampling.
  std::atomic<std::uint64_t> attempts_{0};
  std::chrono::steady_clock::time_point sample_time_ GUARDED_BY(mutex_);
  std::uint64_t sample_attempts_ GUARDED_BY(mutex_) = 0;
  double hash_rate_ GUARDED_BY(mutex_) = 0;

  std::vector<std::thread> workers_;
};

}  // namespace powchain
