// Everything `powchain node` can be told, with its defaults. The command
// line fills this at the edge (flags over environment variables over these
// defaults); nothing below the app reads flags or the environment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/url.h"

namespace powchain {

struct NodeOptions {
  static constexpr std::uint16_t kDefaultHttpPort = 3001;
  static constexpr std::uint16_t kDefaultP2pPort = 5001;
  static constexpr unsigned kDefaultIoThreads = 2;
  static constexpr unsigned kMaxMinerThreads = 256;

  std::string network = "main";
  std::uint16_t http_port = kDefaultHttpPort;
  std::string http_bind = "127.0.0.1";
  std::uint16_t p2p_port = kDefaultP2pPort;
  std::string p2p_bind = "0.0.0.0";  // address the P2P listener binds
  std::vector<PeerUrl> peers;
  // Empty: DefaultDataDir(network, p2p_port), so two nodes on one machine
  // (which must differ in P2P port) never share a data directory.
  std::string data_dir;
  bool mine = false;
  unsigned miner_threads = 1;
  std::string log_level = "info";
  // How long a misbehaving peer's address is refused (loopback only with
  // ban_loopback).
  unsigned ban_seconds = 600;
  bool ban_loopback = false;
  // Per-peer limits, a second; twice as many may come at once. Over either,
  // the peer is dropped and refused for ban_seconds.
  unsigned peer_message_rate = 1000;
  unsigned peer_request_rate = 250;           // getheaders, getdata and getblocks
  unsigned io_threads = kDefaultIoThreads;    // threads serving peers
  unsigned http_threads = kDefaultIoThreads;  // threads serving HTTP
  // Bearer token for POST /mine and POST /peers. Empty: none on loopback;
  // on any other address, the one in <data-dir>/api.token (made if absent).
  std::string api_token;
};

// ./data/<network>/<p2p-port>
std::string DefaultDataDir(const std::string& network, std::uint16_t p2p_port);

// Checks what the command line cannot: a known network, a bind address that
// is an IP address, thread counts in range, a known log level. The error is
// one line meant for the user.
Status ValidateOptions(const NodeOptions& options);

}  // namespace powchain
