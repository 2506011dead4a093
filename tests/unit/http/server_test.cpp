// The HTTP server over real loopback sockets, with a fake node and a Beast
// client. The server's io_context runs on two threads, as in the node.
//
// No test sleeps for a fixed time: a test that expects the server to close a
// connection reads until it does; one that expects the server to notice
// something polls for it. The only time limit is the client's generous
// kClientTimeout, which turns a hang into a failure.
#include "http/server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fake_node_api.h"
#include "primitives/block_json.h"
#include "primitives/transaction.h"
#include "testutil/wait.h"

namespace powchain::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using testing::FakeBlock;
using testing::FakeNodeApi;
using ClientResponse = bhttp::response<bhttp::string_body>;
using namespace std::chrono_literals;

// Longest a client waits for anything. Generous: only a hang should hit it.
constexpr auto kClientTimeout = 20s;

// A blocking HTTP client with a time limit on every operation, on its own
// io_context (run on the test's thread).
class Client {
 public:
  explicit Client(std::uint16_t port) {
    connect_error_ = Run([&](auto handler) {
      stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), handler);
    });
  }

  bool connected() const { return !connect_error_; }
  error_code connect_error() const { return connect_error_; }

  error_code Write(const std::string& raw) {
    return Run([&](auto handler) { net::async_write(stream_, net::buffer(raw), handler); });
  }

  // Reads one response (an interim 100 Continue counts as one); `head`: the
  // response to a HEAD request, which has no body whatever its header says.
  error_code Read(ClientResponse& out, bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::size_t{512} * 1024 * 1024);
    parser.skip(head);
    const error_code ec =
        Run([&](auto handler) { bhttp::async_read(stream_, buffer_, parser, handler); });
    header_done_ = parser.is_header_done();
    if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
        ec == net::error::eof || ec == net::error::connection_reset) {
      saw_end_ = true;
    }
    out = parser.release();
    return ec;
  }
  // Whether the last Read() got a whole header.
  bool header_done() const { return header_done_; }

  // Sends a request and reads its response; fails the test on an I/O error.
  ClientResponse Request(bhttp::verb method, const std::string& target,
                         const std::string& body = "",
                         const std::string& content_type = "application/json",
                         bool keep_alive = true) {
    bhttp::request<bhttp::string_body> req{method, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!body.empty()) req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.keep_alive(keep_alive);
    req.prepare_payload();
    const error_code wrote = Run([&](auto handler) { bhttp::async_write(stream_, req, handler); });
    EXPECT_FALSE(wrote) << wrote.message();
    ClientResponse res;
    const error_code read = Read(res);
    EXPECT_FALSE(read) << method << " " << target << ": " << read.message();
    return res;
  }
  ClientResponse Get(const std::string& target) { return Request(bhttp::verb::get, target); }

  // Reads and discards until the server closes the connection: true when it
  // does (end of stream or reset), false when the client gives up waiting.
  bool WaitClosed() {
    // Asio (1.81) does not report end of stream twice on one socket: a read
    // after it waits for an edge that never comes. So remember it.
    if (saw_end_) return true;
    for (;;) {
      buffer_.consume(buffer_.size());
      const error_code ec = Run([&](auto handler) {
        stream_.async_read_some(buffer_.prepare(std::size_t{64} * 1024), handler);
      });
      if (!ec) {
        buffer_.commit(last_bytes_);
        continue;
      }
      return ec != beast::error::timeout;
    }
  }

  // Reads raw bytes until what has arrived (since the last call) holds
  // `needle`; returns all of it, or "" when the stream ends or the client
  // gives up first.
  std::string ReadUntil(std::string_view needle) {
    for (;;) {
      const auto found = raw_.find(needle);
      if (found != std::string::npos) {
        std::string out = raw_.substr(0, found + needle.size());
        raw_.erase(0, found + needle.size());
        return out;
      }
      std::array<char, 4096> chunk{};
      const error_code ec =
          Run([&](auto handler) { stream_.async_read_some(net::buffer(chunk), handler); });
      if (ec) return "";
      raw_.append(chunk.data(), last_bytes_);
    }
  }

  void Close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  // Starts one operation with a completion handler and runs it to the end
  // (or the time limit).
  template <typename Start>
  error_code Run(Start start) {
    error_code result = net::error::would_block;
    stream_.expires_after(kClientTimeout);
    start([&](error_code ec, std::size_t n = 0) {
      result = ec;
      last_bytes_ = n;
    });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  std::size_t last_bytes_ = 0;
  bool header_done_ = false;
  bool saw_end_ = false;  // a Read() has seen the end of the stream
  std::string raw_;       // read by ReadUntil, not yet returned
  error_code connect_error_;
};

std::string ErrorOf(const ClientResponse& res) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(res.body(), ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) {
    ADD_FAILURE() << "not an error body: " << res.body();
    return "";
  }
  return std::string(v.as_object().at("error").as_string());
}

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts the server on a free loopback port with `options`.
  void StartServer(HttpOptions options = {}, EventHub* events = nullptr) {
    options.bind_address = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(io_, options, api_, events);
    const Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error();
    ASSERT_NE(server_->port(), 0);
    for (int i = 0; i < 2; ++i) {
      threads_.emplace_back([this] {
        io_.run();
        ++finished_threads_;
      });
    }
  }

  void TearDown() override {
    if (server_) server_->Stop();
    work_.reset();
    // Once stopped, the server must leave nothing pending on the io_context.
    EXPECT_TRUE(testutil::WaitUntil([&] { return finished_threads_ == threads_.size(); }))
        << "io_context still busy after Stop()";
    io_.stop();
    for (auto& t : threads_) t.join();
    server_.reset();
  }

  std::uint16_t port() const { return server_->port(); }

  // Declared first: outlives the io_context and its handlers.
  FakeNodeApi api_{3};
  // For GET /events; like api_, it outlives the sessions.
  std::unique_ptr<EventHub> hub_;
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> finished_threads_{0};
};

// --- Connections -------------------------------------------------------------

TEST_F(HttpServerTest, KeepAliveServesSeveralRequests) {
  StartServer();
  Client client(port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    const ClientResponse status = client.Get("/status");
    EXPECT_EQ(status.result(), bhttp::status::ok);
    EXPECT_EQ(status[bhttp::field::content_type], "application/json");
    EXPECT_TRUE(status.keep_alive());
    const ClientResponse block = client.Get("/blocks/1");
    EXPECT_EQ(block.result(), bhttp::status::ok);
    EXPECT_EQ(block.body(), BlockToJson(api_.chain_[1]));
    const ClientResponse blocks = client.Get("/blocks");
    EXPECT_EQ(blocks.result(), bhttp::status::ok);
    EXPECT_EQ(boost::json::parse(blocks.body()).as_array().size(), 3u);
  }
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client client(port());
  ASSERT_FALSE(
      client.Write("GET /blocks/2 HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /blocks?from=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /blocks/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ClientResponse a, b, c;
  ASSERT_FALSE(client.Read(a));
  ASSERT_FALSE(client.Read(b));
  ASSERT_FALSE(client.Read(c));
  EXPECT_EQ(a.body(), BlockToJson(api_.chain_[2]));
  EXPECT_EQ(b.body(), "[" + BlockToJson(api_.chain_[1]) + "," + BlockToJson(api_.chain_[2]) + "]");
  EXPECT_EQ(c.body(), BlockToJson(api_.chain_[0]));
  EXPECT_FALSE(c.keep_alive());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, ConnectionCloseIsHonored) {
  StartServer();
  Client client(port());
  const ClientResponse res = client.Request(bhttp::verb::get, "/status", "", "", false);
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeptAlive) {
  StartServer();
  Client client(port());
  ASSERT_FALSE(client.Write("GET /blocks/0 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  ClientResponse kept;
  ASSERT_FALSE(client.Read(kept));
  EXPECT_EQ(kept.version(), 10u);
  EXPECT_TRUE(kept.keep_alive());
  ASSERT_FALSE(client.Write("GET /blocks/0 HTTP/1.0\r\n\r\n"));
  ClientResponse last;
  ASSERT_FALSE(client.Read(last));
  EXPECT_EQ(last.result(), bhttp::status::ok);
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, ClosesIdleConnection) {
  HttpOptions options;
  options.idle_timeout = 200ms;
  StartServer(options);
  Client silent(port());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.WaitClosed());

  // Also between keep-alive requests.
  Client once(port());
  EXPECT_EQ(once.Get("/status").result(), bhttp::status::ok);
  EXPECT_TRUE(once.WaitClosed());
  EXPECT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 0; }));
}

TEST_F(HttpServerTest, ClosesConnectionStalledMidHeader) {
  HttpOptions options;
  options.header_timeout = 200ms;  // the idle timeout stays at a minute
  StartServer(options);
  Client client(port());
  ASSERT_FALSE(client.Write("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, ClosesConnectionStalledMidBody) {
  HttpOptions options;
  options.body_timeout = 200ms;
  StartServer(options);
  Client client(port());
  ASSERT_FALSE(client.Write(
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"da"));
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_TRUE(api_.TakeMines().empty());
}

TEST_F(HttpServerTest, StalledClientsDoNotStallOthers) {
  StartServer();
  std::vector<std::unique_ptr<Client>> stalled;
  for (int i = 0; i < 10; ++i) {
    stalled.push_back(std::make_unique<Client>(port()));
    ASSERT_FALSE(stalled.back()->Write("POST /mine HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{"));
  }
  for (int i = 0; i < 10; ++i) {
    stalled.push_back(std::make_unique<Client>(port()));
    ASSERT_FALSE(stalled.back()->Write("GET /sta"));
  }
  Client client(port());
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
  EXPECT_EQ(client.Get("/blocks").result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, ClientThatDoesNotReadIsCutOffByWriteTimeout) {
  // 40 MB of blocks: more than loopback socket buffers hold.
  api_.chain_.clear();
  for (std::uint64_t h = 0; h < 4000; ++h) {
    api_.chain_.push_back(FakeBlock(h, "\"" + std::string(10000, 'x') + "\""));
  }
  HttpOptions options;
  options.write_timeout = 200ms;
  StartServer(options);
  Client slow(port());
  ASSERT_FALSE(slow.Write("GET /blocks HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Others are served meanwhile.
  Client other(port());
  EXPECT_EQ(other.Get("/blocks/1").result(), bhttp::status::ok);
  // The server gives up on the slow one...
  EXPECT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 1; }));
  // ... so it never gets the whole response.
  ClientResponse res;
  EXPECT_TRUE(slow.Read(res));
}

// --- The connection cap ---------------------------------------------------------

const std::string kPartialHeader = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n";
const std::string kMineRequest =
    "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
    "{\"data\":1}";

TEST_F(HttpServerTest, ConnectionCapAnswers503WhenEverySlotHasARequest) {
  HttpOptions options;
  options.max_connections = 2;
  StartServer(options);
  // One waits for the miner, one for the rest of its body: both have sent a
  // whole header, so neither may be closed to make room.
  Client mining(port());
  ASSERT_FALSE(mining.Write(kMineRequest));
  ASSERT_TRUE(api_.WaitForMines(1));
  Client body(port());
  ASSERT_FALSE(
      body.Write("POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n"
                 "Expect: 100-continue\r\n\r\n"));
  ClientResponse interim;  // sent once the server has the whole header
  ASSERT_FALSE(body.Read(interim));
  EXPECT_EQ(interim.result(), bhttp::status::continue_);
  ASSERT_FALSE(body.Write("{\"da"));
  EXPECT_EQ(server_->connections(), 2u);
  EXPECT_EQ(server_->waiting_connections(), 0u);

  Client third(port());
  ASSERT_TRUE(third.connected());
  ClientResponse refused;
  ASSERT_FALSE(third.Read(refused));
  EXPECT_EQ(refused.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(ErrorOf(refused), "too many connections");
  EXPECT_FALSE(refused.keep_alive());
  EXPECT_TRUE(third.WaitClosed());
  EXPECT_EQ(server_->connections(), 2u);

  // Both requests are still served in full.
  ASSERT_FALSE(body.Write("ta\":2}"));
  ASSERT_TRUE(api_.WaitForMines(2));
  auto mines = api_.TakeMines();
  ASSERT_EQ(mines.size(), 2u);
  std::thread([&] {
    for (auto& m : mines) m.done(FakeBlock(3, m.data));
  }).join();
  ClientResponse mined;
  ASSERT_FALSE(mining.Read(mined));
  EXPECT_EQ(mined.result(), bhttp::status::created);
  ASSERT_FALSE(body.Read(mined));
  EXPECT_EQ(mined.result(), bhttp::status::created);

  // A slot frees when a client leaves.
  mining.Close();
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 1; }));
  Client fourth(port());
  EXPECT_EQ(fourth.Get("/status").result(), bhttp::status::ok);
  EXPECT_EQ(body.Get("/status").result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, CapClosesTheOldestConnectionStillSendingItsHeader) {
  HttpOptions options;
  options.max_connections = 2;
  StartServer(options);
  Client oldest(port());
  ASSERT_FALSE(oldest.Write(kPartialHeader));
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 1; }));
  Client newer(port());
  ASSERT_FALSE(newer.Write(kPartialHeader));
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 2; }));
  EXPECT_EQ(server_->waiting_connections(), 2u);

  // The cap is reached, yet a client that sends its header is served...
  Client client(port());
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
  // ... in the slot of the oldest, which is closed without an answer.
  ClientResponse none;
  EXPECT_TRUE(oldest.Read(none));
  EXPECT_FALSE(oldest.header_done());
  EXPECT_TRUE(oldest.WaitClosed());
  EXPECT_EQ(server_->connections(), 2u);
  // The newer one keeps its slot and is answered once its header is whole.
  ASSERT_FALSE(newer.Write("\r\n"));
  ClientResponse res;
  ASSERT_FALSE(newer.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, CapClosesWhatWaitedLongestForAHeader) {
  HttpOptions options;
  options.max_connections = 2;
  StartServer(options);
  // A keep-alive client opened first, then a staller; the keep-alive client
  // then makes a request, so the staller has waited longer since.
  Client kept(port());
  EXPECT_EQ(kept.Get("/status").result(), bhttp::status::ok);
  Client staller(port());
  ASSERT_FALSE(staller.Write(kPartialHeader));
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 2; }));
  EXPECT_EQ(kept.Get("/blocks/0").result(), bhttp::status::ok);
  // Once the answer is written, `kept` waits for its next header again.
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->waiting_connections() == 2; }));

  Client client(port());
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
  EXPECT_TRUE(staller.WaitClosed());
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->waiting_connections() == 2; }));
  // An idle keep-alive connection is a candidate too: `kept` now has waited
  // longest (`client` made its request after it).
  Client another(port());
  EXPECT_EQ(another.Get("/status").result(), bhttp::status::ok);
  EXPECT_TRUE(kept.WaitClosed());
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
  EXPECT_LE(server_->connections(), 2u);
}

TEST_F(HttpServerTest, CapClosesALingeringConnection) {
  HttpOptions options;
  options.max_connections = 1;
  options.linger_timeout = kClientTimeout * 2;  // only the cap can close it
  StartServer(options);
  Client done(port());
  const ClientResponse last = done.Request(bhttp::verb::get, "/status", "", "", false);
  EXPECT_EQ(last.result(), bhttp::status::ok);
  EXPECT_FALSE(last.keep_alive());
  // `done` has its answer but does not close; the server lingers.
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->waiting_connections() == 1; }));
  Client client(port());
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
  EXPECT_EQ(server_->connections(), 1u);
}

TEST_F(HttpServerTest, CapOrdersConnectionsByWhenTheyBeganToWait) {
  // A connection that never sent a whole header has waited since it was
  // admitted, whatever befell it meanwhile: here its header breaks and it
  // lingers after the 400. It stays the oldest candidate, so a new
  // connection takes its slot, not that of the staller admitted after it.
  HttpOptions options;
  options.max_connections = 2;
  options.linger_timeout = kClientTimeout * 2;  // only the cap can close it
  StartServer(options);
  Client broken(port());
  ASSERT_FALSE(broken.Write(kPartialHeader));
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 1; }));
  Client staller(port());
  ASSERT_FALSE(staller.Write(kPartialHeader));
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 2; }));
  ASSERT_FALSE(broken.Write("No colon here\r\n\r\n"));
  ClientResponse refused;
  ASSERT_FALSE(broken.Read(refused));
  EXPECT_EQ(refused.result(), bhttp::status::bad_request);

  Client client(port());
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
  EXPECT_TRUE(broken.WaitClosed());
  ASSERT_FALSE(staller.Write("\r\n"));
  ClientResponse res;
  ASSERT_FALSE(staller.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, FloodOfStallersCannotLockOutAClient) {
  constexpr std::size_t kCap = 64;
  HttpOptions options;
  options.max_connections = kCap;
  StartServer(options);
  // An attacker keeps opening stalling connections, far beyond the cap, and
  // keeps them open. A client is closed only if kCap newer connections
  // arrive before its header is parsed; the attacker is paced (about 4,000
  // connections a second at most) so that this test's own threads, which
  // share the CPU with the server, cannot delay the client's header that
  // long.
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> opened{0};
  std::atomic<std::size_t> most{0};
  std::thread attacker([&] {
    std::vector<std::unique_ptr<Client>> stallers;
    while (!stop && stallers.size() < 3000) {
      stallers.push_back(std::make_unique<Client>(port()));
      if (stallers.back()->connected() && !stallers.back()->Write(kPartialHeader)) ++opened;
      most = std::max(most.load(), server_->connections());
      std::this_thread::sleep_for(250us);
    }
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      thread.join();
    }
  } joiner{stop, attacker};

  ASSERT_TRUE(testutil::WaitUntil([&] { return opened >= 2 * kCap; }));
  const std::size_t before = opened;
  for (int i = 0; i < 20; ++i) {
    Client client(port());
    const ClientResponse res = client.Get("/status");
    EXPECT_EQ(res.result(), bhttp::status::ok) << i << ": " << res.body();
    most = std::max(most.load(), server_->connections());
  }
  EXPECT_GT(opened.load(), before);  // the flood went on meanwhile
  EXPECT_LE(most.load(), kCap);
  EXPECT_LE(server_->connections(), kCap);
}

TEST_F(HttpServerTest, StopClosesOpenConnections) {
  StartServer();
  Client idle(port());
  EXPECT_EQ(idle.Get("/status").result(), bhttp::status::ok);
  Client mid_header(port());
  ASSERT_FALSE(mid_header.Write("GET /status HTTP/1.1\r\n"));
  Client mining(port());
  ASSERT_FALSE(mining.Write(
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
      "{\"data\":1}"));
  ASSERT_TRUE(api_.WaitForMines(1));
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 3; }));

  server_->Stop();
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_TRUE(mid_header.WaitClosed());
  EXPECT_TRUE(mining.WaitClosed());
  EXPECT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 0; }));
  server_->Stop();  // twice is fine

  Client late(port());
  EXPECT_TRUE(!late.connected() || late.WaitClosed());

  // The miner answers after all: nobody is listening, nothing breaks.
  auto mines = api_.TakeMines();
  ASSERT_EQ(mines.size(), 1u);
  std::thread([&] { mines[0].done(FakeBlock(3, mines[0].data)); }).join();
}

TEST_F(HttpServerTest, StopFromAnotherThreadWhileBusy) {
  StartServer();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    EXPECT_EQ(clients.back()->Get("/blocks").result(), bhttp::status::ok);
  }
  std::thread stopper([&] { server_->Stop(); });
  std::thread again([&] { server_->Stop(); });
  stopper.join();
  again.join();
  for (auto& c : clients) EXPECT_TRUE(c->WaitClosed());
}

TEST_F(HttpServerTest, StartFailsWhenAddressInUse) {
  StartServer();
  HttpOptions options;
  options.port = port();
  HttpServer second(io_, options, api_);
  const Status started = second.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("127.0.0.1:" + std::to_string(port())), std::string::npos)
      << started.error();
  EXPECT_NE(started.error().find("in use"), std::string::npos) << started.error();
  EXPECT_EQ(second.port(), 0);
  // The first server is unaffected.
  Client client(port());
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, StartFailsOnBadAddress) {
  StartServer();
  HttpOptions options;
  options.bind_address = "not-an-address";
  options.port = 0;
  HttpServer second(io_, options, api_);
  const Status started = second.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("not-an-address:0"), std::string::npos) << started.error();
  EXPECT_FALSE(second.Start().ok());  // and it stays unusable
}

// --- Malformed and oversized requests -------------------------------------------

TEST_F(HttpServerTest, OversizedBodyIs413) {
  StartServer();
  Client client(port());
  // Refused from the header alone: the client need not send the body.
  ASSERT_FALSE(client.Write(
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"));
  ClientResponse res;
  ASSERT_FALSE(client.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::payload_too_large);
  EXPECT_NE(ErrorOf(res).find("1048576"), std::string::npos);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, OversizedChunkedBodyIs413) {
  HttpOptions options;
  options.body_limit = 1000;
  StartServer(options);
  Client client(port());
  const std::string chunk = "320\r\n" + std::string(800, ' ') + "\r\n";  // 800 bytes
  ASSERT_FALSE(
      client.Write("POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                   "chunked\r\n\r\n" +
                   chunk + chunk + chunk + "0\r\n\r\n"));
  ClientResponse res;
  ASSERT_FALSE(client.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::payload_too_large);
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  StartServer();
  Client client(port());
  ASSERT_FALSE(
      client.Write("GET /status HTTP/1.1\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n"));
  ClientResponse res;
  ASSERT_FALSE(client.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::request_header_fields_too_large);
  EXPECT_FALSE(ErrorOf(res).empty());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  StartServer();
  for (const char* raw : {"GARBAGE\r\n\r\n", "GET /status HTTP/9.9\r\n\r\n",
                          "GET /status HTTP/1.1\r\nNo colon here\r\n\r\n",
                          "GET /status HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                          "POST /mine HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
                          "\x01\x02\x03\r\n\r\n"}) {
    Client client(port());
    ASSERT_FALSE(client.Write(raw));
    ClientResponse res;
    ASSERT_FALSE(client.Read(res)) << raw;
    EXPECT_EQ(res.result(), bhttp::status::bad_request) << raw;
    EXPECT_NE(ErrorOf(res).find("malformed"), std::string::npos);
    EXPECT_TRUE(client.WaitClosed()) << raw;
  }
}

TEST_F(HttpServerTest, TransferCodingOtherThanChunkedIsRefusedAndCloses) {
  StartServer();
  // Without a final "chunked" the body has no known end: what follows must
  // not be taken for the next request (RFC 9112 section 6.3).
  Client smuggler(port());
  ASSERT_FALSE(smuggler.Write(
      "POST /peers HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n"
      "POST /peers HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n"
      "{\"url\":\"ws://localhost:5001\"}"));
  ClientResponse res;
  ASSERT_FALSE(smuggler.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::bad_request);
  EXPECT_NE(ErrorOf(res).find("Transfer-Encoding must end with chunked"), std::string::npos)
      << res.body();
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(smuggler.WaitClosed());
  EXPECT_TRUE(api_.added_peers().empty());

  // A coding before chunked is not decoded: 501.
  Client gzip(port());
  ASSERT_FALSE(gzip.Write(
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, "
      "chunked\r\n\r\n1\r\n{\r\n0\r\n\r\n"));
  ASSERT_FALSE(gzip.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::not_implemented);
  EXPECT_NE(ErrorOf(res).find("only the chunked transfer coding"), std::string::npos);
  EXPECT_TRUE(gzip.WaitClosed());

  // Plain chunked is fine.
  Client chunked(port());
  ASSERT_FALSE(chunked.Write(
      "POST /peers HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "1d\r\n{\"url\":\"ws://localhost:5001\"}\r\n0\r\n\r\n"));
  ASSERT_FALSE(chunked.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::accepted) << res.body();
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(api_.added_peers(), std::vector<std::string>{"ws://localhost:5001"});
}

TEST_F(HttpServerTest, ErrorStatusesOverTheWire) {
  StartServer();
  Client client(port());
  const ClientResponse unsupported =
      client.Request(bhttp::verb::post, "/mine", R"({"data":1})", "text/plain");
  EXPECT_EQ(unsupported.result(), bhttp::status::unsupported_media_type);
  EXPECT_EQ(unsupported[bhttp::field::content_type], "application/json");

  const ClientResponse missing = client.Get("/nope?x=1");
  EXPECT_EQ(missing.result(), bhttp::status::not_found);
  EXPECT_EQ(ErrorOf(missing), "no such endpoint: /nope");

  const ClientResponse wrong_method = client.Request(bhttp::verb::put, "/peers");
  EXPECT_EQ(wrong_method.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(wrong_method[bhttp::field::allow], "GET, POST, DELETE");

  const ClientResponse bad_id = client.Get("/blocks/xyz");
  EXPECT_EQ(bad_id.result(), bhttp::status::bad_request);

  const ClientResponse bad_query = client.Get("/blocks?from=1&from=2");
  EXPECT_EQ(bad_query.result(), bhttp::status::bad_request);

  // None of these closes the connection.
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, HeadGetsTheHeaderOnly) {
  StartServer();
  Client client(port());
  ASSERT_FALSE(
      client.Write("HEAD /status HTTP/1.1\r\nHost: x\r\n\r\nGET /blocks/0 HTTP/1.1\r\n\r\n"));
  ClientResponse head;
  ASSERT_FALSE(client.Read(head, true));
  EXPECT_EQ(head.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(head[bhttp::field::allow], "GET");
  EXPECT_NE(head[bhttp::field::content_length], "0");  // what the body would be
  // No body was sent: the next bytes are the next response.
  ClientResponse next;
  ASSERT_FALSE(client.Read(next));
  EXPECT_EQ(next.result(), bhttp::status::ok);
  EXPECT_EQ(next.body(), BlockToJson(api_.chain_[0]));
}

TEST_F(HttpServerTest, DeeplyNestedBodyIs400) {
  StartServer();
  Client client(port());
  const ClientResponse res =
      client.Request(bhttp::verb::post, "/mine", std::string(100000, '['), "application/json");
  EXPECT_EQ(res.result(), bhttp::status::bad_request);
  EXPECT_NE(ErrorOf(res).find("nesting"), std::string::npos) << res.body();
  EXPECT_EQ(client.Get("/status").result(), bhttp::status::ok);
  EXPECT_TRUE(api_.TakeMines().empty());
}

TEST_F(HttpServerTest, DataTooLargeForABlockIs413) {
  // 104 bytes of data after the header and the room kept for a coinbase.
  api_.status_.params.max_block_bytes = 200 + MaxCoinbaseSize(api_.status_.params.address_prefix);
  StartServer();
  Client client(port());
  const ClientResponse res =
      client.Request(bhttp::verb::post, "/mine", "{\"data\":\"" + std::string(103, 'x') + "\"}");
  EXPECT_EQ(res.result(), bhttp::status::payload_too_large);
  EXPECT_NE(ErrorOf(res).find("\"data\" is 105 bytes"), std::string::npos) << res.body();
  EXPECT_NE(ErrorOf(res).find("room for 104"), std::string::npos) << res.body();
  EXPECT_TRUE(api_.TakeMines().empty());  // never reaches the miner

  // One byte less fits; the connection is still open.
  ASSERT_FALSE(
      client.Write("POST /mine HTTP/1.1\r\nContent-Type: application/json\r\n"
                   "Content-Length: 113\r\n\r\n{\"data\":\"" +
                   std::string(102, 'x') + "\"}"));
  ASSERT_TRUE(api_.WaitForMines(1));
  auto mines = api_.TakeMines();
  ASSERT_EQ(mines.size(), 1u);
  EXPECT_EQ(mines[0].data.size(), 104u);
  std::thread([&] { mines[0].done(FakeBlock(3, mines[0].data)); }).join();
  ClientResponse mined;
  ASSERT_FALSE(client.Read(mined));
  EXPECT_EQ(mined.result(), bhttp::status::created);
}

TEST_F(HttpServerTest, NodeExceptionIs500AndTheConnectionSurvives) {
  api_.throw_on_status_ = true;
  StartServer();
  Client client(port());
  const ClientResponse res = client.Get("/status");
  EXPECT_EQ(res.result(), bhttp::status::internal_server_error);
  EXPECT_EQ(ErrorOf(res), "internal error");
  EXPECT_EQ(client.Get("/blocks/0").result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  StartServer();
  Client client(port());
  const std::string body = R"({"url":"ws://localhost:5001"})";
  ASSERT_FALSE(client.Write(
      "POST /peers HTTP/1.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n"));
  ClientResponse interim;
  ASSERT_FALSE(client.Read(interim));
  EXPECT_EQ(interim.result(), bhttp::status::continue_);
  ASSERT_FALSE(client.Write(body));
  ClientResponse res;
  ASSERT_FALSE(client.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::accepted);
  EXPECT_EQ(api_.added_peers(), std::vector<std::string>{"ws://localhost:5001"});
}

// --- GET /blocks streaming --------------------------------------------------------

TEST_F(HttpServerTest, StreamsLongChainInOrder) {
  api_.chain_.clear();
  for (std::uint64_t h = 0; h < 5000; ++h) api_.chain_.push_back(FakeBlock(h));
  StartServer();
  Client client(port());
  const ClientResponse res = client.Get("/blocks");
  ASSERT_EQ(res.result(), bhttp::status::ok);
  EXPECT_TRUE(res.chunked());
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  const auto blocks = boost::json::parse(res.body()).as_array();
  ASSERT_EQ(blocks.size(), 5000u);
  for (std::uint64_t h = 0; h < 5000; ++h) {
    ASSERT_EQ(boost::json::serialize(blocks[h]), BlockToJson(api_.chain_[h])) << "height " << h;
  }
  // Read run by run (the heights between multiples of the batch size)
  // from one snapshot.
  constexpr std::size_t kBatch = HttpOptions::kDefaultStreamBatchSize;
  const auto calls = api_.batch_calls();
  EXPECT_EQ(calls.size(), (5000 + kBatch - 1) / kBatch);
  for (const auto& call : calls) {
    EXPECT_EQ(call.from % kBatch, 0u);
    EXPECT_LE(call.limit, kBatch);
    EXPECT_EQ(call.tip, api_.chain_.back().hash);
  }

  const ClientResponse page = client.Get("/blocks?from=4990&limit=5");
  ASSERT_EQ(page.result(), bhttp::status::ok);
  const auto five = boost::json::parse(page.body()).as_array();
  ASSERT_EQ(five.size(), 5u);
  EXPECT_EQ(boost::json::serialize(five[0]), BlockToJson(api_.chain_[4990]));
  EXPECT_EQ(client.Get("/blocks?from=5000").body(), "[]");
  EXPECT_EQ(client.Get("/blocks?limit=0").body(), "[]");
}

TEST_F(HttpServerTest, StreamsToHttp10ClientsWithoutChunks) {
  StartServer();
  Client client(port());
  ASSERT_FALSE(client.Write("GET /blocks?from=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  ClientResponse res;
  // The body ends where the connection does; a complete read means the
  // server closed it.
  ASSERT_FALSE(client.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_FALSE(res.chunked());
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(res.body(),
            "[" + BlockToJson(api_.chain_[1]) + "," + BlockToJson(api_.chain_[2]) + "]");
}

TEST_F(HttpServerTest, StoreErrorMidStreamTruncates) {
  api_.chain_.clear();
  for (std::uint64_t h = 0; h < 200; ++h) api_.chain_.push_back(FakeBlock(h));
  api_.fail_reads_at_ = 100;
  HttpOptions options;
  options.stream_batch_size = 32;  // blocks 0 to 95 go out before the failure
  StartServer(options);
  Client client(port());
  ASSERT_FALSE(client.Write("GET /blocks HTTP/1.1\r\nHost: x\r\n\r\n"));
  ClientResponse res;
  const error_code ec = client.Read(res);
  EXPECT_TRUE(client.header_done());
  EXPECT_EQ(res.result(), bhttp::status::ok);
  EXPECT_TRUE(ec) << "a truncated response must not parse as complete";
  EXPECT_NE(ec, beast::error::timeout);
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, StoreErrorBeforeTheFirstBlockIs500) {
  api_.fail_reads_at_ = 0;
  StartServer();
  Client client(port());
  const ClientResponse res = client.Get("/blocks");
  EXPECT_EQ(res.result(), bhttp::status::internal_server_error);
  EXPECT_NE(ErrorOf(res).find("disk on fire"), std::string::npos);
  EXPECT_EQ(client.Get("/blocks?limit=1").result(), bhttp::status::internal_server_error);
  EXPECT_EQ(client.Get("/blocks?from=3").body(), "[]");  // nothing to read
}

// --- POST /mine -----------------------------------------------------------------

TEST_F(HttpServerTest, ConcurrentMinesAreAnswered) {
  StartServer();
  constexpr int kClients = 20;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    const std::string body = "{\"data\":{\"i\":" + std::to_string(i) + "}}";
    ASSERT_FALSE(clients.back()->Write(
        "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body));
  }
  ASSERT_TRUE(api_.WaitForMines(kClients));
  auto mines = api_.TakeMines();
  ASSERT_EQ(mines.size(), static_cast<std::size_t>(kClients));
  // The miner answers from its own thread, last first; one request fails.
  std::thread miner([&] {
    for (std::size_t k = mines.size(); k-- > 0;) {
      if (mines[k].data == "{\"i\":7}") {
        mines[k].done(Error{"mining queue is full"});
      } else {
        mines[k].done(FakeBlock(100 + k, mines[k].data));
      }
    }
  });
  for (int i = 0; i < kClients; ++i) {
    ClientResponse res;
    ASSERT_FALSE(clients[i]->Read(res)) << i;
    if (i == 7) {
      EXPECT_EQ(res.result(), bhttp::status::service_unavailable);
      EXPECT_EQ(ErrorOf(res), "mining queue is full");
      continue;
    }
    ASSERT_EQ(res.result(), bhttp::status::created) << i;
    const auto block = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(boost::json::serialize(block.at("data")), "{\"i\":" + std::to_string(i) + "}");
  }
  miner.join();
  // Each connection is still usable.
  EXPECT_EQ(clients[0]->Get("/status").result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, MineClientThatLeavesIsForgotten) {
  StartServer();
  {
    Client client(port());
    ASSERT_FALSE(client.Write(
        "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
        "{\"data\":1}"));
    ASSERT_TRUE(api_.WaitForMines(1));
    client.Close();
  }
  // The server notices the client is gone without waiting for the miner.
  ASSERT_TRUE(testutil::WaitUntil([&] { return server_->connections() == 0; }));
  auto mines = api_.TakeMines();
  ASSERT_EQ(mines.size(), 1u);
  std::thread([&] { mines[0].done(FakeBlock(3, "1")); }).join();

  Client next(port());
  EXPECT_EQ(next.Get("/status").result(), bhttp::status::ok);
}

TEST_F(HttpServerTest, MineIsNotCutByTheIdleTimeout) {
  HttpOptions options;
  options.idle_timeout = 100ms;
  options.header_timeout = 100ms;
  options.body_timeout = 100ms;
  StartServer(options);
  Client client(port());
  ASSERT_FALSE(client.Write(
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
      "{\"data\":1}"));
  ASSERT_TRUE(api_.WaitForMines(1));
  // Hold the answer until another connection has been closed by the idle
  // timeout: by then, any timer armed for the mining one has fired too.
  Client idle(port());
  ASSERT_TRUE(idle.WaitClosed());
  auto mines = api_.TakeMines();
  ASSERT_EQ(mines.size(), 1u);
  std::thread([&] { mines[0].done(FakeBlock(3, "1")); }).join();
  ClientResponse res;
  ASSERT_FALSE(client.Read(res));
  EXPECT_EQ(res.result(), bhttp::status::created);
}

TEST_F(HttpServerTest, RequestPipelinedBehindMineWaitsItsTurn) {
  StartServer();
  Client client(port());
  ASSERT_FALSE(client.Write(
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
      "{\"data\":5}"
      "GET /blocks/0 HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(api_.WaitForMines(1));
  auto mines = api_.TakeMines();
  ASSERT_EQ(mines.size(), 1u);
  EXPECT_EQ(mines[0].data, "5");
  std::thread([&] { mines[0].done(FakeBlock(3, "5")); }).join();
  ClientResponse mined, block;
  ASSERT_FALSE(client.Read(mined));
  ASSERT_FALSE(client.Read(block));
  EXPECT_EQ(mined.result(), bhttp::status::created);
  EXPECT_EQ(mined.body(), BlockToJson(FakeBlock(3, "5")));
  EXPECT_EQ(block.body(), BlockToJson(api_.chain_[0]));
}

// The node's shutdown order: Stop(), then stop the io_context at once (the
// posted closes never run), join, destroy the server, then the io_context;
// the miner answers last. Nothing may crash or leak (LeakSanitizer checks).
// --- GET /events -----------------------------------------------------------

const std::string kEventsRequest = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(HttpServerTest, EventsReachEverySubscriberInOrder) {
  hub_ = std::make_unique<EventHub>();
  EventHub& hub = *hub_;
  StartServer({}, &hub);
  Client a(port());
  Client b(port());
  ASSERT_FALSE(a.Write(kEventsRequest));
  ASSERT_FALSE(b.Write(kEventsRequest));
  const std::string head = a.ReadUntil("retry: 2000\n\n");
  EXPECT_NE(head.find("200 OK"), std::string::npos) << head;
  EXPECT_NE(head.find("text/event-stream"), std::string::npos) << head;
  EXPECT_NE(b.ReadUntil("retry: 2000\n\n"), "");
  ASSERT_TRUE(testutil::WaitUntil([&] { return hub.GetStats().clients == 2; }));
  hub.Publish("tip", R"({"height":1})");
  hub.Publish("tx", R"({"txid":"ab"})");
  for (Client* c : {&a, &b}) {
    const std::string got = c->ReadUntil("\"txid\":\"ab\"}\n\n");
    const auto tip = got.find("event: tip\ndata: {\"height\":1}\n\n");
    const auto tx = got.find("event: tx\ndata: ");
    ASSERT_NE(tip, std::string::npos) << got;
    EXPECT_LT(tip, tx);
  }
  // Other requests are served meanwhile.
  Client other(port());
  EXPECT_EQ(other.Get("/status").result(), bhttp::status::ok);
  // A client that leaves is unsubscribed.
  a.Close();
  EXPECT_TRUE(testutil::WaitUntil([&] { return hub.GetStats().clients == 1; }));
  hub.Publish("tip", R"({"height":2})");
  EXPECT_NE(b.ReadUntil("{\"height\":2}"), "");
}

TEST_F(HttpServerTest, EventClientsBeyondTheCapAre503) {
  hub_ = std::make_unique<EventHub>(EventOptions{1, EventOptions::kDefaultMaxQueuedBytes});
  EventHub& hub = *hub_;
  StartServer({}, &hub);
  Client first(port());
  ASSERT_FALSE(first.Write(kEventsRequest));
  EXPECT_NE(first.ReadUntil("retry:"), "");
  Client second(port());
  const ClientResponse res = second.Get("/events");
  EXPECT_EQ(res.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(ErrorOf(res), "too many event clients (the limit is 1)");
  EXPECT_EQ(hub.GetStats().refused, 1u);
}

// A client that stops reading is dropped once its queue passes the bound;
// the publisher never waits for it and the others get every event.
TEST_F(HttpServerTest, SlowEventClientIsDroppedWithoutSlowingOthers) {
  hub_ = std::make_unique<EventHub>(EventOptions{4, 256 * 1024});
  EventHub& hub = *hub_;
  StartServer({}, &hub);
  Client stalled(port());
  Client reader(port());
  ASSERT_FALSE(stalled.Write(kEventsRequest));
  ASSERT_FALSE(reader.Write(kEventsRequest));
  ASSERT_NE(reader.ReadUntil("retry: 2000\n\n"), "");
  ASSERT_TRUE(testutil::WaitUntil([&] { return hub.GetStats().clients == 2; }));
  const std::string payload = "\"" + std::string(60 * 1024, 'x') + "\"";
  // 200 events of 60 KB: 12 MB, far more than socket buffers and the bound.
  constexpr int kEvents = 200;
  int read = 0;
  for (int i = 0; i < kEvents; ++i) {
    hub.Publish("tx", payload);
    // The reader keeps up, one event at a time.
    if (reader.ReadUntil("\"\n\n") != "") ++read;
  }
  EXPECT_EQ(read, kEvents);
  EXPECT_TRUE(testutil::WaitUntil([&] { return hub.GetStats().dropped == 1; }));
  EXPECT_EQ(hub.GetStats().clients, 1u);
  EXPECT_TRUE(stalled.WaitClosed());
}

TEST_F(HttpServerTest, WithoutAHubEventsAre404) {
  StartServer();
  Client c(port());
  const ClientResponse res = c.Get("/events");
  EXPECT_EQ(res.result(), bhttp::status::not_found);
}

TEST_F(HttpServerTest, EveryAnsweredRequestIsRecordedByRoute) {
  StartServer();
  Client c(port());
  EXPECT_EQ(c.Get("/blocks/1").result(), bhttp::status::ok);
  EXPECT_EQ(c.Get("/blocks/99").result(), bhttp::status::not_found);
  EXPECT_EQ(c.Get("/blocks").result(), bhttp::status::ok);
  EXPECT_EQ(c.Get("/nothing/here").result(), bhttp::status::not_found);
  ASSERT_TRUE(testutil::WaitUntil([&] { return api_.requests().size() == 4; }));
  const auto records = api_.requests();
  EXPECT_EQ(records[0].route, "/blocks/{id}");
  EXPECT_EQ(records[0].status, 200u);
  EXPECT_EQ(records[1].status, 404u);
  EXPECT_EQ(records[2].route, "/blocks");
  EXPECT_EQ(records[3].route, "other");
  for (const auto& r : records) EXPECT_GE(r.seconds, 0.0);
}

TEST(HttpServerShutdownTest, NodeStyleShutdownWithPendingMines) {
  FakeNodeApi api(3);
  std::vector<FakeNodeApi::PendingMine> mines;
  const std::string request =
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
      "{\"data\":1}";
  {
    net::io_context io;
    auto server = std::make_unique<HttpServer>(io, HttpOptions{"127.0.0.1", 0}, api);
    ASSERT_TRUE(server->Start().ok());
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&] { io.run(); });
    Client first(server->port());
    Client second(server->port());
    ASSERT_FALSE(first.Write(request));
    ASSERT_FALSE(second.Write(request));
    Client idle(server->port());
    EXPECT_EQ(idle.Get("/status").result(), bhttp::status::ok);
    ASSERT_TRUE(api.WaitForMines(2));
    server->Stop();
    io.stop();
    for (auto& t : threads) t.join();
    mines = api.TakeMines();
    ASSERT_EQ(mines.size(), 2u);
    // One answer comes while the io_context exists but no longer runs...
    mines[0].done(Error{"node stopping"});
    server.reset();
  }
  // ... the other after it is gone: it finds nothing.
  mines[1].done(Error{"node stopping"});
}

}  // namespace
}  // namespace powchain::http
