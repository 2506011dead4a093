#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_cat.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <limits>
#include <list>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "http/events.h"
#include "http/routes.h"
#include "net/deadline.h"
#include "net/endpoint.h"
#include "net/guard.h"
#include "net/listener.h"
#include "util/mutex.h"

namespace powchain::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
// The executor of a session's socket and timer: a strand of the io_context.
using Strand = asio::any_io_executor;

// Bytes asked of the socket per read. A request header is parsed once it is
// complete, so the read buffer holds at most header_limit plus one read.
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

class HttpSession;

// Everything the listener and the sessions share with the server. Held by
// shared_ptr so that handlers still queued after ~HttpServer stay valid.
//
// Connection slots. At most options.max_connections sessions are served at
// once. When they are all taken, a new connection takes the slot of the
// served session that has waited longest for a request header (one that has
// not sent a whole header yet, or sits idle between keep-alive requests, or
// lingers after its last answer): that session is closed without an answer.
// Such a connection has cost the server nothing it would lose, and holding
// one is all a slowloris client can do; a client that sends its header at
// once is parsed long before max_connections newer connections arrive, so a
// flood of them cannot crowd it out. A session that has sent a whole header
// (reading its body, waiting for the miner, being answered) is never closed
// for this. Only when every slot is held by such sessions is the new
// connection answered 503. Sessions being closed after eviction and sessions
// answering 503 are each bounded by max_connections too, so a flood of
// connections never grows the server's state beyond three times the cap.
struct HttpServer::State {
  State(HttpOptions opts, NodeApi& node, EventHub* hub)
      : options(std::move(opts)),
        api(node),
        events(hub),
        router(node, RouterOptions{options.body_limit, options.write_token}) {}

  // What an admitted session's slot is.
  enum class Slot {
    kServing,   // counts against max_connections
    kRefusing,  // answers 503 and closes
    kEvicted,   // gave its slot to a newer connection; being closed
  };

  // The fate of an accepted connection, decided by Admit().
  struct Admission {
    std::shared_ptr<HttpSession> session;  // null: close the socket at once
    bool serve = false;                    // else answer 503
    std::shared_ptr<HttpSession> evicted;  // to close now; may be null
  };

  // Registers a session for `socket` and gives it a slot as described
  // above. Thread-safe.
  Admission Admit(tcp::socket socket, const std::shared_ptr<State>& self) EXCLUDES(mutex);
  // Admits an accepted connection and sets its session going (or closes
  // it). On the listener's strand.
  static void OnAccept(const std::shared_ptr<State>& self, tcp::socket socket) EXCLUDES(mutex);

  // A served session is waiting for a request header again (idle, or
  // lingering after its last answer): it becomes the newest eviction
  // candidate. A session still waiting (since it was admitted, or a header
  // that failed to parse) keeps its place: it has waited since then.
  // Ignored for sessions that are not served. Thread-safe.
  void MarkWaiting(HttpSession* session) EXCLUDES(mutex);
  // A served session has a whole request header: it can no longer be
  // evicted. False when it was evicted before that (it must then close
  // without handling the request). Thread-safe.
  bool MarkBusy(HttpSession* session) EXCLUDES(mutex);

  // Called once by every admitted session when it closes (and again, doing
  // nothing, by its destructor). Thread-safe.
  void Unregister(HttpSession* session) EXCLUDES(mutex);

  std::size_t Connections() const EXCLUDES(mutex) {
    MutexLock lock(mutex);
    return serving;
  }
  std::size_t Waiting() const EXCLUDES(mutex) {
    MutexLock lock(mutex);
    return waiting_order.size();
  }

  const HttpOptions options;
  NodeApi& api;
  EventHub* const events;  // null: GET /events is answered 404
  const Router router;

  struct Entry {
    std::weak_ptr<HttpSession> session;
    Slot slot = Slot::kServing;
    bool waiting = false;                  // in `waiting_order`
    std::list<HttpSession*>::iterator at;  // its place there, when `waiting`
  };

  mutable Mutex mutex;
  bool started GUARDED_BY(mutex) = false;
  bool stopped GUARDED_BY(mutex) = false;
  std::shared_ptr<net::Listener> listener GUARDED_BY(mutex);
  // Every admitted session not yet closed, to close them on Stop().
  std::unordered_map<HttpSession*, Entry> sessions GUARDED_BY(mutex);
  // Served sessions waiting for a request header, longest waiting first:
  // the eviction order.
  std::list<HttpSession*> waiting_order GUARDED_BY(mutex);
  std::size_t serving GUARDED_BY(mutex) = 0;   // Slot::kServing sessions
  std::size_t refusing GUARDED_BY(mutex) = 0;  // Slot::kRefusing sessions
  std::size_t evicting GUARDED_BY(mutex) = 0;  // Slot::kEvicted sessions

 private:
  void StopWaitingLocked(Entry& entry) REQUIRES(mutex);
};

// One connection. Every member is touched only on the session's strand (the
// executor of its socket and timer); the only entry points from elsewhere are
// Post()ed. The session stays alive exactly while an operation of its own is
// pending (each handler holds a shared_ptr; nothing else does). While a
// POST /mine waits, that operation is a read watching for the client going
// away; the miner's callback holds only a weak_ptr. So a closed connection,
// or an io_context destroyed with work pending, frees the session.
//
// Phases and the timer that applies in each:
//   kIdle      waiting for the first byte of a request     idle_timeout
//   kHeader    first byte seen, header incomplete          header_timeout
//   kBody      header complete, body incomplete            body_timeout
//   kMining    POST /mine queued, no answer yet            none
//   kWriting   one response being written                  write_timeout per write
//   kStreaming GET /blocks being written chunk by chunk    write_timeout per write
//   kEvents    GET /events: frames written as published    write_timeout per write
//   kLinger    last response sent; draining input          linger_timeout
//   kClosed    socket closed; late handlers do nothing
// At the connection cap, a session in kIdle, kHeader or kLinger may be
// closed to make room for a new connection (see HttpServer::State).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<HttpServer::State> state)
      : socket_(std::move(socket)),
        strand_(socket_.get_executor()),
        deadline_(strand_, [this] { OnDeadline(); }),
        state_(std::move(state)) {}

  ~HttpSession() { state_->Unregister(this); }  // if never closed

  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Runs `f` on the session's strand, keeping the session alive.
  template <typename F>
  void Post(F f) {
    asio::post(strand_, [self = shared_from_this(), f = std::move(f)]() mutable {
      self->Guarded("task", [&] { f(*self); });
    });
  }

  // Starts serving requests. On the strand. (A Stop() may have come first.)
  void Serve() {
    if (phase_ == Phase::kClosed) return;
    SetNoDelay();
    NextRequest();
  }

  // Answers 503 and closes. On the strand.
  void Refuse() {
    if (phase_ == Phase::kClosed) return;
    SetNoDelay();
    close_after_ = true;
    Send(ErrorResponse(status::service_unavailable, "too many connections"));
  }

  // Closes the socket at once, cancelling every pending operation. On the
  // strand; idempotent.
  void CloseNow() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    deadline_.Cancel();
    if (events_id_ != 0) {
      state_->events->Unsubscribe(events_id_);
      events_id_ = 0;
    }
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    state_->Unregister(this);
  }

 private:
  enum class Phase {
    kIdle,
    kHeader,
    kBody,
    kMining,
    kWriting,
    kStreaming,
    kEvents,
    kLinger,
    kClosed
  };

  const HttpOptions& options() const { return state_->options; }

  // Responses go out in one or a few writes each; Nagle's algorithm would
  // only hold back the last piece of a streamed one.
  void SetNoDelay() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
  }

  // Runs a handler body; an exception closes the connection instead of
  // escaping into io_context::run(). Request handling catches its own
  // exceptions first (answering 500), so this is the last resort.
  template <typename F>
  void Guarded(const char* where, F&& f) {
    net::RunGuarded(std::forward<F>(f), [&](std::string_view what) {
      spdlog::error("http: unexpected exception in {}: {}; closing the connection", where, what);
      CloseNow();
    });
  }

  // When the phase's time is up, the connection is closed.
  void Arm(std::chrono::milliseconds timeout) { deadline_.Arm(timeout, shared_from_this()); }
  void Disarm() { deadline_.Disarm(); }
  void OnDeadline() {
    Guarded("timer", [&] {
      if (phase_ == Phase::kClosed) return;
      spdlog::debug("http: connection timed out ({}); closing", PhaseName());
      CloseNow();
    });
  }

  const char* PhaseName() const {
    switch (phase_) {
      case Phase::kIdle:
        return "idle";
      case Phase::kHeader:
        return "reading header";
      case Phase::kBody:
        return "reading body";
      case Phase::kMining:
        return "mining";
      case Phase::kWriting:
        return "writing";
      case Phase::kStreaming:
        return "streaming";
      case Phase::kEvents:
        return "events";
      case Phase::kLinger:
        return "closing";
      case Phase::kClosed:
        return "closed";
    }
    return "?";
  }

  // --- Reading ---------------------------------------------------------

  void NextRequest() {
    parser_.emplace();
    parser_->body_limit(options().body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options().header_limit, std::numeric_limits<std::uint32_t>::max())));
    continue_sent_ = false;
    phase_ = Phase::kIdle;
    state_->MarkWaiting(this);
    Arm(options().idle_timeout);
    Parse();  // a pipelined request may already be buffered
  }

  // At most one read is in flight. Its completion is handled by OnRead
  // whatever the phase is by then.
  void ReadMore() {
    if (reading_ || phase_ == Phase::kClosed) return;
    reading_ = true;
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->Guarded("read", [&] { self->OnRead(ec, n); });
                            });
  }

  void OnRead(error_code ec, std::size_t n) {
    reading_ = false;
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      // End of stream or a reset: the client is gone or done. In kMining,
      // this is how a client that gave up is noticed.
      if (ec != asio::error::eof)
        spdlog::debug("http: read failed ({}): {}", PhaseName(), ec.message());
      CloseNow();
      return;
    }
    buffer_.commit(n);
    switch (phase_) {
      case Phase::kIdle:
      case Phase::kHeader:
      case Phase::kBody:
        Parse();
        break;
      case Phase::kMining:
      case Phase::kEvents:
        WatchWhileWaiting();
        break;
      case Phase::kLinger:
        buffer_.consume(buffer_.size());
        ReadMore();
        break;
      case Phase::kWriting:
      case Phase::kStreaming:
      case Phase::kClosed:
        break;  // parsed after the response
    }
  }

  // Feeds buffered bytes to the parser; handles the request once complete,
  // else reads more.
  void Parse() {
    if (phase_ == Phase::kIdle && buffer_.size() > 0) {
      phase_ = Phase::kHeader;
      Arm(options().header_timeout);
    }
    for (;;) {
      error_code ec;
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        ParseFailed(ec);
        return;
      }
      if (phase_ == Phase::kHeader && parser_->is_header_done()) {
        // Evicted before the header was whole: the eviction came first.
        if (!state_->MarkBusy(this)) return CloseNow();
        phase_ = Phase::kBody;
        Arm(options().body_timeout);
        if (!TransferCodingOk()) return;
      }
      if (parser_->is_done()) {
        HandleRequest();
        return;
      }
      if (used == 0) break;
    }
    if (phase_ == Phase::kBody && !continue_sent_ && ExpectsContinue()) {
      // The client waits for this before it sends the body (RFC 9110 10.1.1).
      continue_sent_ = true;
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](error_code ec, std::size_t) {
                          self->Guarded("write", [&] {
                            if (self->phase_ == Phase::kClosed) return;
                            if (ec) return self->CloseNow();
                            self->ReadMore();
                          });
                        });
      return;
    }
    ReadMore();
  }

  bool ExpectsContinue() const {
    const auto& header = parser_->get();
    return header.version() >= 11 &&
           beast::iequals(header[bhttp::field::expect], std::string_view("100-continue"));
  }

  // Beast reads a body only when it is chunked or has a Content-Length. A
  // request with another transfer coding has a body whose end cannot be
  // found (RFC 9112 section 6.3): reading on would take the body for the
  // next request. So it is answered 400 (501 for a coding before chunked,
  // which the server does not decode) and the connection closed. False
  // when it was.
  bool TransferCodingOk() {
    const auto& header = parser_->get();
    const auto coding = header.find(bhttp::field::transfer_encoding);
    if (coding == header.end()) return true;
    StartRecord("malformed");
    std::string_view value = coding->value();
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (parser_->chunked() && beast::iequals(value, std::string_view("chunked"))) return true;
    close_after_ = true;
    version_ = 11;
    // The header is whole: the answer to a HEAD request is a header alone,
    // even an error (a body would be read as the next response).
    head_ = header.method() == bhttp::verb::head;
    if (parser_->chunked()) {
      Send(ErrorResponse(status::not_implemented,
                         "only the chunked transfer coding is supported, not '" +
                             std::string(value.substr(0, 100)) + "'"));
    } else {
      Send(ErrorResponse(status::bad_request,
                         "malformed HTTP request: Transfer-Encoding must end with chunked"));
    }
    return false;
  }

  void ParseFailed(error_code ec) {
    StartRecord("malformed");
    close_after_ = true;
    version_ = 11;
    // A HEAD request whose header was read (its body broke a limit) gets a
    // header alone; before that, the method is not known.
    head_ = parser_->is_header_done() && parser_->get().method() == bhttp::verb::head;
    if (ec == bhttp::error::body_limit) {
      Send(ErrorResponse(status::payload_too_large, "request body is larger than the limit of " +
                                                        std::to_string(options().body_limit) +
                                                        " bytes"));
    } else if (ec == bhttp::error::header_limit) {
      Send(ErrorResponse(status::request_header_fields_too_large,
                         "request header is larger than the limit of " +
                             std::to_string(options().header_limit) + " bytes"));
    } else {
      Send(ErrorResponse(status::bad_request, "malformed HTTP request: " + ec.message()));
    }
  }

  // --- Handling one request ---------------------------------------------

  void HandleRequest() {
    Disarm();
    const Request request = parser_->release();
    StartRecord(RouteLabel(request.target()));
    version_ = request.version();
    head_ = request.method() == bhttp::verb::head;
    close_after_ = !request.keep_alive();
    std::optional<RouteResult> routed;
    try {
      routed = state_->router.Route(request);
      if (auto* query = std::get_if<BlocksQuery>(&*routed)) return StartStream(*query);
      if (auto* mine = std::get_if<MineRequest>(&*routed)) {
        return StartMine(std::move(*mine));
      }
      if (std::holds_alternative<EventsRequest>(*routed)) return StartEvents();
    } catch (const std::exception& e) {
      spdlog::error("http: {} {}: {}", std::string(request.method_string()),
                    std::string(request.target()), e.what());
      return InternalError();
    } catch (...) {
      spdlog::error("http: {} {}: unknown exception", std::string(request.method_string()),
                    std::string(request.target()));
      return InternalError();
    }
    Send(std::get<Response>(std::move(*routed)));
  }

  void InternalError() {
    stream_.reset();
    Send(ErrorResponse(status::internal_server_error, "internal error"));
  }

  // --- Writing a whole response -----------------------------------------

  void Send(Response response) {
    response.version(version_);
    response.keep_alive(!close_after_);
    response.prepare_payload();
    if (head_) {
      // The answer to HEAD is the header alone (RFC 9110 section 9.3.2);
      // a body would be read as the next response.
      const std::size_t length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    status_code_ = response.result_int();
    // Counted before the write, so that a client that has its answer
    // finds it counted in its next scrape.
    Record();
    response_ = std::make_unique<Response>(std::move(response));
    phase_ = Phase::kWriting;
    Arm(options().write_timeout);
    bhttp::async_write(socket_, *response_,
                       [self = shared_from_this()](error_code ec, std::size_t) {
                         self->Guarded("write", [&] { self->OnWritten(ec); });
                       });
  }

  void OnWritten(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    response_.reset();
    if (ec) {
      spdlog::debug("http: write failed: {}", ec.message());
      return CloseNow();
    }
    ResponseDone();
  }

  void ResponseDone() {
    if (close_after_) {
      Linger();
    } else {
      NextRequest();
    }
  }

  // Half-closes and drains the client's input before closing, so the client
  // reads the last response and then end of stream rather than a reset.
  void Linger() {
    phase_ = Phase::kLinger;
    state_->MarkWaiting(this);
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    Arm(options().linger_timeout);
    ReadMore();
  }

  // --- POST /mine ---------------------------------------------------------

  void StartMine(MineRequest mine) {
    phase_ = Phase::kMining;
    std::weak_ptr<HttpSession> weak = weak_from_this();
    // The callback arrives on some other thread, or inside Mine() itself;
    // either way it only posts to the strand. A session closed meanwhile is
    // gone or in kClosed, and the result is dropped.
    state_->api.Mine(std::move(mine), [weak](Result<Block> result) {
      if (auto self = weak.lock()) {
        self->Post([result = std::move(result)](HttpSession& s) mutable { s.OnMined(result); });
      }
    });
    WatchWhileWaiting();
  }

  // Keeps a read pending while the miner works or events stream: it keeps
  // the session alive, and its end of stream or error says the client has
  // gone, which closes the connection and frees its slot at once. Pipelined
  // requests wait in the buffer, up to a bound; a client that sends more is
  // closed.
  void WatchWhileWaiting() {
    if (buffer_.size() >= options().header_limit + kReadChunk) {
      spdlog::debug("http: too much input while {}; closing", PhaseName());
      return CloseNow();
    }
    ReadMore();
  }

  void OnMined(const Result<Block>& result) {
    if (phase_ != Phase::kMining) return;  // closed meanwhile
    Response response;
    try {
      response = MinedResponse(result);
    } catch (const std::exception& e) {
      spdlog::error("http: POST /mine: {}", e.what());
      response = ErrorResponse(status::internal_server_error, "internal error");
    }
    Send(std::move(response));
  }

  // --- GET /blocks ----------------------------------------------------------

  // Reads the first batch before sending anything, so that a store that
  // cannot be read at all gets a proper 500. After the header has gone, an
  // error can only cut the response short: the connection is closed without
  // the terminating chunk, and the client sees a truncated response, never
  // a wrong one. HTTP/1.0 has no chunked coding: such a client gets the
  // array unframed, ended by the end of the connection (and a truncated one
  // is an array without its closing bracket).
  void StartStream(const BlocksQuery& query) {
    stream_ = std::make_unique<BlockStream>(state_->api, query, options().stream_batch_size,
                                            options().stream_run_bytes);
    if (Status first = stream_->NextPiece(piece_); !first) {
      spdlog::warn("http: GET /blocks: {}", first.error());
      stream_.reset();
      piece_ = StreamPiece();
      return Send(ErrorResponse(status::internal_server_error, first.error()));
    }
    stream_header_ = {};
    stream_header_.result(status::ok);
    stream_header_.version(version_);
    status_code_ = 200;
    stream_header_.set(bhttp::field::content_type, "application/json");
    chunked_ = version_ >= 11;
    if (!chunked_) close_after_ = true;
    stream_header_.keep_alive(!close_after_);
    if (chunked_) stream_header_.chunked(true);
    stream_serializer_.emplace(stream_header_);
    phase_ = Phase::kStreaming;
    Arm(options().write_timeout);
    bhttp::async_write_header(socket_, *stream_serializer_,
                              [self = shared_from_this()](error_code ec, std::size_t) {
                                self->Guarded("write", [&] { self->OnStreamHeaderWritten(ec); });
                              });
  }

  void OnStreamHeaderWritten(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      spdlog::debug("http: GET /blocks: write failed: {}", ec.message());
      return CloseNow();
    }
    WriteChunk(stream_->done());  // the first chunk, prepared with the header
  }

  // Writes piece_ as one chunk of chunked transfer coding (as it is for an
  // HTTP/1.0 client), its run straight from the shared string; `last`: the
  // terminating chunk follows. piece_ is never empty (an empty chunk would
  // end the body).
  void WriteChunk(bool last) {
    const std::array<asio::const_buffer, 3> data = {
        asio::buffer(piece_.head), piece_.run ? asio::buffer(*piece_.run) : asio::const_buffer(),
        asio::buffer(piece_.tail)};
    if (!chunked_) return WriteBuffers(data, last);
    if (!last) return WriteBuffers(bhttp::make_chunk(data), last);
    WriteBuffers(beast::buffers_cat(bhttp::make_chunk(data), bhttp::make_chunk_last()), last);
  }
  template <typename Buffers>
  void WriteBuffers(const Buffers& buffers, bool last) {
    Arm(options().write_timeout);
    asio::async_write(socket_, buffers,
                      [self = shared_from_this(), last](error_code ec, std::size_t) {
                        self->Guarded("write", [&] { self->OnChunkWritten(ec, last); });
                      });
  }

  void OnChunkWritten(error_code ec, bool last) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      spdlog::debug("http: GET /blocks: write failed: {}", ec.message());
      return CloseNow();
    }
    if (last) {
      Record();  // a stream is counted when its last chunk is out
      stream_.reset();
      stream_serializer_.reset();
      piece_ = StreamPiece();
      return ResponseDone();
    }
    Status next = Error{"no blocks read"};
    try {
      next = stream_->NextPiece(piece_);
    } catch (const std::exception& e) {
      next = Error{std::string("exception: ") + e.what()};
    }
    if (!next) {
      spdlog::warn("http: GET /blocks: {}; cutting the response short", next.error());
      return CloseNow();
    }
    WriteChunk(stream_->done());
  }

  // --- GET /events -----------------------------------------------------

  // Subscribes to the hub and answers with an endless text/event-stream
  // body (chunked for HTTP/1.1, ended by the connection's end for 1.0).
  // The hub's callback only counts the frame against this client's bound
  // and posts it here; past the bound the client is dropped.
  void StartEvents() {
    EventHub* hub = state_->events;
    if (hub == nullptr) {
      return Send(ErrorResponse(status::not_found, "this node publishes no events"));
    }
    auto queued = std::make_shared<std::atomic<std::size_t>>(0);
    const std::size_t cap = hub->options().max_queued_bytes;
    std::weak_ptr<HttpSession> weak = weak_from_this();
    const auto id = hub->Subscribe([weak, queued, cap](const EventFrame& frame) {
      auto self = weak.lock();
      if (!self) return false;
      if (queued->fetch_add(frame->size()) + frame->size() > cap) {
        self->Post([](HttpSession& s) {
          spdlog::debug("http: events client too slow; dropping it");
          s.CloseNow();
        });
        return false;
      }
      self->Post([frame](HttpSession& s) { s.QueueEvent(frame); });
      return true;
    });
    if (!id) {
      return Send(ErrorResponse(status::service_unavailable,
                                "too many event clients (the limit is " +
                                    std::to_string(hub->options().max_clients) + ")"));
    }
    events_id_ = *id;
    events_queued_ = std::move(queued);
    stream_header_ = {};
    stream_header_.result(status::ok);
    stream_header_.version(version_);
    stream_header_.set(bhttp::field::content_type, "text/event-stream");
    stream_header_.set(bhttp::field::cache_control, "no-store");
    chunked_ = version_ >= 11;
    close_after_ = true;  // the stream ends only with the connection
    stream_header_.keep_alive(false);
    if (chunked_) stream_header_.chunked(true);
    stream_serializer_.emplace(stream_header_);
    status_code_ = 200;
    Record();  // its latency is the time to the header, not the stream's life
    phase_ = Phase::kEvents;
    event_writing_ = true;
    // How long a client waits before it reconnects, in ms.
    events_.push_back(std::make_shared<const std::string>("retry: 2000\n\n"));
    Arm(options().write_timeout);
    bhttp::async_write_header(socket_, *stream_serializer_,
                              [self = shared_from_this()](error_code ec, std::size_t) {
                                self->Guarded("write", [&] { self->OnEventWritten(ec, false); });
                              });
    WatchWhileWaiting();
  }

  void QueueEvent(const EventFrame& frame) {
    if (phase_ != Phase::kEvents) return;
    events_.push_back(frame);
    if (!event_writing_) WriteNextEvent();
  }

  void WriteNextEvent() {
    if (events_.empty()) {
      event_writing_ = false;
      Disarm();
      return;
    }
    event_writing_ = true;
    Arm(options().write_timeout);
    const asio::const_buffer data = asio::buffer(*events_.front());
    auto done = [self = shared_from_this()](error_code ec, std::size_t) {
      self->Guarded("write", [&] { self->OnEventWritten(ec, true); });
    };
    if (chunked_) {
      asio::async_write(socket_, bhttp::make_chunk(data), std::move(done));
    } else {
      asio::async_write(socket_, data, std::move(done));
    }
  }

  // `frame`: a queued frame was written (else the header).
  void OnEventWritten(error_code ec, bool frame) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      spdlog::debug("http: GET /events: write failed: {}", ec.message());
      return CloseNow();
    }
    if (frame) {
      const std::size_t size = events_.front()->size();
      events_.pop_front();
      // The retry line was never counted against the bound.
      if (!first_event_written_) {
        first_event_written_ = true;
      } else {
        events_queued_->fetch_sub(size);
      }
    }
    WriteNextEvent();
  }

  // --- Request metrics ------------------------------------------------------

  void StartRecord(std::string_view route) {
    route_ = route;
    started_ = std::chrono::steady_clock::now();
    status_code_ = 0;
    recording_ = true;
  }

  // Reports the request once, with the status of its answer.
  void Record() {
    if (!recording_) return;
    recording_ = false;
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started_;
    state_->api.RecordRequest(route_, status_code_, took.count());
  }

  tcp::socket socket_;
  Strand strand_;
  net::Deadline deadline_;
  const std::shared_ptr<HttpServer::State> state_;

  Phase phase_ = Phase::kIdle;
  bool reading_ = false;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool continue_sent_ = false;
  unsigned version_ = 11;
  bool head_ = false;         // the request being answered is a HEAD
  bool close_after_ = false;  // the current response is the last
  std::unique_ptr<Response> response_;
  std::unique_ptr<BlockStream> stream_;
  bhttp::response<bhttp::empty_body> stream_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> stream_serializer_;
  bool chunked_ = true;  // the streamed response uses chunked coding
  StreamPiece piece_;    // the chunk being written
  // GET /events: the hub's id for this session (0: not subscribed), the
  // bytes the hub has counted as queued here, the frames not yet written.
  std::uint64_t events_id_ = 0;
  std::shared_ptr<std::atomic<std::size_t>> events_queued_;
  std::deque<EventFrame> events_;
  bool event_writing_ = false;
  bool first_event_written_ = false;
  // The request being answered, for NodeApi::RecordRequest.
  std::string_view route_ = "other";  // a RouteLabel (static storage)
  std::chrono::steady_clock::time_point started_{};
  unsigned status_code_ = 0;
  bool recording_ = false;
};

void HttpServer::State::OnAccept(const std::shared_ptr<State>& self, tcp::socket socket) {
  Admission admission = self->Admit(std::move(socket), self);
  if (admission.evicted) {
    spdlog::debug(
        "http: {} connections; closing the one that has waited longest for a request header",
        self->options.max_connections);
    admission.evicted->Post([](HttpSession& s) { s.CloseNow(); });
  }
  if (!admission.session) {
    spdlog::debug("http: too many connections; closing a new one without an answer");
  } else if (admission.serve) {
    admission.session->Post([](HttpSession& s) { s.Serve(); });
  } else {
    spdlog::debug("http: too many connections; refusing a new one");
    admission.session->Post([](HttpSession& s) { s.Refuse(); });
  }
}

HttpServer::State::Admission HttpServer::State::Admit(tcp::socket socket,
                                                      const std::shared_ptr<State>& self) {
  // Made before the lock is taken: a session that is not admitted is
  // destroyed after it is released (its destructor takes it).
  auto session = std::make_shared<HttpSession>(std::move(socket), self);
  Admission out;
  MutexLock lock(mutex);
  if (stopped) return out;  // closes the socket
  const std::size_t cap = options.max_connections;
  Slot slot = Slot::kServing;
  const bool evict = serving >= cap && !waiting_order.empty() && evicting < cap;
  if (serving >= cap && !evict) {
    if (refusing >= cap) return out;
    slot = Slot::kRefusing;
  }
  // What may throw (allocation) comes before any count changes.
  const auto it = sessions.try_emplace(session.get()).first;
  Entry& entry = it->second;
  entry.session = session;
  entry.slot = slot;
  if (slot == Slot::kServing) {
    // Until it has sent a whole header, a new connection is a candidate too.
    try {
      entry.at = waiting_order.insert(waiting_order.end(), session.get());
    } catch (...) {
      sessions.erase(it);
      throw;
    }
    entry.waiting = true;
  }
  if (evict) {
    // The new session takes over the victim's slot: `serving` stays.
    Entry& victim = sessions.at(waiting_order.front());
    StopWaitingLocked(victim);
    victim.slot = Slot::kEvicted;
    ++evicting;
    // Null when the victim is being destroyed: it unregisters itself.
    out.evicted = victim.session.lock();
  } else if (slot == Slot::kServing) {
    ++serving;
  } else {
    ++refusing;
  }
  out.session = std::move(session);
  out.serve = slot == Slot::kServing;
  return out;
}

void HttpServer::State::StopWaitingLocked(Entry& entry) {
  if (!entry.waiting) return;
  waiting_order.erase(entry.at);
  entry.waiting = false;
}

void HttpServer::State::MarkWaiting(HttpSession* session) {
  MutexLock lock(mutex);
  const auto it = sessions.find(session);
  if (it == sessions.end() || it->second.slot != Slot::kServing) return;
  Entry& entry = it->second;
  if (entry.waiting) return;
  entry.at = waiting_order.insert(waiting_order.end(), session);
  entry.waiting = true;
}

bool HttpServer::State::MarkBusy(HttpSession* session) {
  MutexLock lock(mutex);
  const auto it = sessions.find(session);
  if (it == sessions.end()) return false;  // closed (Stop()); nothing to handle
  if (it->second.slot == Slot::kEvicted) return false;
  StopWaitingLocked(it->second);
  return true;
}

void HttpServer::State::Unregister(HttpSession* session) {
  MutexLock lock(mutex);
  const auto it = sessions.find(session);
  if (it == sessions.end()) return;
  StopWaitingLocked(it->second);
  switch (it->second.slot) {
    case Slot::kServing:
      --serving;
      break;
    case Slot::kRefusing:
      --refusing;
      break;
    case Slot::kEvicted:
      --evicting;
      break;
  }
  sessions.erase(it);
}

HttpServer::HttpServer(asio::io_context& io, HttpOptions options, NodeApi& api, EventHub* events)
    : io_(io), state_(std::make_shared<State>(std::move(options), api, events)) {}

HttpServer::~HttpServer() { Stop(); }

std::size_t HttpServer::connections() const { return state_->Connections(); }

std::size_t HttpServer::waiting_connections() const { return state_->Waiting(); }

Status HttpServer::Start() {
  const HttpOptions& o = state_->options;
  const std::string where =
      "cannot listen for HTTP on " + net::EndpointText(o.bind_address, o.port);
  try {
    {
      MutexLock lock(state_->mutex);
      if (state_->started || state_->stopped) {
        return Error{where + ": the server was already " +
                     (state_->stopped ? "stopped" : "started")};
      }
      state_->started = true;
    }
    auto listener = net::Listener::Open(io_, "HTTP", o.bind_address, o.port,
                                        [weak = std::weak_ptr<State>(state_)](tcp::socket socket) {
                                          if (auto state = weak.lock())
                                            State::OnAccept(state, std::move(socket));
                                        });
    if (!listener) return Error{listener.error()};
    {
      MutexLock lock(state_->mutex);
      if (state_->stopped) return Error{where + ": the server was stopped"};
      state_->listener = *listener;
    }
    port_ = (*listener)->port();
    (*listener)->Start();
    spdlog::debug("http: listening on {}", net::EndpointText(o.bind_address, port_));
    return {};
  } catch (const std::exception& e) {
    return Error{where + ": " + e.what()};
  }
}

void HttpServer::Stop() {
  std::shared_ptr<net::Listener> listener;
  std::vector<std::weak_ptr<HttpSession>> sessions;
  {
    MutexLock lock(state_->mutex);
    state_->stopped = true;
    listener = std::move(state_->listener);
    sessions.reserve(state_->sessions.size());
    for (const auto& entry : state_->sessions) sessions.push_back(entry.second.session);
  }
  if (listener) listener->Close();
  for (const auto& weak : sessions) {
    if (auto session = weak.lock()) session->Post([](HttpSession& s) { s.CloseNow(); });
  }
}

}  // namespace powchain::http
