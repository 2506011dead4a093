// The mempool's routes (docs/api.md, "Mempool"): POST /transactions,
// GET /transactions/{txid} for a pool entry, GET /mempool.
#include <boost/beast/http/field.hpp>

#include "http/routes.h"
#include "primitives/json_writer.h"
#include "primitives/transaction.h"
#include "util/hex.h"

namespace powchain::http {
namespace {

using bhttp_status = boost::beast::http::status;

void WritePoolFields(JsonWriter& w, const PoolTx& p) {
  w.Key("fee").UInt(p.fee);
  w.Key("size").UInt(p.size);
  w.Key("time").UInt(p.time_ms);
  w.Key("ancestorCount").UInt(p.ancestor_count);
  w.Key("ancestorSize").UInt(p.ancestor_size);
  w.Key("ancestorFee").UInt(p.ancestor_fee);
  w.Key("parents").BeginArray();
  for (const Hash32& parent : p.parents) w.Hex(parent);
  w.EndArray();
}

}  // namespace

Response Router::SubmitTransaction(const Request& request) const {
  auto body = ReadJsonObject(request, options_.max_body_bytes);
  if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
  auto tx = TxFromJson(std::get<JsonValue>(body));
  if (!tx) return ErrorResponse(bhttp_status::bad_request, "not a transaction: " + tx.error());
  const SubmitResult r = api_.SubmitTransaction(std::move(tx).value());
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  if (r.outcome != SubmitResult::Outcome::kAccepted) {
    w.Key("error").String(r.reason + ": " + r.message);
    w.Key("reason").String(r.reason);
    w.Key("txid").Hex(r.txid);
    w.EndObject();
    return JsonResponse(r.outcome == SubmitResult::Outcome::kConflict ? bhttp_status::conflict
                                                                      : bhttp_status::bad_request,
                        std::move(out));
  }
  w.Key("txid").Hex(r.txid);
  w.Key("status").String(r.duplicate ? "already in mempool" : "accepted");
  w.EndObject();
  return JsonResponse(bhttp_status::accepted, std::move(out));
}

Response Router::PoolTransactionResponse(const Hash32& txid, bool proof) const {
  const std::optional<PoolTx> p = api_.PoolTransaction(txid);
  if (!p.has_value()) {
    return ErrorResponse(bhttp_status::not_found, "no such transaction: " + HexEncode(txid));
  }
  if (proof) {
    return ErrorResponse(bhttp_status::not_found, "transaction " + HexEncode(txid) +
                                                      " is in the mempool, not yet in a block");
  }
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("txid").Hex(txid);
  WritePoolFields(w, p.value());
  w.Key("status").BeginObject().Key("confirmed").Bool(false).EndObject();
  w.Key("tx");
  WriteTxJson(w, p->tx);
  w.EndObject();
  return JsonResponse(bhttp_status::ok, std::move(out));
}

Response Router::GetMempool(std::string_view query) const {
  auto page = ParsePageQuery(query);
  if (!page) return ErrorResponse(bhttp_status::bad_request, page.error());
  const std::uint64_t limit = page->limit;
  const MempoolSummary s = api_.PoolSummary();
  const std::vector<PoolTx> txs =
      api_.PoolByFeeRate(static_cast<std::size_t>(page->offset + limit));
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("count").UInt(s.count);
  w.Key("bytes").UInt(s.bytes);
  w.Key("fees").UInt(s.fees);
  w.Key("feeFloor").UInt(s.fee_floor);
  w.Key("maxBytes").UInt(s.max_bytes);
  w.Key("orphans").UInt(s.orphans);
  w.Key("txs").BeginArray();
  for (std::size_t i = static_cast<std::size_t>(page->offset); i < txs.size(); ++i) {
    w.BeginObject();
    w.Key("txid").Hex(txs[i].txid);
    WritePoolFields(w, txs[i]);
    w.EndObject();
  }
  w.EndArray();
  w.Key("offset").UInt(page->offset);
  w.Key("limit").UInt(limit);
  w.EndObject();
  return JsonResponse(bhttp_status::ok, std::move(out));
}

}  // namespace powchain::http
