// WebSocket transport for peers (Boost.Beast): a listener for inbound
// connections, outbound dials, and one session per connection on its own
// strand with one write in flight and a bounded send queue. It knows
// nothing of the protocol: it moves text frames and reports events to a
// TransportHandler (the PeerManager).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "util/result.h"
#include "util/url.h"

namespace powchain::p2p {

using PeerId = std::uint64_t;  // unique per connection, never reused

enum class Direction { kInbound, kOutbound };

struct TransportOptions {
  static constexpr std::size_t kDefaultMaxMessageBytes = std::size_t{4} * 1024 * 1024;

  std::string bind_address = "0.0.0.0";  // IPv4 or IPv6 literal
  std::uint16_t port = 5001;             // 0 picks a free port
  // A frame (message) larger than this closes the connection.
  std::size_t max_message_bytes = kDefaultMaxMessageBytes;
  // The same for a connection's first message, which the protocol requires
  // to be a small hello: connections that have not finished the handshake
  // (up to max_inbound_connections) each hold at most this much.
  std::size_t max_first_message_bytes = std::size_t{64} * 1024;
  // Bytes queued for sending to one peer beyond which the peer is dropped
  // (it reads too slowly), and the same in messages.
  std::size_t max_queue_bytes = std::size_t{16} * 1024 * 1024;
  std::size_t max_queue_messages = 4096;
  // The TCP connect plus WebSocket upgrade must finish within this time.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  // Each frame write must finish within this time.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(30);
  // Connections open at once, inbound, counting those still upgrading;
  // one more is closed at once.
  std::size_t max_inbound_connections = 64;
};

// Events from the transport. Calls for one PeerId never overlap and come in
// order: OnOpen, any number of OnMessage, then exactly one OnClose. Calls
// for different peers may run at the same time on different threads.
// Handlers must not block; they may call back into the Transport.
class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // A connection is open and upgraded. `dialed` is the URL we dialled
  // (outbound only). `remote_address` is the peer's IP as text.
  virtual void OnOpen(PeerId id, Direction direction, const std::string& remote_address,
                      std::uint16_t remote_port, const std::optional<PeerUrl>& dialed) = 0;
  // One complete text frame.
  virtual void OnMessage(PeerId id, std::string text) = 0;
  // The connection is gone; `reason` says why (closed by peer, message too
  // large, binary frame, send queue full, closed by us: "<reason we gave>").
  virtual void OnClose(PeerId id, const std::string& reason) = 0;
  // A dial that never opened: refused, timed out, bad handshake.
  virtual void OnDialFailed(const PeerUrl& url, const std::string& reason) = 0;
};

class Transport {
 public:
  // `io` runs the handlers (on any number of threads); `handler` is not owned
  // and must outlive the transport's handlers.
  Transport(boost::asio::io_context& io, TransportOptions options, TransportHandler& handler);
  ~Transport();  // Stop()
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Binds and listens. An error names the address and port (e.g. in use).
  Status Start();
  // The bound port after Start(), else 0.
  std::uint16_t port() const;
  // Stops listening and closes every connection; OnClose follows for each
  // open one. Idempotent; any thread.
  void Stop();

  // Connects to `url` (async): OnOpen or OnDialFailed follows.
  void Dial(const PeerUrl& url);

  // Queues one text frame. False when the peer is unknown or closing. If the
  // queue limits are exceeded the peer is closed ("send queue full") and
  // false is returned. Any thread.
  bool Send(PeerId id, std::string text);

  // Sends what is queued (including e.g. a last "error" message), then
  // closes with `reason`. Any thread.
  void Close(PeerId id, const std::string& reason);

  // Open connections now (inbound, outbound). Any thread.
  std::size_t InboundCount() const;
  std::size_t OutboundCount() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace powchain::p2p
