// Signature checks spread over threads, as a block connects (the model is
// Bitcoin Core's check queue): the caller hands over a block's checks
// (Start), may do other work while the pool's threads verify them (the
// chain connects the next block's coins), then works through the rest
// with them (Finish); the first failure stops everyone.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "consensus/tx_check.h"
#include "util/mutex.h"

namespace powchain {

class CheckQueue {
 public:
  // `threads` in all, the caller's included: threads - 1 are started (none
  // for 0 or 1).
  explicit CheckQueue(std::size_t threads);
  ~CheckQueue();
  CheckQueue(const CheckQueue&) = delete;
  CheckQueue& operator=(const CheckQueue&) = delete;

  // The index of a check that fails (the lowest the threads came across;
  // not necessarily the lowest of all), or nullopt when every one
  // verifies. One caller at a time. Start() then Finish().
  std::optional<std::size_t> Run(std::span<const SigCheck> checks) EXCLUDES(mutex_) {
    Start(checks);
    return Finish();
  }

  // Hands `checks` to the pool's threads and returns at once, so that the
  // caller can do other work meanwhile. `checks` must stay alive, and no
  // other Start may come, until Finish() returns.
  void Start(std::span<const SigCheck> checks) EXCLUDES(mutex_);
  // Works through what is left of the started checks with the pool, waits
  // for the pool's threads to let go of them, and answers as Run does.
  // Without a Start since the last Finish: nullopt.
  std::optional<std::size_t> Finish() EXCLUDES(mutex_);

  std::size_t threads() const { return workers_.size() + 1; }

 private:
  // Checks of the current job are taken this many at a time.
  static constexpr std::size_t kBatch = 16;

  void WorkerLoop() EXCLUDES(mutex_);
  // Takes batches of the current job until it runs out or fails.
  void Work(std::span<const SigCheck> checks);

  Mutex mutex_;
  ConditionVariable work_cv_;  // a job started, or stopping
  ConditionVariable done_cv_;  // a worker finished its part
  std::span<const SigCheck> job_ GUARDED_BY(mutex_);
  std::uint64_t generation_ GUARDED_BY(mutex_) = 0;
  std::size_t busy_ GUARDED_BY(mutex_) = 0;
  bool stopping_ GUARDED_BY(mutex_) = false;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> failed_{0};  // first failing index + 1; 0: none
  // The caller's side of the started job (only the caller touches these).
  std::span<const SigCheck> started_;
  bool on_workers_ = false;  // the workers were given the job
  std::vector<std::thread> workers_;
};

}  // namespace powchain
