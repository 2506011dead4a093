// One process per data directory.
#pragma once

#include <filesystem>
#include <memory>

#include "util/result.h"

namespace powchain {

// An exclusive lock on a data directory (flock on <dir>/LOCK), held for the
// life of the object, released by the kernel if the process dies.
class DataDirLock {
 public:
  // Fails with "data directory <dir> is in use by another powchain process"
  // when another process holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::filesystem::path& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace powchain
