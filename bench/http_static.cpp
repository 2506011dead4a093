// http_static: the reference for how fast this machine's loopback can carry
// an HTTP body that is already in memory. It answers every GET with the
// same body of the given size (application/json), keep-alive, one thread per
// connection, written by Boost.Beast straight from one buffer made at
// start. bench/node_serve.py
// compares the node's GET /blocks against it, body size for body size.
//
//   http_static BYTES      prints the port it listens on (127.0.0.1), then
//                          serves until killed
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

void Serve(tcp::socket socket, std::shared_ptr<const std::string> body) {
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    bhttp::request<bhttp::string_body> req;
    bhttp::read(socket, buffer, req, ec);
    if (ec) return;
    // The body is written straight from the shared copy: no allocation or
    // copy per answer, the best a server holding the bytes can do.
    bhttp::response<bhttp::span_body<const char>> res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = {body->data(), body->size()};
    res.prepare_payload();
    bhttp::write(socket, res, ec);
    if (ec || !req.keep_alive()) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: http_static BYTES\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long long bytes = std::strtoull(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || bytes > (1ULL << 32)) {
    std::fprintf(stderr, "http_static: BYTES must be a number up to 2^32\n");
    return 2;
  }
  // Block-like text rather than one repeated byte, though nothing here
  // compresses.
  auto body = std::make_shared<std::string>();
  body->reserve(bytes);
  const std::string pattern = R"({"version":1,"height":12345,"data":"0123456789abcdef"},)";
  while (body->size() < bytes) {
    body->append(pattern, 0, std::min<std::size_t>(pattern.size(), bytes - body->size()));
  }

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::printf("%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  for (;;) {
    tcp::socket socket(io);
    acceptor.accept(socket);
    socket.set_option(tcp::no_delay(true));  // as the node's sessions
    std::thread(Serve, std::move(socket), std::shared_ptr<const std::string>(body)).detach();
  }
}
