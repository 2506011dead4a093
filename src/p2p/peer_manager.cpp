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

// The peer whose message is being accepted on this thread, so that the
// relay triggered by the resulting tip change skips it.
thread_local PeerId tls_source_peer = 0;

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

}  // namespace

PeerManager::PeerManager(ChainState& chain, const Clock& clock, boost::asio::io_context& io,
                         PeerManagerOptions options)
    : chain_(chain),
      clock_(clock),
      io_(io),
      options_(std::move(options)),
      node_id_(RandomNodeId()),
      genesis_(chain.GenesisHash()),
      rng_(std::random_device{}()) {}

PeerManager::~PeerManager() { Stop(); }

void PeerManager::Start(PeerLink& link, const std::vector<PeerUrl>& peers) {
  {
    std::lock_guard lock(mu_);
    link_ = &link;
    for (const PeerUrl& url : peers) {
      Target& t = targets_[url.ToString()];
      t.url = url;
      t.persistent = true;
    }
  }
  chain_.AddObserver(this);
  Tick();
}

void PeerManager::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  chain_.RemoveObserver(this);
}

void PeerManager::Run(Actions& a) {
  PeerLink* link = nullptr;
  {
    std::lock_guard lock(mu_);
    link = link_;
  }
  if (link == nullptr) return;
  for (auto& [id, text] : a.sends) link->Send(id, std::move(text));
  for (auto& [id, reason] : a.closes) link->Close(id, reason);
  for (const PeerUrl& url : a.dials) link->Dial(url);
}

void PeerManager::SendLocked(Actions& a, PeerId id, const Message& m) {
  a.sends.emplace_back(id, Encode(m));
}

void PeerManager::CloseLocked(Actions& a, Peer& peer, const std::string& reason) {
  if (peer.closing) return;
  peer.closing = true;
  a.closes.emplace_back(peer.id, reason);
}

void PeerManager::PunishLocked(Actions& a, Peer& peer, const std::string& reason) {
  if (peer.closing) return;
  const bool ban = options_.ban_loopback || !IsLoopback(peer.address);
  spdlog::warn("peer {} ({}) misbehaved: {}; disconnecting{}", peer.id, peer.address, reason,
               ban ? " and refusing its address for a while" : "");
  SendLocked(a, peer.id, ErrorMsg{reason});
  CloseLocked(a, peer, reason);
  if (ban) {
    banned_[peer.address] =
        clock_.NowMs() + static_cast<std::uint64_t>(options_.ban_duration.count());
  }
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

std::uint64_t PeerManager::BackoffMs(unsigned failures) {
  const auto min = static_cast<std::uint64_t>(options_.dial_backoff_min.count());
  const auto max = static_cast<std::uint64_t>(options_.dial_backoff_max.count());
  const std::uint64_t base = std::min(max, min << std::min(failures, 20u));
  // Full jitter over the upper half, so peers started together spread out.
  std::uniform_int_distribution<std::uint64_t> jitter(base / 2, base);
  return jitter(rng_);
}

PeerManager::ChainView PeerManager::View() const {
  return ChainView{chain_.Tip(), chain_.Locator()};
}

// --- Timers --------------------------------------------------------------

void PeerManager::Tick() {
  Actions a;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || link_ == nullptr) return;
    const std::uint64_t now = clock_.NowMs();
    std::size_t outbound = 0;
    std::set<std::string> connected_ids;
    for (auto& [id, peer] : peers_) {
      if (peer.closing) continue;
      if (peer.direction == Direction::kOutbound) ++outbound;
      if (!peer.handshaked) {
        if (now - peer.opened_ms >=
            static_cast<std::uint64_t>(options_.handshake_timeout.count())) {
          CloseLocked(a, peer, "handshake timeout");
        }
        continue;
      }
      connected_ids.insert(peer.hello.node_id);
      if (peer.ping_nonce != 0 &&
          now - peer.last_ping_ms >= static_cast<std::uint64_t>(options_.ping_timeout.count())) {
        CloseLocked(a, peer, "ping timeout");
        continue;
      }
      if (peer.ping_nonce == 0 &&
          now - peer.last_ping_ms >= static_cast<std::uint64_t>(options_.ping_interval.count())) {
        peer.ping_nonce = std::uniform_int_distribution<std::uint64_t>(1, 1ull << 53)(rng_);
        peer.last_ping_ms = now;
        SendLocked(a, id, Ping{peer.ping_nonce});
      }
      if (peer.getblocks_outstanding &&
          now - peer.getblocks_sent_ms >=
              static_cast<std::uint64_t>(options_.sync_stall_timeout.count())) {
        spdlog::warn("peer {} did not answer getblocks; dropping it", id);
        CloseLocked(a, peer, "sync stalled");
      }
    }
    for (auto& [text, t] : targets_) {
      if (t.is_self || t.dialing || t.peer || now < t.next_attempt_ms) continue;
      if (!t.node_id.empty() && connected_ids.contains(t.node_id)) continue;  // reached otherwise
      if (BannedLocked(t.url.host, now)) continue;
      if (outbound >= options_.max_outbound) break;
      t.dialing = true;
      ++outbound;
      a.dials.push_back(t.url);
    }
  }
  Run(a);
}

Status PeerManager::AddPeer(const PeerUrl& url) {
  {
    std::lock_guard lock(mu_);
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

// --- Transport events ----------------------------------------------------

void PeerManager::OnOpen(PeerId id, Direction direction, const std::string& remote_address,
                         std::uint16_t remote_port, const std::optional<PeerUrl>& dialed) {
  const ChainTip tip = chain_.Tip();  // read before taking mu_ (lock order)
  Actions a;
  {
    std::lock_guard lock(mu_);
    const std::uint64_t now = clock_.NowMs();
    Peer& peer = peers_[id];
    peer.id = id;
    peer.direction = direction;
    peer.address = remote_address;
    peer.remote_port = remote_port;
    peer.dialed = dialed;
    peer.opened_ms = now;
    peer.messages = TokenBucket(options_.message_rate, options_.message_burst, now);
    peer.getblocks = TokenBucket(options_.getblocks_rate, options_.getblocks_burst, now);
    if (dialed) {
      auto it = targets_.find(dialed->ToString());
      if (it != targets_.end()) {
        it->second.dialing = false;
        it->second.peer = id;
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
  const ChainView view = View();
  Actions a;
  {
    std::lock_guard lock(mu_);
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
        if (!target.persistent && target.failures >= kMaxLearnedFailures) targets_.erase(t);
      }
    }
    const bool was_sync = sync_peer_ == id;
    peers_.erase(it);
    if (was_sync) {
      sync_peer_.reset();
      MaybeSyncLocked(a, view, clock_.NowMs());
    }
  }
  Run(a);
}

void PeerManager::OnDialFailed(const PeerUrl& url, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto t = targets_.find(url.ToString());
  if (t == targets_.end()) return;
  Target& target = t->second;
  target.dialing = false;
  ++target.failures;
  target.next_attempt_ms = clock_.NowMs() + BackoffMs(target.failures);
  spdlog::debug("dial {} failed ({}); retry in {} ms", url.ToString(), reason,
                target.next_attempt_ms - clock_.NowMs());
  if (!target.persistent && target.failures >= kMaxLearnedFailures) targets_.erase(t);
}

void PeerManager::OnMessage(PeerId id, std::string text) {
  {
    // The rate limit comes before decoding, so a flood costs little.
    Actions a;
    {
      std::lock_guard lock(mu_);
      auto it = peers_.find(id);
      if (it == peers_.end() || it->second.closing) return;
      if (!it->second.messages.Take(clock_.NowMs())) {
        PunishLocked(a, it->second,
                     "message flood: " +
                         OverRate("messages", options_.message_rate, options_.message_burst));
      }
    }
    if (!a.closes.empty()) {
      Run(a);
      return;
    }
  }
  auto decoded = Decode(text);
  if (auto* failure = std::get_if<DecodeFailure>(&decoded)) {
    Actions a;
    {
      std::lock_guard lock(mu_);
      auto it = peers_.find(id);
      if (it == peers_.end()) return;
      PunishLocked(a, it->second, "malformed message: " + failure->message);
    }
    Run(a);
    return;
  }
  Message message = std::move(std::get<Message>(decoded));
  {
    // Only hello may come first; after it, hello is a violation.
    Actions a;
    bool violation = false;
    {
      std::lock_guard lock(mu_);
      auto it = peers_.find(id);
      if (it == peers_.end() || it->second.closing) return;
      const bool is_hello = std::holds_alternative<Hello>(message);
      if (is_hello == it->second.handshaked) {
        PunishLocked(
            a, it->second,
            is_hello ? "hello sent twice" : std::string(TypeName(message)) + " before hello");
        violation = true;
      } else if (std::holds_alternative<GetBlocks>(message) &&
                 !it->second.getblocks.Take(clock_.NowMs())) {
        PunishLocked(a, it->second,
                     "getblocks flood: " +
                         OverRate("getblocks", options_.getblocks_rate, options_.getblocks_burst));
        violation = true;
      }
    }
    if (violation) {
      Run(a);
      return;
    }
  }
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Hello>) {
          HandleHello(id, std::move(m));
        } else if constexpr (std::is_same_v<T, BlockMsg>) {
          HandleBlock(id, std::move(m.block));
        } else if constexpr (std::is_same_v<T, GetBlocks>) {
          HandleGetBlocks(id, m);
        } else if constexpr (std::is_same_v<T, Blocks>) {
          HandleBlocks(id, std::move(m.blocks));
        } else if constexpr (std::is_same_v<T, GetPeers>) {
          Actions a;
          {
            std::lock_guard lock(mu_);
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
        } else if constexpr (std::is_same_v<T, p2p::Peers>) {
          HandlePeers(id, m.peers);
        } else if constexpr (std::is_same_v<T, Ping>) {
          Actions a;
          {
            std::lock_guard lock(mu_);
            SendLocked(a, id, Pong{m.nonce});
          }
          Run(a);
        } else if constexpr (std::is_same_v<T, Pong>) {
          std::lock_guard lock(mu_);
          auto it = peers_.find(id);
          if (it != peers_.end() && it->second.ping_nonce == m.nonce) it->second.ping_nonce = 0;
        } else if constexpr (std::is_same_v<T, ErrorMsg>) {
          Actions a;
          {
            std::lock_guard lock(mu_);
            auto it = peers_.find(id);
            if (it == peers_.end()) return;
            spdlog::info("peer {} sent error: {}", id, m.reason);
            CloseLocked(a, it->second, "peer reported: " + m.reason);
          }
          Run(a);
        }
      },
      message);
}

// --- Messages ------------------------------------------------------------

void PeerManager::HandleHello(PeerId id, Hello hello) {
  const ChainView view = View();
  Actions a;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    Peer& peer = it->second;
    const std::uint64_t now = clock_.NowMs();
    Target* target = nullptr;
    if (peer.dialed) {
      auto t = targets_.find(peer.dialed->ToString());
      if (t != targets_.end()) target = &t->second;
    }
    if (hello.version != kProtocolVersion) {
      spdlog::info("peer {} ({}) speaks protocol version {}; disconnecting", id, peer.address,
                   hello.version);
      SendLocked(a, id, ErrorMsg{"unsupported protocol version " + std::to_string(hello.version)});
      CloseLocked(a, peer, "unsupported protocol version");
    } else if (hello.genesis != genesis_) {
      spdlog::info("peer {} ({}) is on another network (genesis {}); disconnecting", id,
                   peer.address, Short(hello.genesis));
      SendLocked(a, id,
                 ErrorMsg{"another network: genesis " + HexEncode(hello.genesis) + ", expected " +
                          HexEncode(genesis_)});
      CloseLocked(a, peer, "another network (genesis " + Short(hello.genesis) + ")");
      if (target != nullptr) target->failures = 16;  // keep trying, but rarely
    } else if (!hello.node_id.empty() && hello.node_id == node_id_) {
      CloseLocked(a, peer, "connected to self");
      if (target != nullptr) target->is_self = true;
    } else {
      // One connection per pair of nodes: of two, keep the one dialled by
      // the node with the smaller id (both ends decide alike).
      Peer* duplicate = nullptr;
      for (auto& [other_id, other] : peers_) {
        if (other_id != id && other.handshaked && !other.closing && !hello.node_id.empty() &&
            other.hello.node_id == hello.node_id) {
          duplicate = &other;
        }
      }
      const std::size_t inbound =
          static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [](const auto& kv) {
            return kv.second.handshaked && !kv.second.closing &&
                   kv.second.direction == Direction::kInbound;
          }));
      auto dialer_of = [&](const Peer& p) {
        return p.direction == Direction::kOutbound ? node_id_ : hello.node_id;
      };
      const std::string smaller = std::min(node_id_, hello.node_id);
      if (target != nullptr) target->node_id = hello.node_id;
      if (duplicate != nullptr && dialer_of(peer) != smaller) {
        CloseLocked(a, peer, "duplicate connection");
      } else if (duplicate == nullptr && peer.direction == Direction::kInbound &&
                 inbound >= options_.max_inbound) {
        SendLocked(a, id, ErrorMsg{"too many peers"});
        CloseLocked(a, peer, "inbound peer limit reached");
      } else {
        if (duplicate != nullptr) CloseLocked(a, *duplicate, "duplicate connection");
        peer.handshaked = true;
        peer.connected_since_ms = now;
        peer.last_ping_ms = now;
        peer.best_work = hello.work;
        peer.best_height = hello.height;
        peer.hello = std::move(hello);
        RememberLocked(peer, peer.hello.tip);
        spdlog::info("peer {} connected: {} {}:{} {} height {}", id,
                     peer.direction == Direction::kInbound ? "inbound" : "outbound", peer.address,
                     peer.remote_port, peer.hello.agent, peer.hello.height);
        SendLocked(a, id, GetPeers{});
        MaybeSyncLocked(a, view, now);
      }
    }
  }
  Run(a);
}

void PeerManager::RequestBlocksLocked(Actions& a, Peer& peer, const ChainView& view,
                                      std::uint64_t now) {
  GetBlocks request;
  request.locator = view.locator;
  request.limit = options_.sync_batch;
  peer.getblocks_outstanding = true;
  peer.getblocks_sent_ms = now;
  SendLocked(a, peer.id, request);
}

void PeerManager::MaybeSyncLocked(Actions& a, const ChainView& view, std::uint64_t now) {
  if (sync_peer_ || stopped_) return;
  Peer* best = nullptr;
  for (auto& [id, p] : peers_) {
    if (!p.handshaked || p.closing || p.best_work <= view.tip.work) continue;
    if (best == nullptr || p.best_work > best->best_work) best = &p;
  }
  if (best == nullptr) return;
  sync_peer_ = best->id;
  spdlog::info("syncing from peer {} (height {})", best->id, best->best_height);
  RequestBlocksLocked(a, *best, view, now);
}

bool PeerManager::AcceptFromPeer(PeerId id, std::vector<Block> blocks, bool* orphan,
                                 bool* progressed) {
  std::vector<Hash32> hashes;
  hashes.reserve(blocks.size());
  for (const Block& b : blocks) hashes.push_back(b.hash);
  tls_source_peer = id;
  const std::vector<AcceptResult> results =
      chain_.AcceptBlocks(std::move(blocks), clock_.NowMs(), BlockOrigin::kPeer);
  tls_source_peer = 0;

  Actions a;
  bool punished = false;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    for (std::size_t i = 0; i < results.size(); ++i) {
      const AcceptResult& r = results[i];
      if (r.ok()) *progressed = true;
      if (r.status == AcceptStatus::kOrphan) *orphan = true;
      if (it == peers_.end()) continue;
      RememberLocked(it->second, hashes[i]);
      if (r.status == AcceptStatus::kInvalid && r.validation.error != BlockError::kTimeTooNew &&
          !punished) {
        PunishLocked(a, it->second,
                     "invalid block " + Short(hashes[i]) + ": " +
                         std::string(BlockErrorName(r.validation.error)) + " (" +
                         r.validation.message + ")");
        punished = true;
      }
    }
  }
  Run(a);
  return !punished;
}

void PeerManager::HandleBlock(PeerId id, Block block) {
  const std::uint64_t height = block.header.height;
  bool orphan = false;
  bool progressed = false;
  std::vector<Block> one;
  one.push_back(std::move(block));
  if (!AcceptFromPeer(id, std::move(one), &orphan, &progressed)) return;
  const ChainView view = View();
  Actions a;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    Peer& peer = it->second;
    peer.best_height = std::max(peer.best_height, height);
    if (orphan && !peer.getblocks_outstanding) {
      // Fetch the gap from the peer that announced it.
      RequestBlocksLocked(a, peer, view, clock_.NowMs());
      if (!sync_peer_) sync_peer_ = id;
    }
  }
  Run(a);
}

void PeerManager::HandleGetBlocks(PeerId id, const GetBlocks& m) {
  const std::size_t limit = std::min<std::size_t>(m.limit, options_.max_blocks_per_answer);
  Blocks reply;
  const std::vector<Hash32> hashes = chain_.LocateAfter(m.locator, limit);
  // One read for the whole answer, its data bounded like the answer's.
  auto blocks = chain_.ReadBlocks(hashes, options_.max_answer_bytes);
  if (!blocks.ok()) {
    spdlog::error("cannot read blocks to serve a peer: {}", blocks.error());
  } else {
    std::size_t data = 0;
    for (const Block& b : *blocks) data += b.data.size();
    if (blocks->size() < hashes.size() && data < options_.max_answer_bytes) {
      spdlog::error("cannot read block {} to serve a peer: missing", Short(hashes[blocks->size()]));
    }
    std::size_t bytes = 0;
    for (Block& block : *blocks) {
      bytes += block.data.size() + 400;
      if (!reply.blocks.empty() && bytes > options_.max_answer_bytes) break;
      reply.blocks.push_back(std::move(block));
    }
  }
  Actions a;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    for (const Block& b : reply.blocks) RememberLocked(it->second, b.hash);
    SendLocked(a, id, reply);
  }
  Run(a);
}

void PeerManager::HandleBlocks(PeerId id, std::vector<Block> blocks) {
  const std::size_t count = blocks.size();
  const std::uint64_t last_height = count > 0 ? blocks.back().header.height : 0;
  // A full batch in answer to our getblocks, extending our tip: the peer
  // probably has more. Ask for the next batch now, before this one is
  // checked and committed, so that the peer reads and sends it meanwhile
  // (sync overlaps the two nodes' work). The request is the one that would
  // follow the commit: its locator is our chain's once this batch is in.
  // If the batch fails, the peer is dropped or the answer to the early
  // request is handled like any other.
  bool pipelined = false;
  if (count > 0 && count >= options_.sync_batch) {
    std::vector<Hash32> hashes;
    hashes.reserve(count);
    for (const Block& b : blocks) hashes.push_back(b.hash);
    if (auto next = chain_.LocatorWith(blocks.front().header.last_hash, hashes)) {
      Actions a;
      {
        std::lock_guard lock(mu_);
        auto it = peers_.find(id);
        if (it != peers_.end() && !it->second.closing && it->second.getblocks_outstanding &&
            it->second.last_batch_progressed && !stopped_) {
          Peer& peer = it->second;
          GetBlocks request;
          request.locator = std::move(*next);
          request.limit = options_.sync_batch;
          peer.getblocks_sent_ms = clock_.NowMs();
          SendLocked(a, id, request);
          pipelined = true;  // getblocks_outstanding now stands for this request
        }
      }
      Run(a);
    }
  }
  bool orphan = false;
  bool progressed = false;
  if (count > 0 && !AcceptFromPeer(id, std::move(blocks), &orphan, &progressed)) return;
  const ChainView view = View();
  Actions a;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    Peer& peer = it->second;
    peer.best_height = std::max(peer.best_height, last_height);
    if (pipelined) {
      // The next batch is on its way; its answer carries the fetch on.
      peer.last_batch_progressed = progressed;
      return;
    }
    const bool asked = peer.getblocks_outstanding;
    peer.getblocks_outstanding = false;
    if (asked) peer.last_batch_progressed = progressed;
    const std::uint64_t now = clock_.NowMs();
    // A full batch that moved us on means there is more: ask again. A short
    // or useless one ends this fetch; another peer may still be ahead.
    if (asked && count >= options_.sync_batch && progressed) {
      RequestBlocksLocked(a, peer, view, now);
    } else {
      if (sync_peer_ == id) sync_peer_.reset();
      // It sent all it has after our locator: we are level with it now.
      if (asked) peer.best_work = std::min(peer.best_work, view.tip.work);
      MaybeSyncLocked(a, view, now);
    }
  }
  Run(a);
}

void PeerManager::HandlePeers(PeerId id, const std::vector<std::string>& urls) {
  std::lock_guard lock(mu_);
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
  const PeerId source = tls_source_peer;
  {
    std::lock_guard lock(mu_);
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
    std::lock_guard lock(mu_);
    if (stopped_) return;
    for (auto& [id, peer] : peers_) {
      if (id == source || !peer.handshaked || peer.closing || peer.known_set.contains(hash)) {
        continue;
      }
      RememberLocked(peer, hash);
      a.sends.emplace_back(id, text);
    }
  }
  Run(a);
}

// --- Status --------------------------------------------------------------

std::vector<PeerSnapshot> PeerManager::Peers() const {
  std::lock_guard lock(mu_);
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
  return out;
}

std::size_t PeerManager::ConnectedCount() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [](const auto& kv) {
    return kv.second.handshaked && !kv.second.closing;
  }));
}

}  // namespace powchain::p2p
