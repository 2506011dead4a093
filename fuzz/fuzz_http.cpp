// HTTP requests from outside, routed by http::Router over a small stateless
// NodeApi, plus ParseBlocksQuery on the raw input.
//
// Input, one field per line: method, target (path and query), Content-Type,
// Authorization, then the body (the rest, newlines included). Missing lines
// are empty; an empty Content-Type or Authorization line sets no header.
// Each request goes to a router without a write token and to one with the
// token "fuzz-token" (so "Bearer fuzz-token" passes).
//
// Properties: routing throws nothing; every response body is JSON with
// Content-Type application/json; a /blocks answer streams (BlockStream) to a
// JSON array or stops with an error; the data of a /mine answer is canonical
// JSON; a query that ParseBlocksQuery accepts reads the same when written
// back in its plain form; a transaction a /mine request carries reads back
// the same from its canonical bytes.
#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fixed_node_api.h"
#include "fuzz_check.h"
#include "http/node_api.h"
#include "http/routes.h"
#include "primitives/canonical_json.h"
#include "primitives/json.h"
#include "primitives/transaction.h"

namespace powchain::fuzz {
namespace {

namespace bhttp = boost::beast::http;

// Header values and the target are cut to this (Beast refuses fields over
// 64 KiB, which its parser never hands on).
constexpr std::size_t kMaxFieldBytes = 4096;
constexpr std::size_t kStreamBatch = 2;

void CheckJsonResponse(const http::Response& res) {
  FUZZ_CHECK(res[bhttp::field::content_type] == "application/json");
  FUZZ_CHECK(ParseJson(res.body()).ok());
}

std::string_view NextLine(std::string_view& rest) {
  const auto newline = rest.find('\n');
  const std::string_view line = rest.substr(0, newline);
  rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  return line.substr(0, kMaxFieldBytes);
}

http::Request MakeRequest(std::string_view input) {
  std::string_view rest = input;
  const std::string_view method = NextLine(rest);
  const std::string_view target = NextLine(rest);
  const std::string_view content_type = NextLine(rest);
  const std::string_view authorization = NextLine(rest);
  http::Request req;
  req.version(11);
  req.method_string(method);
  req.target(target);
  if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
  if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
  req.body() = std::string(rest);
  req.prepare_payload();
  return req;
}

void CheckRoute(const http::Router& router, FixedNodeApi& api, const http::Request& req) {
  http::RouteResult result = router.Route(req);
  if (const auto* res = std::get_if<http::Response>(&result)) {
    // The explorer's files and the metrics are the only answers that are
    // not JSON; every error is.
    const std::string_view type = (*res)[bhttp::field::content_type];
    if (res->result_int() < 400 && type != "application/json") {
      FUZZ_CHECK(!type.empty() && !res->body().empty());
    } else {
      CheckJsonResponse(*res);
    }
  } else if (std::holds_alternative<http::EventsRequest>(result)) {
    FUZZ_CHECK(req.target().substr(0, req.target().find('?')) == "/events");
  } else if (const auto* query = std::get_if<http::BlocksQuery>(&result)) {
    const std::string_view target = req.target();
    const auto question = target.find('?');
    const auto again = http::ParseBlocksQuery(
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1));
    FUZZ_CHECK(again.ok() && *again == *query);
    http::BlockStream stream(api, *query, kStreamBatch);
    std::string array;
    bool failed = false;
    while (!stream.done()) {
      Result<std::string> piece = stream.Next();
      if (!piece) {
        failed = true;
        break;
      }
      FUZZ_CHECK(!piece->empty());
      array += *piece;
    }
    if (!failed) {
      const Result<JsonValue> parsed = ParseJson(array);
      FUZZ_CHECK(parsed.ok() && parsed->is_array());
      FUZZ_CHECK(parsed->items().size() == stream.count());
    }
  } else {
    const auto& mine = std::get<http::MineRequest>(result);
    const Result<std::string> canonical = CanonicalizeJsonText(mine.canonical_data);
    FUZZ_CHECK(canonical.ok() && *canonical == mine.canonical_data);
    // Every transaction accepted reads back the same from its canonical
    // form.
    for (const Transaction& tx : mine.txs) {
      const Result<Transaction> again = TxFromJsonText(CanonicalTxBytes(tx));
      FUZZ_CHECK(again.ok() && *again == tx);
    }
    CheckJsonResponse(http::MinedResponse(MakeBlock(BlockHeader{}, mine.canonical_data)));
    CheckJsonResponse(http::MinedResponse(Error{"queue full: \xff"}));
  }
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  static FixedNodeApi api;
  static const http::Router open_router(api, http::RouterOptions{});
  static const http::Router token_router(api, [] {
    http::RouterOptions options;
    options.write_token = "fuzz-token";
    return options;
  }());

  const std::string_view input = AsText(data, size);
  const http::Request req = MakeRequest(input);
  CheckRoute(open_router, api, req);
  CheckRoute(token_router, api, req);

  const Result<http::BlocksQuery> query = http::ParseBlocksQuery(input);
  if (query) {
    std::string plain = "from=" + std::to_string(query->from);
    if (query->limit) plain += "&limit=" + std::to_string(*query->limit);
    const Result<http::BlocksQuery> again = http::ParseBlocksQuery(plain);
    FUZZ_CHECK(again.ok() && *again == *query);
  }
  return 0;
}
