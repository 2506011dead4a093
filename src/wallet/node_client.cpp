#include "wallet/node_client.h"

namespace powchain::wallet {

Result<Reply> NodeClient::Call(std::string_view method, std::string_view target,
                               std::string_view body) {
  auto answer = net::HttpCall(url_, method, target, body, options_);
  if (!answer) return Error{answer.error()};
  Reply reply{answer->status, std::move(answer->body), {}};
  if (reply.body.empty()) return reply;
  auto json = ParseJson(reply.body, JsonLimits{.max_bytes = reply.body.size(), .max_depth = 64});
  if (!json) {
    return Error{"the node at " + url_.ToString() + " answered " + std::to_string(reply.status) +
                 " with a body that is not JSON: " + json.error()};
  }
  reply.json = std::move(json).value();
  return reply;
}

Result<JsonValue> NodeClient::Get(std::string_view target) {
  auto reply = Call("GET", target);
  if (!reply) return Error{reply.error()};
  if (reply->status != 200)
    return Error{"GET " + std::string(target) + ": " + DescribeReply(*reply)};
  return std::move(reply->json);
}

std::string DescribeReply(const Reply& reply) {
  std::string out = "the node answered " + std::to_string(reply.status);
  const JsonValue* error = reply.json.is_object() ? reply.json.Find("error") : nullptr;
  if (error != nullptr && error->is_string()) return out + ": " + error->as_string();
  return out;
}

}  // namespace powchain::wallet
