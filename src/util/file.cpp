#include "util/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace powchain {
namespace {

std::string Errno() { return std::strerror(errno); }

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());  // a leftover of an earlier crash
  {
    Fd out{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)};
    if (out.fd < 0) return Error{"cannot create " + tmp.string() + ": " + Errno()};
    // The umask may have narrowed `mode`; never widened, so this is only
    // for a mode the umask took bits from.
    if (::fchmod(out.fd, mode) != 0 || !WriteAll(out.fd, bytes) || ::fsync(out.fd) != 0) {
      const std::string why = Errno();
      ::unlink(tmp.c_str());
      return Error{"cannot write " + tmp.string() + ": " + why};
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = Errno();
    ::unlink(tmp.c_str());
    return Error{"cannot replace " + path.string() + ": " + why};
  }
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) {
    return Error{"cannot sync directory " + dir.string() + ": " + Errno()};
  }
  return {};
}

Result<std::optional<std::string>> ReadFileLimited(const std::filesystem::path& path,
                                                   std::size_t max_bytes) {
  Fd in{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (in.fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Error{"cannot open " + path.string() + ": " + Errno()};
  }
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) return Error{"cannot stat " + path.string() + ": " + Errno()};
  if (!S_ISREG(st.st_mode)) return Error{path.string() + " is not a regular file"};
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return Error{path.string() + " is " + std::to_string(st.st_size) +
                 " bytes, more than the limit of " + std::to_string(max_bytes)};
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(in.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{"cannot read " + path.string() + ": " + Errno()};
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      return Error{path.string() + " is larger than the limit of " + std::to_string(max_bytes)};
    }
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace powchain
