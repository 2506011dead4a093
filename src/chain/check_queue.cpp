#include "chain/check_queue.h"

#include <algorithm>

namespace powchain {

CheckQueue::CheckQueue(std::size_t threads) {
  for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

CheckQueue::~CheckQueue() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void CheckQueue::Work(std::span<const SigCheck> checks) {
  // A worker that wakes after its job ended finds job_ empty; it must not
  // touch next_, which may already count the next job's batches.
  if (checks.empty()) return;
  while (failed_.load(std::memory_order_relaxed) == 0) {
    const std::size_t begin = next_.fetch_add(kBatch, std::memory_order_relaxed);
    if (begin >= checks.size()) return;
    const std::size_t end = std::min(begin + kBatch, checks.size());
    if (auto bad = FirstBadSignature(checks.subspan(begin, end - begin))) {
      const std::size_t index = begin + *bad + 1;
      std::size_t seen = 0;
      // Keep the lowest failure found.
      while ((seen == 0 || index < seen) &&
             !failed_.compare_exchange_weak(seen, index, std::memory_order_relaxed)) {
      }
      return;
    }
  }
}

void CheckQueue::WorkerLoop() {
  std::uint64_t seen_generation = 0;
  MutexLock lock(mutex_);
  while (true) {
    work_cv_.wait(lock,
                  [&]() REQUIRES(mutex_) { return stopping_ || generation_ != seen_generation; });
    if (stopping_) return;
    seen_generation = generation_;
    const std::span<const SigCheck> job = job_;
    ++busy_;
    lock.Unlock();
    Work(job);
    lock.Lock();
    --busy_;
    done_cv_.notify_all();
  }
}

void CheckQueue::Start(std::span<const SigCheck> checks) {
  next_.store(0, std::memory_order_relaxed);
  failed_.store(0, std::memory_order_relaxed);
  started_ = checks;
  on_workers_ = !workers_.empty() && checks.size() > kBatch;
  if (!on_workers_) return;
  {
    MutexLock lock(mutex_);
    job_ = checks;
    ++generation_;
  }
  work_cv_.notify_all();
}

std::optional<std::size_t> CheckQueue::Finish() {
  Work(started_);
  if (on_workers_) {
    MutexLock lock(mutex_);
    // Workers that woke for this job finish it; one that has not woken
    // yet finds nothing left to take (next_ is past the end) when it does.
    done_cv_.wait(lock, [&]() REQUIRES(mutex_) { return busy_ == 0; });
    job_ = {};
  }
  started_ = {};
  on_workers_ = false;
  const std::size_t failed = failed_.load(std::memory_order_relaxed);
  if (failed == 0) return std::nullopt;
  return failed - 1;
}

}  // namespace powchain
