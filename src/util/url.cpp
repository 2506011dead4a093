#include "util/url.h"

#include <charconv>
#include <vector>

namespace powchain {
namespace {

constexpr std::size_t kMaxUrlLength = 260;
constexpr std::size_t kMaxHostLength = 253;

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

bool IsIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string PeerUrl::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "ws://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<std::uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return Error{"port must be a number from 1 to 65535"};
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return Error{"port must be a number from 1 to 65535, not '" + std::string(text) + "'"};
  }
  return static_cast<std::uint16_t>(value);
}

Result<PeerUrl> ParsePeerUrl(std::string_view text) {
  return ParseHostPortUrl(text, "ws://", "peer URL");
}

Result<PeerUrl> ParseHostPortUrl(std::string_view text, std::string_view scheme,
                                 std::string_view what) {
  auto fail = [&](const std::string& why) {
    std::string shown(text.substr(0, 80));
    if (text.size() > 80) shown += "...";
    return Error{"invalid " + std::string(what) + " '" + shown + "': " + why + " (expected " +
                 std::string(scheme) + "host:port)"};
  };
  if (text.size() > kMaxUrlLength) return fail("too long");
  if (text.substr(0, scheme.size()) != scheme) {
    return fail("scheme must be " + std::string(scheme));
  }
  std::string_view rest = text.substr(scheme.size());

  PeerUrl url;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return fail("unclosed '[' in IPv6 address");
    const std::string_view host = rest.substr(1, close - 1);
    if (host.empty() || host.find(':') == std::string_view::npos) {
      return fail("bad IPv6 address");
    }
    for (char c : host) {
      if (!IsIpv6Char(c)) return fail("bad IPv6 address");
    }
    url.host = std::string(host);
    rest = rest.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return fail("missing :port");
    port_text = rest.substr(1);
  } else {
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) return fail("missing :port");
    const std::string_view host = rest.substr(0, colon);
    if (host.empty()) return fail("missing host");
    if (host.size() > kMaxHostLength) return fail("host too long");
    for (char c : host) {
      if (!IsHostNameChar(c)) return fail("bad character in host");
    }
    if (host.front() == '-' || host.front() == '.' || host.back() == '-') {
      return fail("bad host name");
    }
    url.host = std::string(host);
    port_text = rest.substr(colon + 1);
  }
  if (port_text.find('/') != std::string_view::npos) return fail("a path is not allowed");
  auto port = ParsePort(port_text);
  if (!port) return fail(port.error());
  url.port = *port;
  return url;
}

Result<std::vector<PeerUrl>> ParsePeerList(std::string_view text) {
  std::vector<PeerUrl> out;
  while (!TrimBlanks(text).empty()) {
    const auto comma = text.find(',');
    const std::string_view item = TrimBlanks(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    auto url = ParsePeerUrl(item);
    if (!url) return Error{url.error()};
    out.push_back(*url);
  }
  return out;
}

}  // namespace powchain
