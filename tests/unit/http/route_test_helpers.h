// Requests and answers for the route tests (routes_test.cpp,
// coin_routes_test.cpp): routes as pure functions, without sockets.
#pragma once

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <utility>
#include <variant>

#include "http/routes.h"

namespace powchain::http::testing {

inline Request MakeRequest(boost::beast::http::verb method, const std::string& target,
                           std::string body = "",
                           const std::string& content_type = "application/json") {
  Request req{method, target, 11};
  if (!content_type.empty()) req.set(boost::beast::http::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

inline Request Get(std::string target) {
  return MakeRequest(boost::beast::http::verb::get, std::move(target));
}

inline Request Post(std::string target, std::string body,
                    std::string content_type = "application/json") {
  return MakeRequest(boost::beast::http::verb::post, std::move(target), std::move(body),
                     std::move(content_type));
}

// The response of a route that must answer at once.
inline Response ResponseOf(RouteResult result) {
  EXPECT_TRUE(std::holds_alternative<Response>(result)) << "route did not answer at once";
  if (!std::holds_alternative<Response>(result)) return Response{};
  return std::get<Response>(std::move(result));
}

inline boost::json::value BodyJson(const Response& res) {
  boost::system::error_code ec;
  auto v = boost::json::parse(res.body(), ec);
  EXPECT_FALSE(ec) << "body is not JSON: " << res.body();
  return v;
}

// The "error" member of an error response; fails the test if there is none.
inline std::string ErrorOf(const Response& res) {
  const auto v = BodyJson(res);
  if (!v.is_object() || !v.as_object().contains("error") ||
      !v.as_object().at("error").is_string()) {
    ADD_FAILURE() << "not an error body: " << res.body();
    return "";
  }
  return std::string(v.as_object().at("error").as_string());
}

}  // namespace powchain::http::testing
