// The node's Prometheus metrics (GET /metrics, docs/operations.md): a
// prometheus-cpp registry, its text serializer, and what fills it.
//
// Counters that a subsystem already keeps (blocks accepted by status, peer
// traffic, mempool accepts) are read at scrape time and brought up to the
// subsystem's count, so the hot paths pay one relaxed atomic add and
// nothing here. Events with a value to spread over buckets (HTTP latency,
// reorganization depth) are observed as they happen.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chain/chainstate.h"
#include "http/events.h"
#include "mempool/mempool.h"
#include "mining/miner.h"
#include "p2p/peer_manager.h"
#include "util/mutex.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace powchain {

class NodeMetrics {
 public:
  // What a scrape reads. Not owned; each must outlive the metrics (or be
  // null: its metrics are then left out).
  struct Sources {
    const ChainState* chain = nullptr;
    Mempool* mempool = nullptr;
    Miner* miner = nullptr;
    const p2p::PeerManager* peers = nullptr;
    const http::EventHub* events = nullptr;
    // Files whose total size is powchain_store_bytes.
    std::vector<std::filesystem::path> store_files;
  };

  NodeMetrics();
  ~NodeMetrics();
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  // Set once, before the first scrape.
  void SetSources(Sources sources) EXCLUDES(mutex_);

  // One answered HTTP request. Thread-safe.
  void RecordRequest(std::string_view route, unsigned status, double seconds)
      EXCLUDES(requests_mutex_);
  // One reorganization that disconnected `depth` blocks. Thread-safe.
  void RecordReorg(std::size_t depth);

  // Reads every source and serializes the registry in the Prometheus text
  // format. Thread-safe (scrapes are serialized).
  std::string Scrape() EXCLUDES(mutex_);

 private:
  void ReadChain() REQUIRES(mutex_);
  void ReadPeers() REQUIRES(mutex_);
  void ReadMempool() REQUIRES(mutex_);
  void ReadMinerAndStore() REQUIRES(mutex_);
  // Blocks behind powchain_network_hashes_per_second.
  static constexpr std::uint64_t kRateWindow = 10;
  // Brings `counter` up to `total` (a count kept elsewhere).
  static void CatchUp(prometheus::Counter& counter, double total);

  std::shared_ptr<prometheus::Registry> registry_;
  Mutex mutex_;
  Sources sources_ GUARDED_BY(mutex_);

  // The HTTP series of each route, found in the families once. Family::Add
  // builds a new metric (for a histogram, its bucket vectors) before it
  // looks the labels up, so calling it for every request cost more than
  // the rest of RecordRequest. Bounded: routes are RouteLabel's fixed set,
  // statuses the few the server answers with.
  struct RouteSeries {
    prometheus::Histogram* duration = nullptr;
    std::map<unsigned, prometheus::Counter*> requests;  // by status
  };
  Mutex requests_mutex_;
  std::map<std::string, RouteSeries, std::less<>> route_series_ GUARDED_BY(requests_mutex_);

  // Families; the registry owns them.
  prometheus::Family<prometheus::Gauge>* chain_height_;
  prometheus::Family<prometheus::Gauge>* header_height_;
  prometheus::Family<prometheus::Gauge>* chain_work_;
  prometheus::Family<prometheus::Gauge>* difficulty_;
  prometheus::Family<prometheus::Gauge>* chain_tips_;
  prometheus::Family<prometheus::Counter>* blocks_accepted_;
  prometheus::Family<prometheus::Counter>* blocks_rejected_;
  prometheus::Family<prometheus::Counter>* reorgs_;
  prometheus::Family<prometheus::Histogram>* reorg_depth_;
  prometheus::Family<prometheus::Gauge>* peers_;
  prometheus::Family<prometheus::Counter>* p2p_messages_;
  prometheus::Family<prometheus::Counter>* p2p_bytes_;
  prometheus::Family<prometheus::Gauge>* mempool_txs_;
  prometheus::Family<prometheus::Gauge>* mempool_bytes_;
  prometheus::Family<prometheus::Gauge>* mempool_orphans_;
  prometheus::Family<prometheus::Counter>* mempool_events_;
  prometheus::Family<prometheus::Gauge>* network_rate_;
  prometheus::Family<prometheus::Gauge>* hash_rate_;
  prometheus::Family<prometheus::Counter>* hashes_;
  prometheus::Family<prometheus::Counter>* blocks_mined_;
  prometheus::Family<prometheus::Gauge>* store_bytes_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Histogram>* http_duration_;
  prometheus::Family<prometheus::Gauge>* event_clients_;
  prometheus::Family<prometheus::Counter>* event_drops_;
};

}  // namespace powchain
