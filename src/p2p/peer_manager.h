// The peer-to-peer logic (docs/protocol.md): handshake, headers-first sync
// (headers checked before any block data is asked for, block data fetched
// from several peers at once), relay of new tips, peer exchange,
// keepalive, dialling with backoff, and the peer policy that turns
// validation results into disconnects and bans. It sits between the
// Transport (frames in and out) and the ChainState (headers and blocks in
// and out) and knows neither sockets nor storage.
//
// Thread-safety: every method may be called from any thread. Lock order:
// the chain's writer lock (held while observers run), then the manager's
// lock `mutex_`, then the chain's tree lock. So the manager calls the chain's
// readers and AddHeaders under `mutex_`, but never AcceptBlock(s) (which take
// the writer lock), and never the transport: sends, closes and dials are
// collected under `mutex_` and carried out after it is released.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "chain/chainstate.h"
#include "chain/header_sync.h"
#include "mempool/mempool.h"
#include "p2p/peer_link.h"
#include "p2p/protocol.h"
#include "p2p/transport.h"
#include "util/clock.h"
#include "util/hash_map.h"
#include "util/mutex.h"
#include "util/token_bucket.h"
#include "util/url.h"

namespace powchain::p2p {

struct PeerManagerOptions {
  // Outbound connections, dials in progress included, and handshaked
  // inbound peers.
  std::size_t max_outbound = 8;
  std::size_t max_inbound = 32;
  // Headers asked for per getheaders (and the most one answer holds; at
  // most 2,000, the protocol's limit).
  std::uint32_t headers_batch = ProtocolLimits::kMaxHeadersPerMessage;
  // Headers without data may run at most this far above the last stored
  // block of their chain; beyond it (by at most one message), header
  // requests to that peer pause until block data catches up to half of it
  // (so even a chain of cheap headers that is the best one known costs
  // bounded memory).
  std::uint64_t max_headers_ahead = 50000;
  std::uint32_t sync_batch = 2000;  // blocks asked for per getdata
  // getdata requests in flight to one peer.
  std::size_t max_requests_per_peer = 2;
  // Blocks are fetched at most this many heights above the last block
  // stored on the chain being fetched (the pool of blocks waiting for a
  // parent stays small).
  std::size_t download_window = 8192;
  // How a peer's header chain is checked before it enters the tree.
  HeaderSync::Limits header_limits;
  std::uint32_t max_blocks_per_answer = ProtocolLimits::kMaxBlocksPerMessage;
  // An answer to getblocks or getdata stops adding blocks at this many
  // bytes, so it stays under the peer's frame limit (4 MiB by default).
  std::size_t max_answer_bytes = std::size_t{3} * 1024 * 1024;
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds ping_interval = std::chrono::seconds(15);
  std::chrono::milliseconds ping_timeout = std::chrono::seconds(30);
  // A getheaders or getdata unanswered this long drops the peer; others
  // carry the sync on.
  std::chrono::milliseconds sync_stall_timeout = std::chrono::seconds(30);
  // How long a misbehaving peer's address is refused.
  std::chrono::milliseconds ban_duration = std::chrono::minutes(10);
  // Loopback addresses are never refused unless this is set (several nodes
  // on one machine, or a local proxy in front of many clients).
  bool ban_loopback = false;
  // Per-peer rate limits (token buckets: `rate` a second sustained, `burst`
  // at once). A peer over either is flooding: it is dropped and its address
  // refused like any misbehaving peer. The request limit counts getheaders,
  // getdata and getblocks together (docs/security.md).
  double message_rate = 1000;
  double message_burst = 2000;
  double request_rate = 250;
  double request_burst = 500;
  // Blocks nobody asked for that the chain could not use (too little work,
  // unknown parent): a few are normal (a peer on a lighter branch announces
  // its tips), a stream of them is junk and costs the peer its connection.
  double junk_rate = 1;
  double junk_burst = 100;
  // Transactions a peer may send (tx messages, and each transaction of a
  // txs answer); beyond them its transactions are ignored, not punished
  // (docs/protocol.md, "Transaction relay").
  double tx_rate = 500;
  double tx_burst = 5000;
  // How long transactions to relay are gathered before they go out, so that
  // a burst costs each peer one txs message per 100 transactions rather than
  // a message each (which would run into its message rate).
  std::chrono::milliseconds tx_relay_delay{20};
  // Headers messages that do not connect to our tree, in a row, before the
  // peer is dropped (each gets a getheaders to find the fork first).
  unsigned max_unconnecting_headers = 10;
  // Redownloads that differed from the chain first shown, before the peer
  // is dropped.
  unsigned max_header_mismatches = 3;
  // Addresses learned from peers are dialled at most this often (a second),
  // and this many at once after a quiet spell.
  double learned_dial_rate = 1;
  double learned_dial_burst = 4;
  // Refused addresses remembered; when full, the one whose refusal ends
  // first is forgotten.
  std::size_t max_banned = 10000;
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
  // "handshaking" or "connected"; for a configured peer not connected:
  // "dialing", "waiting" (to be redialled at next_attempt_ms), "refused"
  // (its node is on another network) or "self" (it is this node).
  std::string state;
  std::string last_error;             // why its last dial or connection ended
  std::uint64_t next_attempt_ms = 0;  // "waiting" only
};

class PeerManager final : public TransportHandler, public ChainObserver, public MempoolListener {
 public:
  // `chain`, `clock`, `io` and `mempool` are not owned and must outlive the
  // manager. `io` runs the relay work posted from OnTipChanged and
  // OnTxAccepted. Without a mempool, transactions from peers are ignored.
  PeerManager(ChainState& chain, const Clock& clock, boost::asio::io_context& io,
              PeerManagerOptions options, Mempool* mempool = nullptr);
  ~PeerManager() override;

  // Connects the manager to its link (not owned; a TransportLink over the
  // started Transport) and dials `peers`, which are redialled whenever they
  // drop. Call once.
  void Start(PeerLink& link, const std::vector<PeerUrl>& peers) EXCLUDES(mutex_);
  // Stops dialling and relaying; the transport closes the connections.
  void Stop() EXCLUDES(mutex_);

  // Timers: handshake and ping timeouts, keepalive pings, sync stalls,
  // (re)dials. The node calls it a few times a second.
  void Tick() EXCLUDES(mutex_);

  // Adds a peer to dial and keep (POST /peers). An error when already known
  // or the address is banned.
  Status AddPeer(const PeerUrl& url) EXCLUDES(mutex_);
  // Forgets a configured peer (from --peers or AddPeer) and closes its
  // connection. An error when it is not one.
  Status RemovePeer(const PeerUrl& url) EXCLUDES(mutex_);

  std::vector<PeerSnapshot> Peers() const EXCLUDES(mutex_);
  std::size_t ConnectedCount() const EXCLUDES(mutex_);

  // Messages and bytes exchanged with peers since the manager was made,
  // by message type (for metrics). Slot i < kTypes is the type of
  // Message's alternative i; then "invalid" (received, could not be
  // decoded) and "dropped" (received over the peer's rate, not decoded).
  struct Traffic {
    static constexpr std::size_t kTypes = std::variant_size_v<Message>;
    static constexpr std::size_t kInvalid = kTypes;
    static constexpr std::size_t kDropped = kTypes + 1;
    static constexpr std::size_t kSlots = kTypes + 2;
    std::array<std::uint64_t, kSlots> received_messages{};
    std::array<std::uint64_t, kSlots> received_bytes{};
    std::array<std::uint64_t, kSlots> sent_messages{};
    std::array<std::uint64_t, kSlots> sent_bytes{};
    // The label of slot i: TypeName of the type, "invalid" or "dropped".
    static std::string_view SlotName(std::size_t slot);
  };
  Traffic GetTraffic() const;
  // The random id this node sends in hello.
  const std::string& node_id() const { return node_id_; }

  // TransportHandler.
  void OnOpen(PeerId id, Direction direction, const std::string& remote_address,
              std::uint16_t remote_port, const std::optional<PeerUrl>& dialed) override
      EXCLUDES(mutex_);
  void OnMessage(PeerId id, std::string text) override EXCLUDES(mutex_);
  void OnClose(PeerId id, const std::string& reason) override EXCLUDES(mutex_);
  void OnDialFailed(const PeerUrl& url, const std::string& reason) override EXCLUDES(mutex_);

  // ChainObserver: relays every new tip (posted to `io`).
  void OnTipChanged(const TipChange& change) override EXCLUDES(mutex_);
  // MempoolListener: relays every transaction the pool takes (posted to `io`).
  void OnTxAccepted(const TxRef& tx, const Hash32& txid, std::uint64_t peer) override
      EXCLUDES(mutex_);

  // Transactions peers sent that were ignored for the per-peer rate.
  std::uint64_t TxsOverRate() const EXCLUDES(mutex_);

 private:
  // A getdata sent and not yet answered.
  struct Request {
    std::vector<Hash32> hashes;
    std::uint64_t sent_ms = 0;
  };
  struct Peer {
    explicit Peer(const Params& params, HeaderSync::Limits limits) : headers(params, limits) {}
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
    Work claimed_work = 0;  // what its hello said its chain has
    // The most-work block of our tree that the peer has shown it has
    // (its hello tip, headers it sent, blocks it announced).
    std::optional<Hash32> best_known;
    Work best_known_work = 0;
    std::uint64_t best_known_height = 0;
    std::uint64_t best_height = 0;  // for GET /peers
    HeaderSync headers;             // its header chain, while it is checked
    // The work its header chain proved (HeaderSync) beyond what is in the
    // tree so far: block data is fetched along the chain while this beats
    // the active tip, even before the headers that show it are added.
    Work proven_work = 0;
    bool getheaders_outstanding = false;
    std::uint64_t getheaders_sent_ms = 0;
    // Header requests to this peer wait: for block data to catch up
    // (max_headers_ahead), or until `headers_retry_ms` after a header too
    // far in the future (0: no retry due).
    bool headers_paused = false;
    std::uint64_t headers_retry_ms = 0;
    std::deque<Request> requests;  // getdata in flight, oldest first
    unsigned unconnecting = 0;     // headers messages in a row that did not connect
    unsigned mismatches = 0;       // redownloads that differed
    std::uint64_t last_ping_ms = 0;
    std::uint64_t ping_nonce = 0;  // outstanding ping, 0 if none
    TokenBucket messages;          // every message it sends
    TokenBucket requests_bucket;   // its getheaders, getdata and getblocks
    TokenBucket junk;              // unrequested blocks the chain could not use
    std::deque<Hash32> known;      // blocks it sent or we sent it (bounded)
    std::unordered_set<Hash32, Hash32Hasher> known_set;
    // Transaction relay (version 3 peers).
    TokenBucket tx_bucket;         // transactions it sends
    std::deque<Hash32> known_txs;  // txids it sent or we sent it (bounded)
    std::unordered_set<Hash32, Hash32Hasher> known_txs_set;
    bool sent_mempool = false;      // our pool's txids went to it (once)
    std::deque<Hash32> wanted_txs;  // from its mempool message, not yet asked for
    bool gettxs_outstanding = false;
    std::uint64_t gettxs_sent_ms = 0;
    std::vector<TxRef> relay_queue;  // to send it, gathered for tx_relay_delay
    std::size_t relay_queue_bytes = 0;
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
    bool wrong_network = false;  // its node is on another network: not dialled again
    std::string last_error;      // why the last dial or connection failed
  };
  // Work computed under the lock, carried out after it is released.
  struct Outgoing {
    PeerId id;
    std::string text;
    std::size_t type;  // a Traffic slot
  };
  struct Actions {
    std::vector<Outgoing> sends;
    std::vector<std::pair<PeerId, std::string>> closes;
    std::vector<PeerUrl> dials;
  };

  void Run(Actions& actions) EXCLUDES(mutex_);
  void SendLocked(Actions& a, PeerId id, const Message& m) REQUIRES(mutex_);
  // error + close + ban (not loopback unless ban_loopback).
  void PunishLocked(Actions& a, Peer& peer, const std::string& reason) REQUIRES(mutex_);
  void CloseLocked(Actions& a, Peer& peer, const std::string& reason) REQUIRES(mutex_);
  void RememberLocked(Peer& peer, const Hash32& hash) REQUIRES(mutex_);
  bool BannedLocked(const std::string& address, std::uint64_t now) const REQUIRES(mutex_);
  void BanLocked(const std::string& address, std::uint64_t now) REQUIRES(mutex_);
  std::uint64_t BackoffMs(unsigned failures) REQUIRES(mutex_);
  Peer* FindLocked(PeerId id) REQUIRES(mutex_);

  // Asks `peer` for the headers after `resume_after` (when set) or after
  // our best header chain, unless a getheaders is outstanding.
  void SendGetHeadersLocked(Actions& a, Peer& peer, std::optional<Hash32> resume_after,
                            std::uint64_t now) REQUIRES(mutex_);
  // Notes that `peer` has the block `info` (if it is more than it showed).
  void ShowedLocked(Peer& peer, const HeaderInfo& info) REQUIRES(mutex_);
  // The claim check at the end of a peer's chain: punishes `peer` (and
  // returns false) when the chain it showed has less work than its hello
  // claimed.
  bool CheckClaimLocked(Actions& a, Peer& peer, const Work& shown) REQUIRES(mutex_);
  // Sends getdata to `peer` for blocks of its best chain that nobody is
  // fetching, while it has room for requests.
  void RequestDataLocked(Actions& a, Peer& peer, const ChainTip& tip, std::uint64_t now)
      REQUIRES(mutex_);
  void RequestDataFromAllLocked(Actions& a, std::uint64_t now) REQUIRES(mutex_);
  // Gives back the hashes `peer` was asked for (not yet answered).
  void ReleaseRequestsLocked(Peer& peer) REQUIRES(mutex_);

  // OnMessage, step by step: the per-peer message rate (false: dropped or
  // punished); the handshake order and request rate; the handler by type.
  bool TakeMessageToken(PeerId id) EXCLUDES(mutex_);
  bool CheckSequence(PeerId id, const Message& message) EXCLUDES(mutex_);
  void Dispatch(PeerId id, Message message) EXCLUDES(mutex_);
  void HandleGetPeers(PeerId id) EXCLUDES(mutex_);
  void HandleError(PeerId id, const std::string& reason) EXCLUDES(mutex_);
  void HandleHello(PeerId id, Hello hello) EXCLUDES(mutex_);
  // The handshake: a hello of another version or network, or from this
  // very node, ends the connection (true); else the peer is connected,
  // unless it is a second connection to the same node or over the inbound
  // cap.
  bool RefuseHelloLocked(Actions& a, Peer& peer, const Hello& hello, Target* target)
      REQUIRES(mutex_);
  void AcceptHelloLocked(Actions& a, Peer& peer, Hello hello) REQUIRES(mutex_);
  void HandleHeaders(PeerId id, std::vector<HashedHeader> headers) EXCLUDES(mutex_);
  void HandleHeadersLocked(Actions& a, Peer& peer, const std::vector<HashedHeader>& headers)
      REQUIRES(mutex_);
  // HandleHeadersLocked, step by step. Picks up the chain being checked, or
  // skips the known prefix of `rest` and starts a check at the fork (false:
  // nothing more to do with this message).
  bool StartHeaderCheckLocked(Actions& a, Peer& peer, std::span<const HashedHeader>& rest,
                              bool answer, bool ended, std::uint64_t now) REQUIRES(mutex_);
  // Adds the headers HeaderSync released to the tree; `paused` when they
  // run too far ahead of the stored blocks (false: the peer was punished).
  bool AddReadyHeadersLocked(Actions& a, Peer& peer, std::uint64_t now, bool* paused)
      REQUIRES(mutex_);
  // Acts on how the feed ended (false: the message is done with).
  bool SettleFeedLocked(Actions& a, Peer& peer, const HeaderSync::FeedResult& fed,
                        std::span<const HashedHeader> rest, std::uint64_t now) REQUIRES(mutex_);
  // A redownload that differs from the first pass: start the peer's header
  // sync over, or drop the peer after max_header_mismatches.
  void RestartHeadersLocked(Actions& a, Peer& peer, std::uint64_t now) REQUIRES(mutex_);
  void HandleGetHeaders(PeerId id, const GetHeaders& m) EXCLUDES(mutex_);
  void HandleGetData(PeerId id, const GetData& m) EXCLUDES(mutex_);
  void HandleGetBlocks(PeerId id, const GetBlocks& m) EXCLUDES(mutex_);
  void HandleBlocks(PeerId id, std::vector<Block> blocks) EXCLUDES(mutex_);
  void HandlePeers(PeerId id, const std::vector<std::string>& urls) EXCLUDES(mutex_);
  // Blocks nobody asked for (a `block` announcement, or what a `blocks`
  // message carried beyond its request): accepted one by one, with the
  // junk limit applied to those the chain could not use.
  void HandleUnrequested(PeerId id, std::vector<Block> blocks) EXCLUDES(mutex_);
  // Sends the blocks with these hashes, as stored (their JSON forms, not
  // decoded), to the peer as one `blocks` message: in order, stopping at
  // the first one not stored and before the answer byte cap.
  void AnswerBlocks(PeerId id, std::span<const Hash32> hashes) EXCLUDES(mutex_);
  void Relay(const Hash32& hash, PeerId source) EXCLUDES(mutex_);

  // Transactions (tx_relay.cpp).
  void RememberTxLocked(Peer& peer, const Hash32& txid) REQUIRES(mutex_);
  // Hands transactions from `id` to the mempool (within its tx rate) and
  // punishes what breaks a consensus rule.
  void HandleTxs(PeerId id, std::vector<Transaction> txs, bool answer) EXCLUDES(mutex_);
  void HandleGetMempool(PeerId id) EXCLUDES(mutex_);
  void HandleMempoolTxids(PeerId id, const std::vector<Hash32>& txids) EXCLUDES(mutex_);
  void HandleGetTxs(PeerId id, const std::vector<Hash32>& txids) EXCLUDES(mutex_);
  // Asks `peer` for the next batch of its pool's transactions we lack.
  void RequestTxsLocked(Actions& a, Peer& peer, std::uint64_t now) REQUIRES(mutex_);
  // Queues a transaction for every peer that lacks it (on relay_strand_);
  // a full queue goes out at once, the rest when relay_timer_ fires.
  void RelayTx(const TxRef& tx, const Hash32& txid, PeerId source) EXCLUDES(mutex_);
  void FlushRelays() EXCLUDES(mutex_);
  void FlushRelayLocked(Actions& a, Peer& peer) REQUIRES(mutex_);

  ChainState& chain_;
  const Clock& clock_;
  boost::asio::io_context& io_;
  // Transaction relay runs on this strand; relay_timer_ and
  // relay_timer_armed_ are touched only there, so no lock guards them.
  boost::asio::strand<boost::asio::io_context::executor_type> relay_strand_;
  boost::asio::steady_timer relay_timer_;
  bool relay_timer_armed_ = false;
  const PeerManagerOptions options_;
  Mempool* const mempool_;             // not owned; may be null
  const std::uint32_t headers_batch_;  // options_.headers_batch within the protocol's limit
  const std::string node_id_;
  const Hash32 genesis_;

  mutable Mutex mutex_;
  PeerLink* link_ GUARDED_BY(mutex_) = nullptr;  // not owned; set by Start
  bool stopped_ GUARDED_BY(mutex_) = false;
  std::map<PeerId, Peer> peers_ GUARDED_BY(mutex_);
  std::map<std::string, Target> targets_ GUARDED_BY(mutex_);        // by url text
  std::map<std::string, std::uint64_t> banned_ GUARDED_BY(mutex_);  // address -> until (ms)
  // Blocks asked for and not yet answered, and who was asked.
  std::unordered_map<Hash32, PeerId, Hash32Hasher> in_flight_ GUARDED_BY(mutex_);
  TokenBucket learned_dials_ GUARDED_BY(mutex_);   // dials of learned addresses
  std::deque<Hash32> relayed_ GUARDED_BY(mutex_);  // bounded, newest last
  std::unordered_set<Hash32, Hash32Hasher> relayed_set_ GUARDED_BY(mutex_);
  std::mt19937_64 rng_ GUARDED_BY(mutex_);
  std::uint64_t txs_over_rate_ GUARDED_BY(mutex_) = 0;
  // Traffic, counted without a lock.
  std::array<std::atomic<std::uint64_t>, Traffic::kSlots> received_messages_{};
  std::array<std::atomic<std::uint64_t>, Traffic::kSlots> received_bytes_{};
  std::array<std::atomic<std::uint64_t>, Traffic::kSlots> sent_messages_{};
  std::array<std::atomic<std::uint64_t>, Traffic::kSlots> sent_bytes_{};
  void CountReceived(std::size_t slot, std::size_t bytes);
};

}  // namespace powchain::p2p
