// The WebSocket transport over real loopback sockets: transports dialling
// each other, and hand-made clients (Beast WebSocket, or raw TCP) that
// misbehave. The transports' io_context runs on two threads, as in the node.
//
// No test sleeps for a fixed time: each waits for the events it expects
// (recorded by RecordingHandler) or for the connection to end. kWait only
// turns a hang into a failure. After every test, every transport is stopped
// and the recorded events are checked against the handler contract: OnOpen
// first, OnClose exactly once and last, no overlapping calls for one id.
#include "p2p/transport.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace powchain::p2p {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

// Longest anything is waited for. Generous: only a hang should hit it.
constexpr auto kWait = 20s;

const net::ip::address kLoopback = net::ip::make_address("127.0.0.1");

// --- Recording the handler's calls -------------------------------------------

struct PeerRecord {
  Direction direction = Direction::kInbound;
  std::string address;
  std::uint16_t port = 0;
  std::optional<PeerUrl> dialed;
  std::vector<std::string> messages;
  std::optional<std::string> closed;  // the OnClose reason
};

struct Record {
  std::map<PeerId, PeerRecord> peers;  // every id seen in OnOpen
  std::vector<std::pair<PeerUrl, std::string>> dial_failures;
  std::vector<std::string> violations;  // breaches of the handler contract

  std::size_t Closed() const {
    std::size_t n = 0;
    for (const auto& [id, peer] : peers) n += peer.closed ? 1 : 0;
    return n;
  }
  // The ids of the peers in `direction`, in id order.
  std::vector<PeerId> Ids(Direction direction) const {
    std::vector<PeerId> ids;
    for (const auto& [id, peer] : peers) {
      if (peer.direction == direction) ids.push_back(id);
    }
    return ids;
  }
};

// Records every call and checks the contract as it goes: OnOpen once and
// first, OnMessage only between OnOpen and OnClose, OnClose once, and no two
// calls for one id at the same time.
class RecordingHandler : public TransportHandler {
 public:
  void OnOpen(PeerId id, Direction direction, const std::string& remote_address,
              std::uint16_t remote_port, const std::optional<PeerUrl>& dialed) override {
    Call call(*this, id);
    std::lock_guard lock(mu_);
    if (record_.peers.count(id) != 0) Violation("OnOpen twice for peer " + std::to_string(id));
    PeerRecord& peer = record_.peers[id];
    peer.direction = direction;
    peer.address = remote_address;
    peer.port = remote_port;
    peer.dialed = dialed;
    cv_.notify_all();
  }

  void OnMessage(PeerId id, std::string text) override {
    Call call(*this, id);
    std::lock_guard lock(mu_);
    const auto it = record_.peers.find(id);
    if (it == record_.peers.end()) {
      Violation("OnMessage before OnOpen for peer " + std::to_string(id));
    } else if (it->second.closed) {
      Violation("OnMessage after OnClose for peer " + std::to_string(id));
    } else {
      it->second.messages.push_back(std::move(text));
    }
    cv_.notify_all();
  }

  void OnClose(PeerId id, const std::string& reason) override {
    Call call(*this, id);
    std::lock_guard lock(mu_);
    const auto it = record_.peers.find(id);
    if (it == record_.peers.end()) {
      Violation("OnClose without OnOpen for peer " + std::to_string(id));
    } else if (it->second.closed) {
      Violation("OnClose twice for peer " + std::to_string(id));
    } else {
      it->second.closed = reason;
    }
    cv_.notify_all();
  }

  void OnDialFailed(const PeerUrl& url, const std::string& reason) override {
    std::lock_guard lock(mu_);
    record_.dial_failures.emplace_back(url, reason);
    cv_.notify_all();
  }

  // Waits until `done` holds for the record (called under the lock).
  bool Wait(const std::function<bool(const Record&)>& done) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return done(record_); });
  }

  Record Snapshot() const {
    std::lock_guard lock(mu_);
    return record_;
  }

  // Waits for `n` open peers in `direction` and returns their ids.
  std::vector<PeerId> WaitOpen(Direction direction, std::size_t n) {
    std::vector<PeerId> ids;
    Wait([&](const Record& r) {
      ids = r.Ids(direction);
      return ids.size() >= n;
    });
    return ids;
  }

  // Waits for `id` to close and returns the reason ("" on a timeout).
  std::string WaitClosed(PeerId id) {
    std::string reason;
    Wait([&](const Record& r) {
      const auto it = r.peers.find(id);
      if (it == r.peers.end() || !it->second.closed) return false;
      reason = *it->second.closed;
      return true;
    });
    return reason;
  }

 private:
  // Marks a call for `id` in progress for its lifetime.
  class Call {
   public:
    Call(RecordingHandler& h, PeerId id) : h_(h), id_(id) {
      std::lock_guard lock(h_.mu_);
      if (!h_.in_call_.insert(id_).second) {
        h_.Violation("overlapping calls for peer " + std::to_string(id_));
      }
    }
    ~Call() {
      std::this_thread::yield();  // widens the window in which an overlap shows
      std::lock_guard lock(h_.mu_);
      h_.in_call_.erase(id_);
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    RecordingHandler& h_;
    PeerId id_;
  };

  void Violation(std::string what) { record_.violations.push_back(std::move(what)); }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Record record_;
  std::set<PeerId> in_call_;
};

// --- Clients ------------------------------------------------------------------

// Runs one asynchronous operation on `io` (on the calling thread) until it
// completes or kWait passes; on a timeout `cancel` ends it and the result is
// beast::error::timeout.
template <typename Start, typename Cancel>
error_code RunOne(net::io_context& io, Start&& start, Cancel&& cancel) {
  std::optional<error_code> result;
  start([&result](error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run_for(kWait);
  if (result) return *result;
  cancel();
  io.restart();
  io.run();
  return beast::error::timeout;
}

// A blocking WebSocket client with a time limit on every operation, on its
// own io_context.
class WsClient {
 public:
  // Connects to 127.0.0.1:port and upgrades; see error().
  explicit WsClient(std::uint16_t port) {
    error_ = Run([&](auto handler) {
      beast::get_lowest_layer(ws_).async_connect(tcp::endpoint(kLoopback, port), handler);
    });
    if (!error_) {
      error_ = Run([&](auto handler) {
        ws_.async_handshake("127.0.0.1:" + std::to_string(port), "/", handler);
      });
    }
  }

  // The connect or upgrade error, if any.
  error_code error() const { return error_; }
  websocket::stream<beast::tcp_stream>& ws() { return ws_; }

  error_code Write(const std::string& data, bool binary = false) {
    ws_.binary(binary);
    return Run([&](auto handler) { ws_.async_write(net::buffer(data), handler); });
  }

  // Reads one message into `out`.
  error_code Read(std::string& out) {
    buffer_.clear();
    const error_code ec = Run([&](auto handler) { ws_.async_read(buffer_, handler); });
    out = beast::buffers_to_string(buffer_.data());
    return ec;
  }

  // Reads messages until the connection ends; returns the error that ended
  // it (websocket::error::closed after a close frame).
  error_code ReadUntilClosed(std::vector<std::string>* messages = nullptr) {
    for (;;) {
      std::string text;
      const error_code ec = Read(text);
      if (ec) return ec;
      if (messages != nullptr) messages->push_back(std::move(text));
    }
  }

  error_code Close() {
    return Run([&](auto handler) { ws_.async_close(websocket::close_code::normal, handler); });
  }

 private:
  template <typename Start>
  error_code Run(Start&& start) {
    return RunOne(io_, std::forward<Start>(start), [&] { beast::get_lowest_layer(ws_).close(); });
  }

  net::io_context io_;
  websocket::stream<beast::tcp_stream> ws_{io_};
  beast::flat_buffer buffer_;
  error_code error_;
};

// A plain TCP client, for clients that never speak WebSocket properly.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : socket_(io_) {
    error_ =
        Run([&](auto handler) { socket_.async_connect(tcp::endpoint(kLoopback, port), handler); });
  }

  error_code error() const { return error_; }

  error_code Write(const std::string& bytes) {
    return Run([&](auto handler) { net::async_write(socket_, net::buffer(bytes), handler); });
  }

  // Performs the WebSocket upgrade by hand; true on "101 Switching
  // Protocols". (The key is RFC 6455's sample nonce.)
  bool Upgrade(std::uint16_t port) {
    const std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\n\r\n";
    if (Write(request)) return false;
    std::string response;
    while (response.find("\r\n\r\n") == std::string::npos) {
      char byte = 0;  // one at a time: nothing after the header is consumed
      if (Run([&](auto handler) { net::async_read(socket_, net::buffer(&byte, 1), handler); })) {
        return false;
      }
      response += byte;
    }
    return response.rfind("HTTP/1.1 101", 0) == 0;
  }

  // Reads and discards until the server ends the connection: true when it
  // does (end of stream or reset), false when kWait passes first.
  bool WaitClosed() {
    char chunk[4096];
    for (;;) {
      const error_code ec =
          Run([&](auto handler) { socket_.async_read_some(net::buffer(chunk), handler); });
      if (ec) return ec != beast::error::timeout;
    }
  }

 private:
  template <typename Start>
  error_code Run(Start&& start) {
    return RunOne(io_, std::forward<Start>(start), [&] {
      error_code ignored;
      socket_.close(ignored);
    });
  }

  net::io_context io_;
  tcp::socket socket_;
  error_code error_;
};

// Reads until the server ends the connection. The server sends a close frame
// with `code`, but then closes as soon as more bytes arrive (Beast's
// teardown), so a client still sending what the server refused may see a
// reset instead.
void ExpectClosedWith(WsClient& client, websocket::close_code code) {
  const error_code end = client.ReadUntilClosed();
  EXPECT_NE(end, beast::error::timeout);
  if (end == websocket::error::closed) {
    EXPECT_EQ(client.ws().reason().code, code);
  }
}

// A port on which nothing listens (it was free a moment ago).
std::uint16_t ClosedPort() {
  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(kLoopback, 0));
  return acceptor.local_endpoint().port();
}

// --- Fixture ------------------------------------------------------------------

class TransportTest : public ::testing::Test {
 protected:
  TransportTest() {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  // Stops every transport, lets the io_context finish their work, and checks
  // the handler contract over everything recorded: every opened peer was
  // closed exactly once.
  void TearDown() override {
    for (auto& transport : transports_) transport->Stop();
    transports_.clear();
    guard_.reset();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    for (const auto& handler : handlers_) {
      const Record r = handler.Snapshot();
      EXPECT_TRUE(r.violations.empty()) << r.violations.front();
      for (const auto& [id, peer] : r.peers) {
        EXPECT_TRUE(peer.closed.has_value()) << "peer " << id << " never closed";
      }
    }
  }

  ~TransportTest() override {
    guard_.reset();
    for (auto& thread : threads_) thread.join();  // if TearDown did not run
  }

  static TransportOptions Loopback() {
    TransportOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    return options;
  }

  RecordingHandler& NewHandler() { return handlers_.emplace_back(); }

  // A transport listening on a free loopback port.
  Transport& Listening(RecordingHandler& handler, TransportOptions options = Loopback()) {
    Transport& transport =
        *transports_.emplace_back(std::make_unique<Transport>(io_, std::move(options), handler));
    const Status started = transport.Start();
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error());
    EXPECT_NE(transport.port(), 0);
    return transport;
  }

  // A transport that only dials.
  Transport& DialOnly(RecordingHandler& handler, TransportOptions options = Loopback()) {
    return *transports_.emplace_back(std::make_unique<Transport>(io_, std::move(options), handler));
  }

  static PeerUrl Url(const std::string& host, std::uint16_t port) { return PeerUrl{host, port}; }

  // Declared first: the handlers outlive the io_context and its handlers.
  std::deque<RecordingHandler> handlers_;
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> guard_ = net::make_work_guard(io_);
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Transport>> transports_;
};

// --- Tests --------------------------------------------------------------------

TEST_F(TransportTest, ExchangesMessagesInOrderBothWays) {
  constexpr int kCount = 1000;
  RecordingHandler& ha = NewHandler();
  RecordingHandler& hb = NewHandler();
  Transport& a = Listening(ha);
  Transport& b = Listening(hb);
  a.Dial(Url("127.0.0.1", b.port()));
  const auto a_ids = ha.WaitOpen(Direction::kOutbound, 1);
  const auto b_ids = hb.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(a_ids.size(), 1U);
  ASSERT_EQ(b_ids.size(), 1U);

  std::vector<std::string> from_a;
  std::vector<std::string> from_b;
  for (int i = 0; i < kCount; ++i) {
    from_a.push_back("a" + std::to_string(i));
    from_b.push_back("b" + std::to_string(i) + std::string(static_cast<std::size_t>(i), 'x'));
  }
  std::thread sender([&] {
    for (const auto& text : from_a) EXPECT_TRUE(a.Send(a_ids[0], text));
  });
  for (const auto& text : from_b) EXPECT_TRUE(b.Send(b_ids[0], text));
  sender.join();

  ASSERT_TRUE(
      hb.Wait([&](const Record& r) { return r.peers.at(b_ids[0]).messages.size() >= kCount; }));
  ASSERT_TRUE(
      ha.Wait([&](const Record& r) { return r.peers.at(a_ids[0]).messages.size() >= kCount; }));
  EXPECT_EQ(hb.Snapshot().peers.at(b_ids[0]).messages, from_a);
  EXPECT_EQ(ha.Snapshot().peers.at(a_ids[0]).messages, from_b);

  a.Close(a_ids[0], "done");
  EXPECT_EQ(ha.WaitClosed(a_ids[0]), "done");
  EXPECT_EQ(hb.WaitClosed(b_ids[0]), "closed by peer");
  EXPECT_EQ(a.OutboundCount(), 0U);
  EXPECT_EQ(b.InboundCount(), 0U);
}

TEST_F(TransportTest, ReportsOpenAndCloseWithRemoteAddress) {
  RecordingHandler& ha = NewHandler();
  RecordingHandler& hb = NewHandler();
  Transport& a = Listening(ha);
  Transport& b = Listening(hb);
  const PeerUrl to_b = Url("localhost", b.port());  // a name: resolved
  const PeerUrl to_a = Url("127.0.0.1", a.port());
  a.Dial(to_b);
  b.Dial(to_a);
  ASSERT_TRUE(ha.Wait([](const Record& r) { return r.peers.size() == 2; }));
  ASSERT_TRUE(hb.Wait([](const Record& r) { return r.peers.size() == 2; }));
  EXPECT_EQ(a.InboundCount(), 1U);
  EXPECT_EQ(a.OutboundCount(), 1U);
  EXPECT_EQ(b.InboundCount(), 1U);
  EXPECT_EQ(b.OutboundCount(), 1U);

  const Record ra = ha.Snapshot();
  const PeerRecord& a_out = ra.peers.at(ra.Ids(Direction::kOutbound).at(0));
  EXPECT_EQ(a_out.dialed, to_b);
  EXPECT_EQ(a_out.port, b.port());
  EXPECT_TRUE(a_out.address == "127.0.0.1" || a_out.address == "::1") << a_out.address;
  const PeerRecord& a_in = ra.peers.at(ra.Ids(Direction::kInbound).at(0));
  EXPECT_FALSE(a_in.dialed.has_value());
  EXPECT_EQ(a_in.address, "127.0.0.1");
  EXPECT_NE(a_in.port, 0);
  EXPECT_NE(a_in.port, a.port());  // the dialler's own ephemeral port

  const Record rb = hb.Snapshot();
  const PeerRecord& b_out = rb.peers.at(rb.Ids(Direction::kOutbound).at(0));
  EXPECT_EQ(b_out.dialed, to_a);
  EXPECT_EQ(b_out.address, "127.0.0.1");
  EXPECT_EQ(b_out.port, a.port());

  // Ids are unique across connections.
  std::set<PeerId> ids;
  for (const auto& [id, peer] : ra.peers) ids.insert(id);
  EXPECT_EQ(ids.size(), 2U);

  for (PeerId id : ra.Ids(Direction::kInbound)) a.Close(id, "bye in");
  for (PeerId id : ra.Ids(Direction::kOutbound)) a.Close(id, "bye out");
  EXPECT_EQ(ha.WaitClosed(ra.Ids(Direction::kInbound).at(0)), "bye in");
  EXPECT_EQ(ha.WaitClosed(ra.Ids(Direction::kOutbound).at(0)), "bye out");
  ASSERT_TRUE(hb.Wait([](const Record& r) { return r.Closed() == 2; }));
  for (const auto& [id, peer] : hb.Snapshot().peers) EXPECT_EQ(*peer.closed, "closed by peer");
  EXPECT_EQ(a.InboundCount() + a.OutboundCount() + b.InboundCount() + b.OutboundCount(), 0U);
}

TEST_F(TransportTest, SendToUnknownPeerFails) {
  RecordingHandler& h = NewHandler();
  Transport& t = Listening(h);
  EXPECT_FALSE(t.Send(12345, "hello"));
  t.Close(12345, "nobody");  // no effect
  EXPECT_EQ(t.InboundCount() + t.OutboundCount(), 0U);
}

TEST_F(TransportTest, DialToClosedPortFails) {
  RecordingHandler& h = NewHandler();
  Transport& t = DialOnly(h);
  const PeerUrl url = Url("127.0.0.1", ClosedPort());
  t.Dial(url);
  ASSERT_TRUE(h.Wait([](const Record& r) { return !r.dial_failures.empty(); }));
  const Record r = h.Snapshot();
  ASSERT_EQ(r.dial_failures.size(), 1U);
  EXPECT_EQ(r.dial_failures[0].first, url);
  EXPECT_FALSE(r.dial_failures[0].second.empty());
  EXPECT_TRUE(r.peers.empty());
}

TEST_F(TransportTest, DialToListenerThatNeverUpgradesTimesOut) {
  // Accepts TCP connections (in the kernel's backlog) but never answers.
  net::io_context silent_io;
  tcp::acceptor silent(silent_io, tcp::endpoint(kLoopback, 0));
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.connect_timeout = 200ms;
  Transport& t = DialOnly(h, options);
  const PeerUrl url = Url("127.0.0.1", silent.local_endpoint().port());
  t.Dial(url);
  ASSERT_TRUE(h.Wait([](const Record& r) { return !r.dial_failures.empty(); }));
  const Record r = h.Snapshot();
  ASSERT_EQ(r.dial_failures.size(), 1U);
  EXPECT_EQ(r.dial_failures[0].first, url);
  EXPECT_EQ(r.dial_failures[0].second, "timed out");
  EXPECT_TRUE(r.peers.empty());
}

TEST_F(TransportTest, InboundClientThatNeverUpgradesIsClosed) {
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.connect_timeout = 200ms;
  Transport& t = Listening(h, options);
  RawClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_TRUE(h.Snapshot().peers.empty());
}

TEST_F(TransportTest, GarbageInsteadOfUpgradeIsClosed) {
  RecordingHandler& h = NewHandler();
  Transport& t = Listening(h);
  const std::vector<std::string> cases = {
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(500, '\xee'),
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",  // HTTP, but no upgrade
      "NOT HTTP AT ALL\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n" + std::string(64 * 1024, 'h') + "\r\n\r\n",
  };
  for (const auto& garbage : cases) {
    RawClient client(t.port());
    ASSERT_FALSE(client.error()) << client.error().message();
    client.Write(garbage);  // the server may close before all is written
    EXPECT_TRUE(client.WaitClosed());
  }
  EXPECT_TRUE(h.Snapshot().peers.empty());

  // The transport still serves proper clients.
  WsClient good(t.port());
  ASSERT_FALSE(good.error()) << good.error().message();
  ASSERT_FALSE(good.Write("still here"));
  ASSERT_TRUE(h.Wait([](const Record& r) {
    return r.peers.size() == 1 && r.peers.begin()->second.messages.size() == 1;
  }));
  EXPECT_EQ(h.Snapshot().peers.begin()->second.messages[0], "still here");
}

TEST_F(TransportTest, MessageLargerThanMaxClosesConnection) {
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.max_message_bytes = 1024;
  Transport& t = Listening(h, options);
  WsClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  ASSERT_FALSE(client.Write(std::string(1024, 'a')));  // exactly the limit: fine
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);
  ASSERT_TRUE(h.Wait([&](const Record& r) { return r.peers.at(ids[0]).messages.size() == 1; }));
  EXPECT_EQ(h.Snapshot().peers.at(ids[0]).messages[0], std::string(1024, 'a'));

  ASSERT_FALSE(client.Write(std::string(1025, 'b')));
  ExpectClosedWith(client, websocket::close_code::too_big);
  EXPECT_EQ(h.WaitClosed(ids[0]), "message too large");
  EXPECT_EQ(h.Snapshot().peers.at(ids[0]).messages.size(), 1U);
  EXPECT_EQ(t.InboundCount(), 0U);
}

TEST_F(TransportTest, FirstMessageHasASmallerLimit) {
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.max_first_message_bytes = 100;
  options.max_message_bytes = 1024;
  Transport& t = Listening(h, options);
  // A first message over its limit closes the connection...
  WsClient big_first(t.port());
  ASSERT_FALSE(big_first.error()) << big_first.error().message();
  if (!big_first.Write(std::string(101, 'a'))) {
    ExpectClosedWith(big_first, websocket::close_code::too_big);
  }
  const auto first_ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(first_ids.size(), 1U);
  EXPECT_EQ(h.WaitClosed(first_ids[0]), "message too large");
  // ...while after a small first message the full limit applies.
  WsClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  ASSERT_FALSE(client.Write(std::string(100, 'b')));
  ASSERT_FALSE(client.Write(std::string(1024, 'c')));
  const auto ids = h.WaitOpen(Direction::kInbound, 2);
  ASSERT_EQ(ids.size(), 2U);
  ASSERT_TRUE(h.Wait([&](const Record& r) { return r.peers.at(ids[1]).messages.size() == 2; }));
  EXPECT_EQ(h.Snapshot().peers.at(ids[1]).messages[1], std::string(1024, 'c'));
}

TEST_F(TransportTest, FragmentedMessageWithinLimitIsDelivered) {
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.max_message_bytes = 1024;
  Transport& t = Listening(h, options);
  WsClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  client.ws().auto_fragment(true);
  client.ws().write_buffer_bytes(64);  // frames of 64 bytes
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>('a' + i % 26);
  ASSERT_FALSE(client.Write(text));
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);
  ASSERT_TRUE(h.Wait([&](const Record& r) { return r.peers.at(ids[0]).messages.size() == 1; }));
  EXPECT_EQ(h.Snapshot().peers.at(ids[0]).messages[0], text);

  // Fragments adding up to more than the limit close the connection. The
  // node may close before the client has written the last fragments, so
  // the write itself may fail; either way the node closes for that reason.
  if (!client.Write(text + text)) ExpectClosedWith(client, websocket::close_code::too_big);
  EXPECT_EQ(h.WaitClosed(ids[0]), "message too large");
}

TEST_F(TransportTest, BinaryFrameClosesConnection) {
  RecordingHandler& h = NewHandler();
  Transport& t = Listening(h);
  WsClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  ASSERT_FALSE(client.Write("text first"));
  ASSERT_FALSE(client.Write(std::string("\x00\x01\x02", 3), /*binary=*/true));
  EXPECT_EQ(client.ReadUntilClosed(), websocket::error::closed);
  EXPECT_EQ(client.ws().reason().code, websocket::close_code::unknown_data);
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);
  EXPECT_EQ(h.WaitClosed(ids[0]), "binary frame");
  const Record r = h.Snapshot();
  EXPECT_EQ(r.peers.at(ids[0]).messages, std::vector<std::string>{"text first"});
}

TEST_F(TransportTest, SendQueueOverflowClosesPeer) {
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.max_queue_messages = 8;
  options.max_queue_bytes = std::size_t{256} * 1024;
  Transport& t = Listening(h, options);
  WsClient client(t.port());  // upgrades, then never reads
  ASSERT_FALSE(client.error()) << client.error().message();
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);

  // The kernel's socket buffers take a few MiB; then writes stall and the
  // queue fills.
  const std::string chunk(std::size_t{64} * 1024, 'q');
  bool refused = false;
  for (int i = 0; i < 4096 && !refused; ++i) refused = !t.Send(ids[0], chunk);
  ASSERT_TRUE(refused);
  EXPECT_EQ(h.WaitClosed(ids[0]), "send queue full");
  EXPECT_FALSE(t.Send(ids[0], "after"));
  EXPECT_EQ(t.InboundCount(), 0U);
}

TEST_F(TransportTest, SendQueueByteLimitAppliesToOneMessage) {
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.max_queue_bytes = 1000;
  Transport& t = Listening(h, options);
  WsClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);
  ASSERT_TRUE(t.Send(ids[0], std::string(1000, 'x')));
  std::string got;
  ASSERT_FALSE(client.Read(got));
  EXPECT_EQ(got.size(), 1000U);
  // One frame bigger than the whole byte limit overflows the queue at once.
  EXPECT_FALSE(t.Send(ids[0], std::string(1001, 'y')));
  EXPECT_EQ(h.WaitClosed(ids[0]), "send queue full");
}

TEST_F(TransportTest, CloseDeliversQueuedMessagesFirst) {
  constexpr int kCount = 500;
  RecordingHandler& ha = NewHandler();
  RecordingHandler& hb = NewHandler();
  Transport& a = DialOnly(ha);
  Transport& b = Listening(hb);
  a.Dial(Url("127.0.0.1", b.port()));
  const auto a_ids = ha.WaitOpen(Direction::kOutbound, 1);
  const auto b_ids = hb.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(a_ids.size(), 1U);
  ASSERT_EQ(b_ids.size(), 1U);

  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(a.Send(a_ids[0], "m" + std::to_string(i) + std::string(1000, 'z')));
  }
  a.Close(a_ids[0], "bye");
  EXPECT_FALSE(a.Send(a_ids[0], "too late"));

  EXPECT_EQ(ha.WaitClosed(a_ids[0]), "bye");
  EXPECT_EQ(hb.WaitClosed(b_ids[0]), "closed by peer");
  const Record rb = hb.Snapshot();
  const auto& got = rb.peers.at(b_ids[0]).messages;
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(got[static_cast<std::size_t>(i)], "m" + std::to_string(i) + std::string(1000, 'z'));
  }
}

TEST_F(TransportTest, CloseEndsWhenPeerNeverAnswers) {
  RecordingHandler& h = NewHandler();
  Transport& t = Listening(h);
  WsClient client(t.port());  // never reads, so never answers the close
  ASSERT_FALSE(client.error()) << client.error().message();
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);
  t.Close(ids[0], "going");
  EXPECT_EQ(h.WaitClosed(ids[0]), "going");
  EXPECT_EQ(t.InboundCount(), 0U);
}

TEST_F(TransportTest, PeerThatNeverEndsItsCloseIsDropped) {
  RecordingHandler& h = NewHandler();
  Transport& t = Listening(h);
  RawClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  ASSERT_TRUE(client.Upgrade(t.port()));
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);
  // A masked close frame (code 1000, mask 01 02 03 04); then the client
  // neither reads the answer nor ends the TCP connection.
  ASSERT_FALSE(client.Write(std::string("\x88\x82\x01\x02\x03\x04\x02\xea", 8)));
  EXPECT_EQ(h.WaitClosed(ids[0]), "closed by peer");
  EXPECT_FALSE(t.Send(ids[0], "after"));
}

TEST_F(TransportTest, InboundConnectionsAreCapped) {
  RecordingHandler& h = NewHandler();
  TransportOptions options = Loopback();
  options.max_inbound_connections = 2;
  Transport& t = Listening(h, options);

  RawClient upgrading(t.port());  // holds a slot while it (never) upgrades
  ASSERT_FALSE(upgrading.error()) << upgrading.error().message();
  auto first = std::make_unique<WsClient>(t.port());
  ASSERT_FALSE(first->error()) << first->error().message();
  const auto ids = h.WaitOpen(Direction::kInbound, 1);
  ASSERT_EQ(ids.size(), 1U);

  WsClient refused(t.port());
  EXPECT_TRUE(refused.error());  // closed at once, before any upgrade
  EXPECT_EQ(t.InboundCount(), 1U);
  EXPECT_EQ(h.Snapshot().peers.size(), 1U);

  // A slot freed is a slot for the next client.
  ASSERT_FALSE(first->Close());
  EXPECT_EQ(h.WaitClosed(ids[0]), "closed by peer");
  first.reset();
  WsClient next(t.port());
  EXPECT_FALSE(next.error()) << next.error().message();
  EXPECT_EQ(h.WaitOpen(Direction::kInbound, 2).size(), 2U);
}

TEST_F(TransportTest, StopClosesSessionsAndCancelsDials) {
  net::io_context silent_io;
  tcp::acceptor silent(silent_io, tcp::endpoint(kLoopback, 0));
  RecordingHandler& h = NewHandler();
  RecordingHandler& hb = NewHandler();
  Transport& t = Listening(h);
  Transport& b = Listening(hb);

  WsClient client(t.port());
  ASSERT_FALSE(client.error()) << client.error().message();
  t.Dial(Url("127.0.0.1", b.port()));
  const PeerUrl pending = Url("127.0.0.1", silent.local_endpoint().port());
  t.Dial(pending);  // hangs in the upgrade until stopped (connect_timeout is 10 s)
  ASSERT_TRUE(h.Wait([](const Record& r) { return r.peers.size() == 2; }));

  // The client answers the close frame, so the close is a clean one.
  error_code client_end;
  std::thread reader([&] { client_end = client.ReadUntilClosed(); });
  t.Stop();
  t.Stop();  // idempotent
  ASSERT_TRUE(
      h.Wait([](const Record& r) { return r.Closed() == 2 && r.dial_failures.size() == 1; }));
  reader.join();
  EXPECT_EQ(client_end, websocket::error::closed);
  EXPECT_EQ(client.ws().reason().code, websocket::close_code::going_away);

  const Record r = h.Snapshot();
  for (const auto& [id, peer] : r.peers) EXPECT_EQ(*peer.closed, "transport stopped");
  EXPECT_EQ(r.dial_failures[0].first, pending);
  EXPECT_EQ(r.dial_failures[0].second, "transport stopped");
  EXPECT_EQ(t.InboundCount() + t.OutboundCount(), 0U);
  ASSERT_TRUE(hb.Wait([](const Record& rb) { return rb.Closed() == 1; }));

  // Stopped for good: no dials, no sends, no listening.
  for (const auto& [id, peer] : r.peers) EXPECT_FALSE(t.Send(id, "x"));
  t.Dial(Url("127.0.0.1", b.port()));
  ASSERT_TRUE(h.Wait([](const Record& rr) { return rr.dial_failures.size() == 2; }));
  EXPECT_EQ(h.Snapshot().dial_failures[1].second, "transport stopped");
  RawClient late(t.port());
  EXPECT_TRUE(late.error() || late.WaitClosed());
}

TEST_F(TransportTest, StartReportsPortInUse) {
  RecordingHandler& h = NewHandler();
  Transport& first = Listening(h);
  TransportOptions options = Loopback();
  options.port = first.port();
  Transport& second = DialOnly(h, options);
  const Status started = second.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << started.error();
  EXPECT_EQ(second.port(), 0);

  TransportOptions bad = Loopback();
  bad.bind_address = "not-an-address";
  Transport& third = DialOnly(h, bad);
  const Status bad_started = third.Start();
  ASSERT_FALSE(bad_started.ok());
  EXPECT_NE(bad_started.error().find("not-an-address"), std::string::npos) << bad_started.error();
}

}  // namespace
}  // namespace powchain::p2p
