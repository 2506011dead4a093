#include "storage/wal_checkpointer.h"

#include <sqlite3.h>

namespace powchain {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::filesystem::path& path,
                                                                int frames) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = path.string() + ": cannot open a connection for checkpoints: " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return Error{std::move(message)};
  }
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  // The checkpoint syncs the main file before the log may be reused.
  if (sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string message =
        path.string() + ": cannot set up the connection for checkpoints: " + sqlite3_errmsg(db);
    sqlite3_close_v2(db);
    return Error{std::move(message)};
  }
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db, frames));
}

WalCheckpointer::WalCheckpointer(sqlite3* db, int frames)
    : db_(db), frames_(frames), thread_([this] { Run(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    MutexLock lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close_v2(db_);
}

void WalCheckpointer::Attach(sqlite3* writer) { sqlite3_wal_hook(writer, &OnCommit, this); }

void WalCheckpointer::Detach(sqlite3* writer) {
  sqlite3_wal_autocheckpoint(writer, kDefaultFrames);  // replaces the hook
}

int WalCheckpointer::OnCommit(void* self, sqlite3* /*writer*/, const char* /*schema*/, int frames) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (frames < c->frames_) return SQLITE_OK;
  {
    MutexLock lock(c->mutex_);
    c->wanted_ = true;
  }
  c->wake_.notify_one();
  return SQLITE_OK;
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  MutexLock lock(mutex_);
  return stats_;
}

void WalCheckpointer::Run() {
  MutexLock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&]() REQUIRES(mutex_) { return wanted_ || stop_; });
    if (stop_) return;
    wanted_ = false;
    lock.Unlock();
    const int rc =
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    const std::string error = rc == SQLITE_OK ? std::string() : sqlite3_errmsg(db_);
    lock.Lock();
    ++stats_.runs;
    if (rc != SQLITE_OK) {
      ++stats_.failures;
      stats_.last_error = error;
    }
  }
}

}  // namespace powchain
