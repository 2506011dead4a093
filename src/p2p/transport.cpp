#include "p2p/transport.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/deadline.h"
#include "net/endpoint.h"
#include "net/guard.h"
#include "net/listener.h"
#include "util/mutex.h"

namespace powchain::p2p {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
// The executor of a session's socket and timer: a strand of the io_context.
using Strand = asio::any_io_executor;

// Once we have sent a close frame (or the peer has), the closing handshake
// and the end of the TCP connection must follow within this time, else the
// socket is closed without them.
constexpr std::chrono::milliseconds kCloseTimeout{2000};
// A read buffer grown beyond this by a big message is given back afterwards,
// so that idle peers do not each hold up to max_message_bytes.
constexpr std::size_t kKeptReadBuffer = std::size_t{64} * 1024;

// The TCP stream under each WebSocket. It differs from beast::tcp_stream
// only in how the connection ends after a WebSocket close (the teardown):
// Beast's own teardown waits for the peer to end the TCP connection without
// a time limit, and when Beast fails a connection itself (a bad frame) it
// does so inside our read, where the session's timer does not reach. So a
// peer that sent a bad frame and then kept its socket open would hold its
// slot until the keepalive dropped it (45 s).
class PeerStream : public beast::tcp_stream {
 public:
  using beast::tcp_stream::tcp_stream;
};

// Found by Beast through argument-dependent lookup. Stops sending, reads and
// discards what the peer still sends until it ends the connection or
// kCloseTimeout passes, then closes the socket. The result is always
// success: the close handshake is over either way.
template <typename Handler>
void async_teardown(beast::role_type /*role*/, PeerStream& stream, Handler&& handler) {
  struct Drain {
    PeerStream& stream;
    std::decay_t<Handler> handler;
    std::array<char, 512> buffer{};
    void Next(std::unique_ptr<Drain> self) {
      Drain& me = *self;
      me.stream.async_read_some(asio::buffer(me.buffer),
                                [self = std::move(self)](error_code ec, std::size_t) mutable {
                                  if (!ec) return self->Next(std::move(self));
                                  error_code ignored;
                                  self->stream.socket().close(ignored);
                                  auto h = std::move(self->handler);
                                  self.reset();
                                  std::move(h)(error_code{});
                                });
    }
  };
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(kCloseTimeout);
  auto drain = std::make_unique<Drain>(Drain{stream, std::forward<Handler>(handler)});
  drain->Next(std::move(drain));
}

// The OnClose reason for a read that failed while the session was open.
std::string ReadErrorReason(const error_code& ec) {
  if (ec == websocket::error::closed || ec == asio::error::eof) return "closed by peer";
  if (ec == websocket::error::message_too_big) return "message too large";
  if (ec == asio::error::connection_reset) return "connection reset by peer";
  return "read failed: " + ec.message();
}

}  // namespace

// Everything the listener and the sessions share with the Transport. Held by
// shared_ptr so that handlers still queued after ~Transport stay valid.
struct Transport::Impl : std::enable_shared_from_this<Transport::Impl> {
  class Session;

  Impl(asio::io_context& io_context, TransportOptions opts, TransportHandler& h)
      : io(io_context), options(std::move(opts)), handler(h) {}

  // The session with this id, if it still exists. Thread-safe.
  std::shared_ptr<Session> Find(PeerId id) const EXCLUDES(mutex);
  // Counts a session that has just upgraded as open. False once stopped (the
  // session must then fail). Thread-safe.
  bool MarkOpen(Session& session) EXCLUDES(mutex);
  // Forgets a session and gives back its slot and count. Thread-safe;
  // idempotent.
  void Unregister(Session& session) EXCLUDES(mutex);
  // Turns an accepted socket into an inbound session, or closes it (stopped,
  // or at the inbound cap). Thread-safe.
  void Admit(tcp::socket socket) EXCLUDES(mutex);

  asio::io_context& io;
  const TransportOptions options;
  TransportHandler& handler;  // not owned
  std::atomic<std::uint16_t> port{0};

  mutable Mutex mutex;
  bool started GUARDED_BY(mutex) = false;
  bool stopped GUARDED_BY(mutex) = false;
  std::shared_ptr<net::Listener> listener GUARDED_BY(mutex);
  // Every session not yet closed (connecting, open or closing).
  std::unordered_map<PeerId, std::weak_ptr<Session>> sessions GUARDED_BY(mutex);
  std::size_t inbound_slots GUARDED_BY(mutex) = 0;  // inbound sessions, upgrading or open
  std::size_t inbound_open GUARDED_BY(mutex) = 0;
  std::size_t outbound_open GUARDED_BY(mutex) = 0;
  PeerId next_id GUARDED_BY(mutex) = 1;
};

// One connection, inbound or outbound, from the TCP connect (or accept)
// until it is closed. Every member except the send queue is touched only on
// the session's strand; the entry points from other threads either take the
// queue mutex or post to the strand. The session stays alive exactly while an
// operation of its own is pending (each completion handler holds a
// shared_ptr; the Transport holds only weak_ptrs).
//
// States, and what bounds each in time:
//   kConnecting  resolve, TCP connect, WebSocket upgrade       connect_timeout
//   kOpen        reading; writing the queue one frame at a     write_timeout per write
//                time
//   kClosing     Close(), a binary frame or Stop(): drain the  write_timeout per write,
//                queue (not for Stop), then the close frame    then kCloseTimeout
//   kClosed      the handler has been told; late completions do nothing
//
// The handler is called only from the strand: OnOpen on entering kOpen,
// OnMessage while open or closing, and OnClose (OnDialFailed for a dial that
// never opened) exactly once on entering kClosed.
class Transport::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  // Inbound: an accepted socket whose executor is a new strand.
  Session(std::shared_ptr<Impl> impl, PeerId id, tcp::socket socket)
      : impl_(std::move(impl)),
        id_(id),
        direction_(Direction::kInbound),
        strand_(socket.get_executor()),
        ws_(std::move(socket)),
        deadline_(strand_, [this] { Guarded("timer", [&] { OnTimer(); }); }) {}

  // Outbound: a dial to `url`, on a new strand.
  Session(std::shared_ptr<Impl> impl, PeerId id, PeerUrl url)
      : impl_(std::move(impl)),
        id_(id),
        direction_(Direction::kOutbound),
        url_(std::move(url)),
        strand_(asio::make_strand(impl_->io)),
        ws_(strand_),
        deadline_(strand_, [this] { Guarded("timer", [&] { OnTimer(); }); }),
        resolver_(std::in_place, strand_) {}

  ~Session() { impl_->Unregister(*this); }  // if never closed

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  PeerId id() const { return id_; }
  Direction direction() const { return direction_; }

  // --- Entry points from any thread -------------------------------------

  // Starts the upgrade (inbound) or the dial (outbound).
  void Start() {
    Post("start", [](Session& s) { s.Begin(); });
  }

  // Queues one text frame; see Transport::Send.
  bool Enqueue(std::string text) {
    const TransportOptions& o = impl_->options;
    bool overflow = false;
    bool kick = false;
    {
      MutexLock lock(queue_mutex_);
      if (!accepting_) return false;
      if (text.size() > o.max_queue_bytes - std::min(queue_bytes_, o.max_queue_bytes) ||
          queue_messages_ >= o.max_queue_messages) {
        accepting_ = false;
        overflow = true;
      } else {
        queue_bytes_ += text.size();
        ++queue_messages_;
        queue_.push_back(std::move(text));
        kick = !write_scheduled_;
        write_scheduled_ = true;
      }
    }
    if (overflow) {
      Post("send", [](Session& s) {
        spdlog::debug("p2p: peer {}: send queue full; closing", s.id_);
        s.Finish("send queue full");
      });
      return false;
    }
    // On the session's own strand (a message handler answering its peer)
    // the write starts at once, not after the handler returns: a handler
    // that goes on working (a sync batch being committed) does not hold
    // back what it sent.
    if (kick) Dispatch("send", [](Session& s) { s.DoWrite(); });
    return true;
  }

  // Sends what is queued, then closes with `reason`.
  void RequestClose(std::string reason) {
    {
      MutexLock lock(queue_mutex_);
      accepting_ = false;
    }
    Post("close", [reason = std::move(reason)](Session& s) {
      s.StartClose(reason, websocket::close_code::normal, /*drain=*/true);
    });
  }

  // Closes promptly, dropping what is queued (Transport::Stop).
  void RequestStop() {
    {
      MutexLock lock(queue_mutex_);
      accepting_ = false;
    }
    Post("stop", [](Session& s) { s.Shutdown(); });
  }

 private:
  friend struct Transport::Impl;  // counted_open_

  enum class State { kConnecting, kOpen, kClosing, kClosed };

  const TransportOptions& options() const { return impl_->options; }

  // Runs `f` on the strand, keeping the session alive.
  template <typename F>
  void Post(const char* where, F f) {
    asio::post(strand_, [self = shared_from_this(), where, f = std::move(f)]() mutable {
      self->Guarded(where, [&] { f(*self); });
    });
  }
  // Like Post, but runs `f` at once when called on the strand.
  template <typename F>
  void Dispatch(const char* where, F f) {
    asio::dispatch(strand_, [self = shared_from_this(), where, f = std::move(f)]() mutable {
      self->Guarded(where, [&] { f(*self); });
    });
  }

  // Runs a handler body; an exception (from the TransportHandler, or an
  // allocation failure) ends the connection instead of escaping into
  // io_context::run().
  template <typename F>
  void Guarded(const char* where, F&& f) {
    net::RunGuarded(std::forward<F>(f), [&](std::string_view what) {
      spdlog::error("p2p: peer {}: unexpected exception in {}: {}; closing", id_, where, what);
      Abort();
    });
  }
  void Abort() {
    try {
      if (state_ == State::kConnecting) {
        Fail("internal error");
      } else {
        Finish("internal error");
      }
    } catch (...) {
      spdlog::error("p2p: peer {}: exception while closing after an exception", id_);
    }
  }

  // Arms the connection's deadline: on expiry the connection ends with
  // `reason` (with the close reason instead once closing).
  void Arm(std::chrono::milliseconds timeout, std::string reason) {
    timer_reason_ = std::move(reason);
    deadline_.Arm(timeout, shared_from_this());
  }
  void Disarm() { deadline_.Disarm(); }
  void OnTimer() {
    spdlog::debug("p2p: peer {}: {}", id_, timer_reason_);
    switch (state_) {
      case State::kConnecting:
        return Fail(timer_reason_);
      case State::kOpen:
        return Finish(timer_reason_);
      case State::kClosing:
        return Finish(close_reason_);
      case State::kClosed:
        return;
    }
  }

  // Stops taking Send()s; with `clear`, drops the queued frames too (not
  // the one being written).
  void StopAccepting(bool clear) {
    MutexLock lock(queue_mutex_);
    accepting_ = false;
    if (clear) {
      queue_.clear();
      queue_bytes_ = writing_ ? current_.size() : 0;
      queue_messages_ = writing_ ? 1 : 0;
    }
  }

  void CloseSocket() {
    error_code ignored;
    auto& socket = beast::get_lowest_layer(ws_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // --- Opening ------------------------------------------------------------

  void Begin() {
    if (state_ != State::kConnecting) return;  // stopped first
    Arm(options().connect_timeout, "timed out");
    // Beast's own timers stay off: the session's timer bounds the upgrade,
    // each write and the close, and an idle peer is the protocol's business
    // (ping/pong).
    websocket::stream_base::timeout no_timeouts{};
    no_timeouts.handshake_timeout = websocket::stream_base::none();
    no_timeouts.idle_timeout = websocket::stream_base::none();
    no_timeouts.keep_alive_pings = false;
    ws_.set_option(no_timeouts);
    ws_.read_message_max(std::min(options().max_first_message_bytes, options().max_message_bytes));
    ws_.auto_fragment(false);  // one message, one frame
    if (direction_ == Direction::kInbound) {
      error_code ec;
      const tcp::endpoint remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
      if (!ec) {
        remote_address_ = net::AddressText(remote.address());
        remote_port_ = remote.port();
      }
      SetNoDelay();
      ws_.async_accept([self = shared_from_this()](error_code accept_ec) {
        self->Guarded("accept", [&] { self->OnHandshake(accept_ec); });
      });
    } else {
      resolver_->async_resolve(
          url_->host, std::to_string(url_->port),
          [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
            self->Guarded("resolve", [&] { self->OnResolve(ec, results); });
          });
    }
  }

  void OnResolve(error_code ec, const tcp::resolver::results_type& results) {
    if (state_ != State::kConnecting) return;
    if (ec) return Fail("cannot resolve " + url_->host + ": " + ec.message());
    beast::get_lowest_layer(ws_).async_connect(
        results, [self = shared_from_this()](error_code connect_ec, const tcp::endpoint& remote) {
          self->Guarded("connect", [&] { self->OnConnect(connect_ec, remote); });
        });
  }

  void OnConnect(error_code ec, const tcp::endpoint& remote) {
    if (state_ != State::kConnecting) return;
    if (ec) return Fail("cannot connect: " + ec.message());
    remote_address_ = net::AddressText(remote.address());
    remote_port_ = remote.port();
    SetNoDelay();
    ws_.async_handshake(net::EndpointText(url_->host, url_->port), "/",
                        [self = shared_from_this()](error_code handshake_ec) {
                          self->Guarded("handshake", [&] { self->OnHandshake(handshake_ec); });
                        });
  }

  void SetNoDelay() {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
  }

  void OnHandshake(error_code ec) {
    if (state_ != State::kConnecting) return;
    if (ec) return Fail("WebSocket upgrade failed: " + ec.message());
    Disarm();
    if (!impl_->MarkOpen(*this)) return Fail("transport stopped");
    state_ = State::kOpen;
    ws_.text(true);
    // Called from inside our read (on the strand) when the peer's close
    // frame arrives; Beast then answers it and waits for the end of the
    // connection, which the timer bounds.
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind != websocket::frame_type::close || state_ != State::kOpen || peer_closing_) return;
      peer_closing_ = true;
      StopAccepting(/*clear=*/false);
      Arm(kCloseTimeout, "closed by peer");
    });
    {
      MutexLock lock(queue_mutex_);
      accepting_ = true;
    }
    spdlog::debug("p2p: peer {} open ({} {}:{})", id_,
                  direction_ == Direction::kInbound ? "inbound from" : "outbound to",
                  remote_address_, remote_port_);
    impl_->handler.OnOpen(id_, direction_, remote_address_, remote_port_, url_);
    Read();
  }

  // A connection that never opened: an outbound one reports the dial failed.
  void Fail(const std::string& reason) {
    if (state_ != State::kConnecting) return;
    state_ = State::kClosed;
    deadline_.Cancel();
    if (resolver_) resolver_->cancel();
    CloseSocket();
    impl_->Unregister(*this);
    if (direction_ == Direction::kOutbound) {
      spdlog::debug("p2p: dial {} failed: {}", url_->ToString(), reason);
      impl_->handler.OnDialFailed(*url_, reason);
    } else {
      spdlog::debug("p2p: inbound connection from {} failed: {}", remote_address_, reason);
    }
  }

  // --- Reading ------------------------------------------------------------

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->Guarded("read", [&] { self->OnRead(ec); });
    });
  }

  void OnRead(error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec) {
      if (state_ == State::kClosing) return Finish(close_reason_);
      const std::string reason = ReadErrorReason(ec);
      spdlog::debug("p2p: peer {}: {} ({})", id_, reason, ec.message());
      return Finish(reason);
    }
    if (!ws_.got_text()) {
      buffer_.clear();
      spdlog::debug("p2p: peer {} sent a binary frame; closing", id_);
      return StartClose("binary frame", websocket::close_code::unknown_data, /*drain=*/false);
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.clear();
    if (buffer_.capacity() > kKeptReadBuffer) buffer_.shrink_to_fit();
    if (!first_message_read_) {
      first_message_read_ = true;
      ws_.read_message_max(options().max_message_bytes);
    }
    impl_->handler.OnMessage(id_, std::move(text));
    // Once closing, the close handshake reads what still comes.
    if (state_ == State::kOpen) Read();
  }

  // --- Writing ------------------------------------------------------------

  // Writes the next queued frame if none is in flight; once closing and
  // drained, sends the close frame.
  void DoWrite() {
    if (state_ == State::kClosed || writing_ || peer_closing_) return;
    bool have = false;
    {
      MutexLock lock(queue_mutex_);
      if (queue_.empty()) {
        write_scheduled_ = false;
      } else {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        have = true;
      }
    }
    if (!have) {
      if (state_ == State::kClosing && !close_sent_) SendCloseFrame();
      return;
    }
    writing_ = true;
    Arm(options().write_timeout, "write timed out");
    ws_.async_write(asio::buffer(current_),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      self->Guarded("write", [&] { self->OnWrite(ec); });
                    });
  }

  void OnWrite(error_code ec) {
    writing_ = false;
    {
      MutexLock lock(queue_mutex_);
      queue_bytes_ -= std::min(queue_bytes_, current_.size());
      if (queue_messages_ > 0) --queue_messages_;
    }
    current_ = std::string();
    if (state_ == State::kClosed) return;
    if (peer_closing_) return;  // the read reports the close; the timer bounds it
    if (ec) {
      if (state_ == State::kClosing) return Finish(close_reason_);
      if (ec == asio::error::operation_aborted) {
        // Beast failed the stream in our read (a protocol error), which
        // reports why; the timer bounds the wait.
        Arm(kCloseTimeout, "connection lost");
        return;
      }
      spdlog::debug("p2p: peer {}: write failed: {}", id_, ec.message());
      return Finish("write failed: " + ec.message());
    }
    Disarm();
    DoWrite();
  }

  // --- Closing --------------------------------------------------------------

  // Closes with `reason` (what OnClose will say) and close `code`: after
  // the queued frames when `drain`, else after the frame being written.
  void StartClose(const std::string& reason, websocket::close_code code, bool drain) {
    if (state_ != State::kOpen) return;  // the first reason wins
    state_ = State::kClosing;
    close_reason_ = reason;
    close_code_ = code;
    StopAccepting(/*clear=*/!drain);
    if (peer_closing_) return;  // Beast is closing already; the read reports it
    if (!drain && writing_) Arm(kCloseTimeout, reason);
    DoWrite();
  }

  void SendCloseFrame() {
    close_sent_ = true;
    Arm(kCloseTimeout, close_reason_);
    ws_.async_close(websocket::close_reason(close_code_),
                    [self = shared_from_this()](error_code ec) {
                      self->Guarded("close", [&] {
                        if (ec) spdlog::debug("p2p: peer {}: close: {}", self->id_, ec.message());
                        self->Finish(self->close_reason_);
                      });
                    });
  }

  // Stop(): a dial or upgrade fails, an open session closes without
  // draining, a closing one hurries.
  void Shutdown() {
    switch (state_) {
      case State::kConnecting:
        return Fail("transport stopped");
      case State::kOpen:
        return StartClose("transport stopped", websocket::close_code::going_away,
                          /*drain=*/false);
      case State::kClosing:
        StopAccepting(/*clear=*/true);
        if (!close_sent_ && !peer_closing_) Arm(kCloseTimeout, close_reason_);
        return;
      case State::kClosed:
        return;
    }
  }

  // The end of an opened session: the socket is closed (cancelling whatever
  // is pending) and the handler told, once.
  void Finish(const std::string& reason) {
    if (state_ != State::kOpen && state_ != State::kClosing) return;
    state_ = State::kClosed;
    deadline_.Cancel();
    StopAccepting(/*clear=*/true);
    CloseSocket();
    impl_->Unregister(*this);
    spdlog::debug("p2p: peer {} closed: {}", id_, reason);
    impl_->handler.OnClose(id_, reason);
  }

  const std::shared_ptr<Impl> impl_;
  const PeerId id_;
  const Direction direction_;
  const std::optional<PeerUrl> url_;  // outbound only
  const Strand strand_;
  websocket::stream<PeerStream> ws_;
  net::Deadline deadline_;
  std::optional<tcp::resolver> resolver_;  // outbound only

  // Counted in inbound_open/outbound_open; guarded by impl_->mutex (which
  // the analysis cannot name from here).
  bool counted_open_ = false;

  // The send queue, shared with Send() on any thread.
  Mutex queue_mutex_;
  bool accepting_ GUARDED_BY(queue_mutex_) = false;  // open and not closing
  std::deque<std::string> queue_ GUARDED_BY(queue_mutex_);
  std::size_t queue_bytes_ GUARDED_BY(queue_mutex_) = 0;     // queued plus in flight
  std::size_t queue_messages_ GUARDED_BY(queue_mutex_) = 0;  // queued plus in flight
  // A DoWrite is posted or a write in flight.
  bool write_scheduled_ GUARDED_BY(queue_mutex_) = false;

  // On the strand.
  State state_ = State::kConnecting;
  std::string remote_address_;
  std::uint16_t remote_port_ = 0;
  std::string timer_reason_;
  beast::flat_buffer buffer_;        // the message being read
  bool first_message_read_ = false;  // until then, max_first_message_bytes applies
  std::string current_;              // the frame being written
  bool writing_ = false;             // also read under queue_mutex_ in StopAccepting, on the strand
  bool peer_closing_ = false;        // the peer's close frame has arrived while open
  bool close_sent_ = false;          // our close frame is on its way
  std::string close_reason_;
  websocket::close_code close_code_ = websocket::close_code::normal;
};

std::shared_ptr<Transport::Impl::Session> Transport::Impl::Find(PeerId id) const {
  MutexLock lock(mutex);
  const auto it = sessions.find(id);
  return it == sessions.end() ? nullptr : it->second.lock();
}

bool Transport::Impl::MarkOpen(Session& session) {
  MutexLock lock(mutex);
  if (stopped) return false;
  session.counted_open_ = true;
  ++(session.direction() == Direction::kInbound ? inbound_open : outbound_open);
  return true;
}

void Transport::Impl::Unregister(Session& session) {
  MutexLock lock(mutex);
  if (sessions.erase(session.id()) == 0) return;
  if (session.direction() == Direction::kInbound) --inbound_slots;
  if (session.counted_open_) {
    session.counted_open_ = false;
    --(session.direction() == Direction::kInbound ? inbound_open : outbound_open);
  }
}

void Transport::Impl::Admit(tcp::socket socket) {
  std::shared_ptr<Session> session;  // destroyed after the lock is released
  {
    MutexLock lock(mutex);
    if (stopped) return;  // closes the socket
    if (inbound_slots >= options.max_inbound_connections) {
      spdlog::debug("p2p: {} inbound connections already; closing a new one", inbound_slots);
      return;
    }
    const PeerId id = next_id++;
    session = std::make_shared<Session>(shared_from_this(), id, std::move(socket));
    sessions.emplace(id, session);
    ++inbound_slots;
  }
  session->Start();
}

Transport::Transport(asio::io_context& io, TransportOptions options, TransportHandler& handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), handler)) {}

Transport::~Transport() { Stop(); }

Status Transport::Start() {
  const TransportOptions& o = impl_->options;
  const std::string where = "cannot listen for P2P on " + net::EndpointText(o.bind_address, o.port);
  try {
    {
      MutexLock lock(impl_->mutex);
      if (impl_->started || impl_->stopped) {
        return Error{where + ": the transport was already " +
                     (impl_->stopped ? "stopped" : "started")};
      }
      impl_->started = true;
    }
    auto listener = net::Listener::Open(impl_->io, "P2P", o.bind_address, o.port,
                                        [weak = std::weak_ptr<Impl>(impl_)](tcp::socket socket) {
                                          if (auto impl = weak.lock())
                                            impl->Admit(std::move(socket));
                                        });
    if (!listener) return Error{listener.error()};
    {
      MutexLock lock(impl_->mutex);
      if (impl_->stopped) return Error{where + ": the transport was stopped"};
      impl_->listener = *listener;
    }
    impl_->port = (*listener)->port();
    (*listener)->Start();
    spdlog::debug("p2p: listening on {}", net::EndpointText(o.bind_address, impl_->port));
    return {};
  } catch (const std::exception& e) {
    return Error{where + ": " + e.what()};
  }
}

std::uint16_t Transport::port() const { return impl_->port.load(); }

void Transport::Stop() {
  std::shared_ptr<net::Listener> listener;
  std::vector<std::weak_ptr<Impl::Session>> sessions;
  {
    MutexLock lock(impl_->mutex);
    impl_->stopped = true;
    listener = std::move(impl_->listener);
    sessions.reserve(impl_->sessions.size());
    for (const auto& entry : impl_->sessions) sessions.push_back(entry.second);
  }
  if (listener) listener->Close();
  for (const auto& weak : sessions) {
    if (auto session = weak.lock()) session->RequestStop();
  }
}

void Transport::Dial(const PeerUrl& url) {
  std::shared_ptr<Impl::Session> session;  // destroyed after the lock is released
  {
    MutexLock lock(impl_->mutex);
    if (!impl_->stopped) {
      const PeerId id = impl_->next_id++;
      session = std::make_shared<Impl::Session>(impl_, id, url);
      impl_->sessions.emplace(id, session);
    }
  }
  if (session) {
    session->Start();
    return;
  }
  asio::post(impl_->io, [impl = impl_, url] {
    try {
      impl->handler.OnDialFailed(url, "transport stopped");
    } catch (const std::exception& e) {
      spdlog::error("p2p: unexpected exception in OnDialFailed: {}", e.what());
    } catch (...) {
      spdlog::error("p2p: unexpected exception in OnDialFailed");
    }
  });
}

bool Transport::Send(PeerId id, std::string text) {
  const auto session = impl_->Find(id);
  return session && session->Enqueue(std::move(text));
}

void Transport::Close(PeerId id, const std::string& reason) {
  if (const auto session = impl_->Find(id)) session->RequestClose(reason);
}

std::size_t Transport::InboundCount() const {
  MutexLock lock(impl_->mutex);
  return impl_->inbound_open;
}

std::size_t Transport::OutboundCount() const {
  MutexLock lock(impl_->mutex);
  return impl_->outbound_open;
}

}  // namespace powchain::p2p
