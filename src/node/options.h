// Everything `powchain node` can be told, with its defaults. The command
// line fills this at the edge (flags over environment variables over these
// defaults); nothing below the app reads flags or the environment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http/server.h"
#include "mempool/mempool.h"
#include "mining/miner.h"
#include "p2p/peer_manager.h"
#include "p2p/transport.h"
#include "util/result.h"
#include "util/url.h"

namespace powchain {

struct NodeOptions {
  static constexpr unsigned kDefaultIoThreads = 2;
  static constexpr unsigned kMaxMinerThreads = 256;

  std::string network = "main";
  std::vector<PeerUrl> peers;  // to dial and keep
  // Empty: DefaultDataDir(network, transport.port), so two nodes on one
  // machine (which must differ in P2P port) never share a data directory.
  std::string data_dir;
  std::string log_level = "info";
  unsigned io_threads = kDefaultIoThreads;    // threads serving peers
  unsigned http_threads = kDefaultIoThreads;  // threads serving HTTP
  // Bearer token for POST /mine and POST/DELETE /peers. Empty: none on
  // loopback; on any other address, the one in <data-dir>/api.token (made
  // if absent).
  std::string api_token;
  // --miner-address: the address mined blocks pay their coinbase to (empty:
  // blocks carry no coinbase). ValidateOptions checks it against the network;
  // the node decodes it into miner.reward_key.
  std::string miner_address;

  // The subsystems' own options, with their own defaults (each defined
  // once, beside the code it configures). The command line sets: http port
  // and bind address; transport port and bind address; peer_policy ban
  // duration, ban_loopback and the message, request and transaction rates
  // (bursts are twice the rates, ten times for transactions); miner threads
  // and continuous; the mempool's size, fee floor, chain cap, expiry and
  // orphan count.
  http::HttpOptions http;
  http::EventOptions events;  // GET /events
  p2p::TransportOptions transport;
  p2p::PeerManagerOptions peer_policy;
  MinerOptions miner;
  MempoolOptions mempool;
  // Save the mempool to <data-dir>/mempool.jsonl when stopping and load it
  // when starting.
  bool persist_mempool = true;
  // --stream-cache-mb: memory for runs of blocks GET /blocks has read
  // (RunCache), so that a chain served before is served again from memory.
  std::size_t stream_cache_mb = kDefaultStreamCacheMb;
  static constexpr std::size_t kDefaultStreamCacheMb = 64;
  // --coins-write-mb: memory for the coin set, undo and index changes the
  // store defers (docs/storage.md, "Deferred writes"); 0 writes them with
  // every commit.
  std::size_t coins_write_mb = kDefaultCoinsWriteMb;
  static constexpr std::size_t kDefaultCoinsWriteMb = 64;
};
// ./data/<network>/<p2p-port>
std::string DefaultDataDir(const std::string& network, std::uint16_t p2p_port);

// Checks what the command line cannot: a known network, a bind address that
// is an IP address, thread counts in range, a known log level, a miner
// address of this network. The error is one line meant for the user.
Status ValidateOptions(const NodeOptions& options);

}  // namespace powchain
