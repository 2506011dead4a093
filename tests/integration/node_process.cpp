#include "node_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "consensus/validation.h"
#include "primitives/block_json.h"
#include "primitives/json.h"

namespace powchain::itest {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Runs one asynchronous operation of `stream` to its end. Its timeout (set
// with expires_after) applies, which it would not to a synchronous one.
template <typename Start>
void RunWithTimeout(net::io_context& io, Start start, const char* what) {
  beast::error_code result = net::error::would_block;
  start([&](beast::error_code ec, std::size_t = 0) { result = ec; });
  io.restart();
  io.run();
  if (result) throw beast::system_error(result, what);
}

// Status, body and header fields (names in lower case) of a parsed response.
HttpResponse ToResponse(const beast::http::response<beast::http::string_body>& response) {
  HttpResponse out;
  out.status = static_cast<int>(response.result_int());
  out.body = response.body();
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  return out;
}

}  // namespace

HttpResponse HttpRequest(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& content_type,
                         std::chrono::seconds timeout,
                         const std::map<std::string, std::string>& headers) {
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  RunWithTimeout(
      io,
      [&](auto handler) {
        stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                             [handler](beast::error_code ec) { handler(ec); });
      },
      "connect");
  beast::http::request<beast::http::string_body> req(beast::http::string_to_verb(method), target,
                                                     11);
  req.set(beast::http::field::host, "127.0.0.1");
  req.set(beast::http::field::connection, "close");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method == "POST") {
    if (!content_type.empty()) req.set(beast::http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
  }
  stream.expires_after(timeout);
  RunWithTimeout(
      io, [&](auto handler) { beast::http::async_write(stream, req, handler); }, "write");
  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(1ull << 32);
  stream.expires_after(timeout);
  RunWithTimeout(
      io, [&](auto handler) { beast::http::async_read(stream, buffer, parser, handler); }, "read");
  HttpResponse out = ToResponse(parser.get());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

namespace {

// Whether a listening socket could bind `port` on every interface now.
bool CanListenOn(std::uint16_t port) {
  net::io_context io;
  tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  acceptor.open(tcp::v4(), ec);
  if (!ec) acceptor.bind(tcp::endpoint(tcp::v4(), port), ec);
  return !ec;
}

}  // namespace

std::uint16_t FreePort() {
  // Not a port the kernel picks for bind(0): those come from its ephemeral
  // range (32768 to 60999 on Linux), from which every outgoing connection
  // of every process also takes its local port, so such a port can be
  // taken again before the node listens on it. A random port below that
  // range, never given twice in this process and free on every interface
  // when checked, is taken by nothing but another test that drew the same.
  static std::mutex mutex;
  static std::set<std::uint16_t> given;
  static std::mt19937 rng(std::random_device{}());
  std::lock_guard lock(mutex);
  std::uniform_int_distribution<int> pick(10000, 32767);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const auto port = static_cast<std::uint16_t>(pick(rng));
    if (given.contains(port) || !CanListenOn(port)) continue;
    given.insert(port);
    return port;
  }
  throw std::runtime_error("no free port in 10000-32767");
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("powchain-itest-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

NodeProcess::NodeProcess(std::vector<std::string> args, std::map<std::string, std::string> env,
                         const std::filesystem::path& workdir, const std::string& binary) {
  static int counter = 0;
  log_ = workdir / ("node-" + std::to_string(++counter) + ".log");
  // Remember the ports the node was told, where they are numbers (tests of
  // bad flags pass other things).
  auto port_of = [](const std::string& text) -> std::uint16_t {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && end == text.data() + text.size() && v < 65536
               ? static_cast<std::uint16_t>(v)
               : 0;
  };
  if (env.count("HTTP_PORT")) http_port_ = port_of(env["HTTP_PORT"]);
  if (env.count("P2P_PORT")) p2p_port_ = port_of(env["P2P_PORT"]);
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--http-port") http_port_ = port_of(args[i + 1]);
    if (args[i] == "--p2p-port") p2p_port_ = port_of(args[i + 1]);
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  env_strings.push_back(std::string("PATH=") + (std::getenv("PATH") ? std::getenv("PATH") : ""));
  for (const char* keep : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    if (std::getenv(keep)) env_strings.push_back(std::string(keep) + "=" + std::getenv(keep));
  }
  args.insert(args.begin(), binary);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot create " + log_.string());
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (::chdir(workdir.c_str()) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid_ < 0) throw std::runtime_error("fork failed");
}

NodeProcess::~NodeProcess() {
  if (Running()) {
    ::kill(pid_, SIGKILL);
    WaitExit();
  }
}

std::unique_ptr<NodeProcess> NodeProcess::StartNode(const std::filesystem::path& workdir,
                                                    std::vector<std::string> extra_args) {
  const std::uint16_t http = FreePort();
  const std::uint16_t p2p = FreePort();
  std::vector<std::string> args = {
      "node",       "--network",        "regtest", "--http-port", std::to_string(http),
      "--p2p-port", std::to_string(p2p)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto node = std::make_unique<NodeProcess>(args, std::map<std::string, std::string>{}, workdir);
  if (!node->WaitReady(http)) {
    ADD_FAILURE() << "node did not become ready; log:\n" << node->Log();
  }
  return node;
}

bool NodeProcess::Running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return false;
}

std::optional<int> NodeProcess::WaitExit(std::chrono::milliseconds limit) {
  WaitUntil([&] { return !Running(); }, limit);
  return exit_code_;
}

void NodeProcess::Signal(int sig) {
  if (Running()) ::kill(pid_, sig);
}

bool NodeProcess::WaitReady(std::uint16_t port) {
  http_port_ = port;
  return WaitUntil([&] {
           if (!Running()) return true;
           try {
             return HttpRequest(port, "GET", "/status", "", "", std::chrono::seconds(2)).status ==
                    200;
           } catch (const std::exception&) {
             return false;
           }
         }) &&
         Running();
}

std::string NodeProcess::Log() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + why);
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawConnection::Receive(std::chrono::milliseconds limit) {
  if (closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, static_cast<int>(limit.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return false;
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> RawConnection::ReadUntil(const std::string& needle,
                                                    std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto found = buffer_.find(needle);
    if (found != std::string::npos) {
      std::string out = buffer_.substr(0, found + needle.size());
      buffer_.erase(0, found + needle.size());
      return out;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !Receive(left)) return std::nullopt;
  }
}

std::optional<HttpResponse> RawConnection::Read(std::chrono::milliseconds limit, bool head) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(1ull << 32);
  parser.skip(head);
  std::size_t used_total = 0;
  for (;;) {
    beast::error_code ec;
    if (used_total < buffer_.size()) {
      const std::size_t used =
          parser.put(net::buffer(buffer_.data() + used_total, buffer_.size() - used_total), ec);
      used_total += used;
      if (ec && ec != beast::http::error::need_more) return std::nullopt;
      if (!ec && used > 0 && !parser.is_done()) continue;  // parse the rest
    }
    if (parser.is_done()) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0 || !Receive(left)) {
      if (!closed_ || !parser.is_header_done()) return std::nullopt;
      parser.put_eof(ec);  // a body that ends with the connection
      if (ec || !parser.is_done()) return std::nullopt;
      break;
    }
  }
  buffer_.erase(0, used_total);
  return ToResponse(parser.get());
}

void RawConnection::ShutdownSend() { ::shutdown(fd_, SHUT_WR); }

void RawConnection::Reset() {
  if (fd_ < 0) return;
  const linger abort{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  ::close(fd_);
  fd_ = -1;
  closed_ = true;
}

bool RawConnection::WaitClosed(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    buffer_.clear();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!Receive(std::max(left, std::chrono::milliseconds(0)))) return closed_;
  }
}

Block ParseBlock(const std::string& json) {
  auto block = BlockFromJsonText(json);
  EXPECT_TRUE(block.ok()) << (block.ok() ? "" : block.error()) << "\n" << json.substr(0, 500);
  return block.ok() ? *block : Block{};
}

std::vector<Block> ParseAndCheckChain(const std::string& json, const Params& params) {
  JsonLimits limits;
  limits.max_bytes = 1ull << 31;
  auto parsed = ParseJson(json, limits);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error());
  std::vector<Block> blocks;
  if (!parsed.ok()) return blocks;
  EXPECT_TRUE(parsed->is_array());
  if (!parsed->is_array()) return blocks;
  for (const JsonValue& item : parsed->items()) {
    auto block = BlockFromJson(item);
    EXPECT_TRUE(block.ok()) << (block.ok() ? "" : block.error());
    if (!block.ok()) return blocks;
    blocks.push_back(std::move(block).value());
  }
  // The node's clock and ours agree; allow the drift the rules allow.
  const auto now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::uint64_t at = 0;
  const ValidationResult v = CheckChain(blocks, now, params, &at);
  EXPECT_TRUE(v.ok()) << "block " << at << ": " << v.message;
  return blocks;
}

}  // namespace powchain::itest
