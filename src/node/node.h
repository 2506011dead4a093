// NodeContext: owns every subsystem of a running node and starts and stops
// them in a fixed order (docs/architecture.md, "Ownership").
//
// Start order: data directory (created, then locked), store (SQLite,
// <data-dir>/chain.sqlite), chain (load or write genesis), mempool (loaded
// from <data-dir>/mempool.jsonl), miner,
// P2P transport and peer manager (dialling --peers), HTTP server. Stop order
// is the reverse: stop accepting requests and close every connection (HTTP
// and peers), stop the miner (its queued requests fail with "node is
// stopping"), let the I/O threads finish the closes (at most
// kIoDrainTimeout), stop them, save the mempool.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chain/chainstate.h"
#include "http/events.h"
#include "http/server.h"
#include "mempool/mempool.h"
#include "mining/miner.h"
#include "node/http_api.h"
#include "node/metrics.h"
#include "node/options.h"
#include "node/watch.h"
#include "p2p/peer_manager.h"
#include "p2p/transport.h"
#include "storage/block_store.h"
#include "storage/data_dir_lock.h"
#include "storage/sqlite_store.h"
#include "util/clock.h"
#include "util/mutex.h"
#include "util/result.h"

namespace powchain {

class NodeContext {
 public:
  static constexpr std::chrono::milliseconds kIoDrainTimeout{500};
  // How often the peer manager's timers (pings, timeouts, redials) run.
  static constexpr std::chrono::milliseconds kPeerTickInterval{200};

  explicit NodeContext(NodeOptions options);
  ~NodeContext();
  NodeContext(const NodeContext&) = delete;
  NodeContext& operator=(const NodeContext&) = delete;

  // Brings every subsystem up. On error, whatever was started is stopped
  // again and the message says what failed (e.g. a port in use).
  Status Start();

  // Blocks until SIGINT or SIGTERM arrives or RequestStop() is called, then
  // stops the node. Requires a successful Start().
  void RunUntilStopped();

  // Makes RunUntilStopped() return (after stopping). Any thread; never blocks.
  void RequestStop();

  // Stops everything in reverse start order. Idempotent. Must not be called
  // from an I/O thread (it joins them).
  void Stop();

  std::uint16_t http_port() const;
  const std::string& data_dir() const { return data_dir_; }

 private:
  class LogObserver;
  // Start, step by step, in the order things must come up; the first error
  // stops the rest.
  Status StartSubsystems();
  Status OpenDataDir();
  // After a failed start: the data directory, if this start created it.
  void RemoveCreatedDataDir();
  Status ResolveApiToken();
  Status OpenChain();
  void OpenMempool();
  void SaveMempool();
  void StartMiner();
  Status StartPeers();
  Status StartHttp();
  void StartThreads();
  void LogSummary() const;
  static std::string Agent();
  void ScheduleTick();

  const NodeOptions options_;
  std::optional<XOnlyPubKey> reward_key_;  // decoded --miner-address
  const Params params_;
  std::string data_dir_;
  std::filesystem::path created_dir_;  // by this start (empty: it existed)
  std::string write_token_;            // for POST requests; empty: none needed
  std::string token_source_;           // where write_token_ came from
  bool started_ = false;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<DataDirLock> lock_;  // held while the node runs
  std::unique_ptr<BlockStore> store_;
  std::unique_ptr<ChainState> chain_;
  std::unique_ptr<LogObserver> log_observer_;
  // Live events, the reorganization log and the metrics: made first, so
  // that every subsystem can be watched from its start.
  http::EventHub events_;
  NodeMetrics metrics_;
  std::unique_ptr<NodeWatch> watch_;
  std::unique_ptr<Mempool> mempool_;
  std::unique_ptr<Miner> miner_;
  // Peers, timers and signals run on io_; the HTTP API on http_io_, with
  // threads of its own, so no flood of peer messages can stall it.
  boost::asio::io_context io_;
  boost::asio::io_context http_io_;
  std::unique_ptr<p2p::PeerManager> peers_;
  std::unique_ptr<p2p::Transport> transport_;
  std::unique_ptr<p2p::TransportLink> link_;
  std::unique_ptr<NodeApiImpl> api_;
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<boost::asio::steady_timer> tick_timer_;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::vector<std::thread> io_threads_;  // both kinds
  std::atomic<bool> stopped_{false};
  Mutex stop_mutex_;
  ConditionVariable stop_cv_;
  bool stop_requested_ GUARDED_BY(stop_mutex_) = false;
  unsigned io_threads_done_ GUARDED_BY(stop_mutex_) = 0;
};

}  // namespace powchain
