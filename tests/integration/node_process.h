// Test harness: runs the real powchain binary as a child process on free
// loopback ports and talks to it over HTTP, as a user would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "consensus/params.h"
#include "primitives/block.h"
#include "testutil/wait.h"

namespace powchain::itest {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One HTTP/1.1 request on a fresh connection (Connection: close). Throws
// std::runtime_error when the connection fails, or when connecting, sending
// or reading the answer takes longer than `timeout`.
HttpResponse HttpRequest(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::string& content_type = "application/json",
                         std::chrono::seconds timeout = std::chrono::seconds(30),
                         const std::map<std::string, std::string>& headers = {});

// A TCP port that was free on every interface a moment ago, below the
// kernel's ephemeral range and never returned twice in one process.
// Thread-safe.
std::uint16_t FreePort();

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

using testutil::WaitUntil;

class NodeProcess {
 public:
  // Starts `powchain <args...>` in `workdir` with exactly `env` as its
  // environment (plus PATH), stdout and stderr going to a log file there.
  NodeProcess(std::vector<std::string> args, std::map<std::string, std::string> env,
              const std::filesystem::path& workdir, const std::string& binary = POWCHAIN_BINARY);
  ~NodeProcess();  // SIGKILL if still running
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // A regtest node with free ports and a data dir under `workdir`.
  static std::unique_ptr<NodeProcess> StartNode(const std::filesystem::path& workdir,
                                                std::vector<std::string> extra_args = {});

  // Waits until GET /status answers 200 on `port` or the process exits.
  bool WaitReady(std::uint16_t port);
  // Waits for the process to exit; its exit code, or 128+signal.
  std::optional<int> WaitExit(std::chrono::milliseconds limit = std::chrono::seconds(30));
  bool Running();
  void Signal(int sig);

  std::string Log() const;
  std::uint16_t http_port() const { return http_port_; }
  std::uint16_t p2p_port() const { return p2p_port_; }
  pid_t pid() const { return pid_; }

  HttpResponse Get(const std::string& target) const {
    return HttpRequest(http_port_, "GET", target);
  }
  HttpResponse Post(const std::string& target, const std::string& body) const {
    return HttpRequest(http_port_, "POST", target, body);
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path log_;
  std::uint16_t http_port_ = 0;
  std::uint16_t p2p_port_ = 0;
};

// A raw TCP connection to 127.0.0.1:`port`, for what HttpRequest cannot
// send: malformed, partial, stalled or pipelined requests. Blocking, with a
// time limit on every wait; not thread-safe.
class RawConnection {
 public:
  // Connects; throws std::runtime_error when that fails.
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes`; false when the connection is broken.
  bool Send(const std::string& bytes);
  // Reads one response (an interim 100 Continue counts as one); nullopt when
  // the connection ends, or `limit` passes, before a whole response. `head`:
  // the answer to a HEAD request, which has no body whatever its header says.
  std::optional<HttpResponse> Read(std::chrono::milliseconds limit = std::chrono::seconds(30),
                                   bool head = false);
  // Raw bytes until `needle` has arrived: everything received up to and
  // including it (consumed), or nullopt when the connection ends or `limit`
  // passes first. For streams without an end (GET /events).
  std::optional<std::string> ReadUntil(const std::string& needle,
                                       std::chrono::milliseconds limit = std::chrono::seconds(30));
  // Discards input until the server closes the connection (end of stream or
  // reset): true when it does within `limit`.
  bool WaitClosed(std::chrono::milliseconds limit = std::chrono::seconds(30));
  // Whether the server has closed the connection, looking without waiting.
  bool ClosedByServer() { return WaitClosed(std::chrono::milliseconds(0)); }
  // Stops sending (the server reads end of stream); reading goes on.
  void ShutdownSend();
  // Closes at once with a TCP reset rather than a FIN.
  void Reset();

 private:
  // Appends what arrives within `limit` to buffer_: false on end of stream,
  // reset or timeout (see closed_).
  bool Receive(std::chrono::milliseconds limit);

  int fd_ = -1;
  std::string buffer_;   // received, not yet consumed
  bool closed_ = false;  // end of stream or reset seen
};

// Parses a JSON array of blocks (GET /blocks) and checks it against the
// consensus rules of `params`, genesis first; fails the current test on
// any violation. Returns the blocks.
std::vector<Block> ParseAndCheckChain(const std::string& json, const Params& params);

// Parses one block (GET /blocks/{id}, POST /mine); fails the test if malformed.
Block ParseBlock(const std::string& json);

}  // namespace powchain::itest
