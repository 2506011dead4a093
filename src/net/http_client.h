// A small blocking HTTP/1.1 client for the command-line tools (`powchain
// status`, `powchain wallet ...`): one request per connection, a deadline
// over the whole exchange, and a cap on the answer's size, since the node at
// the other end is trusted no more than any other input.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace powchain::net {

// Where a node's HTTP API is: http://host:port, an optional trailing '/'.
struct NodeUrl {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;
  std::string ToString() const;
};

// Parses "http://host:port" (https is not spoken; a path, query or user
// info is refused). Errors say what is wrong.
Result<NodeUrl> ParseNodeUrl(std::string_view text);

struct HttpCallOptions {
  std::chrono::milliseconds timeout{30'000};  // connect, send and the whole answer
  std::size_t max_body_bytes = 64u << 20;
  std::string bearer_token;  // sent as "Authorization: Bearer <token>" when not empty
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// Sends one request (`body` as application/json when not empty) and reads
// the answer. An error names the node and what failed: resolving,
// connecting (e.g. "connection refused: is the node running?"), the
// deadline, or an answer that is malformed or too large.
Result<HttpAnswer> HttpCall(const NodeUrl& node, std::string_view method, std::string_view target,
                            std::string_view body, const HttpCallOptions& options);

}  // namespace powchain::net
