#include "node/options.h"

#include <spdlog/common.h>

#include <boost/asio/ip/address.hpp>

#include "consensus/params.h"
#include "node/api_token.h"
#include "primitives/address.h"

namespace powchain {

std::string DefaultDataDir(const std::string& network, std::uint16_t p2p_port) {
  return "./data/" + network + "/" + std::to_string(p2p_port);
}

Status ValidateOptions(const NodeOptions& options) {
  if (!Params::ForNetwork(options.network)) {
    std::string known;
    for (const std::string& name : Params::NetworkNames()) {
      known += (known.empty() ? "" : ", ") + name;
    }
    return Error{"unknown network '" + options.network + "' (known: " + known + ")"};
  }
  if (!options.miner_address.empty()) {
    auto key = DecodeAddressFor(options.miner_address,
                                Params::ForNetwork(options.network)->address_prefix);
    if (!key) return Error{"--miner-address " + options.miner_address + ": " + key.error()};
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(options.http.bind_address, ec);
  if (ec) {
    return Error{"--http-bind must be an IP address such as 127.0.0.1 or 0.0.0.0, not '" +
                 options.http.bind_address + "'"};
  }
  boost::asio::ip::make_address(options.transport.bind_address, ec);
  if (ec) {
    return Error{"--p2p-bind must be an IP address such as 0.0.0.0 or 127.0.0.1, not '" +
                 options.transport.bind_address + "'"};
  }
  if (options.miner.threads < 1 || options.miner.threads > NodeOptions::kMaxMinerThreads) {
    return Error{"--threads must be from 1 to " + std::to_string(NodeOptions::kMaxMinerThreads)};
  }
  if (options.io_threads < 1 || options.http_threads < 1) {
    return Error{"at least one I/O thread is needed for peers and one for HTTP"};
  }
  if (!options.api_token.empty() && !IsValidApiToken(options.api_token)) {
    return Error{"--api-token must be " + std::string(kApiTokenRule)};
  }
  if (spdlog::level::from_str(options.log_level) == spdlog::level::off &&
      options.log_level != "off") {
    return Error{"unknown log level '" + options.log_level +
                 "' (trace, debug, info, warn, error, critical, off)"};
  }
  if (options.http.port == options.transport.port) {
    return Error{"the HTTP and P2P ports must differ (both are " +
                 std::to_string(options.http.port) + ")"};
  }
  return {};
}

}  // namespace powchain
