// Peer addresses, ws://host:port, and other host:port URLs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace powchain {

struct PeerUrl {
  std::string host;  // a DNS name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;

  // The canonical text form: ws://host:port (IPv6 in brackets).
  std::string ToString() const;
  friend bool operator==(const PeerUrl&, const PeerUrl&) = default;
};

// Parses "ws://host:port". The scheme must be ws (lower case); the host is a
// name of letters, digits, '-' and '.', an IPv4 address, or [IPv6]; the port
// is 1..65535 and required; nothing may follow (no path, query or user
// info). At most 260 characters. Errors say what is wrong.
Result<PeerUrl> ParsePeerUrl(std::string_view text);

// The same rules for another scheme ("http://"), named `what` in errors
// ("node URL"): ParsePeerUrl is ParseHostPortUrl(text, "ws://", "peer URL").
Result<PeerUrl> ParseHostPortUrl(std::string_view text, std::string_view scheme,
                                 std::string_view what);

// Parses a comma-separated list, "ws://a:1, ws://b:2" (the PEERS variable):
// blanks around entries and empty entries are skipped; an error is the
// first bad entry's.
Result<std::vector<PeerUrl>> ParsePeerList(std::string_view text);

// Parses a TCP port number 1..65535 written in decimal digits.
Result<std::uint16_t> ParsePort(std::string_view text);

}  // namespace powchain
