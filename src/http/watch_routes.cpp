// The routes that watch the node (docs/api.md, "Watching the node"):
// GET /tips, /reorgs, /health, /health/ready and /metrics, and the route
// labels the request metrics use.
#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

#include "consensus/work.h"
#include "http/routes.h"
#include "primitives/address.h"
#include "primitives/json_writer.h"
#include "util/hex.h"

namespace powchain::http {
namespace {

namespace bhttp = boost::beast::http;

// The content type of the Prometheus text exposition format 0.0.4.
constexpr const char* kPrometheusType = "text/plain; version=0.0.4; charset=utf-8";

void WriteHealth(JsonWriter& w, const HealthInfo& h) {
  w.BeginObject();
  w.Key("status").String(!h.store_ok ? "failing" : h.synced ? "ok" : "syncing");
  w.Key("storeOk").Bool(h.store_ok);
  w.Key("synced").Bool(h.synced);
  w.Key("height").UInt(h.height);
  w.Key("headers").UInt(h.headers);
  w.Key("peers").UInt(h.peers);
  w.EndObject();
}

}  // namespace

Response Router::GetTips(std::string_view query) const {
  auto page = ParsePageQuery(query);
  if (!page) return ErrorResponse(status::bad_request, page.error());
  const std::vector<TipEntry> tips =
      api_.Tips(static_cast<std::size_t>(page->offset + page->limit));
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  for (std::size_t i = static_cast<std::size_t>(page->offset); i < tips.size(); ++i) {
    const TipEntry& t = tips[i];
    w.BeginObject();
    w.Key("hash").Hex(t.hash);
    w.Key("height").UInt(t.height);
    w.Key("work").String(WorkToHex(t.work));
    w.Key("fork").Hex(t.fork);
    w.Key("forkHeight").UInt(t.fork_height);
    w.Key("branchLength").UInt(t.height - t.fork_height);
    w.Key("status").String(t.status);
    w.EndObject();
  }
  w.EndArray();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::GetReorgs(std::string_view query) const {
  auto page = ParsePageQuery(query);
  if (!page) return ErrorResponse(status::bad_request, page.error());
  const std::vector<ReorgEntry> reorgs =
      api_.Reorgs(static_cast<std::size_t>(page->offset + page->limit));
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  for (std::size_t i = static_cast<std::size_t>(page->offset); i < reorgs.size(); ++i) {
    const ReorgEntry& r = reorgs[i];
    w.BeginObject();
    w.Key("time").UInt(r.time_ms);
    w.Key("oldTip").Hex(r.old_tip);
    w.Key("oldHeight").UInt(r.old_height);
    w.Key("newTip").Hex(r.new_tip);
    w.Key("newHeight").UInt(r.new_height);
    w.Key("fork").Hex(r.fork);
    w.Key("forkHeight").UInt(r.fork_height);
    w.Key("disconnected").UInt(r.disconnected);
    w.Key("connected").UInt(r.connected);
    w.EndObject();
  }
  w.EndArray();
  return JsonResponse(status::ok, std::move(body));
}

Response Router::GetHealth(bool ready) const {
  const HealthInfo h = api_.Health();
  std::string body;
  JsonWriter w(body);
  WriteHealth(w, h);
  // /health answers whether the process serves at all (liveness): only a
  // failed store makes it 503. /health/ready also wants it synced
  // (readiness: send it traffic).
  const bool good = h.store_ok && (!ready || h.synced);
  return JsonResponse(good ? status::ok : status::service_unavailable, std::move(body));
}

Response Router::GetMetrics() const {
  std::optional<std::string> text = api_.MetricsText();
  if (!text) return ErrorResponse(status::not_found, "this node keeps no metrics");
  Response res{status::ok, 11};
  res.set(bhttp::field::content_type, kPrometheusType);
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(*text);
  return res;
}

Response Router::Search(std::string_view query) const {
  // q=<text>, the first parameter of that name; no percent decoding (every
  // id is plain ASCII letters and digits).
  std::string_view q;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.starts_with("q=")) {
      q = param.substr(2);
      break;
    }
  }
  constexpr std::size_t kMaxQuery = 200;
  if (q.empty() || q.size() > kMaxQuery) {
    return ErrorResponse(status::bad_request,
                         "query parameter 'q' must hold 1 to " + std::to_string(kMaxQuery) +
                             " characters: a height, a block hash, a txid or an address");
  }
  std::string kind = "none";
  std::string id;
  const bool digits = std::all_of(q.begin(), q.end(), [](char c) { return c >= '0' && c <= '9'; });
  std::uint64_t height = 0;
  const auto [end, ec] = std::from_chars(q.data(), q.data() + q.size(), height);
  if (digits && q.size() <= 20) {
    // A height past 64 bits names no block. (64 decimal digits are read as
    // a hash below.)
    const Result<std::optional<Block>> found = ec == std::errc() && end == q.data() + q.size()
                                                   ? api_.BlockAtHeight(height)
                                                   : Result<std::optional<Block>>(std::nullopt);
    if (found && found->has_value()) {
      kind = "block";
      id = HexEncode((*found)->hash);
    }
  } else if (const auto hash = q.size() == 64 ? HexToHash32(q) : std::nullopt; hash) {
    const Result<std::optional<Block>> block = api_.BlockByHash(*hash);
    if (block && block->has_value()) {
      kind = "block";
    } else if (const auto tx = api_.FindTransaction(*hash);
               (tx && tx->has_value()) || api_.PoolTransaction(*hash)) {
      kind = "transaction";
    }
    if (kind != "none") id = HexEncode(*hash);
  } else {
    const Params params = api_.ChainParams();
    if (const auto key = DecodeAddressFor(q, params.address_prefix); key) {
      kind = "address";
      id = EncodeAddress(params.address_prefix, *key);
    }
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("kind").String(kind);
  if (!id.empty()) w.Key("id").String(id);
  w.EndObject();
  return JsonResponse(status::ok, std::move(body));
}

std::string_view RouteLabel(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  static constexpr std::string_view kExact[] = {
      "/",     "/blocks", "/mine",   "/status",       "/peers",   "/transactions", "/mempool",
      "/tips", "/reorgs", "/health", "/health/ready", "/metrics", "/events"};
  for (std::string_view exact : kExact) {
    if (path == exact) return exact;
  }
  if (path.starts_with("/blocks/")) {
    return path.ends_with("/txids") ? "/blocks/{id}/txids" : "/blocks/{id}";
  }
  if (path.starts_with("/explorer/")) return "/explorer/{asset}";
  if (path.starts_with("/transactions/")) {
    return path.ends_with("/proof") ? "/transactions/{txid}/proof" : "/transactions/{txid}";
  }
  if (path.starts_with("/addresses/")) {
    if (path.ends_with("/utxos")) return "/addresses/{address}/utxos";
    if (path.ends_with("/txs")) return "/addresses/{address}/txs";
    return "/addresses/{address}";
  }
  return "other";
}

}  // namespace powchain::http
