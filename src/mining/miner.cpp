#include "mining/miner.h"

#include <algorithm>
#include <utility>

#include "consensus/tx_check.h"
#include "mining/search.h"

namespace powchain {

Miner::Miner(const Params& params, ChainState& chain, const Clock& clock, MinerOptions options,
             Mempool* mempool)
    : params_(params),
      chain_(chain),
      mempool_(mempool),
      clock_(clock),
      options_(std::move(options)),
      thread_count_(std::clamp(options_.threads, 1u, MinerOptions::kMaxThreads)) {}

Miner::~Miner() { Stop(); }

void Miner::Start() {
  chain_.AddObserver(this);
  if (mempool_ != nullptr) mempool_->AddListener(this);
  const ChainTip tip = chain_.Tip();
  MutexLock lock(mutex_);
  if (started_) return;
  started_ = true;
  if (!tip_known_) {  // a tip change may have arrived since AddObserver
    tip_ = tip;
    tip_known_ = true;
  }
  sample_time_ = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < thread_count_; ++i) {
    workers_.emplace_back([this, i] { WorkerLoop(i); });
  }
  NewJobLocked();
}

void Miner::Stop() {
  std::vector<Completion> failed;
  std::vector<std::thread> workers;
  {
    MutexLock lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    if (job_) job_->cancel = true;
    job_.reset();
    failed = FailAllLocked("node is stopping");
    workers.swap(workers_);
  }
  cv_.notify_all();
  for (std::thread& t : workers) t.join();
  chain_.RemoveObserver(this);
  if (mempool_ != nullptr) mempool_->RemoveListener(this);
  Run(failed);
}

void Miner::Submit(BlockContents contents, Callback done) {
  std::vector<Completion> refused;
  {
    MutexLock lock(mutex_);
    if (stopping_) {
      refused.emplace_back(std::move(done), Error{"node is stopping"});
    } else if (failed_) {
      refused.emplace_back(std::move(done), Error{"mining stopped after a storage failure"});
    } else if (queue_.size() >= options_.max_queue) {
      refused.emplace_back(std::move(done),
                           Error{"mining queue is full (" + std::to_string(options_.max_queue) +
                                 " requests waiting)"});
    } else {
      queue_.push_back(Request{next_request_id_++, std::move(contents), std::move(done)});
      // Switch from idle or continuous mining to the request at once.
      if (started_ && (!job_ || job_->request_id == 0)) NewJobLocked();
    }
  }
  Run(refused);
}

Miner::Stats Miner::GetStats() {
  MutexLock lock(mutex_);
  Stats s;
  s.continuous = options_.continuous;
  s.threads = thread_count_;
  s.active = job_ != nullptr;
  s.queued = queue_.size();
  s.blocks_mined = blocks_mined_;
  s.attempts = attempts_.load(std::memory_order_relaxed);
  s.job_id = job_ ? job_->id : 0;
  s.job_parent = job_ ? job_->parent.hash : Hash32{};
  s.last_switch_latency = last_switch_latency_;
  s.last_switch_job = last_switch_job_;
  const auto now = std::chrono::steady_clock::now();
  const auto elapsed = std::chrono::duration<double>(now - sample_time_).count();
  if (elapsed >= 1.0) {
    hash_rate_ = static_cast<double>(s.attempts - sample_attempts_) / elapsed;
    sample_time_ = now;
    sample_attempts_ = s.attempts;
  }
  s.hash_rate = hash_rate_;
  return s;
}

void Miner::OnTipChanged(const TipChange& change) {
  std::vector<Completion> completed;
  {
    MutexLock lock(mutex_);
    tip_ = change.new_tip;
    tip_known_ = true;
    for (const Hash32& hash : change.connected) {
      auto it = found_.find(hash);
      if (it == found_.end()) continue;
      const std::uint64_t request_id = it->second.request_id;
      auto req = std::find_if(queue_.begin(), queue_.end(),
                              [&](const Request& r) { return r.id == request_id; });
      if (req != queue_.end()) {
        completed.emplace_back(std::move(req->done), std::move(it->second.block));
        queue_.erase(req);
      }
      std::erase_if(found_, [&](const auto& kv) { return kv.second.request_id == request_id; });
    }
    if (change.source.origin == BlockOrigin::kMined) {
      for (const Hash32& hash : change.connected) {
        if (hash == change.new_tip.hash()) ++blocks_mined_;
      }
    }
    if (started_) NewJobLocked();
  }
  Run(completed);
}

std::optional<Transaction> MakeCoinbase(std::uint64_t height, const XOnlyPubKey& key,
                                        std::uint64_t fees, const Params& params) {
  const std::uint64_t amount = BlockSubsidy(height, params) + fees;
  if (amount == 0) return std::nullopt;
  Transaction tx;
  tx.coinbase = height;
  tx.outputs.push_back(MakeTxOut(params.address_prefix, key, amount));
  return tx;
}

void Miner::NewJobLocked() {
  if (job_) job_->cancel = true;
  job_.reset();
  if (!stopping_ && !failed_ && tip_known_ && (!queue_.empty() || options_.continuous)) {
    auto job = std::make_shared<Job>();
    job->id = next_job_id_++;
    job->parent = tip_.context;
    const BlockContents* request = queue_.empty() ? nullptr : &queue_.front().contents;
    if (request != nullptr) {
      job->data = request->canonical_data;
      job->request_id = queue_.front().id;
    } else {
      job->data = options_.continuous_data;
    }
    FillTxsLocked(*job, request);
    job->created = std::chrono::steady_clock::now();
    job_ = std::move(job);
  }
  cv_.notify_all();
}

void Miner::FillTxsLocked(Job& job, const BlockContents* request) {
  const std::uint64_t height = job.parent.header.height + 1;
  std::uint64_t fees = 0;
  std::vector<Transaction> txs;
  if (request != nullptr && !request->txs.empty()) {
    txs = request->txs;
    fees = request->fees;
  } else if (mempool_ != nullptr && skip_pool_parent_ != job.parent.hash) {
    // Room beside the header, the data and the largest coinbase.
    const std::size_t used = kHeaderSize + job.data.size() +
                             (options_.reward_key ? MaxCoinbaseSize(params_.address_prefix) : 0);
    const std::size_t room = params_.max_block_bytes > used ? params_.max_block_bytes - used : 0;
    pool_changed_ = false;
    BlockTemplateTxs chosen = mempool_->SelectForBlock(job.parent.hash, room);
    for (const TxRef& tx : chosen.txs) txs.push_back(*tx);
    fees = chosen.fees;
    job.from_pool = !txs.empty();
  }
  if (options_.reward_key.has_value()) {
    if (auto coinbase = MakeCoinbase(height, *options_.reward_key, fees, params_)) {
      job.txs.push_back(std::move(*coinbase));
    }
  }
  job.txs.insert(job.txs.end(), std::make_move_iterator(txs.begin()),
                 std::make_move_iterator(txs.end()));
}

void Miner::OnTxAccepted(const TxRef& /*tx*/, const Hash32& /*txid*/, std::uint64_t /*peer*/) {
  pool_changed_ = true;
}

void Miner::Refresh() {
  if (!pool_changed_) return;
  MutexLock lock(mutex_);
  if (!job_ || job_->claimed) return;
  if (std::chrono::steady_clock::now() - job_->created < std::chrono::seconds(1)) return;
  if (const std::uint64_t id = job_->request_id; id != 0) {
    auto it =
        std::find_if(queue_.begin(), queue_.end(), [id](const Request& r) { return r.id == id; });
    if (it != queue_.end() && !it->contents.txs.empty()) return;  // its own transactions
  }
  NewJobLocked();
}

void Miner::WorkerLoop(unsigned index) {
  std::uint64_t seen_job = 0;
  for (;;) {
    std::shared_ptr<Job> job;
    {
      MutexLock lock(mutex_);
      cv_.wait(lock,
               [&]() REQUIRES(mutex_) { return stopping_ || (job_ && job_->id != seen_job); });
      if (stopping_) return;
      job = job_;
      seen_job = job->id;
      if (job->started.fetch_add(1) + 1 == thread_count_) {
        last_switch_latency_ = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - job->created);
        last_switch_job_ = job->id;
      }
    }
    SearchOptions options;
    options.nonce_start = index;
    options.nonce_stride = thread_count_;
    options.check_interval = options_.check_interval;
    options.progress = &attempts_;
    SearchResult r =
        SearchBlock(job->parent, job->data, params_, clock_, job->cancel, options, job->txs);
    if (!r.cancelled()) HandleFound(job, std::move(*r.block));
  }
}

void Miner::HandleFound(const std::shared_ptr<Job>& job, Block block) {
  {
    MutexLock lock(mutex_);
    // Superseded while the last attempts ran, or another worker's hit in
    // the same job came first: that one is the job's block.
    if (job_ != job || job->claimed) return;
    job->claimed = true;
    job->cancel = true;  // the other workers stop on this job
    if (job->request_id != 0) found_[block.hash] = Found{job->request_id, block};
  }
  const AcceptResult r = chain_.AcceptBlock(block, clock_.NowMs(), BlockOrigin::kMined);
  // On success the chain has already called OnTipChanged, which finished the
  // request and made the next job. Otherwise, pick up again from here.
  std::vector<Completion> failed;
  {
    MutexLock lock(mutex_);
    if (r.status == AcceptStatus::kStoreFailed) {
      failed_ = true;
      failed = FailAllLocked("the block could not be stored: " + r.store_error);
      NewJobLocked();
    } else if (r.status == AcceptStatus::kInvalid && job->from_pool) {
      // The pool's template broke a rule (it was read while the tip moved):
      // mine again on this parent without the pool.
      found_.erase(block.hash);
      skip_pool_parent_ = job->parent.hash;
      if (job_ == job) NewJobLocked();
    } else if (r.status == AcceptStatus::kInvalid && job->request_id != 0) {
      // Mining the same request again would give the same refusal.
      found_.erase(block.hash);
      auto it = std::find_if(queue_.begin(), queue_.end(),
                             [&](const Request& q) { return q.id == job->request_id; });
      if (it != queue_.end()) {
        failed.emplace_back(std::move(it->done),
                            Error{"the mined block was refused: " + r.validation.message});
        queue_.erase(it);
      }
      if (job_ == job) NewJobLocked();
    } else if (r.status != AcceptStatus::kNewTip && job_ == job) {
      found_.erase(block.hash);
      NewJobLocked();
    }
  }
  Run(failed);
}

std::vector<Miner::Completion> Miner::FailAllLocked(const std::string& error) {
  std::vector<Completion> out;
  for (Request& r : queue_) out.emplace_back(std::move(r.done), Error{error});
  queue_.clear();
  found_.clear();
  return out;
}

void Miner::Run(std::vector<Completion>& completions) {
  for (auto& [done, result] : completions) {
    if (done) done(std::move(result));
  }
}

}  // namespace powchain
