// GET / and GET /explorer/{asset}: the block explorer's files.
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <string>

#include "http/assets.h"
#include "http/routes.h"

namespace powchain::http {
namespace {

namespace bhttp = boost::beast::http;

// Everything the explorer loads comes from the node itself; nothing may be
// framed by, or send data to, another origin.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

}  // namespace

const Asset* FindAsset(std::string_view path) {
  for (const Asset& a : Assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

Response Router::GetAsset(const Request& request, std::string_view path) const {
  const Asset* asset = FindAsset(path);
  if (asset == nullptr)
    return ErrorResponse(status::not_found,
                         "no such explorer file: " + std::string(path.substr(0, 100)));
  Response res{status::ok, 11};
  res.set(bhttp::field::content_type, asset->content_type);
  res.set(bhttp::field::etag, asset->etag);
  // Revalidate every time: the ETag makes that a 304 without a body.
  res.set(bhttp::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Content-Security-Policy", kPolicy);
  const auto match = request.find(bhttp::field::if_none_match);
  if (match != request.end() && match->value() == asset->etag) {
    res.result(status::not_modified);
    return res;
  }
  res.body() = std::string(asset->body);
  return res;
}

}  // namespace powchain::http
