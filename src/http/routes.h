// The HTTP API (docs/api.md) as plain functions from a
// parsed request to what the server must do with it, so that every route can
// be tested without sockets. The server (server.h) owns the connections; it
// calls Router::Route once per request and acts on the answer: send a
// response, stream the chain with a BlockStream, or queue data for mining.
//
// Every response body is JSON with "Content-Type: application/json"; every
// error body is {"error": "<message>"}.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "http/node_api.h"
#include "primitives/block.h"
#include "primitives/json.h"
#include "util/result.h"

namespace powchain::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using boost::beast::http::status;

// A response with status `code` and the JSON text `body`. Version and
// keep-alive are left for the server to set.
Response JsonResponse(status code, std::string body);

// A response {"error": message}. Bytes of `message` that are not valid UTF-8
// are replaced with U+FFFD, so the body is always valid JSON.
Response ErrorResponse(status code, std::string_view message);

// The JSON object a POST request carries, or the response refusing it: a
// Content-Type other than application/json is 415; an empty body, a body
// that is not JSON within `max_body_bytes` and the default depth, or not an
// object, is 400.
std::variant<JsonValue, Response> ReadJsonObject(const Request& request,
                                                 std::size_t max_body_bytes);

// GET /blocks?from=H&limit=N, parsed.
struct BlocksQuery {
  std::uint64_t from = 0;
  std::optional<std::uint64_t> limit;  // nullopt: up to the tip
  friend bool operator==(const BlocksQuery&, const BlocksQuery&) = default;
};

// Parses the query string of GET /blocks (the text after '?', without it).
// `from` and `limit` must be plain decimal integers that fit in 64 bits and
// may be given at most once; other parameters are ignored. No percent
// decoding: "%31" is not a number. Errors name the parameter.
Result<BlocksQuery> ParseBlocksQuery(std::string_view query);

// GET /addresses/{address}/utxos and /txs: ?offset=N&limit=N, parsed.
struct PageQuery {
  static constexpr std::uint64_t kDefaultLimit = 50;
  static constexpr std::uint64_t kMaxLimit = 500;
  static constexpr std::uint64_t kMaxOffset = 10'000'000;
  std::uint64_t offset = 0;
  std::uint64_t limit = kDefaultLimit;
  friend bool operator==(const PageQuery&, const PageQuery&) = default;
};

// Parses the query string of a paged list, as ParseBlocksQuery does: `offset`
// (0 to PageQuery::kMaxOffset) and `limit` (0 to PageQuery::kMaxLimit) are
// plain decimal integers given at most once; other parameters are ignored.
// Errors name the parameter and its range.
Result<PageQuery> ParsePageQuery(std::string_view query);

// GET /events: subscribe the connection to the node's live events.
struct EventsRequest {};

// What the server must do with one request: send this response, stream the
// active chain (GET /blocks), queue data for mining (POST /mine), or stream
// live events (GET /events).
using RouteResult = std::variant<Response, BlocksQuery, MineRequest, EventsRequest>;

struct RouterOptions {
  // Request bodies are parsed as JSON with at most this many bytes and the
  // default nesting limit (JsonLimits::kDefaultMaxDepth). The server's body
  // limit refuses larger bodies before they get here.
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  // When not empty, POST /mine and POST /peers (the routes that change the
  // node) need "Authorization: Bearer <write_token>"; without it, or with
  // another token, they are answered 401. Reads stay open.
  std::string write_token{};
};

class Router {
 public:
  // `api` is not owned and must outlive the router.
  Router(NodeApi& api, RouterOptions options);

  // Answers every route that needs no waiting; GET /blocks and POST /mine
  // (once their input is valid) are handed back to the caller. Thread-safe
  // (the router holds no mutable state; NodeApi is thread-safe). Throws
  // nothing of its own; an exception from NodeApi or an allocation passes
  // through, and the server answers it with 500.
  RouteResult Route(const Request& request) const;

  // The 401 answer for a request to a route that changes the node, or
  // nullopt when it may go on (no token set, or the right one given).
  std::optional<Response> CheckWriteToken(const Request& request) const;

 private:
  // GET /blocks/{id}, or with `txids` GET /blocks/{id}/txids.
  Response BlockById(std::string_view id, bool txids = false) const;
  Response GetStatus() const;
  Response GetPeers() const;
  Response AddPeer(const Request& request) const;
  Response RemovePeer(const Request& request) const;
  // The canonical ws:// URL in a {"url": ...} body, or the error to answer.
  std::variant<std::string, Response> ReadPeerUrl(const Request& request) const;
  RouteResult Mine(const Request& request) const;
  // GET /transactions/{txid}[/proof] and GET /addresses/{address}[/utxos|/txs]:
  // `rest` is the path after the second '/'.
  Response RouteTransaction(const Request& request, std::string_view path,
                            std::string_view rest) const;
  Response RouteAddress(const Request& request, std::string_view path, std::string_view rest,
                        std::string_view query) const;
  Response GetTransaction(const Hash32& txid, bool proof) const;
  // The mempool (tx_routes.cpp): POST /transactions, a pool entry for
  // GET /transactions/{txid}, GET /mempool.
  Response SubmitTransaction(const Request& request) const;
  Response PoolTransactionResponse(const Hash32& txid, bool proof) const;
  Response GetMempool(std::string_view query) const;
  // Watching the node (watch_routes.cpp).
  Response GetTips(std::string_view query) const;
  Response GetReorgs(std::string_view query) const;
  // GET /health (ready false) and GET /health/ready.
  Response GetHealth(bool ready) const;
  Response GetMetrics() const;
  // GET /search?q=: what a height, hash, txid or address names.
  Response Search(std::string_view query) const;
  // GET /, /explorer/{asset} (asset_routes.cpp).
  Response GetAsset(const Request& request, std::string_view path) const;
  Response GetAddress(const XOnlyPubKey& key, const Params& params) const;
  Response GetAddressCoins(const XOnlyPubKey& key, const Params& params,
                           const PageQuery& page) const;
  Response GetAddressTxs(const XOnlyPubKey& key, const Params& params, const PageQuery& page) const;

  NodeApi& api_;
  RouterOptions options_;
};

// The route a request target belongs to, as a label for metrics: the
// path's template ("/blocks/{id}", "/addresses/{address}/txs", ...) or
// "other" for paths no route serves. Never the raw path, so a client
// cannot grow the number of label values.
std::string_view RouteLabel(std::string_view target);

// The response to a finished POST /mine: 201 with the block, or 503 with the
// error the node reported.
Response MinedResponse(const Result<Block>& result);

// One piece of a GET /blocks body: `head`, then the run of blocks, then
// `tail`; concatenated, the pieces are the JSON array.
struct StreamPiece {
  std::string head;                        // "[" before the first run, "," before the others
  std::shared_ptr<const std::string> run;  // null for an empty chain
  std::string tail;                        // "]" after the last run
  std::size_t size() const { return head.size() + (run ? run->size() : 0) + tail.size(); }
};

// GET /blocks as a sequence of pieces of one JSON array of blocks, each a
// run of stored block JSON (NodeApi::BlockRunInChain) sent as it is, so
// memory stays bounded by one run however long the chain. Runs start at
// multiples of the batch size (the first may be shorter), so that every
// stream of a chain asks for the same runs and a cache of them serves it.
// The chain is the one that ended at the active tip when the stream was
// created; blocks appended later are not included, and a reorganization
// during the stream does not change it.
//
// Not thread-safe; the server uses one per request on the session's strand.
class BlockStream {
 public:
  // Takes the snapshot (api.ActiveTip()) now. A run has at most
  // `batch_size` (>= 1) blocks and, unless it is one block, at most
  // `max_run_bytes` bytes. `api` must outlive the stream.
  BlockStream(NodeApi& api, const BlocksQuery& query, std::size_t batch_size,
              std::size_t max_run_bytes = std::size_t{4} * 1024 * 1024);

  // True once the piece with the closing ']' has been returned, or after an
  // error.
  bool done() const { return done_; }

  // The next piece, written over `piece`; none is empty. Requires !done().
  // An error when the store cannot be read or returns fewer blocks than
  // the chain has; the stream is then done and the array can never be
  // completed.
  Status NextPiece(StreamPiece& piece);
  // The same, as one string.
  Result<std::string> Next();

  // Heights the snapshot covers: [first, first + count).
  std::uint64_t first_height() const { return first_; }
  std::uint64_t count() const { return count_; }

 private:
  NodeApi& api_;
  std::size_t batch_size_;
  std::size_t max_run_bytes_;
  Hash32 tip_{};
  std::uint64_t first_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t next_ = 0;       // next height to read
  std::uint64_t remaining_ = 0;  // blocks still to read
  bool started_ = false;
  bool done_ = false;
};

}  // namespace powchain::http
