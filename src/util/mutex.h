// A mutex and lock guard that Clang's thread-safety analysis understands
// (util/threadsafety.h). Use these, never std::mutex, for any lock that
// guards data: members declared GUARDED_BY(mutex_) are then checked by the
// `tsa` build on every access.
#pragma once

#include <condition_variable>
#include <mutex>

#include "util/threadsafety.h"

namespace powchain {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mutex_.try_lock(); }

 private:
  std::mutex mutex_;
};

// Holds a Mutex from construction to destruction. Unlock() and Lock() let a
// scope release the lock around a slow call and take it back; the analysis
// follows both. It is also a BasicLockable, so a ConditionVariable can wait
// on it.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() RELEASE() {
    if (locked_) mutex_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() {
    mutex_.unlock();
    locked_ = false;
  }
  void Lock() ACQUIRE() {
    mutex_.lock();
    locked_ = true;
  }

  // BasicLockable, for ConditionVariable only (it releases and retakes the
  // lock inside wait; to the analysis the lock is held throughout).
  void lock() NO_THREAD_SAFETY_ANALYSIS { mutex_.lock(); }
  void unlock() NO_THREAD_SAFETY_ANALYSIS { mutex_.unlock(); }

 private:
  Mutex& mutex_;
  bool locked_ = true;
};

// Waits on a MutexLock. The predicate runs with the lock held, which the
// analysis cannot see through the standard library: give the lambda the
// attribute, as in `cv.wait(lock, [&]() REQUIRES(mutex_) { return stop_; })`.
using ConditionVariable = std::condition_variable_any;

}  // namespace powchain
