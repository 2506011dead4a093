#include "p2p/peer_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <random>

#include "util/hex.h"

namespace powchain::p2p {
namespace {

constexpr std::size_t kMaxKnownPerPeer = 2048;
constexpr std::size_t kMaxRelayed = 4096;
constexpr unsigned kMaxLearnedFailures = 3;  // a learned address is dropped after this

bool IsLoopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address.rfind("::ffff:127.", 0) == 0;
}

std::string RandomNodeId() {
  std::random_device rd;
  const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) buf[i] = kHex[(v >> (60 - 4 * i)) & 0xf];
  buf[16] = '\0';
  return buf;
}

std::string Short(const Hash32& h) { return HexEncode(h).substr(0, 16); }

// "over 1000 messages a second (2000 at once)"
std::string OverRate(std::string_view what, double rate, double burst) {
  return fmt::format("over {:g} {} a second ({:g} at once)", rate, what, burst);
}

std::uint64_t Ms(std::chrono::milliseconds d) { return static_cast<std::uint64_t>(d.count()); }

}  // namespace

PeerManager::PeerManager(ChainState& chain, const Clock& clock, boost::asio::io_context& io,
                         PeerManagerOptions options, Mempool* mempool)
    : chain_(chain),
      clock_(clock),
      io_(io),
      relay_strand_(boost::asio::make_strand(io)),
      relay_timer_(relay_strand_),
      options_(std::move(options)),
      mempool_(mempool),
      headers_batch_(std::clamp<std::uint32_t>(
          options_.headers_batch, 1,
          static_cast<std::uint32_t>(ProtocolLimits::kMaxHeadersPerMessage))),
      node_id_(RandomNodeId()),
      genesis_(chain.GenesisHash()),
      learned_dials_(options_.learned_dial_rate, options_.learned_dial_burst, clock.NowMs()),
      rng_(std::random_device{}()) {}

PeerManager::~PeerManager() { Stop(); }

void PeerManager::Start(PeerLink& link, const std::vector<PeerUrl>& peers) {
  {
    MutexLock lock(mutex_);
    link_ = &link;
    for (const PeerUrl& url : peers) {
      Target& t = targets_[url.ToString()];
      t.url = url;
      t.persistent = true;
    }
  }
  chain_.AddObserver(this);
  if (mempool_ != nullptr) mempool_->AddListener(this);
  Tick();
}

void PeerManager::Stop() {
  {
    MutexLock lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  chain_.RemoveObserver(this);
  if (mempool_ != nullptr) mempool_->RemoveListener(this);
}

void PeerManager::Run(Actions& a) {
  PeerLink* link = nullptr;
  {
    MutexLock lock(mutex_);
    link = link_;
  }
  if (link == nullptr) return;
  for (Outgoing& out : a.sends) {
    sent_messages_[out.type].fetch_add(1, std::memory_order_relaxed);
    sent_bytes_[out.type].fetch_add(out.text.size(), std::memory_order_relaxed);
    link->Send(out.id, std::move(out.text));
  }
  for (auto& [id, reason] : a.closes) link->Close(id, reason);
  for (const PeerUrl& url : a.dials) link->Dial(url);
}

void PeerManager::SendLocked(Actions& a, PeerId id, const Message& m) {
  a.sends.push_back(Outgoing{id, Encode(m), m.index()});
}

void PeerManager::CloseLocked(Actions& a, Peer& peer, const std::string& reason) {
  if (peer.closing) return;
  peer.closing = true;
  ReleaseRequestsLocked(peer);
  a.closes.emplace_back(peer.id, reason);
}

void PeerManager::PunishLocked(Actions& a, Peer& peer, const std::string& reason) {
  if (peer.closing) return;
  const bool ban = options_.ban_loopback || !IsLoopback(peer.address);
  spdlog::warn("peer {} ({}) misbehaved: {}; disconnecting{}", peer.id, peer.address, reason,
               ban ? " and refusing its address for a while" : "");
  SendLocked(a, peer.id, ErrorMsg{reason});
  CloseLocked(a, peer, reason);
  if (ban) BanLocked(peer.address, clock_.NowMs());
}

void PeerManager::RememberLocked(Peer& peer, const Hash32& hash) {
  if (!peer.known_set.insert(hash).second) return;
  peer.known.push_back(hash);
  if (peer.known.size() > kMaxKnownPerPeer) {
    peer.known_set.erase(peer.known.front());
    peer.known.pop_front();
  }
}

bool PeerManager::BannedLocked(const std::string& address, std::uint64_t now) const {
  auto it = banned_.find(address);
  return it != banned_.end() && it->second > now;
}

void PeerManager::BanLocked(const std::string& address, std::uint64_t now) {
  const std::uint64_t until = now + Ms(options_.ban_duration);
  if (!banned_.contains(address) && banned_.size() >= options_.max_banned && !banned_.empty()) {
    // Full: forget the refusal that ends first.
    auto first = std::min_element(banned_.begin(), banned_.end(),
                                  [](const auto& x, const auto& y) { return x.second < y.second; });
    banned_.erase(first);
  }
  if (options_.max_banned > 0) banned_[address] = until;
}

std::uint64_t PeerManager::BackoffMs(unsigned failures) {
  const auto min = Ms(options_.dial_backoff_min);
  const auto max = Ms(options_.dial_backoff_max);
  const std::uint64_t base = std::min(max, min << std::min(failures, 20u));
  // Full jitter over the upper half, so peers started together spread out.
  std::uniform_int_distribution<std::uint64_t> jitter(base / 2, base);
  return jitter(rng_);
}

PeerManager::Peer* PeerManager::FindLocked(PeerId id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

// --- Timers --------------------------------------------------------------

void PeerManager::Tick() {
  Actions a;
  {
    MutexLock lock(mutex_);
    if (stopped_ || link_ == nullptr) return;
    const std::uint64_t now = clock_.NowMs();
    const std::uint64_t stall = Ms(options_.sync_stall_timeout);
    // Outbound connections, handshaked or not, plus dials in progress:
    // every one holds a socket, so every one counts against the cap.
    std::size_t outbound = 0;
    std::set<std::string> connected_ids;
    for (auto& [id, peer] : peers_) {
      if (peer.closing) continue;
      if (peer.direction == Direction::kOutbound) ++outbound;
      if (!peer.handshaked) {
        if (now - peer.opened_ms >= Ms(options_.handshake_timeout)) {
          CloseLocked(a, peer, "handshake timeout");
        }
        continue;
      }
      connected_ids.insert(peer.hello.node_id);
      if (peer.ping_nonce != 0 && now - peer.last_ping_ms >= Ms(options_.ping_timeout)) {
        CloseLocked(a, peer, "ping timeout");
        continue;
      }
      if (peer.ping_nonce == 0 && now - peer.last_ping_ms >= Ms(options_.ping_interval)) {
        peer.ping_nonce = std::uniform_int_distribution<std::uint64_t>(1, 1ull << 53)(rng_);
        peer.last_ping_ms = now;
        SendLocked(a, id, Ping{peer.ping_nonce});
      }
      if (peer.getheaders_outstanding && now - peer.getheaders_sent_ms >= stall) {
        spdlog::warn("peer {} did not answer getheaders; dropping it", id);
        CloseLocked(a, peer, "sync stalled: getheaders unanswered");
      } else if (!peer.requests.empty() && now - peer.requests.front().sent_ms >= stall) {
        spdlog::warn("peer {} did not answer getdata; dropping it", id);
        CloseLocked(a, peer, "sync stalled: getdata unanswered");
      } else if (peer.gettxs_outstanding && now - peer.gettxs_sent_ms >= stall) {
        // Its pool's transactions are a courtesy: stop asking, keep the peer.
        peer.gettxs_outstanding = false;
        peer.wanted_txs.clear();
      }
    }
    for (const auto& [text, t] : targets_) {
      if (t.dialing && !t.peer) ++outbound;
    }
    for (auto& [text, t] : targets_) {
      if (outbound >= options_.max_outbound) break;
      if (t.is_self || t.wrong_network || t.dialing || t.peer || now < t.next_attempt_ms) {
        continue;
      }
      if (!t.node_id.empty() && connected_ids.contains(t.node_id)) continue;  // reached otherwise
      if (BannedLocked(t.url.host, now)) continue;
      // Learned addresses cost a dial each, whoever sent them: at a bounded
      // rate. Configured ones are few and always tried.
      if (!t.persistent && !learned_dials_.Take(now)) continue;
      t.dialing = true;
      ++outbound;
      a.dials.push_back(t.url);
    }
    std::erase_if(banned_, [now](const auto& kv) { return kv.second <= now; });
    // Header requests that waited: for the blocks of the peer's chain to
    // catch up, or for a header too far in the future to come in time.
    for (auto& [id, peer] : peers_) {
      if (!peer.handshaked || peer.closing) continue;
      bool resume = peer.headers_retry_ms != 0 && now >= peer.headers_retry_ms;
      if (peer.headers_paused && peer.best_known) {
        const std::uint64_t stored = chain_.StoredHeightOn(*peer.best_known).value_or(0);
        resume = resume || peer.best_known_height < stored + options_.max_headers_ahead / 2;
      }
      if (resume) {
        peer.headers_paused = false;
        peer.headers_retry_ms = 0;
        std::optional<Hash32> after;
        if (peer.headers.active()) after = peer.headers.ResumeAfter();
        SendGetHeadersLocked(a, peer, after, now);
      }
    }
    RequestDataFromAllLocked(a, now);
  }
  Run(a);
}

Status PeerManager::AddPeer(const PeerUrl& url) {
  {
    MutexLock lock(mutex_);
    if (stopped_) return Error{"the node is stopping"};
    if (BannedLocked(url.host, clock_.NowMs())) {
      return Error{url.ToString() + " is refused for a while after misbehaving"};
    }
    Target& t = targets_[url.ToString()];
    if (t.persistent) return Error{url.ToString() + " is already a peer"};
    t.url = url;
    t.persistent = true;
    t.failures = 0;
    t.next_attempt_ms = 0;
  }
  Tick();
  return {};
}

Status PeerManager::RemovePeer(const PeerUrl& url) {
  Actions a;
  {
    MutexLock lock(mutex_);
    const auto t = targets_.find(url.ToString());
    if (t == targets_.end() || !t->second.persistent) {
      return Error{url.ToString() + " is not a configured peer"};
    }
    if (t->second.peer) {
      if (Peer* peer = FindLocked(*t->second.peer)) CloseLocked(a, *peer, "removed");
    }
    targets_.erase(t);
  }
  Run(a);
  spdlog::info("peer {} removed; it is not dialled again", url.ToString());
  return {};
}

// --- Transport events ----------------------------------------------------

void PeerManager::OnOpen(PeerId id, Direction direction, const std::string& remote_address,
                         std::uint16_t remote_port, const std::optional<PeerUrl>& dialed) {
  const ChainTip tip = chain_.Tip();
  Actions a;
  {
    MutexLock lock(mutex_);
    const std::uint64_t now = clock_.NowMs();
    Peer& peer = peers_.try_emplace(id, chain_.params(), options_.header_limits).first->second;
    peer.id = id;
    peer.direction = direction;
    peer.address = remote_address;
    peer.remote_port = remote_port;
    peer.dialed = dialed;
    peer.opened_ms = now;
    peer.messages = TokenBucket(options_.message_rate, options_.message_burst, now);
    peer.requests_bucket = TokenBucket(options_.request_rate, options_.request_burst, now);
    peer.junk = TokenBucket(options_.junk_rate, options_.junk_burst, now);
    peer.tx_bucket = TokenBucket(options_.tx_rate, options_.tx_burst, now);
    if (dialed) {
      auto it = targets_.find(dialed->ToString());
      if (it != targets_.end()) {
        Target& target = it->second;
        if (target.persistent && target.failures > 0) {
          spdlog::info("peer {} is reachable again", target.url.ToString());
        }
        target.dialing = false;
        target.peer = id;
      }
    }
    if (stopped_) {
      CloseLocked(a, peer, "node is stopping");
    } else if (direction == Direction::kInbound && BannedLocked(remote_address, now)) {
      SendLocked(a, id, ErrorMsg{"your address is refused for a while"});
      CloseLocked(a, peer, "banned address");
    } else {
      Hello hello;
      hello.genesis = genesis_;
      hello.height = tip.height();
      hello.tip = tip.hash();
      hello.work = tip.work;
      hello.port = options_.listen_port;
      hello.agent = options_.agent;
      hello.node_id = node_id_;
      SendLocked(a, id, hello);
      spdlog::debug("peer {} open ({} {}:{})", id,
                    direction == Direction::kInbound ? "inbound" : "outbound", remote_address,
                    remote_port);
    }
  }
  Run(a);
}

void PeerManager::OnClose(PeerId id, const std::string& reason) {
  Actions a;
  {
    MutexLock lock(mutex_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    Peer& peer = it->second;
    if (peer.handshaked) {
      spdlog::info("peer {} disconnected ({}): {}", id, peer.address, reason);
    }
    if (peer.dialed) {
      auto t = targets_.find(peer.dialed->ToString());
      if (t != targets_.end() && t->second.peer == id) {
        Target& target = t->second;
        target.peer.reset();
        target.dialing = false;
        // A peer that went through the handshake is redialled soon; one that
        // failed before it backs off like a failed dial.
        target.failures = peer.handshaked ? 0 : target.failures + 1;
        target.next_attempt_ms = clock_.NowMs() + BackoffMs(target.failures);
        if (target.last_error.empty() || peer.handshaked) target.last_error = reason;
        if (!target.persistent && target.failures >= kMaxLearnedFailures) targets_.erase(t);
      }
    }
    ReleaseRequestsLocked(peer);
    peers_.erase(it);
    // What it was fetching goes to the others.
    RequestDataFromAllLocked(a, clock_.NowMs());
  }
  Run(a);
}

void PeerManager::OnDialFailed(const PeerUrl& url, const std::string& reason) {
  MutexLock lock(mutex_);
  auto t = targets_.find(url.ToString());
  if (t == targets_.end()) return;
  Target& target = t->second;
  target.dialing = false;
  ++target.failures;
  target.last_error = reason;
  target.next_attempt_ms = clock_.NowMs() + BackoffMs(target.failures);
  if (target.persistent && target.failures == 1) {
    // Said once, at the first failure: a mistyped or unreachable peer is
    // visible at the default log level without a line per retry.
    spdlog::warn(
        "cannot reach peer {}: {}; retrying in {:.1f} s, then backing off to every {} s "
        "(GET /peers shows its state)",
        url.ToString(), reason, (target.next_attempt_ms - clock_.NowMs()) / 1000.0,
        std::chrono::duration_cast<std::chrono::seconds>(options_.dial_backoff_max).count());
  }
  spdlog::debug("dial {} failed ({}); retry in {} ms", url.ToString(), reason,
                target.next_attempt_ms - clock_.NowMs());
  if (!target.persistent && target.failures >= kMaxLearnedFailures) targets_.erase(t);
}

void PeerManager::OnMessage(PeerId id, std::string text) {
  if (!TakeMessageToken(id)) {
    CountReceived(Traffic::kDropped, text.size());
    return;
  }
  auto decoded = Decode(text);
  if (auto* failure = std::get_if<DecodeFailure>(&decoded)) {
    CountReceived(Traffic::kInvalid, text.size());
    Actions a;
    {
      MutexLock lock(mutex_);
      Peer* peer = FindLocked(id);
      if (peer == nullptr) return;
      PunishLocked(a, *peer, "malformed message: " + failure->message);
    }
    Run(a);
    return;
  }
  Message message = std::move(std::get<Message>(decoded));
  CountReceived(message.index(), text.size());
  if (!CheckSequence(id, message)) return;
  Dispatch(id, std::move(message));
}

void PeerManager::CountReceived(std::size_t slot, std::size_t bytes) {
  received_messages_[slot].fetch_add(1, std::memory_order_relaxed);
  received_bytes_[slot].fetch_add(bytes, std::memory_order_relaxed);
}

PeerManager::Traffic PeerManager::GetTraffic() const {
  Traffic out;
  for (std::size_t i = 0; i < Traffic::kSlots; ++i) {
    out.received_messages[i] = received_messages_[i].load(std::memory_order_relaxed);
    out.received_bytes[i] = received_bytes_[i].load(std::memory_order_relaxed);
    out.sent_messages[i] = sent_messages_[i].load(std::memory_order_relaxed);
    out.sent_bytes[i] = sent_bytes_[i].load(std::memory_order_relaxed);
  }
  return out;
}

std::string_view PeerManager::Traffic::SlotName(std::size_t slot) {
  if (slot == kInvalid) return "invalid";
  if (slot == kDropped) return "dropped";
  if (slot >= kTypes) return "?";
  // A default-constructed alternative of each index names its type.
  static const std::array<std::string, kTypes> names = [] {
    std::array<std::string, kTypes> out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((out[I] = std::string(TypeName(Message(std::in_place_index<I>)))), ...);
    }
    (std::make_index_sequence<kTypes>());
    return out;
  }();
  return names[slot];
}

bool PeerManager::TakeMessageToken(PeerId id) {
  // The rate limit comes before decoding, so a flood costs little.
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr || peer->closing) return false;
    if (peer->messages.Take(clock_.NowMs())) return true;
    PunishLocked(
        a, *peer,
        "message flood: " + OverRate("messages", options_.message_rate, options_.message_burst));
  }
  Run(a);
  return false;
}

bool PeerManager::CheckSequence(PeerId id, const Message& message) {
  // Only hello may come first; after it, hello is a violation.
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr || peer->closing) return false;
    const bool is_hello = std::holds_alternative<Hello>(message);
    const bool is_request =
        std::holds_alternative<GetHeaders>(message) || std::holds_alternative<GetData>(message) ||
        std::holds_alternative<GetBlocks>(message) || std::holds_alternative<GetMempool>(message) ||
        std::holds_alternative<GetTxs>(message);
    if (is_hello == peer->handshaked) {
      PunishLocked(
          a, *peer,
          is_hello ? "hello sent twice" : std::string(TypeName(message)) + " before hello");
    } else if (is_request && !peer->requests_bucket.Take(clock_.NowMs())) {
      PunishLocked(a, *peer,
                   std::string(TypeName(message)) + " flood: " +
                       OverRate("requests for headers or blocks", options_.request_rate,
                                options_.request_burst));
    } else {
      return true;
    }
  }
  Run(a);
  return false;
}

void PeerManager::Dispatch(PeerId id, Message message) {
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Hello>) {
          HandleHello(id, std::move(m));
        } else if constexpr (std::is_same_v<T, BlockMsg>) {
          std::vector<Block> one;
          one.push_back(std::move(m.block));
          HandleUnrequested(id, std::move(one));
        } else if constexpr (std::is_same_v<T, GetHeaders>) {
          HandleGetHeaders(id, m);
        } else if constexpr (std::is_same_v<T, Headers>) {
          HandleHeaders(id, std::move(m.headers));
        } else if constexpr (std::is_same_v<T, GetData>) {
          HandleGetData(id, m);
        } else if constexpr (std::is_same_v<T, GetBlocks>) {
          HandleGetBlocks(id, m);
        } else if constexpr (std::is_same_v<T, Blocks>) {
          HandleBlocks(id, std::move(m.blocks));
        } else if constexpr (std::is_same_v<T, GetPeers>) {
          HandleGetPeers(id);
        } else if constexpr (std::is_same_v<T, p2p::Peers>) {
          HandlePeers(id, m.peers);
        } else if constexpr (std::is_same_v<T, Ping>) {
          Actions a;
          {
            MutexLock lock(mutex_);
            SendLocked(a, id, Pong{m.nonce});
          }
          Run(a);
        } else if constexpr (std::is_same_v<T, Pong>) {
          MutexLock lock(mutex_);
          Peer* peer = FindLocked(id);
          if (peer != nullptr && peer->ping_nonce == m.nonce) peer->ping_nonce = 0;
        } else if constexpr (std::is_same_v<T, ErrorMsg>) {
          HandleError(id, m.reason);
        } else if constexpr (std::is_same_v<T, TxMsg>) {
          std::vector<Transaction> one;
          one.push_back(std::move(m.tx));
          HandleTxs(id, std::move(one), false);
        } else if constexpr (std::is_same_v<T, GetMempool>) {
          HandleGetMempool(id);
        } else if constexpr (std::is_same_v<T, MempoolTxids>) {
          HandleMempoolTxids(id, m.txids);
        } else if constexpr (std::is_same_v<T, GetTxs>) {
          HandleGetTxs(id, m.txids);
        } else if constexpr (std::is_same_v<T, Txs>) {
          HandleTxs(id, std::move(m.txs), true);
        }
      },
      message);
}

void PeerManager::HandleGetPeers(PeerId id) {
  Actions a;
  {
    MutexLock lock(mutex_);
    p2p::Peers reply;
    for (const auto& [other_id, p] : peers_) {
      if (other_id == id || !p.handshaked || p.closing) continue;
      if (p.dialed) {
        reply.peers.push_back(p.dialed->ToString());
      } else if (p.hello.port) {
        reply.peers.push_back(PeerUrl{p.address, *p.hello.port}.ToString());
      }
      if (reply.peers.size() >= ProtocolLimits::kMaxPeersPerMessage) break;
    }
    SendLocked(a, id, reply);
  }
  Run(a);
}

void PeerManager::HandleError(PeerId id, const std::string& reason) {
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr) return;
    spdlog::info("peer {} sent error: {}", id, reason);
    CloseLocked(a, *peer, "peer reported: " + reason);
  }
  Run(a);
}

// --- Handshake -----------------------------------------------------------

void PeerManager::HandleHello(PeerId id, Hello hello) {
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr) return;
    Target* target = nullptr;
    if (peer->dialed) {
      auto t = targets_.find(peer->dialed->ToString());
      if (t != targets_.end()) target = &t->second;
    }
    if (!RefuseHelloLocked(a, *peer, hello, target)) {
      if (target != nullptr) target->node_id = hello.node_id;
      AcceptHelloLocked(a, *peer, std::move(hello));
    }
  }
  Run(a);
}

bool PeerManager::RefuseHelloLocked(Actions& a, Peer& peer, const Hello& hello, Target* target) {
  const PeerId id = peer.id;
  if (hello.version < kMinProtocolVersion || hello.version > kProtocolVersion) {
    spdlog::info("peer {} ({}) speaks protocol version {}; disconnecting", id, peer.address,
                 hello.version);
    SendLocked(a, id, ErrorMsg{"unsupported protocol version " + std::to_string(hello.version)});
    CloseLocked(a, peer, "unsupported protocol version");
    if (target != nullptr)
      target->last_error = "speaks protocol version " + std::to_string(hello.version);
    return true;
  }
  if (hello.genesis != genesis_) {
    spdlog::info("peer {} ({}) is on another network (genesis {}); disconnecting", id, peer.address,
                 Short(hello.genesis));
    SendLocked(a, id,
               ErrorMsg{"another network: genesis " + HexEncode(hello.genesis) + ", expected " +
                        HexEncode(genesis_)});
    CloseLocked(a, peer, "another network (genesis " + Short(hello.genesis) + ")");
    if (target != nullptr) {
      // No use dialling it again: it stays listed, as refused, until removed.
      target->wrong_network = true;
      target->last_error = "another network (genesis " + Short(hello.genesis) + ")";
      spdlog::warn("peer {} is on another network; not dialling it again", target->url.ToString());
    }
    return true;
  }
  if (!hello.node_id.empty() && hello.node_id == node_id_) {
    CloseLocked(a, peer, "connected to self");
    if (target != nullptr) target->is_self = true;
    return true;
  }
  return false;
}

void PeerManager::AcceptHelloLocked(Actions& a, Peer& peer, Hello hello) {
  const PeerId id = peer.id;
  // One connection per pair of nodes: of two, keep the one dialled by the
  // node with the smaller id (both ends decide alike).
  Peer* duplicate = nullptr;
  std::size_t inbound = 0;
  for (auto& [other_id, other] : peers_) {
    if (!other.handshaked || other.closing) continue;
    if (other.direction == Direction::kInbound) ++inbound;
    if (other_id != id && !hello.node_id.empty() && other.hello.node_id == hello.node_id) {
      duplicate = &other;
    }
  }
  const std::string& dialer = peer.direction == Direction::kOutbound ? node_id_ : hello.node_id;
  if (duplicate != nullptr && dialer != std::min(node_id_, hello.node_id)) {
    CloseLocked(a, peer, "duplicate connection");
    return;
  }
  if (duplicate == nullptr && peer.direction == Direction::kInbound &&
      inbound >= options_.max_inbound) {
    SendLocked(a, id, ErrorMsg{"too many peers"});
    CloseLocked(a, peer, "inbound peer limit reached");
    return;
  }
  if (duplicate != nullptr) CloseLocked(a, *duplicate, "duplicate connection");
  const std::uint64_t now = clock_.NowMs();
  peer.handshaked = true;
  peer.connected_since_ms = now;
  peer.last_ping_ms = now;
  peer.claimed_work = hello.work;
  peer.best_height = hello.height;
  peer.hello = std::move(hello);
  RememberLocked(peer, peer.hello.tip);
  spdlog::info("peer {} connected: {} {}:{} {} height {}", id,
               peer.direction == Direction::kInbound ? "inbound" : "outbound", peer.address,
               peer.remote_port, peer.hello.agent, peer.hello.height);
  SendLocked(a, id, GetPeers{});
  // Learn its pool (version 3 and up).
  if (mempool_ != nullptr && peer.hello.version >= kTxRelayVersion) SendLocked(a, id, GetMempool{});
  const ChainTip tip = chain_.Tip();
  if (const auto known = chain_.Header(peer.hello.tip)) {
    // Its tip is in our tree: the work it claims must be that tip's.
    if (peer.claimed_work > known->chain_work) {
      PunishLocked(a, peer,
                   "hello claims work " + WorkToHex(peer.claimed_work) + " for tip " +
                       Short(peer.hello.tip) + ", which has " + WorkToHex(known->chain_work));
    } else {
      ShowedLocked(peer, *known);
      RequestDataLocked(a, peer, tip, now);
    }
  } else if (peer.claimed_work > tip.work) {
    // It claims more than we have: its headers first.
    SendGetHeadersLocked(a, peer, std::nullopt, now);
  }
}

// --- Headers-first sync --------------------------------------------------

void PeerManager::SendGetHeadersLocked(Actions& a, Peer& peer, std::optional<Hash32> resume_after,
                                       std::uint64_t now) {
  if (peer.getheaders_outstanding || peer.closing || stopped_) return;
  GetHeaders request;
  request.locator = chain_.HeaderLocator();
  if (resume_after) {
    // The peer answers after the first hash it knows: the one to resume
    // after comes first, our chain's locator behind it in case the peer
    // has moved off it.
    request.locator.insert(request.locator.begin(), *resume_after);
    if (request.locator.size() > ProtocolLimits::kMaxLocator) {
      request.locator.resize(ProtocolLimits::kMaxLocator - 1);
      request.locator.push_back(genesis_);
    }
  }
  request.limit = headers_batch_;
  peer.getheaders_outstanding = true;
  peer.getheaders_sent_ms = now;
  SendLocked(a, peer.id, request);
}

void PeerManager::ShowedLocked(Peer& peer, const HeaderInfo& info) {
  if (info.failed) return;
  peer.best_height = std::max(peer.best_height, info.height);
  if (!peer.best_known || info.chain_work > peer.best_known_work) {
    peer.best_known = info.hash;
    peer.best_known_work = info.chain_work;
    peer.best_known_height = info.height;
  }
}

bool PeerManager::CheckClaimLocked(Actions& a, Peer& peer, const Work& shown) {
  if (peer.claimed_work <= shown) return true;
  PunishLocked(a, peer,
               "claimed work " + WorkToHex(peer.claimed_work) + " but its headers end at work " +
                   WorkToHex(shown));
  return false;
}

void PeerManager::HandleHeaders(PeerId id, std::vector<HashedHeader> headers) {
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr || peer->closing) return;
    HandleHeadersLocked(a, *peer, headers);
    if (!peer->closing) RequestDataFromAllLocked(a, clock_.NowMs());
  }
  Run(a);
}

void PeerManager::HandleHeadersLocked(Actions& a, Peer& peer,
                                      const std::vector<HashedHeader>& headers) {
  const std::uint64_t now = clock_.NowMs();
  const bool answer = peer.getheaders_outstanding;
  peer.getheaders_outstanding = false;
  // An answer holding fewer headers than asked for ends the peer's chain.
  const bool ended = answer && headers.size() < headers_batch_;
  HeaderSync& sync = peer.headers;
  std::span<const HashedHeader> rest(headers);

  if (rest.empty()) {
    if (!ended) return;
    // Nothing after our locator: its chain ends at the last header it sent,
    // or on our best header chain (whose hash it found first).
    const Work shown = sync.active() ? sync.tail_work() : chain_.BestHeader().chain_work;
    if (!CheckClaimLocked(a, peer, shown)) return;
    if (sync.phase() == HeaderSync::Phase::kRedownload) RestartHeadersLocked(a, peer, now);
    sync.Reset();
    return;
  }
  if (!StartHeaderCheckLocked(a, peer, rest, answer, ended, now)) return;
  peer.unconnecting = 0;
  const HeaderSync::Phase before = sync.phase();
  // To enter the tree a chain must beat every header known, not only the
  // active tip: cheap chains cannot pile up beside the best one.
  const HeaderSync::FeedResult fed = sync.Feed(rest, now, chain_.BestHeader().chain_work);
  const Work shown = sync.tail_work();
  if (sync.phase() == HeaderSync::Phase::kRedownload ||
      sync.phase() == HeaderSync::Phase::kProven) {
    peer.proven_work = std::max(peer.proven_work, sync.proven_work());
  }
  bool paused = false;
  if (!AddReadyHeadersLocked(a, peer, now, &paused)) return;
  if (!SettleFeedLocked(a, peer, fed, rest, now)) return;
  if (before == HeaderSync::Phase::kRedownload && sync.phase() == HeaderSync::Phase::kProven) {
    peer.mismatches = 0;  // the redownload matched all the way
  }
  if (paused) {
    // Block data first; Tick asks again, from where this stopped, once it
    // has caught up.
    peer.headers_paused = true;
    return;
  }
  if (before == HeaderSync::Phase::kPresync && sync.phase() == HeaderSync::Phase::kRedownload) {
    spdlog::info(
        "peer {}: its header chain proved more work than ours {} headers after the fork; "
        "fetching it again from the fork to add it",
        peer.id, sync.proven_height() - sync.tail_height());
    SendGetHeadersLocked(a, peer, sync.ResumeAfter(), now);
    return;
  }
  if (ended) {
    if (!CheckClaimLocked(a, peer, shown)) return;
    if (sync.phase() == HeaderSync::Phase::kRedownload) {
      // It showed more than this the first time: it moved to another
      // chain meanwhile, or lies. Start over (bounded by mismatches).
      RestartHeadersLocked(a, peer, now);
      return;
    }
    // A chain that never proved its work is dropped here, unstored.
    sync.Reset();
    return;
  }
  if (answer) SendGetHeadersLocked(a, peer, sync.ResumeAfter(), now);
}

bool PeerManager::StartHeaderCheckLocked(Actions& a, Peer& peer,
                                         std::span<const HashedHeader>& rest, bool answer,
                                         bool ended, std::uint64_t now) {
  // Continue the chain being checked; otherwise skip what the tree already
  // holds (the peer shows it has those blocks) and start a check at the
  // block the first new header builds on.
  HeaderSync& sync = peer.headers;
  if (sync.active() && rest.front().header.last_hash == sync.ResumeAfter()) return true;
  std::optional<HeaderInfo> last_known;
  const std::size_t known = chain_.KnownPrefix(rest, &last_known);
  if (last_known) ShowedLocked(peer, *last_known);
  rest = rest.subspan(known);
  if (rest.empty()) {
    sync.Reset();
    peer.unconnecting = 0;
    if (ended) {
      CheckClaimLocked(a, peer, last_known->chain_work);
    } else if (answer) {
      SendGetHeadersLocked(a, peer, last_known->hash, now);
    }
    return false;
  }
  auto anchor = chain_.AnchorFor(rest.front().header.last_hash);
  if (!anchor) {
    if (++peer.unconnecting > options_.max_unconnecting_headers) {
      PunishLocked(
          a, peer,
          "headers that do not connect, " + std::to_string(peer.unconnecting) + " times in a row");
    } else {
      sync.Reset();
      SendGetHeadersLocked(a, peer, std::nullopt, now);
    }
    return false;
  }
  sync.Begin(std::move(*anchor));
  return true;
}

bool PeerManager::AddReadyHeadersLocked(Actions& a, Peer& peer, std::uint64_t now, bool* paused) {
  const std::vector<HashedHeader> ready = peer.headers.TakeReady();
  if (ready.empty()) return true;
  const AddHeadersResult added = chain_.AddHeaders(ready, now);
  if (added.last) ShowedLocked(peer, *added.last);
  if (!added.ok()) {
    PunishLocked(a, peer,
                 "invalid header " + Short(ready[added.index].hash) + ": " +
                     std::string(BlockErrorName(added.validation.error)) + " (" +
                     added.validation.message + ")");
    return false;
  }
  // Headers without data stay within max_headers_ahead (and one message)
  // of their chain's last stored block: past it, wait for the blocks.
  const std::uint64_t stored = chain_.StoredHeightOn(ready.back().hash).value_or(0);
  *paused = ready.back().header.height > stored + options_.max_headers_ahead;
  return true;
}

bool PeerManager::SettleFeedLocked(Actions& a, Peer& peer, const HeaderSync::FeedResult& fed,
                                   std::span<const HashedHeader> rest, std::uint64_t now) {
  const std::string at = fed.index < rest.size() ? Short(rest[fed.index].hash) : std::string("?");
  switch (fed.status) {
    case HeaderSync::Status::kOk:
      return true;
    case HeaderSync::Status::kInvalid:
      PunishLocked(a, peer,
                   "invalid header " + at + ": " +
                       std::string(BlockErrorName(fed.validation.error)) + " (" +
                       fed.validation.message + ")");
      return false;
    case HeaderSync::Status::kTooNew:
      // Our clock may be behind: no blame, and no claim check on a chain cut
      // short here. Asked again once that header may be in time.
      spdlog::info("peer {} sent header {} too far in the future: {}", peer.id, at,
                   fed.validation.message);
      peer.headers.Reset();
      peer.headers_retry_ms = now + chain_.params().max_future_drift_ms;
      return false;
    case HeaderSync::Status::kMismatch:
      RestartHeadersLocked(a, peer, now);
      return false;
    case HeaderSync::Status::kTooLong:
      PunishLocked(a, peer,
                   "a header chain of over " + std::to_string(options_.header_limits.max_length) +
                       " headers without enough work");
      return false;
  }
  return false;
}

void PeerManager::RestartHeadersLocked(Actions& a, Peer& peer, std::uint64_t now) {
  peer.headers.Reset();
  if (++peer.mismatches > options_.max_header_mismatches) {
    CloseLocked(a, peer, "headers changed during redownload");
    return;
  }
  SendGetHeadersLocked(a, peer, std::nullopt, now);
}

void PeerManager::RequestDataLocked(Actions& a, Peer& peer, const ChainTip& tip,
                                    std::uint64_t now) {
  if (!peer.handshaked || peer.closing || stopped_ || !peer.best_known) return;
  // Its chain is worth fetching when what it showed, or what its header
  // chain proved (headers not all added yet), beats the active tip.
  if (std::max(peer.best_known_work, peer.proven_work) <= tip.work) return;
  while (peer.requests.size() < options_.max_requests_per_peer) {
    GetData request;
    for (const Hash32& h : chain_.BlocksToDownload(*peer.best_known, options_.download_window)) {
      if (in_flight_.contains(h)) continue;
      request.hashes.push_back(h);
      if (request.hashes.size() >= options_.sync_batch) break;
    }
    if (request.hashes.empty()) return;
    for (const Hash32& h : request.hashes) in_flight_.emplace(h, peer.id);
    peer.requests.push_back(Request{request.hashes, now});
    SendLocked(a, peer.id, request);
  }
}

void PeerManager::RequestDataFromAllLocked(Actions& a, std::uint64_t now) {
  if (stopped_) return;
  const ChainTip tip = chain_.Tip();
  for (auto& [id, peer] : peers_) RequestDataLocked(a, peer, tip, now);
}

void PeerManager::ReleaseRequestsLocked(Peer& peer) {
  for (const Request& r : peer.requests) {
    for (const Hash32& h : r.hashes) {
      auto it = in_flight_.find(h);
      if (it != in_flight_.end() && it->second == peer.id) in_flight_.erase(it);
    }
  }
  peer.requests.clear();
}

// --- Serving -------------------------------------------------------------

void PeerManager::HandleGetHeaders(PeerId id, const GetHeaders& m) {
  const std::size_t limit = std::min<std::size_t>(m.limit, ProtocolLimits::kMaxHeadersPerMessage);
  Headers reply;
  reply.headers = chain_.HeadersAfter(m.locator, limit);
  Actions a;
  {
    MutexLock lock(mutex_);
    if (FindLocked(id) == nullptr) return;
    SendLocked(a, id, reply);
  }
  Run(a);
}

void PeerManager::AnswerBlocks(PeerId id, std::span<const Hash32> hashes) {
  // The blocks' stored JSON forms, copied into the message as they are;
  // read into a buffer this thread keeps, so that a batch does not fault in
  // fresh pages as its string grows (docs/performance.md, "A small
  // answer's cost, and runs read without page faults").
  thread_local std::string items;
  items.clear();
  std::size_t count = 0;
  if (!hashes.empty()) {
    auto read = chain_.AppendBlocksJson(hashes, items, options_.max_answer_bytes);
    if (!read) {
      spdlog::error("cannot read blocks to serve a peer: {}", read.error());
      items.clear();
    } else {
      count = read->count;
      if (count < hashes.size() && items.size() < options_.max_answer_bytes / 2) {
        spdlog::debug("peer {} asked for {} blocks, {} of them stored", id, hashes.size(), count);
      }
    }
  }
  std::string text = EncodeBlocksJson(items);
  if (items.capacity() > 2 * options_.max_answer_bytes) std::string().swap(items);
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr) return;
    for (std::size_t i = 0; i < count; ++i) RememberLocked(*peer, hashes[i]);
    a.sends.push_back(Outgoing{id, std::move(text), Message(Blocks{}).index()});
  }
  Run(a);
}

void PeerManager::HandleGetData(PeerId id, const GetData& m) {
  // Blocks on any branch, in the order asked, stopping at the first one
  // not stored and at the byte cap; one read for the whole answer.
  const std::size_t limit = std::min<std::size_t>(m.hashes.size(), options_.max_blocks_per_answer);
  const std::span<const Hash32> hashes(m.hashes.data(), limit);
  AnswerBlocks(id, hashes);
}

void PeerManager::HandleGetBlocks(PeerId id, const GetBlocks& m) {
  const std::size_t limit = std::min<std::size_t>(m.limit, options_.max_blocks_per_answer);
  const std::vector<Hash32> hashes = chain_.LocateAfter(m.locator, limit);
  AnswerBlocks(id, hashes);
}

// --- Blocks in -----------------------------------------------------------

void PeerManager::HandleBlocks(PeerId id, std::vector<Block> blocks) {
  std::vector<Block> requested;
  std::vector<Block> unrequested;
  {
    Actions a;
    {
      MutexLock lock(mutex_);
      Peer* peer = FindLocked(id);
      if (peer == nullptr || peer->closing) return;
      if (peer->requests.empty()) {
        unrequested = std::move(blocks);
      } else {
        // Answers come in the order asked: this one is for the oldest request.
        Request request = std::move(peer->requests.front());
        peer->requests.pop_front();
        const std::unordered_set<Hash32, Hash32Hasher> asked(request.hashes.begin(),
                                                             request.hashes.end());
        for (Block& b : blocks) {
          RememberLocked(*peer, b.hash);
          (asked.contains(b.hash) ? requested : unrequested).push_back(std::move(b));
        }
        // What did not come is free for any peer to fetch again; what came
        // stays in flight until the chain has taken it (below), so that no
        // one asks for it meanwhile.
        std::unordered_set<Hash32, Hash32Hasher> came;
        for (const Block& b : requested) came.insert(b.hash);
        for (const Hash32& h : request.hashes) {
          if (came.contains(h)) continue;
          auto it = in_flight_.find(h);
          if (it != in_flight_.end() && it->second == id) in_flight_.erase(it);
        }
        if (requested.empty()) {
          // It showed us these blocks' headers, so it has them.
          CloseLocked(a, *peer, "sent none of the blocks asked for");
        }
      }
    }
    if (!a.closes.empty()) {
      Run(a);
      return;
    }
  }
  if (!requested.empty()) {
    std::vector<Hash32> hashes;
    hashes.reserve(requested.size());
    for (const Block& b : requested) hashes.push_back(b.hash);
    const std::vector<AcceptResult> results = chain_.AcceptBlocks(
        std::move(requested), clock_.NowMs(), BlockSource(BlockOrigin::kPeer, id));
    Actions a;
    {
      MutexLock lock(mutex_);
      for (const Hash32& h : hashes) {
        auto it = in_flight_.find(h);
        if (it != in_flight_.end() && it->second == id) in_flight_.erase(it);
      }
      Peer* peer = FindLocked(id);
      if (peer == nullptr) return;
      for (std::size_t i = 0; i < results.size(); ++i) {
        const AcceptResult& r = results[i];
        if (r.status == AcceptStatus::kInvalid && r.validation.error != BlockError::kTimeTooNew) {
          PunishLocked(a, *peer,
                       "invalid block " + Short(hashes[i]) + ": " +
                           std::string(BlockErrorName(r.validation.error)) + " (" +
                           r.validation.message + ")");
          break;
        }
      }
      RequestDataFromAllLocked(a, clock_.NowMs());
    }
    Run(a);
  }
  if (!unrequested.empty()) HandleUnrequested(id, std::move(unrequested));
}

void PeerManager::HandleUnrequested(PeerId id, std::vector<Block> blocks) {
  // Parents before children, whatever order they came in: a child is kept
  // only if its parent is known when it is looked at.
  std::stable_sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    return a.header.height < b.header.height;
  });
  for (Block& block : blocks) {
    const Hash32 hash = block.hash;
    const AcceptResult r =
        chain_.AcceptBlock(std::move(block), clock_.NowMs(), BlockSource(BlockOrigin::kPeer, id));
    Actions a;
    bool stop = false;
    {
      MutexLock lock(mutex_);
      Peer* peer = FindLocked(id);
      if (peer == nullptr || peer->closing) return;
      const std::uint64_t now = clock_.NowMs();
      RememberLocked(*peer, hash);
      bool junk = false;
      switch (r.status) {
        case AcceptStatus::kNewTip:
        case AcceptStatus::kSideBranch:
        case AcceptStatus::kPending:
        case AcceptStatus::kDuplicate:
          if (const auto info = chain_.Header(hash)) ShowedLocked(*peer, *info);
          break;
        case AcceptStatus::kUnknownParent:
          // We are missing the chain it builds on: find the fork by headers.
          junk = true;
          SendGetHeadersLocked(a, *peer, std::nullopt, now);
          break;
        case AcceptStatus::kTooLittleWork:
          junk = true;
          break;
        case AcceptStatus::kInvalid:
          if (r.validation.error != BlockError::kTimeTooNew) {
            PunishLocked(a, *peer,
                         "invalid block " + Short(hash) + ": " +
                             std::string(BlockErrorName(r.validation.error)) + " (" +
                             r.validation.message + ")");
            stop = true;
          }
          break;
        case AcceptStatus::kNoSpace:
        case AcceptStatus::kStoreFailed:
          break;
      }
      if (junk && !peer->junk.Take(now)) {
        PunishLocked(a, *peer,
                     "unrequested blocks the chain cannot use: " +
                         OverRate("blocks", options_.junk_rate, options_.junk_burst));
        stop = true;
      }
      if (!stop && (r.ok() || r.status == AcceptStatus::kPending)) {
        RequestDataFromAllLocked(a, now);
      }
    }
    Run(a);
    if (stop) return;
  }
}

void PeerManager::HandlePeers(PeerId id, const std::vector<std::string>& urls) {
  MutexLock lock(mutex_);
  (void)id;
  for (const std::string& text : urls) {
    if (targets_.size() >= options_.max_known_addresses) break;
    auto url = ParsePeerUrl(text);
    if (!url) continue;
    Target& t = targets_[url->ToString()];
    t.url = *url;
  }
}

// --- Relay ---------------------------------------------------------------

void PeerManager::OnTipChanged(const TipChange& change) {
  const Hash32 tip = change.new_tip.hash();
  // Not back to the peer it came from.
  const PeerId source = change.source.origin == BlockOrigin::kPeer ? change.source.peer : 0;
  // While the blocks of a heavier header chain are being fetched, the tips
  // along it are not news to anyone: announce only the end of the fetch.
  // (A tip off that chain, one mined here say, is announced at once.)
  if (chain_.BestHeader().hash != tip && chain_.OnBestHeaderChain(tip)) return;
  {
    MutexLock lock(mutex_);
    if (stopped_ || !relayed_set_.insert(tip).second) return;
    relayed_.push_back(tip);
    if (relayed_.size() > kMaxRelayed) {
      relayed_set_.erase(relayed_.front());
      relayed_.pop_front();
    }
  }
  boost::asio::post(io_, [this, tip, source] { Relay(tip, source); });
}

void PeerManager::Relay(const Hash32& hash, PeerId source) {
  auto block = chain_.BlockByHash(hash);
  if (!block.ok() || !block->has_value()) return;
  const std::string text = Encode(BlockMsg{std::move(**block)});
  Actions a;
  {
    MutexLock lock(mutex_);
    if (stopped_) return;
    for (auto& [id, peer] : peers_) {
      if (id == source || !peer.handshaked || peer.closing || peer.known_set.contains(hash)) {
        continue;
      }
      RememberLocked(peer, hash);
      a.sends.push_back(Outgoing{id, text, Message(std::in_place_type<BlockMsg>).index()});
    }
  }
  Run(a);
}

// --- Status --------------------------------------------------------------

std::vector<PeerSnapshot> PeerManager::Peers() const {
  MutexLock lock(mutex_);
  std::vector<PeerSnapshot> out;
  for (const auto& [id, p] : peers_) {
    if (p.closing) continue;
    PeerSnapshot s;
    s.id = id;
    if (p.dialed) {
      s.url = p.dialed->ToString();
    } else {
      s.url = PeerUrl{p.address, p.handshaked && p.hello.port ? *p.hello.port : p.remote_port}
                  .ToString();
    }
    s.direction = p.direction;
    s.height = p.best_height;
    s.agent = p.hello.agent;
    s.connected_since_ms = p.connected_since_ms;
    s.state = p.handshaked ? "connected" : "handshaking";
    out.push_back(std::move(s));
  }
  // Configured peers not connected now: being dialled, waiting to be
  // redialled, or refused for good.
  for (const auto& [text, t] : targets_) {
    if (!t.persistent || t.peer) continue;
    PeerSnapshot s;
    s.url = text;
    s.direction = Direction::kOutbound;
    s.state = t.wrong_network ? "refused" : t.is_self ? "self" : t.dialing ? "dialing" : "waiting";
    s.last_error = t.last_error;
    if (s.state == "waiting") s.next_attempt_ms = t.next_attempt_ms;
    out.push_back(std::move(s));
  }
  return out;
}

std::size_t PeerManager::ConnectedCount() const {
  MutexLock lock(mutex_);
  return static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [](const auto& kv) {
    return kv.second.handshaked && !kv.second.closing;
  }));
}

}  // namespace powchain::p2p
