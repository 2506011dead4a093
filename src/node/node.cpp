#include "node/node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <csignal>
#include <filesystem>
#include <functional>
#include <system_error>

#include "consensus/genesis.h"
#include "crypto/sha256.h"
#include "node/api_token.h"
#include "node/verify.h"
#include "primitives/address.h"
#include "util/hex.h"
#include "util/system_clock.h"

namespace powchain {

// Logs one line per block that joins the active chain.
class NodeContext::LogObserver final : public ChainObserver {
 public:
  void OnTipChanged(const TipChange& change) override {
    const char* source = change.source.origin == BlockOrigin::kMined  ? "mined"
                         : change.source.origin == BlockOrigin::kPeer ? "peer"
                                                                      : "local";
    if (!change.disconnected.empty()) {
      spdlog::info("reorganization: {} block(s) left the active chain, {} joined",
                   change.disconnected.size(), change.connected.size());
    }
    // One line per change: a sync batch of 2,000 blocks is one line too,
    // naming its range and the new tip.
    const std::uint64_t height = change.new_tip.height();
    const std::string hash = HexEncode(change.new_tip.hash()).substr(0, 16);
    const unsigned difficulty = change.new_tip.context.header.difficulty;
    if (change.connected.size() <= 1) {
      spdlog::info("block height={} hash={} difficulty={} source={}", height, hash, difficulty,
                   source);
    } else {
      spdlog::info("blocks height={}..{} ({} blocks) tip={} difficulty={} source={}",
                   height + 1 - change.connected.size(), height, change.connected.size(), hash,
                   difficulty, source);
    }
  }
};

NodeContext::NodeContext(NodeOptions options)
    : options_(std::move(options)),
      params_(*Params::ForNetwork(options_.network)),
      events_(options_.events) {
  data_dir_ = options_.data_dir.empty() ? DefaultDataDir(options_.network, options_.transport.port)
                                        : options_.data_dir;
}

NodeContext::~NodeContext() { Stop(); }

Status NodeContext::Start() {
  Status s = StartSubsystems();
  if (!s) {
    Stop();
    RemoveCreatedDataDir();
    return s;
  }
  started_ = true;
  LogSummary();
  return {};
}

Status NodeContext::StartSubsystems() {
  if (Status s = OpenDataDir(); !s) return s;
  if (Status s = ResolveApiToken(); !s) return s;
  if (Status s = OpenChain(); !s) return s;
  OpenMempool();
  StartMiner();
  if (Status s = StartPeers(); !s) return s;
  if (Status s = StartHttp(); !s) return s;
  StartThreads();
  return {};
}

Status NodeContext::OpenDataDir() {
  // The first directory of the path that does not exist yet: if the start
  // fails, it is removed again, so a failed start leaves nothing behind.
  std::error_code ec;
  std::filesystem::path missing;
  for (std::filesystem::path p = std::filesystem::absolute(data_dir_, ec);
       !ec && !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    missing = p;
    if (p == p.parent_path()) break;
  }
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) return Error{"cannot create data directory " + data_dir_ + ": " + ec.message()};
  created_dir_ = missing;
  auto lock = DataDirLock::Acquire(data_dir_);
  if (!lock) return Error{lock.error()};
  lock_ = std::move(lock).value();
  return {};
}

void NodeContext::RemoveCreatedDataDir() {
  if (created_dir_.empty()) return;
  // Only what this start made: the store and the lock are closed first.
  mempool_.reset();
  chain_.reset();
  store_.reset();
  lock_.reset();
  std::error_code ec;
  std::filesystem::remove_all(created_dir_, ec);
}

Status NodeContext::ResolveApiToken() {
  // Reads stay open; what changes the node needs the token once the API is
  // reachable from other hosts, or whenever one is given. Resolved before
  // anything starts, so a bad token file stops the node before it mines.
  if (!options_.api_token.empty()) {
    write_token_ = options_.api_token;
    token_source_ = "--api-token";
  } else if (!IsLoopbackAddress(options_.http.bind_address)) {
    const auto file = ApiTokenFile(data_dir_);
    auto token = LoadOrCreateApiToken(file);
    if (!token) return Error{token.error()};
    write_token_ = std::move(token).value();
    token_source_ = file.string();
  }
  return {};
}

Status NodeContext::OpenChain() {
  if (!options_.miner_address.empty()) {
    auto key = DecodeAddressFor(options_.miner_address, params_.address_prefix);
    if (!key) return Error{"--miner-address " + options_.miner_address + ": " + key.error()};
    reward_key_ = *key;
  }
  clock_ = std::make_unique<SystemClock>();
  auto store = SqliteBlockStore::Open(
      StoreFile(data_dir_), params_.network, HexEncode(MakeGenesis(params_).hash),
      SqliteBlockStore::kDefaultCacheBytes, options_.coins_write_mb * 1024 * 1024);
  if (!store) return Error{store.error()};
  if ((*store)->upgraded_from() != 0) {
    spdlog::info(
        "upgraded {} from schema version {} to {}{}", StoreFile(data_dir_).string(),
        (*store)->upgraded_from(), SqliteBlockStore::kSchemaVersion,
        (*store)->upgraded_rows() > 0
            ? ": stored the JSON form of " + std::to_string((*store)->upgraded_rows()) + " blocks"
            : std::string());
  }
  store_ = std::move(store).value();
  chain_ = std::make_unique<ChainState>(params_, *store_);
  if (Status s = chain_->Load(); !s) return Error{"cannot load the chain: " + s.error()};
  log_observer_ = std::make_unique<LogObserver>();
  chain_->AddObserver(log_observer_.get());
  watch_ = std::make_unique<NodeWatch>(*clock_, events_,
                                       [this](std::size_t depth) { metrics_.RecordReorg(depth); });
  chain_->AddObserver(watch_.get());
  return {};
}

namespace {

std::filesystem::path MempoolFile(const std::string& data_dir) {
  return std::filesystem::path(data_dir) / "mempool.jsonl";
}

}  // namespace

void NodeContext::OpenMempool() {
  mempool_ = std::make_unique<Mempool>(*chain_, *clock_, options_.mempool);
  // Before the miner's: a new job's template must see the pool in step
  // with the new tip.
  chain_->AddObserver(mempool_.get());
  mempool_->AddListener(watch_.get());
  if (!options_.persist_mempool) return;
  const auto loaded = mempool_->Load(MempoolFile(data_dir_));
  if (!loaded) {
    // A damaged pool file costs only the pool: start empty (the file is
    // replaced at the next stop).
    spdlog::warn("mempool not loaded: {}", loaded.error());
  } else if (loaded->read != 0) {
    spdlog::info("mempool: {} of {} saved transaction(s) still valid", loaded->accepted,
                 loaded->read);
  }
}

void NodeContext::SaveMempool() {
  if (!mempool_ || !options_.persist_mempool) return;
  const std::size_t count = mempool_->Stats().count;
  if (Status s = mempool_->Save(MempoolFile(data_dir_)); !s) {
    spdlog::error("cannot save the mempool: {}", s.error());
  } else {
    spdlog::info("mempool: {} transaction(s) saved", count);
  }
}

void NodeContext::StartMiner() {
  MinerOptions miner_options = options_.miner;
  miner_options.reward_key = reward_key_;
  miner_ = std::make_unique<Miner>(params_, *chain_, *clock_, miner_options, mempool_.get());
  miner_->Start();
}

Status NodeContext::StartPeers() {
  p2p::PeerManagerOptions peer_options = options_.peer_policy;
  peer_options.agent = Agent();
  peer_options.listen_port = options_.transport.port;
  peers_ = std::make_unique<p2p::PeerManager>(*chain_, *clock_, io_, peer_options, mempool_.get());
  transport_ = std::make_unique<p2p::Transport>(io_, options_.transport, *peers_);
  if (Status s = transport_->Start(); !s) return s;
  link_ = std::make_unique<p2p::TransportLink>(*transport_);
  peers_->Start(*link_, options_.peers);
  return {};
}

Status NodeContext::StartHttp() {
  api_ = std::make_unique<NodeApiImpl>(*chain_, *store_, *miner_, *peers_, *mempool_, Agent(),
                                       options_.stream_cache_mb * 1024 * 1024);
  http::HttpOptions http_options = options_.http;
  http_options.write_token = write_token_;
  api_->SetWatchers(watch_.get(), &metrics_);
  NodeMetrics::Sources sources;
  sources.chain = chain_.get();
  sources.mempool = mempool_.get();
  sources.miner = miner_.get();
  sources.peers = peers_.get();
  sources.events = &events_;
  const std::filesystem::path store_file = StoreFile(data_dir_);
  sources.store_files = {store_file, store_file.string() + "-wal", store_file.string() + "-shm"};
  metrics_.SetSources(std::move(sources));
  http_ = std::make_unique<http::HttpServer>(http_io_, http_options, *api_, &events_);
  return http_->Start();
}

void NodeContext::StartThreads() {
  signals_ = std::make_unique<boost::asio::signal_set>(io_, SIGINT, SIGTERM);
  signals_->async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("signal {} received, stopping", signal);
    RequestStop();  // Stop() joins the I/O threads, so it runs on the main thread
  });
  // On its own strand: the timer is touched by its handler and by Stop().
  tick_timer_ = std::make_unique<boost::asio::steady_timer>(boost::asio::make_strand(io_));
  ScheduleTick();
  auto run = [this](boost::asio::io_context& io) {
    io.run();
    MutexLock lock(stop_mutex_);
    ++io_threads_done_;
    stop_cv_.notify_all();
  };
  for (unsigned i = 0; i < options_.io_threads; ++i) io_threads_.emplace_back(run, std::ref(io_));
  for (unsigned i = 0; i < options_.http_threads; ++i) {
    io_threads_.emplace_back(run, std::ref(http_io_));
  }
}

void NodeContext::LogSummary() const {
  const ChainTip tip = chain_->Tip();
  spdlog::info("powchain node on network {} (genesis {}), height {}, data dir {}", params_.network,
               HexEncode(chain_->GenesisHash()).substr(0, 16), tip.height(), data_dir_);
  // The first use runs the SHA-NI self-test; the miner and every block check
  // then use the backend it chose.
  spdlog::info("sha256: {}", DescribeSha256Backend());
  spdlog::info("P2P on ws://{}:{}, {} peer(s) to dial", options_.transport.bind_address,
               transport_->port(), options_.peers.size());
  if (!token_source_.empty()) {
    spdlog::info(
        "POST /mine and POST/DELETE /peers need \"Authorization: Bearer <token>\" (token: {})",
        token_source_);
  }
  spdlog::info("HTTP API on http://{}:{}{}", options_.http.bind_address, http_->port(),
               options_.miner.continuous
                   ? ", mining with " + std::to_string(options_.miner.threads) + " thread(s)"
                   : "");
}

std::string NodeContext::Agent() { return std::string("powchain/") + POWCHAIN_VERSION; }

void NodeContext::ScheduleTick() {
  tick_timer_->expires_after(kPeerTickInterval);
  tick_timer_->async_wait([this](const boost::system::error_code& error) {
    if (error || stopped_) return;
    peers_->Tick();
    watch_->Tick(peers_->Peers());
    mempool_->Expire();
    miner_->Refresh();
    ScheduleTick();
  });
}

void NodeContext::RunUntilStopped() {
  {
    MutexLock lock(stop_mutex_);
    stop_cv_.wait(lock, [this]() REQUIRES(stop_mutex_) { return stop_requested_; });
  }
  Stop();
}

void NodeContext::RequestStop() {
  MutexLock lock(stop_mutex_);
  stop_requested_ = true;
  stop_cv_.notify_all();
}

void NodeContext::Stop() {
  if (stopped_.exchange(true)) return;
  if (http_) http_->Stop();    // no new requests; open connections closed
  if (peers_) peers_->Stop();  // no more dials or relays
  if (transport_) transport_->Stop();
  if (tick_timer_) {
    boost::asio::post(tick_timer_->get_executor(), [this] { tick_timer_->cancel(); });
  }
  if (miner_) miner_->Stop();  // searches abandoned; queued requests fail
  if (signals_) {
    boost::system::error_code ignored;
    signals_->cancel(ignored);
  }
  {
    // With the acceptor, the connections and the signal wait gone, the I/O
    // threads run out of work once the closes are done; a connection that
    // does not finish in time is cut by io_.stop().
    MutexLock lock(stop_mutex_);
    stop_cv_.wait_for(lock, kIoDrainTimeout, [this]() REQUIRES(stop_mutex_) {
      return io_threads_done_ == io_threads_.size();
    });
  }
  io_.stop();
  http_io_.stop();
  for (std::thread& t : io_threads_) {
    if (t.joinable()) t.join();
  }
  if (chain_ && log_observer_) chain_->RemoveObserver(log_observer_.get());
  if (chain_ && watch_) chain_->RemoveObserver(watch_.get());
  if (mempool_ && watch_) mempool_->RemoveListener(watch_.get());
  if (chain_ && mempool_) {
    chain_->RemoveObserver(mempool_.get());
    if (started_) SaveMempool();
  }
  // Every block was durable before it was acknowledged; the coin set and
  // indexes the store defers are written now, so that the next start needs
  // no replay (after a crash it replays them). The store closes (and the
  // lock is released) when the context is destroyed, after everything that
  // uses them.
  if (store_) {
    if (Status s = store_->Flush(); !s) {
      spdlog::error("cannot write the coin set and indexes: {} (the next start replays them)",
                    s.error());
    }
  }
  if (started_) spdlog::info("stopped");
}

std::uint16_t NodeContext::http_port() const { return http_ ? http_->port() : 0; }

}  // namespace powchain
