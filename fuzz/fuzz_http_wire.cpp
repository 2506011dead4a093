// Raw bytes on the HTTP port: a real HttpServer (the node's, with its
// parser, limits, transfer-coding and Expect checks, pipelining, streaming
// and /events) on a loopback port, over the fixed NodeApi of fuzz_http.
// Each input is sent as it is on a new connection, which the client then
// half-closes; the answer is read until the server closes.
//
// The server runs with small limits (header 1 KiB, body 2 KiB) so that
// short inputs cross them, and short timeouts; the same code enforces the
// node's 8 KiB and 1 MiB (tests/integration/hostile_http_test.cpp sends
// those sizes).
//
// Properties: the server ends every connection within 5 s (it never waits
// on a client that has finished sending); what it sends is a sequence of
// complete HTTP/1.1 (or 1.0, to a 1.0 request) responses, read as a client
// would (the harness splits the input into requests with Beast's parser to
// know which answers are to HEAD, a header alone); every JSON answer
// parses, a streamed /blocks answer included; after each input the server
// holds no connection.
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fixed_node_api.h"
#include "fuzz_check.h"
#include "http/events.h"
#include "http/server.h"
#include "loopback.h"
#include "primitives/json.h"

namespace powchain::fuzz {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

constexpr std::size_t kMaxReceive = std::size_t{8} << 20;
constexpr std::size_t kHeaderLimit = 1024;
constexpr std::size_t kBodyLimit = 2048;

struct Node {
  FixedNodeApi api;
  http::EventHub events;
  IoThreads threads{2};
  std::unique_ptr<http::HttpServer> server;

  Node() {
    http::HttpOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.write_token = "fuzz-token";
    options.body_limit = kBodyLimit;
    options.header_limit = kHeaderLimit;
    options.header_timeout = 1s;
    options.body_timeout = 1s;
    options.idle_timeout = 1s;
    options.write_timeout = 1s;
    options.linger_timeout = 200ms;
    options.max_connections = 4;
    options.stream_batch_size = 2;
    options.stream_run_bytes = 256;
    server = std::make_unique<http::HttpServer>(threads.io(), options, api, &events);
    FUZZ_CHECK(server->Start().ok());
  }
};

// Which requests in `input` are HEAD, in order, as a parser with the
// server's limits splits them; stops at the first that does not parse
// (the server answers it with an error and closes).
std::vector<bool> HeadRequests(std::string_view input) {
  std::vector<bool> heads;
  while (!input.empty()) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    parser.eager(true);
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done()) {
      const std::size_t n =
          parser.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
      used += n;
      if ((ec && ec != bhttp::error::need_more) || used == input.size() || n == 0) break;
    }
    if (!parser.is_header_done()) break;
    heads.push_back(parser.get().method() == bhttp::verb::head);
    if (!parser.is_done()) break;
    input.remove_prefix(used);
  }
  return heads;
}

// Checks the responses in `bytes`, in order; `heads` says which answer a
// HEAD request (a header alone, with the length the body would have had).
void CheckResponses(std::string_view bytes, const std::vector<bool>& heads, bool cut) {
  std::size_t answered = 0;
  while (!bytes.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::size_t{16} << 20);
    parser.eager(true);
    parser.skip(answered < heads.size() && heads[answered]);
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done()) {
      const std::size_t n =
          parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      // /events answers for as long as the client stays: its end is the
      // connection's.
      if (parser.is_header_done() &&
          parser.get()[bhttp::field::content_type] == "text/event-stream") {
        FUZZ_CHECK(parser.get().result_int() == 200);
        return;
      }
      if (ec && ec != bhttp::error::need_more) FUZZ_CHECK(false);
      if (used == bytes.size() && !parser.is_done()) {
        // The server has closed: an answer without a length (to HTTP/1.0)
        // ends here; any other ends early only when the client stopped
        // reading it.
        parser.put_eof(ec);
        if (ec || !parser.is_done()) {
          FUZZ_CHECK(cut);
          return;
        }
      }
    }
    bytes.remove_prefix(used);
    const auto& res = parser.get();
    FUZZ_CHECK(res.version() == 11 || res.version() == 10);  // as the request was
    const unsigned code = res.result_int();
    FUZZ_CHECK(code >= 100 && code < 600);
    if (code == 100) continue;  // an interim answer; the request's own follows
    const bool head = answered < heads.size() && heads[answered];
    ++answered;
    // Every error is JSON, and so is every other answer but the explorer's
    // files and the metrics.
    if (!head && (code >= 400 || res[bhttp::field::content_type] == "application/json")) {
      FUZZ_CHECK(res[bhttp::field::content_type] == "application/json");
      FUZZ_CHECK(ParseJson(res.body()).ok());
    }
  }
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain::fuzz;
  static Node* node = new Node();  // never destroyed: its threads run until exit
  const std::string_view input = AsText(data, size);
  const Exchanged answer = Exchange(node->server->port(), input, 5s, kMaxReceive);
  FUZZ_CHECK(answer.closed);
  CheckResponses(answer.received, HeadRequests(input), answer.received.size() >= kMaxReceive);
  FUZZ_CHECK(WaitFor([&] { return node->server->connections() == 0; }, 5s));
  return 0;
}
