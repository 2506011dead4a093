#include "net/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

#include "util/url.h"

namespace powchain::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string Describe(const beast::error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused: is the node running?";
  if (ec == beast::error::timeout) return "no answer before the deadline";
  if (ec == bhttp::error::body_limit) return "the answer is larger than the client accepts";
  return ec.message();
}

// Runs the exchange on `ioc`; the tcp_stream's deadline bounds each step.
struct Exchange {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  beast::error_code ec;
  std::string step;

  void Fail(beast::error_code e, const char* what) {
    ec = e;
    step = what;
  }
};

}  // namespace

std::string NodeUrl::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<NodeUrl> ParseNodeUrl(std::string_view text) {
  // One trailing '/' is allowed (a URL copied from a browser has it).
  if (text.size() > 1 && text.back() == '/') text.remove_suffix(1);
  auto url = ParseHostPortUrl(text, "http://", "node URL");
  if (!url) return Error{url.error()};
  return NodeUrl{url->host, url->port};
}

Result<HttpAnswer> HttpCall(const NodeUrl& node, std::string_view method, std::string_view target,
                            std::string_view body, const HttpCallOptions& options) {
  Exchange x;
  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), std::string(target),
                                             11};
  request.set(bhttp::field::host, node.host + ":" + std::to_string(node.port));
  request.set(bhttp::field::user_agent, "powchain-cli");
  request.set(bhttp::field::connection, "close");
  if (!options.bearer_token.empty()) {
    request.set(bhttp::field::authorization, "Bearer " + options.bearer_token);
  }
  if (!body.empty()) request.set(bhttp::field::content_type, "application/json");
  request.body() = std::string(body);
  request.prepare_payload();
  x.parser.emplace();
  x.parser->body_limit(options.max_body_bytes);
  x.parser->header_limit(64 * 1024);

  tcp::resolver resolver(x.ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(node.host, std::to_string(node.port), ec);
  if (ec) return Error{"cannot resolve " + node.host + ": " + ec.message()};
  x.stream.expires_after(options.timeout);
  x.stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) return x.Fail(e, "connect to");
    bhttp::async_write(x.stream, request, [&](beast::error_code e2, std::size_t) {
      if (e2) return x.Fail(e2, "send to");
      bhttp::async_read(x.stream, x.buffer, *x.parser, [&](beast::error_code e3, std::size_t) {
        if (e3) x.Fail(e3, "read the answer of");
      });
    });
  });
  x.ioc.run();
  if (x.ec) return Error{"cannot " + x.step + " " + node.ToString() + ": " + Describe(x.ec)};
  auto& response = x.parser->get();
  return HttpAnswer{static_cast<int>(response.result_int()), std::move(response.body())};
}

}  // namespace powchain::net
