#include "node/api_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>

#include "crypto/random.h"

namespace powchain {
namespace {

constexpr std::size_t kMinTokenChars = 16;
constexpr std::size_t kMaxTokenChars = 256;
constexpr std::size_t kMaxFileBytes = 1024;
constexpr std::size_t kNewTokenBytes = 32;

std::string Errno() { return std::strerror(errno); }

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Result<std::string> Create(const std::filesystem::path& file) {
  auto token = RandomHex(kNewTokenBytes);
  if (!token) return Error{"cannot make an API token: " + token.error()};
  // O_EXCL: never write through a file (or link) that appeared meanwhile.
  Fd out{::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (out.fd < 0) return Error{"cannot create " + file.string() + ": " + Errno()};
  const std::string text = *token + "\n";
  if (::write(out.fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(out.fd) != 0) {
    const std::string why = Errno();
    ::unlink(file.c_str());
    return Error{"cannot write " + file.string() + ": " + why};
  }
  return *token;
}

}  // namespace

std::filesystem::path ApiTokenFile(const std::filesystem::path& data_dir) {
  return data_dir / "api.token";
}

bool IsValidApiToken(std::string_view token) {
  if (token.size() < kMinTokenChars || token.size() > kMaxTokenChars) return false;
  for (const char c : token) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
                    c == '=';
    if (!ok) return false;
  }
  return true;
}

bool IsLoopbackAddress(const std::string& ip) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(ip, ec);
  return !ec && address.is_loopback();
}

Result<std::string> LoadOrCreateApiToken(const std::filesystem::path& file) {
  Fd in{::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (in.fd < 0) {
    if (errno == ENOENT) return Create(file);
    return Error{"cannot open " + file.string() + ": " + Errno()};
  }
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) return Error{"cannot stat " + file.string() + ": " + Errno()};
  if (!S_ISREG(st.st_mode)) return Error{file.string() + " is not a regular file"};
  if ((st.st_mode & 077) != 0) {
    return Error{file.string() + " may be read or written by other users; run chmod 600 on it"};
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxFileBytes) {
    return Error{file.string() + " is too large to be an API token"};
  }
  std::string text(kMaxFileBytes + 1, '\0');
  const ssize_t n = ::read(in.fd, text.data(), text.size());
  if (n < 0) return Error{"cannot read " + file.string() + ": " + Errno()};
  text.resize(static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!IsValidApiToken(text)) {
    return Error{file.string() + " does not hold a valid API token (" + std::string(kApiTokenRule) +
                 "); delete it to have a new one made"};
  }
  return text;
}

}  // namespace powchain
