#include "storage/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace powchain {
namespace {

std::string ErrnoText(int err) { return std::generic_category().message(err); }

}  // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "LOCK";
  int fd;
  do {
    fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Error{file.string() + ": cannot open: " + ErrnoText(errno)};
  // flock locks belong to the open file description, so a second Acquire
  // in this process (a new open()) conflicts with the first, like another
  // process would.
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Error{"data directory " + dir.string() + " is in use by another powchain process"};
    }
    return Error{file.string() + ": cannot lock: " + ErrnoText(err)};
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace powchain
