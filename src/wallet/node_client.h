// The client side of the node's HTTP API (docs/api.md), as the command-line
// tools use it: a call, its status and its JSON answer, and a clear error
// for everything else (no node, a timeout, an answer that is not JSON).
#pragma once

#include <string>
#include <string_view>

#include "net/http_client.h"
#include "primitives/json.h"
#include "util/result.h"

namespace powchain::wallet {

struct Reply {
  int status = 0;
  std::string body;
  JsonValue json;  // the parsed body (null when it is empty)
};

class NodeClient {
 public:
  NodeClient(net::NodeUrl url, net::HttpCallOptions options)
      : url_(std::move(url)), options_(std::move(options)) {}

  const net::NodeUrl& url() const { return url_; }
  // Any answer with a JSON body (or none); an error when there is no
  // answer or its body is not JSON.
  Result<Reply> Call(std::string_view method, std::string_view target, std::string_view body = "");
  // GET that must answer 200; otherwise an error carrying the node's
  // {"error": ...} message.
  Result<JsonValue> Get(std::string_view target);

 private:
  net::NodeUrl url_;
  net::HttpCallOptions options_;
};

// "the node answered 404: no such block" from an answer that is not the
// one hoped for.
std::string DescribeReply(const Reply& reply);

}  // namespace powchain::wallet
