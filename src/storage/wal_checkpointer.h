// Checkpoints a WAL database from a thread of its own (docs/storage.md,
// "Checkpoints").
//
// SQLite's default copies the write-ahead log into the main file inside
// the commit that takes the log past 1,000 pages: about every sixth block
// of 2,000 transactions, that commit paid 14 to 21 ms more than the others.
// With a WalCheckpointer the writer's commits only append to the log; after
// a commit that leaves the log at `frames` pages or more, this thread runs
// a PASSIVE checkpoint on its own connection, which never blocks the
// writer or readers (it stops at pages a reader still needs and does the
// rest next time).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "util/mutex.h"
#include "util/result.h"

struct sqlite3;

namespace powchain {

class WalCheckpointer {
 public:
  // SQLite's own threshold, so that the log grows no larger than before.
  static constexpr int kDefaultFrames = 1000;

  // Opens a second connection to the database at `path` (already in WAL
  // mode) and starts the thread.
  static Result<std::unique_ptr<WalCheckpointer>> Start(const std::filesystem::path& path,
                                                        int frames = kDefaultFrames);
  // Stops the thread (a checkpoint under way completes) and closes the
  // connection.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Installs itself as `writer`'s WAL hook, which turns off the writer's
  // own checkpoints; Detach(writer) puts them back. The hook runs on the
  // writer's thread after each commit and only signals this thread.
  void Attach(sqlite3* writer);
  void Detach(sqlite3* writer);

  // Checkpoints run so far, and how many of them failed (the log then
  // stays as it is until the next one); the last failure's message.
  struct Stats {
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    std::string last_error;
  };
  Stats stats() const EXCLUDES(mutex_);

 private:
  WalCheckpointer(sqlite3* db, int frames);
  static int OnCommit(void* self, sqlite3* writer, const char* schema, int frames);
  void Run() EXCLUDES(mutex_);

  sqlite3* const db_;  // owned; used by the thread alone once it runs
  const int frames_;
  mutable Mutex mutex_;
  ConditionVariable wake_;
  bool wanted_ GUARDED_BY(mutex_) = false;
  bool stop_ GUARDED_BY(mutex_) = false;
  Stats stats_ GUARDED_BY(mutex_);
  std::thread thread_;  // last: started once the rest is set
};

}  // namespace powchain
