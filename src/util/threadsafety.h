// Clang's thread-safety attributes under short names, so that the compiler
// checks which lock guards which member. Under any other compiler they expand
// to nothing. The `tsa` preset (clang, -Wthread-safety -Werror) is built by
// `make test`, so a member read without its lock fails the suite.
//
//   Mutex mutex_;
//   int count_ GUARDED_BY(mutex_);        // read or written only with mutex_ held
//   void BumpLocked() REQUIRES(mutex_);   // the caller holds mutex_
//   void Bump() EXCLUDES(mutex_);         // the caller must not hold it
//
// Locks are taken with the annotated types of util/mutex.h: libstdc++'s
// std::mutex and std::lock_guard carry no attributes.
#pragma once

#if defined(__clang__)
#define POWCHAIN_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define POWCHAIN_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are locks.
#define CAPABILITY(name) POWCHAIN_THREAD_ANNOTATION(capability(name))
// On a class: its objects hold a lock for their lifetime (RAII).
#define SCOPED_CAPABILITY POWCHAIN_THREAD_ANNOTATION(scoped_lockable)
// On a data member: read or written only with the lock held.
#define GUARDED_BY(x) POWCHAIN_THREAD_ANNOTATION(guarded_by(x))
// On a pointer member: what it points to needs the lock.
#define PT_GUARDED_BY(x) POWCHAIN_THREAD_ANNOTATION(pt_guarded_by(x))
// On a lock: the order in which locks are taken.
#define ACQUIRED_BEFORE(...) POWCHAIN_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) POWCHAIN_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// On a function: the caller holds these locks.
#define REQUIRES(...) POWCHAIN_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// On a function: the caller does not hold these locks (it takes them).
#define EXCLUDES(...) POWCHAIN_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: it takes or releases the lock (lock types only).
#define ACQUIRE(...) POWCHAIN_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) POWCHAIN_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) POWCHAIN_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: the analysis trusts that the lock is held from here on.
#define ASSERT_CAPABILITY(x) POWCHAIN_THREAD_ANNOTATION(assert_capability(x))
// On a function: it returns a reference to this lock.
#define RETURN_CAPABILITY(x) POWCHAIN_THREAD_ANNOTATION(lock_returned(x))
// On a function: the analysis skips it. Each use says why.
#define NO_THREAD_SAFETY_ANALYSIS POWCHAIN_THREAD_ANNOTATION(no_thread_safety_analysis)
