// A TCP listener for the network layers (p2p's WebSocket transport, the HTTP
// server): bind and listen with errors that name the address, then accept on
// a strand of its own, handing every connection over with a new strand as
// its socket's executor. After an accept error (out of file descriptors,
// say) it waits kAcceptRetryDelay and goes on, rather than spinning.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "util/result.h"

namespace powchain::net {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  // Called on the listener's strand for every accepted connection. An
  // exception it throws is logged and the connection dropped; accepting
  // goes on.
  using AcceptFn = std::function<void(Socket)>;

  static constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

  // Opens, binds and listens on `bind_address`:`port` (0: any free port).
  // `service` names what listens in errors and logs ("HTTP", "P2P"): errors
  // read "cannot listen for <service> on <address>:<port>: <why>".
  static Result<std::shared_ptr<Listener>> Open(boost::asio::io_context& io, std::string service,
                                                const std::string& bind_address, std::uint16_t port,
                                                AcceptFn on_accept);

  // The bound port.
  std::uint16_t port() const { return port_; }
  // Starts accepting. Thread-safe.
  void Start();
  // Stops accepting. Thread-safe; idempotent.
  void Close();

  // Use Open().
  Listener(boost::asio::io_context& io, std::string service, AcceptFn on_accept);

 private:
  void Accept();
  void OnAccept(const boost::system::error_code& ec, Socket socket);

  boost::asio::io_context& io_;
  const std::string service_;
  const std::string log_prefix_;  // service_ in lower case
  const AcceptFn on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::uint16_t port_ = 0;
  bool closed_ = false;  // on the strand
};

}  // namespace powchain::net
