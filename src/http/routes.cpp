#include "http/routes.h"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "consensus/work.h"
#include "primitives/address.h"
#include "primitives/block_json.h"
#include "primitives/canonical_json.h"
#include "primitives/json.h"
#include "primitives/json_writer.h"
#include "primitives/merkle.h"
#include "primitives/transaction.h"
#include "util/hex.h"
#include "util/url.h"

namespace powchain::http {
namespace {

namespace bhttp = boost::beast::http;

// Longest piece of a request path echoed back in a 404 message.
constexpr std::size_t kMaxEchoedPath = 200;
constexpr std::string_view kBadBlockId =
    "block id must be a height, a 64-digit hex hash or \"tip\"";
// Longest decimal u64: 18446744073709551615.
constexpr std::size_t kMaxHeightDigits = 20;
constexpr std::size_t kHashHexDigits = 64;
constexpr std::string_view kBadTxid = "txid must be 64 hex digits";

std::optional<std::uint64_t> ParseU64(std::string_view text) {
  if (text.empty() || text.size() > kMaxHeightDigits) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Response MethodNotAllowed(const Request& request, std::string_view path, std::string_view allow) {
  Response res =
      ErrorResponse(status::method_not_allowed, "method " + std::string(request.method_string()) +
                                                    " is not allowed on " + std::string(path) +
                                                    " (allowed: " + std::string(allow) + ")");
  res.set(bhttp::field::allow, allow);
  return res;
}

// The body of a POST as a JSON object, or the error response: 415 unless the
// media type is application/json, 400 when the body is missing, is not JSON
// or is not an object.
// A decimal query parameter: its name, its largest value, and the value read.
struct QueryNumber {
  std::string_view name;
  std::uint64_t max = 0;
  std::optional<std::uint64_t> value;
};

// Reads the parameters named in `params` from a query string (the text after
// '?'): each a plain decimal integer from 0 to its max, given at most once.
// Other parameters are ignored; no percent decoding. Errors name the
// parameter.
Status ReadQueryNumbers(std::string_view query, std::span<QueryNumber> params) {
  std::vector<bool> seen(params.size(), false);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    const auto it = std::find_if(params.begin(), params.end(),
                                 [&](const QueryNumber& p) { return p.name == name; });
    if (it == params.end()) continue;  // unknown parameters are ignored
    const auto i = static_cast<std::size_t>(it - params.begin());
    if (seen[i])
      return Error{"query parameter '" + std::string(name) + "' is given more than once"};
    seen[i] = true;
    const auto number = ParseU64(value);
    if (!number || *number > it->max) {
      return Error{"query parameter '" + std::string(name) +
                   "' must be a decimal integer from 0 to " + std::to_string(it->max)};
    }
    it->value = *number;
  }
  return {};
}

Response NoSuchEndpoint(std::string_view path) {
  std::string shown(path.substr(0, kMaxEchoedPath));
  if (path.size() > kMaxEchoedPath) shown += "...";
  return ErrorResponse(status::not_found, "no such endpoint: " + shown);
}

// "id" or "id/sub" (the rest of a path after its collection): the id, and
// the sub-resource (nullopt when there is no second '/').
std::pair<std::string_view, std::optional<std::string_view>> SplitId(std::string_view rest) {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return {rest, std::nullopt};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

// Blocks from the tip down to `height`, counting both; 1 when the node
// reports a tip below the block (it never should).
std::uint64_t Confirmations(std::uint64_t height, std::uint64_t tip_height) {
  return tip_height >= height ? tip_height - height + 1 : 1;
}

// Inputs minus outputs: 0 for a coinbase; an error when `spent` does not
// match the inputs or the amounts are impossible (the node's data is wrong).
Result<std::uint64_t> TxFee(const Transaction& tx, const std::vector<Coin>& spent) {
  if (tx.IsCoinbase()) return std::uint64_t{0};
  if (spent.size() != tx.inputs.size()) {
    return Error{"the node gave " + std::to_string(spent.size()) + " spent coins for " +
                 std::to_string(tx.inputs.size()) + " inputs"};
  }
  // Both terms are at most kMaxMoney when added, so no sum overflows.
  std::uint64_t in = 0;
  for (const Coin& coin : spent) {
    if (!MoneyRange(coin.amount)) return Error{"input amounts out of range"};
    in += coin.amount;
    if (!MoneyRange(in)) return Error{"input amounts out of range"};
  }
  std::uint64_t out = 0;
  for (const TxOut& output : tx.outputs) {
    if (!MoneyRange(output.amount)) return Error{"output amounts out of range"};
    out += output.amount;
    if (!MoneyRange(out)) return Error{"output amounts out of range"};
  }
  if (in < out) return Error{"outputs exceed inputs"};
  return in - out;
}

Response TxResponse(const Hash32& txid, const ConfirmedTx& c) {
  const Transaction& tx = c.block.txs[c.index];
  const auto fee = TxFee(tx, c.spent);
  if (!fee) {
    return ErrorResponse(status::internal_server_error,
                         "cannot compute the fee of " + HexEncode(txid) + ": " + fee.error());
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("txid").Hex(txid);
  w.Key("blockHash").Hex(c.block.hash);
  w.Key("height").UInt(c.height);
  w.Key("index").UInt(c.index);
  w.Key("confirmations").UInt(Confirmations(c.height, c.tip_height));
  w.Key("fee").UInt(*fee);
  w.Key("size").UInt(CanonicalTxSize(tx));
  w.Key("status").BeginObject();
  w.Key("confirmed").Bool(true);
  w.Key("height").UInt(c.height);
  w.Key("blockHash").Hex(c.block.hash);
  w.Key("confirmations").UInt(Confirmations(c.height, c.tip_height));
  w.EndObject();
  w.Key("tx");
  WriteTxJson(w, tx);
  w.EndObject();
  return JsonResponse(status::ok, std::move(body));
}

// The Merkle path from the transaction's leaf (leaf 0 is the data's hash,
// so transaction i is leaf i + 1) to the block's dataHash.
Response TxProofResponse(const Hash32& txid, const ConfirmedTx& c) {
  const std::vector<Hash32> txids = ComputeTxids(c.block);
  const std::vector<Hash32> leaves = DataHashLeaves(c.block, txids);
  const std::size_t leaf = std::size_t{c.index} + 1;
  if (txids[c.index] != txid) {
    return ErrorResponse(status::internal_server_error,
                         "the block holds another transaction at index " + std::to_string(c.index) +
                             " than " + HexEncode(txid));
  }
  const std::vector<Hash32> proof = MerkleProof(leaves, leaf);
  if (MerkleRootFromProof(txid, leaf, leaves.size(), proof) != c.block.header.data_hash) {
    return ErrorResponse(status::internal_server_error,
                         "the stored block does not match its dataHash");
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("txid").Hex(txid);
  w.Key("blockHash").Hex(c.block.hash);
  w.Key("height").UInt(c.height);
  w.Key("dataHash").Hex(c.block.header.data_hash);
  w.Key("leaf").Hex(txid);
  w.Key("index").UInt(leaf);
  w.Key("leafCount").UInt(leaves.size());
  w.Key("proof").BeginArray();
  for (const Hash32& sibling : proof) w.Hex(sibling);
  w.EndArray();
  w.EndObject();
  return JsonResponse(status::ok, std::move(body));
}

std::string AllowedMethods(std::string_view path) {
  if (path == "/peers") return "GET, POST, DELETE";
  if (path == "/mine" || path == "/transactions") return "POST";
  return "GET";
}

}  // namespace

Response JsonResponse(status code, std::string body) {
  Response res{code, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

Response ErrorResponse(status code, std::string_view message) {
  std::string body;
  JsonWriter(body).BeginObject().Key("error").String(message).EndObject();
  return JsonResponse(code, std::move(body));
}

std::variant<JsonValue, Response> ReadJsonObject(const Request& request,
                                                 std::size_t max_body_bytes) {
  const auto content_type = request[bhttp::field::content_type];
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  if (!boost::beast::iequals(media, "application/json")) {
    return ErrorResponse(status::unsupported_media_type, "Content-Type must be application/json");
  }
  if (request.body().empty()) {
    return ErrorResponse(status::bad_request, "request body is missing: expected a JSON object");
  }
  JsonLimits limits;
  limits.max_bytes = max_body_bytes;
  auto parsed = ParseJson(request.body(), limits);
  if (!parsed) return ErrorResponse(status::bad_request, parsed.error());
  if (!parsed->is_object()) {
    return ErrorResponse(status::bad_request, "request body must be a JSON object");
  }
  return std::move(parsed).value();
}

Result<BlocksQuery> ParseBlocksQuery(std::string_view query) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::array<QueryNumber, 2> params{{{"from", kMax, std::nullopt}, {"limit", kMax, std::nullopt}}};
  if (auto read = ReadQueryNumbers(query, params); !read) return Error{read.error()};
  BlocksQuery out;
  out.from = params[0].value.value_or(0);
  out.limit = params[1].value;
  return out;
}

Result<PageQuery> ParsePageQuery(std::string_view query) {
  std::array<QueryNumber, 2> params{{{"offset", PageQuery::kMaxOffset, std::nullopt},
                                     {"limit", PageQuery::kMaxLimit, std::nullopt}}};
  if (auto read = ReadQueryNumbers(query, params); !read) return Error{read.error()};
  PageQuery out;
  out.offset = params[0].value.value_or(0);
  out.limit = params[1].value.value_or(PageQuery::kDefaultLimit);
  return out;
}

Router::Router(NodeApi& api, RouterOptions options) : api_(api), options_(options) {}

RouteResult Router::Route(const Request& request) const {
  const std::string_view target = request.target();
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const bhttp::verb method = request.method();

  if (path == "/blocks") {
    if (method != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
    auto parsed = ParseBlocksQuery(query);
    if (!parsed) return ErrorResponse(status::bad_request, parsed.error());
    return *parsed;
  }
  constexpr std::string_view kBlocksPrefix = "/blocks/";
  if (path.substr(0, kBlocksPrefix.size()) == kBlocksPrefix) {
    if (method != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
    const auto [id, sub] = SplitId(path.substr(kBlocksPrefix.size()));
    if (sub.has_value() && *sub != "txids") return NoSuchEndpoint(path);
    return BlockById(id, sub.has_value());
  }
  if (path == "/mine") {
    if (method != bhttp::verb::post) return MethodNotAllowed(request, path, "POST");
    if (auto denied = CheckWriteToken(request)) return std::move(*denied);
    return Mine(request);
  }
  if (path == "/status") {
    if (method != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
    return GetStatus();
  }
  if (path == "/peers") {
    if (method == bhttp::verb::get) return GetPeers();
    if (method == bhttp::verb::post) {
      if (auto denied = CheckWriteToken(request)) return std::move(*denied);
      return AddPeer(request);
    }
    if (method == bhttp::verb::delete_) {
      if (auto denied = CheckWriteToken(request)) return std::move(*denied);
      return RemovePeer(request);
    }
    return MethodNotAllowed(request, path, AllowedMethods(path));
  }
  if (path == "/transactions") {
    if (method != bhttp::verb::post) return MethodNotAllowed(request, path, "POST");
    return SubmitTransaction(request);
  }
  if (path == "/mempool") {
    if (method != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
    return GetMempool(query);
  }
  constexpr std::string_view kTransactionsPrefix = "/transactions/";
  if (path.starts_with(kTransactionsPrefix)) {
    return RouteTransaction(request, path, path.substr(kTransactionsPrefix.size()));
  }
  constexpr std::string_view kAddressesPrefix = "/addresses/";
  if (path.starts_with(kAddressesPrefix)) {
    return RouteAddress(request, path, path.substr(kAddressesPrefix.size()), query);
  }
  if (path == "/" || path.starts_with("/explorer/")) {
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
      return MethodNotAllowed(request, path, "GET, HEAD");
    }
    return GetAsset(request, path);
  }
  if (path == "/events") {
    if (method != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
    return EventsRequest{};
  }
  if (path == "/tips" || path == "/reorgs" || path == "/health" || path == "/health/ready" ||
      path == "/metrics" || path == "/search") {
    if (method != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
    if (path == "/search") return Search(query);
    if (path == "/tips") return GetTips(query);
    if (path == "/reorgs") return GetReorgs(query);
    if (path == "/metrics") return GetMetrics();
    return GetHealth(path == "/health/ready");
  }
  return NoSuchEndpoint(path);
}

Response Router::BlockById(std::string_view id, bool txids) const {
  std::optional<Hash32> hash;
  std::optional<std::uint64_t> height;
  if (id == "tip") {
    hash = api_.ActiveTip().first;
  } else if (id.size() == kHashHexDigits && std::all_of(id.begin(), id.end(), IsHexDigit)) {
    hash = HexToHash32(id);
    if (!hash) return ErrorResponse(status::bad_request, kBadBlockId);
  } else if (const auto parsed = ParseU64(id)) {
    height = *parsed;
  } else {
    return ErrorResponse(status::bad_request, kBadBlockId);
  }
  if (!txids) {
    // The stored bytes, as they are.
    auto json = hash ? api_.BlockJsonByHash(*hash) : api_.BlockJsonAtHeight(*height);
    if (!json) {
      return ErrorResponse(status::internal_server_error, "cannot read the block: " + json.error());
    }
    if (!json->has_value()) return ErrorResponse(status::not_found, "block not found");
    return JsonResponse(status::ok, std::move(**json));
  }
  auto found = hash ? api_.BlockByHash(*hash) : api_.BlockAtHeight(*height);
  if (!found) {
    return ErrorResponse(status::internal_server_error, "cannot read the block: " + found.error());
  }
  if (!found->has_value()) return ErrorResponse(status::not_found, "block not found");
  // The txids in txs order, so a client can link each transaction.
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  for (const Transaction& tx : (*found)->txs) w.Hex(ComputeTxid(tx));
  w.EndArray();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::RouteTransaction(const Request& request, std::string_view path,
                                  std::string_view rest) const {
  const auto [id, sub] = SplitId(rest);
  const bool proof = sub.has_value();
  if (proof && *sub != "proof") return NoSuchEndpoint(path);
  if (request.method() != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
  std::optional<Hash32> txid;
  if (id.size() == kHashHexDigits && std::all_of(id.begin(), id.end(), IsHexDigit)) {
    txid = HexToHash32(id);
  }
  if (!txid) return ErrorResponse(status::bad_request, kBadTxid);
  return GetTransaction(*txid, proof);
}

Response Router::GetTransaction(const Hash32& txid, bool proof) const {
  auto found = api_.FindTransaction(txid);
  if (!found) {
    return ErrorResponse(status::internal_server_error,
                         "cannot read the transaction: " + found.error());
  }
  if (!found->has_value()) return PoolTransactionResponse(txid, proof);
  const ConfirmedTx& confirmed = **found;
  if (confirmed.index >= confirmed.block.txs.size()) {
    return ErrorResponse(status::internal_server_error,
                         "the node placed the transaction past the end of its block");
  }
  return proof ? TxProofResponse(txid, confirmed) : TxResponse(txid, confirmed);
}

Response Router::RouteAddress(const Request& request, std::string_view path, std::string_view rest,
                              std::string_view query) const {
  const auto [id, sub] = SplitId(rest);
  if (sub && *sub != "utxos" && *sub != "txs") return NoSuchEndpoint(path);
  if (request.method() != bhttp::verb::get) return MethodNotAllowed(request, path, "GET");
  const Params params = api_.ChainParams();
  const auto key = DecodeAddressFor(id, params.address_prefix);
  if (!key) return ErrorResponse(status::bad_request, key.error());
  if (!sub) return GetAddress(*key, params);
  const auto page = ParsePageQuery(query);
  if (!page) return ErrorResponse(status::bad_request, page.error());
  return *sub == "utxos" ? GetAddressCoins(*key, params, *page)
                         : GetAddressTxs(*key, params, *page);
}

Response Router::GetAddress(const XOnlyPubKey& key, const Params& params) const {
  const auto totals = api_.AddressSummary(key);
  if (!totals) {
    return ErrorResponse(status::internal_server_error,
                         "cannot read the address: " + totals.error());
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("address").String(EncodeAddress(params.address_prefix, key));
  w.Key("balance").UInt(totals->balance);
  w.Key("unconfirmed").Int(api_.UnconfirmedBalance(key));
  w.Key("coinCount").UInt(totals->coin_count);
  w.Key("txCount").UInt(totals->tx_count);
  w.EndObject();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::GetAddressCoins(const XOnlyPubKey& key, const Params& params,
                                 const PageQuery& page) const {
  const auto coins = api_.AddressCoins(key, page.offset, static_cast<std::size_t>(page.limit));
  if (!coins) {
    return ErrorResponse(status::internal_server_error,
                         "cannot read the address's coins: " + coins.error());
  }
  // A coin is spendable by a transaction in the next block.
  const std::uint64_t next_height = coins->tip_height + 1;
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("address").String(EncodeAddress(params.address_prefix, key));
  w.Key("utxos").BeginArray();
  const std::size_t shown = std::min<std::size_t>(coins->coins.size(), page.limit);
  for (std::size_t i = 0; i < shown; ++i) {
    const AddressCoinEntry& entry = coins->coins[i];
    const Coin& coin = entry.coin;
    w.BeginObject();
    w.Key("txid").Hex(entry.outpoint.txid);
    w.Key("vout").UInt(entry.outpoint.vout);
    w.Key("amount").UInt(coin.amount);
    w.Key("height").UInt(coin.height);
    w.Key("coinbase").Bool(coin.coinbase);
    w.Key("confirmations").UInt(Confirmations(coin.height, coins->tip_height));
    w.Key("spendable")
        .Bool(!coin.coinbase || next_height >= coin.height + params.coinbase_maturity);
    const std::optional<Hash32> spender = api_.PoolSpender(entry.outpoint);
    w.Key("spentInMempool");
    if (spender.has_value()) {
      w.Hex(*spender);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("offset").UInt(page.offset);
  w.Key("limit").UInt(page.limit);
  w.EndObject();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::GetAddressTxs(const XOnlyPubKey& key, const Params& params,
                               const PageQuery& page) const {
  const auto txs = api_.AddressTxs(key, page.offset, static_cast<std::size_t>(page.limit));
  if (!txs) {
    return ErrorResponse(status::internal_server_error,
                         "cannot read the address's transactions: " + txs.error());
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("address").String(EncodeAddress(params.address_prefix, key));
  w.Key("txs").BeginArray();
  const std::size_t shown = std::min<std::size_t>(txs->size(), page.limit);
  for (std::size_t i = 0; i < shown; ++i) {
    const AddressTxEntry& entry = (*txs)[i];
    w.BeginObject();
    w.Key("txid").Hex(entry.txid);
    w.Key("height").UInt(entry.height);
    w.Key("index").UInt(entry.index);
    w.Key("blockHash").Hex(entry.block);
    w.EndObject();
  }
  w.EndArray();
  w.Key("offset").UInt(page.offset);
  w.Key("limit").UInt(page.limit);
  w.EndObject();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::GetStatus() const {
  const NodeStatus s = api_.Status();
  const Params& p = s.params;
  // Hashes per second, rounded to a whole number (a rate that is not a
  // finite positive number is 0; JSON has no NaN or infinity).
  const double rate = s.mining.hash_rate;
  const std::uint64_t hash_rate = std::isfinite(rate) && rate > 0
                                      ? static_cast<std::uint64_t>(std::min(std::round(rate), 1e18))
                                      : std::uint64_t{0};
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("network").String(p.network);
  w.Key("genesis").Hex(s.genesis);
  w.Key("height").UInt(s.height);
  w.Key("tip").Hex(s.tip);
  w.Key("difficulty").UInt(s.difficulty);
  w.Key("work").String(WorkToHex(s.work));
  w.Key("headers").UInt(s.headers);
  w.Key("mineRate").UInt(p.mine_rate_ms);
  w.Key("params").BeginObject();
  w.Key("mineRate").UInt(p.mine_rate_ms);
  w.Key("initialDifficulty").UInt(p.initial_difficulty);
  w.Key("minDifficulty").UInt(p.min_difficulty);
  w.Key("maxDifficulty").UInt(p.max_difficulty);
  w.Key("maxFutureDriftMs").UInt(p.max_future_drift_ms);
  w.Key("mtpWindow").UInt(p.mtp_window);
  w.Key("maxBlockBytes").UInt(p.max_block_bytes);
  w.EndObject();
  w.Key("peers").UInt(s.peers);
  w.Key("mining").BeginObject();
  w.Key("on").Bool(s.mining.continuous);
  w.Key("active").Bool(s.mining.active);
  w.Key("threads").UInt(s.mining.threads);
  w.Key("hashRate").UInt(hash_rate);
  w.Key("queued").UInt(s.mining.queued);
  w.EndObject();
  w.Key("mempool").BeginObject();
  w.Key("count").UInt(s.mempool.count);
  w.Key("bytes").UInt(s.mempool.bytes);
  w.Key("feeFloor").UInt(s.mempool.fee_floor);
  w.EndObject();
  w.Key("agent").String(s.agent);
  w.EndObject();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::GetPeers() const {
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  for (const PeerInfo& peer : api_.Peers()) {
    w.BeginObject();
    w.Key("url").String(peer.url);
    w.Key("direction").String(peer.direction);
    w.Key("height").UInt(peer.height);
    w.Key("agent").String(peer.agent);
    w.Key("connectedSince").UInt(peer.connected_since_ms);
    w.Key("state").String(peer.state);
    if (!peer.last_error.empty()) w.Key("lastError").String(peer.last_error);
    if (peer.next_attempt_ms != 0) w.Key("nextAttempt").UInt(peer.next_attempt_ms);
    w.EndObject();
  }
  w.EndArray();
  return JsonResponse(status::ok, std::move(body));
}

std::optional<Response> Router::CheckWriteToken(const Request& request) const {
  const std::string& token = options_.write_token;
  if (token.empty()) return std::nullopt;
  const auto field = request.find(bhttp::field::authorization);
  const std::string_view given =
      field == request.end() ? std::string_view() : std::string_view(field->value());
  constexpr std::string_view kScheme = "Bearer ";
  bool ok =
      given.size() == kScheme.size() + token.size() && given.substr(0, kScheme.size()) == kScheme;
  // Every byte is compared whatever the first difference, so the time taken
  // does not tell how much of a guess was right.
  unsigned char diff = ok ? 0 : 1;
  const std::string_view guess = ok ? given.substr(kScheme.size()) : std::string_view(token);
  for (std::size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(guess[i] ^ token[i]);
  }
  ok = diff == 0;
  if (ok) return std::nullopt;
  Response r = ErrorResponse(status::unauthorized,
                             field == request.end()
                                 ? "this node needs a bearer token to change it (see docs/api.md)"
                                 : "wrong bearer token");
  r.set(bhttp::field::www_authenticate, "Bearer realm=\"powchain\"");
  return r;
}

std::variant<std::string, Response> Router::ReadPeerUrl(const Request& request) const {
  auto body = ReadJsonObject(request, options_.max_body_bytes);
  if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
  const JsonValue* url_value = std::get<JsonValue>(body).Find("url");
  if (url_value == nullptr) {
    return ErrorResponse(status::bad_request, "request body must have a \"url\" member");
  }
  if (!url_value->is_string()) {
    return ErrorResponse(status::bad_request, "\"url\" must be a string like ws://host:port");
  }
  const auto url = ParsePeerUrl(url_value->as_string());
  if (!url) return ErrorResponse(status::bad_request, url.error());
  return url->ToString();
}

Response Router::RemovePeer(const Request& request) const {
  auto url = ReadPeerUrl(request);
  if (auto* error = std::get_if<Response>(&url)) return std::move(*error);
  const std::string& canonical = std::get<std::string>(url);
  const Status removed = api_.RemovePeer(canonical);
  if (!removed) return ErrorResponse(status::not_found, removed.error());
  std::string body;
  JsonWriter(body).BeginObject().Key("url").String(canonical).Key("removed").Bool(true).EndObject();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::AddPeer(const Request& request) const {
  auto url = ReadPeerUrl(request);
  if (auto* error = std::get_if<Response>(&url)) return std::move(*error);
  const std::string& canonical = std::get<std::string>(url);
  const Status added = api_.AddPeer(canonical);
  if (!added) return ErrorResponse(status::conflict, added.error());
  std::string body;
  JsonWriter(body).BeginObject().Key("url").String(canonical).EndObject();
  return JsonResponse(status::accepted, std::move(body));
}

namespace {

// The "txs" member of POST /mine: an array of transactions in their JSON
// form (docs/api.md). Errors name the index.
Result<std::vector<Transaction>> ReadMineTxs(const JsonValue& value) {
  if (!value.is_array()) return Error{"\"txs\" must be an array of transactions"};
  std::vector<Transaction> txs;
  txs.reserve(value.items().size());
  for (std::size_t i = 0; i < value.items().size(); ++i) {
    auto tx = TxFromJson(value.items()[i]);
    if (!tx) return Error{"txs[" + std::to_string(i) + "]: " + tx.error()};
    txs.push_back(std::move(tx).value());
  }
  return txs;
}

}  // namespace

RouteResult Router::Mine(const Request& request) const {
  auto body = ReadJsonObject(request, options_.max_body_bytes);
  if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
  const JsonValue& object = std::get<JsonValue>(body);
  const JsonValue* data = object.Find("data");
  if (data == nullptr) {
    return ErrorResponse(status::bad_request, "request body must have a \"data\" member");
  }
  auto canonical = CanonicalJson(*data);
  if (!canonical) return ErrorResponse(status::bad_request, canonical.error());
  MineRequest mine{std::move(canonical).value(), {}, 0};
  if (const JsonValue* txs = object.Find("txs")) {
    auto read = ReadMineTxs(*txs);
    if (!read) return ErrorResponse(status::bad_request, read.error());
    mine.txs = std::move(read).value();
  }
  // A block that could never be valid must not reach the miner: it would
  // search for it in vain, holding up every request queued behind it.
  const Params params = api_.ChainParams();
  const std::size_t max_block = params.max_block_bytes;
  const std::size_t reserved = kHeaderSize + MaxCoinbaseSize(params.address_prefix);
  const std::size_t room = max_block > reserved ? max_block - reserved : 0;
  std::size_t size = mine.canonical_data.size();
  for (const Transaction& tx : mine.txs) size += CanonicalTxSize(tx);
  if (size > room) {
    return ErrorResponse(
        status::payload_too_large,
        std::string(mine.txs.empty() ? "\"data\" is " : "\"data\" and \"txs\" are ") +
            std::to_string(size) + " bytes in canonical JSON; a block has room for " +
            std::to_string(room) + " (" + std::to_string(max_block) + " bytes less the " +
            std::to_string(kHeaderSize) + "-byte header and " +
            std::to_string(reserved - kHeaderSize) + " kept for a coinbase)");
  }
  if (!mine.txs.empty()) {
    auto fees = api_.CheckBlockTxs(mine.txs);
    if (!fees) return ErrorResponse(status::bad_request, fees.error());
    mine.fees = *fees;
  }
  return mine;
}

Response MinedResponse(const Result<Block>& result) {
  if (!result) return ErrorResponse(status::service_unavailable, result.error());
  return JsonResponse(status::created, BlockToJson(*result));
}

BlockStream::BlockStream(NodeApi& api, const BlocksQuery& query, std::size_t batch_size,
                         std::size_t max_run_bytes)
    : api_(api), batch_size_(std::max<std::size_t>(batch_size, 1)), max_run_bytes_(max_run_bytes) {
  const auto [tip, height] = api_.ActiveTip();
  tip_ = tip;
  first_ = query.from;
  if (query.from <= height) {
    // height - from + 1 blocks, saturating (a u64 height never gets there).
    const std::uint64_t available = height - query.from == std::numeric_limits<std::uint64_t>::max()
                                        ? height - query.from
                                        : height - query.from + 1;
    count_ = std::min(available, query.limit.value_or(available));
  }
  next_ = first_;
  remaining_ = count_;
}

Result<std::string> BlockStream::Next() {
  StreamPiece piece;
  if (Status s = NextPiece(piece); !s) return Error{s.error()};
  std::string out = std::move(piece.head);
  if (piece.run) out += *piece.run;
  out += piece.tail;
  return out;
}

Status BlockStream::NextPiece(StreamPiece& piece) {
  piece.head.clear();
  piece.run.reset();
  piece.tail.clear();
  if (!started_) {
    piece.head = "[";
    started_ = true;
  } else if (remaining_ > 0) {
    piece.head = ",";
  }
  if (remaining_ > 0) {
    // Up to the next multiple of the batch size.
    const std::uint64_t to_boundary = batch_size_ - next_ % batch_size_;
    const auto want = static_cast<std::size_t>(std::min(to_boundary, remaining_));
    auto run = api_.BlockRunInChain(tip_, next_, want, max_run_bytes_);
    if (!run) {
      done_ = true;
      return Error{"cannot read blocks from height " + std::to_string(next_) + ": " + run.error()};
    }
    if (run->count == 0 || run->count > want || run->json == nullptr) {
      done_ = true;
      return Error{"the store returned " + std::to_string(run->count) + " blocks from height " +
                   std::to_string(next_) + ", expected " + std::to_string(want)};
    }
    piece.run = std::move(run->json);
    next_ += run->count;
    remaining_ -= run->count;
  }
  if (remaining_ == 0) {
    piece.tail = "]";
    done_ = true;
  }
  return {};
}

}  // namespace powchain::http
