// For the targets that feed bytes to a real listener (the HTTP server, the
// WebSocket transport): an io_context running on its own threads, and a
// plain blocking client that sends an input on a fresh loopback connection
// and reads what comes back.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fuzz_check.h"

namespace powchain::fuzz {

// An io_context with `threads` threads running it until destruction.
class IoThreads {
 public:
  explicit IoThreads(std::size_t threads = 2) : guard_(io_.get_executor()) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() {
    guard_.reset();
    io_.stop();
    for (std::thread& t : threads_) t.join();
  }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

struct Exchanged {
  std::string received;  // at most max_receive bytes
  bool closed = false;   // the server ended the connection (FIN or reset) in time
};

// Connects to 127.0.0.1:`port`, sends `bytes` (reading meanwhile, so a
// server that answers before it has read everything cannot deadlock the
// exchange), ends its side of the connection, and reads until the server
// closes or `wait` has passed. Then resets the connection, so that no
// TIME_WAIT is left on this side by the thousands of exchanges of a run.
inline Exchanged Exchange(std::uint16_t port, std::string_view bytes,
                          std::chrono::milliseconds wait,
                          std::size_t max_receive = std::size_t{8} << 20) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + wait;
  Exchanged out;
  // From a new address of 127.0.0.0/8 each time (60,000 in turn): the
  // server closes first, so each exchange leaves a TIME_WAIT on its side
  // for a minute, and from one source address they would use up the
  // ephemeral ports within a few minutes of a run. A connect that still
  // fails for want of a local resource is tried again (the kernel frees
  // them as TIME_WAITs expire); any other failure ends the run with errno.
  static std::atomic<std::uint32_t> next_source{0};
  int fd = -1;
  for (int attempt = 0;; ++attempt) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    const std::uint32_t n = next_source++ % 60000;
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl((127u << 24) | ((1 + n / 250) << 8) | (1 + n % 250));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) == 0 &&
        ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      break;
    }
    const int error = errno;
    ::close(fd);
    if ((error != EADDRNOTAVAIL && error != EADDRINUSE && error != EAGAIN) || attempt == 2000) {
      std::fprintf(stderr, "loopback: connect to port %u failed: %s\n", port, std::strerror(error));
      FUZZ_CHECK(false);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  std::size_t sent = 0;
  bool write_open = true;
  char buffer[65536];
  for (;;) {
    if (write_open && sent == bytes.size()) {
      ::shutdown(fd, SHUT_WR);
      write_open = false;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, static_cast<short>(POLLIN | (write_open ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    if ((p.revents & POLLOUT) != 0 && write_open) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        write_open = false;  // the server closed; read what it said
      }
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        const std::size_t room = max_receive - out.received.size();
        out.received.append(buffer, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        out.closed = true;
        break;
      }
    }
  }
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
  return out;
}

// Polls `done` until it is true or `wait` passes; says which.
template <typename F>
bool WaitFor(F done, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

}  // namespace powchain::fuzz
