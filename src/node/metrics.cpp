#include "node/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>
#include <system_error>
#include <utility>

#include "consensus/validation.h"

namespace powchain {
namespace {

// Seconds; from a cached read (0.1 ms) to a POST /mine that waits for
// its block.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
// Blocks disconnected by one reorganization.
const prometheus::Histogram::BucketBoundaries kDepthBuckets = {1, 2, 3, 5, 10, 20, 50, 100, 1000};

template <typename Builder>
auto& Build(Builder builder, prometheus::Registry& registry, const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

}  // namespace

NodeMetrics::NodeMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  auto& r = *registry_;
  chain_height_ = &Build(BuildGauge(), r, "powchain_chain_height", "Height of the active tip.");
  header_height_ = &Build(BuildGauge(), r, "powchain_chain_header_height",
                          "Height of the best valid header known (above the tip while syncing).");
  chain_work_ = &Build(BuildGauge(), r, "powchain_chain_work",
                       "Cumulative work of the active chain, in expected hashes.");
  difficulty_ = &Build(BuildGauge(), r, "powchain_chain_difficulty",
                       "Difficulty of the active tip: leading zero bits its hash needs.");
  chain_tips_ = &Build(BuildGauge(), r, "powchain_chain_tips",
                       "Tips of the block tree (GET /tips), the active one included.");
  blocks_accepted_ = &Build(BuildCounter(), r, "powchain_blocks_total",
                            "Blocks handed to the chain, by what became of them.");
  blocks_rejected_ = &Build(BuildCounter(), r, "powchain_blocks_rejected_total",
                            "Blocks refused by a consensus rule, by the rule.");
  reorgs_ = &Build(BuildCounter(), r, "powchain_reorgs_total",
                   "Reorganizations: changes of the active chain that disconnected blocks.");
  reorg_depth_ = &Build(BuildHistogram(), r, "powchain_reorg_depth_blocks",
                        "Blocks disconnected by each reorganization.");
  peers_ = &Build(BuildGauge(), r, "powchain_peers", "Connected peers, by direction.");
  p2p_messages_ = &Build(BuildCounter(), r, "powchain_p2p_messages_total",
                         "Peer messages, by direction and type.");
  p2p_bytes_ = &Build(BuildCounter(), r, "powchain_p2p_bytes_total",
                      "Bytes of peer messages, by direction and type.");
  mempool_txs_ =
      &Build(BuildGauge(), r, "powchain_mempool_transactions", "Transactions in the mempool.");
  mempool_bytes_ = &Build(BuildGauge(), r, "powchain_mempool_bytes",
                          "Canonical bytes of the transactions in the mempool.");
  mempool_orphans_ = &Build(BuildGauge(), r, "powchain_mempool_orphans",
                            "Orphan transactions held (parents not yet seen).");
  mempool_events_ = &Build(BuildCounter(), r, "powchain_mempool_transactions_total",
                           "Transactions the mempool accepted, rejected, evicted or expired.");
  network_rate_ = &Build(BuildGauge(), r, "powchain_network_hashes_per_second",
                         "Hash rate of the whole network, estimated from the work of the last "
                         "10 active blocks and the time they took (0 until there are 11).");
  hash_rate_ = &Build(BuildGauge(), r, "powchain_miner_hashes_per_second",
                      "Hash rate of this node's miner, measured over the last second or more.");
  hashes_ = &Build(BuildCounter(), r, "powchain_miner_hashes_total",
                   "Block headers hashed by this node's miner.");
  blocks_mined_ = &Build(BuildCounter(), r, "powchain_miner_blocks_total",
                         "Blocks of this node's miner that joined the active chain.");
  store_bytes_ =
      &Build(BuildGauge(), r, "powchain_store_bytes", "Size of the block store's files on disk.");
  http_requests_ = &Build(BuildCounter(), r, "powchain_http_requests_total",
                          "HTTP requests answered, by route and status.");
  http_duration_ = &Build(BuildHistogram(), r, "powchain_http_request_duration_seconds",
                          "Time from a whole request header to its answer, by route.");
  event_clients_ =
      &Build(BuildGauge(), r, "powchain_events_clients", "Connections subscribed to GET /events.");
  event_drops_ = &Build(BuildCounter(), r, "powchain_events_dropped_clients_total",
                        "Event clients dropped for reading too slowly.");
  // Series that exist before their first event, so a dashboard sees 0.
  reorgs_->Add({});
  reorg_depth_->Add({}, kDepthBuckets);
}

NodeMetrics::~NodeMetrics() = default;

void NodeMetrics::SetSources(Sources sources) {
  MutexLock lock(mutex_);
  sources_ = std::move(sources);
}

void NodeMetrics::RecordRequest(std::string_view route, unsigned status, double seconds) {
  prometheus::Counter* requests = nullptr;
  prometheus::Histogram* duration = nullptr;
  {
    MutexLock lock(requests_mutex_);
    auto it = route_series_.find(route);
    if (it == route_series_.end()) {
      const std::string name(route);
      prometheus::Histogram& series = http_duration_->Add({{"route", name}}, kLatencyBuckets);
      it = route_series_.emplace(name, RouteSeries{&series, {}}).first;
    }
    prometheus::Counter*& counter = it->second.requests[status];
    if (counter == nullptr) {
      counter = &http_requests_->Add({{"route", it->first}, {"status", std::to_string(status)}});
    }
    requests = counter;
    duration = it->second.duration;
  }
  requests->Increment();
  duration->Observe(seconds);
}

void NodeMetrics::RecordReorg(std::size_t depth) {
  reorgs_->Add({}).Increment();
  reorg_depth_->Add({}, kDepthBuckets).Observe(static_cast<double>(depth));
}

void NodeMetrics::CatchUp(prometheus::Counter& counter, double total) {
  const double now = counter.Value();
  if (total > now) counter.Increment(total - now);
}

void NodeMetrics::ReadChain() {
  const ChainState* chain = sources_.chain;
  if (chain == nullptr) return;
  const ChainTip tip = chain->Tip();
  chain_height_->Add({}).Set(static_cast<double>(tip.height()));
  header_height_->Add({}).Set(static_cast<double>(chain->BestHeader().height));
  chain_work_->Add({}).Set(tip.work.convert_to<double>());
  difficulty_->Add({}).Set(tip.context.header.difficulty);
  chain_tips_->Add({}).Set(static_cast<double>(chain->TipCount()));
  // The work the last blocks proved over the time between their parent's
  // timestamp and the tip's. Timestamps are the miners' claims, so a
  // window of several blocks smooths their error.
  double network_rate = 0;
  if (tip.height() >= kRateWindow + 1) {
    const auto base = chain->HashAtHeight(tip.height() - kRateWindow);
    const auto base_context = base ? chain->ContextFor(*base) : std::nullopt;
    const auto base_info = base ? chain->Header(*base) : std::nullopt;
    if (base_context && base_info && tip.work > base_info->chain_work &&
        tip.context.header.timestamp > base_context->header.timestamp) {
      const double seconds =
          static_cast<double>(tip.context.header.timestamp - base_context->header.timestamp) /
          1000.0;
      network_rate = (tip.work - base_info->chain_work).convert_to<double>() / seconds;
    }
  }
  network_rate_->Add({}).Set(network_rate);
  const AcceptCounts counts = chain->GetAcceptCounts();
  for (std::size_t i = 0; i < counts.by_status.size(); ++i) {
    const auto status = static_cast<AcceptStatus>(i);
    CatchUp(blocks_accepted_->Add({{"status", std::string(AcceptStatusName(status))}}),
            static_cast<double>(counts.by_status[i]));
  }
  for (std::size_t i = 1; i < counts.invalid_by_error.size(); ++i) {
    const auto error = static_cast<BlockError>(i);
    CatchUp(blocks_rejected_->Add({{"reason", std::string(BlockErrorName(error))}}),
            static_cast<double>(counts.invalid_by_error[i]));
  }
}

void NodeMetrics::ReadPeers() {
  const p2p::PeerManager* peers = sources_.peers;
  if (peers == nullptr) return;
  double in = 0;
  double out = 0;
  for (const p2p::PeerSnapshot& p : peers->Peers()) {
    if (p.state != "connected") continue;
    (p.direction == p2p::Direction::kInbound ? in : out) += 1;
  }
  peers_->Add({{"direction", "inbound"}}).Set(in);
  peers_->Add({{"direction", "outbound"}}).Set(out);
  using Traffic = p2p::PeerManager::Traffic;
  const Traffic t = peers->GetTraffic();
  for (std::size_t i = 0; i < Traffic::kSlots; ++i) {
    const std::string type(Traffic::SlotName(i));
    CatchUp(p2p_messages_->Add({{"direction", "received"}, {"type", type}}),
            static_cast<double>(t.received_messages[i]));
    CatchUp(p2p_bytes_->Add({{"direction", "received"}, {"type", type}}),
            static_cast<double>(t.received_bytes[i]));
    if (i >= Traffic::kTypes) continue;  // never sent
    CatchUp(p2p_messages_->Add({{"direction", "sent"}, {"type", type}}),
            static_cast<double>(t.sent_messages[i]));
    CatchUp(p2p_bytes_->Add({{"direction", "sent"}, {"type", type}}),
            static_cast<double>(t.sent_bytes[i]));
  }
}

void NodeMetrics::ReadMempool() {
  Mempool* pool = sources_.mempool;
  if (pool == nullptr) return;
  const MempoolStats s = pool->Stats();
  mempool_txs_->Add({}).Set(static_cast<double>(s.count));
  mempool_bytes_->Add({}).Set(static_cast<double>(s.bytes));
  mempool_orphans_->Add({}).Set(static_cast<double>(s.orphans));
  CatchUp(mempool_events_->Add({{"event", "accepted"}}), static_cast<double>(s.accepted));
  CatchUp(mempool_events_->Add({{"event", "rejected"}}), static_cast<double>(s.rejected));
  CatchUp(mempool_events_->Add({{"event", "evicted"}}), static_cast<double>(s.evicted));
  CatchUp(mempool_events_->Add({{"event", "expired"}}), static_cast<double>(s.expired));
}

void NodeMetrics::ReadMinerAndStore() {
  if (Miner* miner = sources_.miner; miner != nullptr) {
    const Miner::Stats s = miner->GetStats();
    hash_rate_->Add({}).Set(s.hash_rate);
    CatchUp(hashes_->Add({}), static_cast<double>(s.attempts));
    CatchUp(blocks_mined_->Add({}), static_cast<double>(s.blocks_mined));
  }
  if (!sources_.store_files.empty()) {
    double bytes = 0;
    for (const auto& file : sources_.store_files) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(file, ec);
      if (!ec) bytes += static_cast<double>(size);
    }
    store_bytes_->Add({}).Set(bytes);
  }
  if (const http::EventHub* hub = sources_.events; hub != nullptr) {
    const http::EventHub::Stats s = hub->GetStats();
    event_clients_->Add({}).Set(static_cast<double>(s.clients));
    CatchUp(event_drops_->Add({}), static_cast<double>(s.dropped));
  }
}

std::string NodeMetrics::Scrape() {
  MutexLock lock(mutex_);
  ReadChain();
  ReadPeers();
  ReadMempool();
  ReadMinerAndStore();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace powchain
