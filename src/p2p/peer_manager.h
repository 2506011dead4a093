// The peer-to-peer logic (SPEC section 4, docs/protocol.md): handshake,
// sync by locator, relay of new tips, peer exchange, keepalive, dialling
// with backoff, and the peer policy that turns validation results into
// disconnects and bans. It sits between the Transport (frames in and out)
// and the ChainState (blocks in and out) and knows neither sockets nor
// storage.
//
// Thread-safety: every method may be called from any thread. The manager's
// lock is never held while it calls the chain or the transport, and
// OnTipChanged (called under the chain's lock) only posts work, so there is
// no lock-order cycle.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chain/chainstate.h"
#include "p2p/peer_link.h"
#include "p2p/protocol.h"
#include "p2p/transport.h"
#include "util/clock.h"
#include "util/hash_map.h"
#include "util/token_bucket.h"
#include "util/url.h"

namespace powchain::p2p {

struct PeerManagerOptions {
  std::size_t max_outbound = 8;    // handshaked outbound peers
  std::size_t max_inbound = 32;    // handshaked inbound peers
  std::uint32_t sync_batch = 500;  // blocks asked for per getblocks
  std::uint32_t max_blocks_per_answer = ProtocolLimits::kMaxBlocksPerMessage;
  // An answer to getblocks stops adding blocks at this many bytes, so it
  // stays under the peer's frame limit (4 MiB by default).
  std::size_t max_answer_bytes = std::size_t{3} * 1024 * 1024;
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds ping_interval = std::chrono::seconds(15);
  std::chrono::milliseconds ping_timeout = std::chrono::seconds(30);
  // A getblocks unanswered this long drops the peer; another one is used.
  std::chrono::milliseconds sync_stall_timeout = std::chrono::seconds(30);
  // How long a misbehaving peer's address is refused.
  std::chrono::milliseconds ban_duration = std::chrono::minutes(10);
  // Loopback addresses are never refused unless this is set (several nodes
  // on one machine, or a local proxy in front of many clients).
  bool ban_loopback = false;
  // Per-peer rate limits (token buckets: `rate` a second sustained, `burst`
  // at once). A peer over either is flooding: it is dropped and its address
  // refused like any misbehaving peer. A node syncing from us at full speed
  // sends about 130 getblocks a second (docs/security.md).
  double message_rate = 1000;
  double message_burst = 2000;
  double getblocks_rate = 250;
  double getblocks_burst = 500;
  std::chrono::milliseconds dial_backoff_min = std::chrono::milliseconds(500);
  std::chrono::milliseconds dial_backoff_max = std::chrono::seconds(60);
  std::size_t max_known_addresses = 1000;  // learned peer addresses kept
  std::string agent = "powchain";
  std::optional<std::uint16_t> listen_port;  // sent in hello
};

struct PeerSnapshot {
  PeerId id = 0;
  std::string url;
  Direction direction = Direction::kOutbound;
  std::uint64_t height = 0;
  std::string agent;
  std::uint64_t connected_since_ms = 0;  // 0 until the handshake completes
  std::string state;                     // "handshaking" or "connected"
};

class PeerManager final : public TransportHandler, public ChainObserver {
 public:
  // `chain`, `clock` and `io` are not owned and must outlive the manager.
  // `io` runs the relay work posted from OnTipChanged.
  PeerManager(ChainState& chain, const Clock& clock, boost::asio::io_context& io,
              PeerManagerOptions options);
  ~PeerManager() override;

  // Connects the manager to its link (not owned; a TransportLink over the
  // started Transport) and dials `peers`, which are redialled whenever they
  // drop. Call once.
  void Start(PeerLink& link, const std::vector<PeerUrl>& peers);
  // Stops dialling and relaying; the transport closes the connections.
  void Stop();

  // Timers: handshake and ping timeouts, keepalive pings, sync stalls,
  // (re)dials. The node calls it a few times a second.
  void Tick();

  // Adds a peer to dial and keep (POST /peers). An error when already known
  // or the address is banned.
  Status AddPeer(const PeerUrl& url);

  std::vector<PeerSnapshot> Peers() const;
  std::size_t ConnectedCount() const;
  // The random id this node sends in hello.
  const std::string& node_id() const { return node_id_; }

  // TransportHandler.
  void OnOpen(PeerId id, Direction direction, const std::string& remote_address,
              std::uint16_t remote_port, const std::optional<PeerUrl>& dialed) override;
  void OnMessage(PeerId id, std::string text) override;
  void OnClose(PeerId id, const std::string& reason) override;
  void OnDialFailed(const PeerUrl& url, const std::string& reason) override;

  // ChainObserver: relays every new tip (posted to `io`).
  void OnTipChanged(const TipChange& change) override;

 private:
  struct Peer {
    PeerId id = 0;
    Direction direction = Direction::kInbound;
    std::string address;
    std::uint16_t remote_port = 0;
    std::optional<PeerUrl> dialed;
    std::uint64_t opened_ms = 0;
    bool handshaked = false;
    bool closing = false;
    Hello hello;  // theirs, once handshaked
    std::uint64_t connected_since_ms = 0;
    Work best_work = 0;  // what the peer has shown it has
    std::uint64_t best_height = 0;
    std::uint64_t last_ping_ms = 0;
    std::uint64_t ping_nonce = 0;  // outstanding ping, 0 if none
    bool getblocks_outstanding = false;
    std::uint64_t getblocks_sent_ms = 0;
    // Whether the last batch it sent us in answer moved our chain on; only
    // then is the next batch asked for before the current one is checked.
    bool last_batch_progressed = true;
    TokenBucket messages;      // every message it sends
    TokenBucket getblocks;     // its getblocks requests
    std::deque<Hash32> known;  // blocks it sent or we sent it (bounded)
    std::unordered_set<Hash32, Hash32Hasher> known_set;
  };
  struct Target {
    PeerUrl url;
    bool persistent = false;  // from --peers or POST /peers: always redialled
    bool dialing = false;
    std::optional<PeerId> peer;  // connected through this target
    std::string node_id;         // of the node behind it, once seen
    unsigned failures = 0;
    std::uint64_t next_attempt_ms = 0;
    bool is_self = false;
  };
  // Work computed under the lock, carried out after it is released.
  struct Actions {
    std::vector<std::pair<PeerId, std::string>> sends;
    std::vector<std::pair<PeerId, std::string>> closes;
    std::vector<PeerUrl> dials;
  };

  void Run(Actions& actions);
  void SendLocked(Actions& a, PeerId id, const Message& m);
  // error + close + ban (not loopback unless ban_loopback). Requires mu_.
  void PunishLocked(Actions& a, Peer& peer, const std::string& reason);
  void CloseLocked(Actions& a, Peer& peer, const std::string& reason);
  void RememberLocked(Peer& peer, const Hash32& hash);
  bool BannedLocked(const std::string& address, std::uint64_t now) const;
  std::uint64_t BackoffMs(unsigned failures);
  // What the handlers need of the chain, read before taking mu_: the
  // chain's lock is taken before mu_ (OnTipChanged), never after.
  struct ChainView {
    ChainTip tip;
    std::vector<Hash32> locator;
  };
  ChainView View() const;
  void RequestBlocksLocked(Actions& a, Peer& peer, const ChainView& view, std::uint64_t now);
  // Picks a handshaked peer with more work than ours and fetches from it,
  // unless a fetch is already running.
  void MaybeSyncLocked(Actions& a, const ChainView& view, std::uint64_t now);

  void HandleHello(PeerId id, Hello hello);
  void HandleBlock(PeerId id, Block block);
  void HandleGetBlocks(PeerId id, const GetBlocks& m);
  void HandleBlocks(PeerId id, std::vector<Block> blocks);
  void HandlePeers(PeerId id, const std::vector<std::string>& urls);
  // Accepts blocks from a peer and applies the peer policy to the results.
  // Returns false when the peer was punished.
  bool AcceptFromPeer(PeerId id, std::vector<Block> blocks, bool* orphan, bool* progressed);
  void Relay(const Hash32& hash, PeerId source);

  ChainState& chain_;
  const Clock& clock_;
  boost::asio::io_context& io_;
  const PeerManagerOptions options_;
  const std::string node_id_;
  const Hash32 genesis_;

  mutable std::mutex mu_;
  PeerLink* link_ = nullptr;  // not owned; set by Start
  bool stopped_ = false;
  std::map<PeerId, Peer> peers_;
  std::map<std::string, Target> targets_;        // by url text
  std::map<std::string, std::uint64_t> banned_;  // address -> until (ms)
  std::optional<PeerId> sync_peer_;
  std::deque<Hash32> relayed_;  // bounded, newest last
  std::unordered_set<Hash32, Hash32Hasher> relayed_set_;
  std::mt19937_64 rng_;
};

}  // namespace powchain::p2p
