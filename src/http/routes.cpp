#include "http/routes.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "consensus/work.h"
#include "primitives/block_json.h"
#include "primitives/canonical_json.h"
#include "primitives/json.h"
#include "primitives/json_writer.h"
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

std::string AllowedMethods(std::string_view path) {
  if (path == "/peers") return "GET, POST, DELETE";
  if (path == "/mine") return "POST";
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

Result<BlocksQuery> ParseBlocksQuery(std::string_view query) {
  BlocksQuery out;
  bool seen_from = false;
  bool seen_limit = false;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    bool* seen = nullptr;
    if (name == "from") {
      seen = &seen_from;
    } else if (name == "limit") {
      seen = &seen_limit;
    } else {
      continue;  // unknown parameters are ignored
    }
    if (*seen) return Error{"query parameter '" + std::string(name) + "' is given more than once"};
    *seen = true;
    const auto number = ParseU64(value);
    if (!number) {
      return Error{"query parameter '" + std::string(name) +
                   "' must be a decimal integer from 0 to 18446744073709551615"};
    }
    if (name == "from") {
      out.from = *number;
    } else {
      out.limit = *number;
    }
  }
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
    return BlockById(path.substr(kBlocksPrefix.size()));
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
  std::string shown(path.substr(0, kMaxEchoedPath));
  if (path.size() > kMaxEchoedPath) shown += "...";
  return ErrorResponse(status::not_found, "no such endpoint: " + shown);
}

Response Router::BlockById(std::string_view id) const {
  Result<std::optional<Block>> found = std::optional<Block>();
  if (id == "tip") {
    found = api_.BlockByHash(api_.ActiveTip().first);
  } else if (id.size() == kHashHexDigits && std::all_of(id.begin(), id.end(), IsHexDigit)) {
    const auto hash = HexToHash32(id);
    if (!hash) {
      return ErrorResponse(status::bad_request, kBadBlockId);
    }
    found = api_.BlockByHash(*hash);
  } else if (const auto height = ParseU64(id)) {
    found = api_.BlockAtHeight(*height);
  } else {
    return ErrorResponse(status::bad_request, kBadBlockId);
  }
  if (!found) {
    return ErrorResponse(status::internal_server_error, "cannot read the block: " + found.error());
  }
  if (!found->has_value()) return ErrorResponse(status::not_found, "block not found");
  return JsonResponse(status::ok, BlockToJson(**found));
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

RouteResult Router::Mine(const Request& request) const {
  auto body = ReadJsonObject(request, options_.max_body_bytes);
  if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
  const JsonValue* data = std::get<JsonValue>(body).Find("data");
  if (data == nullptr) {
    return ErrorResponse(status::bad_request, "request body must have a \"data\" member");
  }
  auto canonical = CanonicalJson(*data);
  if (!canonical) return ErrorResponse(status::bad_request, canonical.error());
  // A block that could never be valid must not reach the miner: it would
  // search for it in vain, holding up every request queued behind it.
  const std::size_t max_block = api_.Status().params.max_block_bytes;
  const std::size_t max_data = max_block > kHeaderSize ? max_block - kHeaderSize : 0;
  if (canonical->size() > max_data) {
    return ErrorResponse(status::payload_too_large,
                         "\"data\" is " + std::to_string(canonical->size()) +
                             " bytes in canonical JSON; a block holds at most " +
                             std::to_string(max_data) + " (" + std::to_string(max_block) +
                             " bytes less the " + std::to_string(kHeaderSize) + "-byte header)");
  }
  return MineRequest{std::move(canonical).value()};
}

Response MinedResponse(const Result<Block>& result) {
  if (!result) return ErrorResponse(status::service_unavailable, result.error());
  return JsonResponse(status::created, BlockToJson(*result));
}

BlockStream::BlockStream(NodeApi& api, const BlocksQuery& query, std::size_t batch_size)
    : api_(api), batch_size_(std::max<std::size_t>(batch_size, 1)) {
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
  std::string out;
  if (!started_) {
    out = "[";
    started_ = true;
  }
  if (remaining_ > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(batch_size_, remaining_));
    auto blocks = api_.BlocksInChain(tip_, next_, want);
    if (!blocks) {
      done_ = true;
      return Error{"cannot read blocks from height " + std::to_string(next_) + ": " +
                   blocks.error()};
    }
    if (blocks->size() != want) {
      done_ = true;
      return Error{"the store returned " + std::to_string(blocks->size()) + " blocks from height " +
                   std::to_string(next_) + ", expected " + std::to_string(want)};
    }
    for (std::size_t i = 0; i < want; ++i) {
      const Block& block = (*blocks)[i];
      if (block.header.height != next_ + i) {
        done_ = true;
        return Error{"the store returned block " + std::to_string(block.header.height) +
                     " for height " + std::to_string(next_ + i)};
      }
      if (next_ + i != first_) out += ',';
      out += BlockToJson(block);
    }
    next_ += want;
    remaining_ -= want;
  }
  if (remaining_ == 0) {
    out += ']';
    done_ = true;
  }
  return out;
}

}  // namespace powchain::http
