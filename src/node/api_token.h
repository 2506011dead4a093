// The bearer token that guards the HTTP routes that change the node (POST
// /mine, POST /peers) when the API listens beyond loopback: like an RPC
// cookie, it lives in a file only the node's user can read.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.h"

namespace powchain {

// The token's file in a data directory.
std::filesystem::path ApiTokenFile(const std::filesystem::path& data_dir);

// What IsValidApiToken accepts, for error messages.
inline constexpr std::string_view kApiTokenRule =
    "16 to 256 characters of A-Z a-z 0-9 - . _ ~ + / =";

// True for 16 to 256 characters, each a letter, digit or one of -._~+/=
// (the token68 alphabet of RFC 7235), so it fits an Authorization header.
bool IsValidApiToken(std::string_view token);

// True for an IPv4 or IPv6 loopback address (127.0.0.0/8, ::1).
bool IsLoopbackAddress(const std::string& ip);

// Reads the token from `file`, or, when there is none, makes a new random
// one (32 bytes, hex) and writes it there with mode 0600. Refuses a file
// that is not a regular file, that others can read or write (mode & 077),
// that is larger than 1 KiB, or whose content (trailing \n and \r aside) is
// not a valid token; the error names the file and says what to do.
Result<std::string> LoadOrCreateApiToken(const std::filesystem::path& file);

}  // namespace powchain
