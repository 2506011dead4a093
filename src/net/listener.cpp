#include "net/listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cctype>
#include <exception>
#include <utility>

#include "net/endpoint.h"

namespace powchain::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

Listener::Listener(asio::io_context& io, std::string service, AcceptFn on_accept)
    : io_(io),
      service_(std::move(service)),
      log_prefix_(Lower(service_)),
      on_accept_(std::move(on_accept)),
      acceptor_(asio::make_strand(io)),
      retry_timer_(acceptor_.get_executor()) {}

Result<std::shared_ptr<Listener>> Listener::Open(asio::io_context& io, std::string service,
                                                 const std::string& bind_address,
                                                 std::uint16_t port, AcceptFn on_accept) {
  auto listener = std::make_shared<Listener>(io, std::move(service), std::move(on_accept));
  const auto fail = [&](const std::string& why) {
    return Error{"cannot listen for " + listener->service_ + " on " +
                 EndpointText(bind_address, port) + ": " + why};
  };
  error_code ec;
  const auto address = asio::ip::make_address(bind_address, ec);
  if (ec) return fail("'" + bind_address + "' is not an IP address");
  const tcp::endpoint endpoint(address, port);
  tcp::acceptor& acceptor = listener->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail(ec.message());
  // Lets a restarted node bind while old connections sit in TIME_WAIT; it
  // does not let two listeners share the port.
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail(ec.message());
  acceptor.bind(endpoint, ec);
  if (ec) return fail(ec.message());
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec.message());
  const tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return fail(ec.message());
  listener->port_ = local.port();
  return listener;
}

void Listener::Start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    if (!self->closed_) self->Accept();
  });
}

void Listener::Close() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    self->closed_ = true;
    error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::Accept() {
  // Each connection gets its own strand.
  acceptor_.async_accept(asio::make_strand(io_),
                         [self = shared_from_this()](error_code ec, tcp::socket socket) {
                           self->OnAccept(ec, std::move(socket));
                         });
}

void Listener::OnAccept(const error_code& ec, Socket socket) {
  if (closed_) return;
  if (ec) {
    spdlog::warn("{}: accept failed: {}", log_prefix_, ec.message());
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec && !self->closed_) self->Accept();
    });
    return;
  }
  try {
    on_accept_(std::move(socket));
  } catch (const std::exception& e) {
    spdlog::error("{}: cannot admit a connection: {}", log_prefix_, e.what());
  }
  Accept();
}

}  // namespace powchain::net
