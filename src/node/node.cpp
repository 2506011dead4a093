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
#include "util/hex.h"
#include "util/system_clock.h"

namespace powchain {

// Logs one line per block that joins the active chain.
class NodeContext::LogObserver final : public ChainObserver {
 public:
  void OnTipChanged(const TipChange& change) override {
    const char* source = change.origin == BlockOrigin::kMined  ? "mined"
                         : change.origin == BlockOrigin::kPeer ? "peer"
                                                               : "local";
    if (!change.disconnected.empty()) {
      spdlog::info("reorganization: {} block(s) left the active chain, {} joined",
                   change.disconnected.size(), change.connected.size());
    }
    const std::uint64_t first = change.new_tip.height() + 1 - change.connected.size();
    for (std::size_t i = 0; i < change.connected.size(); ++i) {
      const bool tip = i + 1 == change.connected.size();
      spdlog::info("block height={} hash={} difficulty={} source={}", first + i,
                   HexEncode(change.connected[i]).substr(0, 16),
                   tip ? std::to_string(change.new_tip.context.header.difficulty) : "-", source);
    }
  }
};

NodeContext::NodeContext(NodeOptions options)
    : options_(std::move(options)), params_(*Params::ForNetwork(options_.network)) {
  data_dir_ = options_.data_dir.empty() ? DefaultDataDir(options_.network, options_.p2p_port)
                                        : options_.data_dir;
}

NodeContext::~NodeContext() { Stop(); }

Status NodeContext::Start() {
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) return Error{"cannot create data directory " + data_dir_ + ": " + ec.message()};

  auto lock = DataDirLock::Acquire(data_dir_);
  if (!lock) return Error{lock.error()};
  lock_ = std::move(lock).value();

  // Reads stay open; what changes the node needs the token once the API is
  // reachable from other hosts, or whenever one is given. Resolved before
  // anything starts, so a bad token file stops the node before it mines.
  std::string write_token;
  std::string token_source;
  if (!options_.api_token.empty()) {
    write_token = options_.api_token;
    token_source = "--api-token";
  } else if (!IsLoopbackAddress(options_.http_bind)) {
    const auto file = ApiTokenFile(data_dir_);
    auto token = LoadOrCreateApiToken(file);
    if (!token) return Error{token.error()};
    write_token = std::move(token).value();
    token_source = file.string();
  }

  clock_ = std::make_unique<SystemClock>();
  auto store = SqliteBlockStore::Open(StoreFile(data_dir_), params_.network,
                                      HexEncode(MakeGenesis(params_).hash));
  if (!store) return Error{store.error()};
  store_ = std::move(store).value();
  chain_ = std::make_unique<ChainState>(params_, *store_);
  if (Status s = chain_->Load(); !s) return Error{"cannot load the chain: " + s.error()};
  log_observer_ = std::make_unique<LogObserver>();
  chain_->AddObserver(log_observer_.get());

  MinerOptions miner_options;
  miner_options.threads = options_.miner_threads;
  miner_options.continuous = options_.mine;
  miner_ = std::make_unique<Miner>(params_, *chain_, *clock_, miner_options);
  miner_->Start();

  const std::string agent = std::string("powchain/") + POWCHAIN_VERSION;
  p2p::PeerManagerOptions peer_options;
  peer_options.agent = agent;
  peer_options.listen_port = options_.p2p_port;
  peer_options.ban_duration = std::chrono::seconds(options_.ban_seconds);
  peer_options.ban_loopback = options_.ban_loopback;
  peer_options.message_rate = options_.peer_message_rate;
  peer_options.message_burst = 2.0 * options_.peer_message_rate;
  peer_options.request_rate = options_.peer_request_rate;
  peer_options.request_burst = 2.0 * options_.peer_request_rate;
  peers_ = std::make_unique<p2p::PeerManager>(*chain_, *clock_, io_, peer_options);
  p2p::TransportOptions transport_options;
  transport_options.bind_address = options_.p2p_bind;
  transport_options.port = options_.p2p_port;
  transport_ = std::make_unique<p2p::Transport>(io_, transport_options, *peers_);
  if (Status s = transport_->Start(); !s) {
    Stop();
    return s;
  }
  link_ = std::make_unique<p2p::TransportLink>(*transport_);
  peers_->Start(*link_, options_.peers);

  api_ = std::make_unique<NodeApiImpl>(*chain_, *miner_, *peers_, agent);
  http::HttpOptions http_options;
  http_options.bind_address = options_.http_bind;
  http_options.port = options_.http_port;
  http_options.write_token = std::move(write_token);
  http_ = std::make_unique<http::HttpServer>(http_io_, http_options, *api_);
  if (Status s = http_->Start(); !s) {
    Stop();
    return s;
  }

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
    std::lock_guard lock(stop_mutex_);
    ++io_threads_done_;
    stop_cv_.notify_all();
  };
  for (unsigned i = 0; i < options_.io_threads; ++i) io_threads_.emplace_back(run, std::ref(io_));
  for (unsigned i = 0; i < options_.http_threads; ++i) {
    io_threads_.emplace_back(run, std::ref(http_io_));
  }
  const ChainTip tip = chain_->Tip();
  spdlog::info("powchain node on network {} (genesis {}), height {}, data dir {}", params_.network,
               HexEncode(chain_->GenesisHash()).substr(0, 16), tip.height(), data_dir_);
  // The first use runs the SHA-NI self-test; the miner and every block check
  // then use the backend it chose.
  spdlog::info("sha256: {}", DescribeSha256Backend());
  spdlog::info("P2P on ws://{}:{}, {} peer(s) to dial", options_.p2p_bind, transport_->port(),
               options_.peers.size());
  if (!token_source.empty()) {
    spdlog::info("POST /mine and POST /peers need \"Authorization: Bearer <token>\" (token: {})",
                 token_source);
  }
  spdlog::info("HTTP API on http://{}:{}{}", options_.http_bind, http_->port(),
               options_.mine
                   ? ", mining with " + std::to_string(options_.miner_threads) + " thread(s)"
                   : "");
  return {};
}

void NodeContext::ScheduleTick() {
  tick_timer_->expires_after(kPeerTickInterval);
  tick_timer_->async_wait([this](const boost::system::error_code& error) {
    if (error || stopped_) return;
    peers_->Tick();
    ScheduleTick();
  });
}

void NodeContext::RunUntilStopped() {
  {
    std::unique_lock lock(stop_mutex_);
    stop_cv_.wait(lock, [this] { return stop_requested_; });
  }
  Stop();
}

void NodeContext::RequestStop() {
  std::lock_guard lock(stop_mutex_);
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
    std::unique_lock lock(stop_mutex_);
    stop_cv_.wait_for(lock, kIoDrainTimeout,
                      [this] { return io_threads_done_ == io_threads_.size(); });
  }
  io_.stop();
  http_io_.stop();
  for (std::thread& t : io_threads_) {
    if (t.joinable()) t.join();
  }
  if (chain_ && log_observer_) chain_->RemoveObserver(log_observer_.get());
  // Nothing to flush: the store commits every block before it is
  // acknowledged. The store closes (and the lock is released) when the
  // context is destroyed, after everything that uses them.
  spdlog::info("stopped");
}

std::uint16_t NodeContext::http_port() const { return http_ ? http_->port() : 0; }

}  // namespace powchain
