// The HTTP API server (docs/api.md), after Beast's advanced
// server example: a listener, and one session per connection on its own
// strand with at most one write in flight. Routes live in routes.h.
//
// Every connection is bounded in memory (header and body limits) and in time
// (the timeouts below), so no client, however slow or hostile, can hold the
// server or stall other clients.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/events.h"
#include "http/node_api.h"
#include "util/result.h"

namespace powchain::http {

struct HttpOptions {
  static constexpr const char* kDefaultBindAddress = "127.0.0.1";
  static constexpr std::uint16_t kDefaultPort = 3001;
  static constexpr std::size_t kDefaultBodyLimit = std::size_t{1024} * 1024;
  static constexpr std::size_t kDefaultHeaderLimit = std::size_t{8} * 1024;
  static constexpr std::chrono::milliseconds kDefaultHeaderTimeout = std::chrono::seconds(10);
  static constexpr std::chrono::milliseconds kDefaultBodyTimeout = std::chrono::seconds(30);
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout = std::chrono::seconds(60);
  static constexpr std::chrono::milliseconds kDefaultWriteTimeout = std::chrono::seconds(30);
  static constexpr std::chrono::milliseconds kDefaultLingerTimeout = std::chrono::seconds(2);
  static constexpr std::size_t kDefaultMaxConnections = 128;
  static constexpr std::size_t kDefaultStreamBatchSize = 1024;
  static constexpr std::size_t kDefaultStreamRunBytes = std::size_t{4} * 1024 * 1024;

  // IPv4 or IPv6 address to listen on (no host names).
  std::string bind_address = kDefaultBindAddress;
  // 0 picks a free port; HttpServer::port() tells which.
  std::uint16_t port = kDefaultPort;
  // See RouterOptions::write_token: empty leaves POST /mine and POST /peers
  // open.
  std::string write_token{};
  // Largest request body; a larger one is answered 413.
  std::size_t body_limit = kDefaultBodyLimit;
  // Largest request line plus header fields; a larger one is answered 431.
  std::size_t header_limit = kDefaultHeaderLimit;
  // Once the first byte of a request has arrived, the whole header must
  // arrive within this time, else the connection is closed.
  std::chrono::milliseconds header_timeout = kDefaultHeaderTimeout;
  // Once the header has arrived, the whole body must arrive within this time.
  std::chrono::milliseconds body_timeout = kDefaultBodyTimeout;
  // A connection with no request in progress (before the first request, or
  // between keep-alive requests) is closed after this time. Not applied
  // while a POST /mine waits for its block.
  std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout;
  // Each write (a whole response, or one chunk of a streamed one) must
  // complete within this time, else the connection is closed.
  std::chrono::milliseconds write_timeout = kDefaultWriteTimeout;
  // After the last response on a connection the server stops sending and
  // reads (and discards) what the client still sends for up to this long
  // before closing, so that the client reads the response rather than a
  // TCP reset.
  std::chrono::milliseconds linger_timeout = kDefaultLingerTimeout;
  // Connections served at once. When all are taken, a new connection takes
  // the slot of the one that has waited longest for a request header (it
  // has not sent a whole header yet, is idle between keep-alive requests or
  // lingers after its last answer), which is closed without an answer; a
  // connection that has sent a whole header is never closed for this. When
  // every slot is held by such connections, the new one is answered 503 and
  // closed. So slowloris connections cannot lock out a client that sends its
  // header at once.
  std::size_t max_connections = kDefaultMaxConnections;
  // GET /blocks reads and sends runs of at most this many blocks (starting
  // at its multiples) and, unless a run is one block, at most this many
  // bytes: one chunk each, one chunk in flight per connection.
  std::size_t stream_batch_size = kDefaultStreamBatchSize;
  std::size_t stream_run_bytes = kDefaultStreamRunBytes;
};

class HttpServer {
 public:
  // Nothing happens until Start(). `io` runs the server's handlers (on any
  // number of threads). Neither `io` nor `api` is owned. Destroy the server
  // before `io`; `api` must outlive `io`'s handlers (until `io` has stopped
  // running or is destroyed), and the node must call or drop every
  // NodeApi::Mine callback before it destroys `io`.
  // `events` (not owned; may be null, then GET /events is answered 404)
  // must outlive the server's sessions, as `api` must.
  HttpServer(boost::asio::io_context& io, HttpOptions options, NodeApi& api,
             EventHub* events = nullptr);
  // Calls Stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting. An error (address in use, bad bind
  // address, already started or stopped) names the address and port and why;
  // the server is then unusable. Never throws.
  Status Start();

  // The bound port once Start() has succeeded (useful with port 0), else 0.
  std::uint16_t port() const { return port_.load(); }

  // Connections holding a slot now (not counting the ones being refused
  // with 503, nor evicted ones being closed); at most max_connections.
  // Thread-safe.
  std::size_t connections() const;

  // Of connections(), those that would be closed to make room for a new one
  // at the cap: waiting for a request header, idle between requests, or
  // lingering after the last answer. Thread-safe.
  std::size_t waiting_connections() const;

  // Stops accepting and closes every open connection, including ones whose
  // POST /mine still waits (their callbacks are then ignored). Returns at
  // once; the closes run on `io` promptly. Thread-safe; idempotent.
  void Stop();

  struct State;  // shared with the listener and the sessions

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;
  std::atomic<std::uint16_t> port_{0};
};

}  // namespace powchain::http
