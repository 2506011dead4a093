// PeerManager: transaction relay and pool exchange (docs/protocol.md,
// "Transaction relay").
#include <spdlog/spdlog.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include "p2p/peer_manager.h"
#include "util/hex.h"

namespace powchain::p2p {
namespace {

// Txids remembered per peer (sent to it or received from it).
constexpr std::size_t kMaxKnownTxsPerPeer = 50000;
// A relay batch goes out once it holds this many bytes of transactions
// (or 100 transactions), well within a frame.
constexpr std::size_t kRelayBatchBytes = std::size_t{1} << 20;

}  // namespace

void PeerManager::RememberTxLocked(Peer& peer, const Hash32& txid) {
  if (!peer.known_txs_set.insert(txid).second) return;
  peer.known_txs.push_back(txid);
  if (peer.known_txs.size() > kMaxKnownTxsPerPeer) {
    peer.known_txs_set.erase(peer.known_txs.front());
    peer.known_txs.pop_front();
  }
}

void PeerManager::HandleTxs(PeerId id, std::vector<Transaction> txs, bool answer) {
  if (mempool_ == nullptr) return;
  std::vector<std::pair<Transaction, Hash32>> admitted;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr || peer->closing) return;
    const std::uint64_t now = clock_.NowMs();
    for (Transaction& tx : txs) {
      const Hash32 txid = ComputeTxid(tx);
      RememberTxLocked(*peer, txid);
      if (!peer->tx_bucket.Take(now)) {
        ++txs_over_rate_;
        continue;
      }
      admitted.emplace_back(std::move(tx), txid);
    }
    if (txs_over_rate_ != 0 && admitted.size() < txs.size()) {
      spdlog::debug("peer {}: {} transaction(s) over its rate ignored", id,
                    txs.size() - admitted.size());
    }
  }
  // Without the manager's lock: the pool checks signatures.
  std::optional<std::string> punish;
  for (auto& [tx, txid] : admitted) {
    const MempoolResult r = mempool_->Accept(std::move(tx), id);
    if (r.Punishable()) {
      punish = "invalid transaction " + HexEncode(txid) + ": " + std::string(r.reason()) + ": " +
               r.message;
      break;
    }
  }
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr || peer->closing) return;
    if (punish.has_value()) {
      PunishLocked(a, *peer, *punish);
    } else if (answer && peer->gettxs_outstanding) {
      peer->gettxs_outstanding = false;
      RequestTxsLocked(a, *peer, clock_.NowMs());
    }
  }
  Run(a);
}

void PeerManager::HandleGetMempool(PeerId id) {
  if (mempool_ == nullptr) return;
  {
    // Once per connection: the answer is large.
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr || peer->sent_mempool) return;
    peer->sent_mempool = true;
  }
  MempoolTxids reply{mempool_->Txids(ProtocolLimits::kMaxMempoolTxids)};
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr) return;
    for (const Hash32& txid : reply.txids) RememberTxLocked(*peer, txid);
    SendLocked(a, id, reply);
  }
  Run(a);
}

void PeerManager::HandleMempoolTxids(PeerId id, const std::vector<Hash32>& txids) {
  if (mempool_ == nullptr) return;
  std::vector<Hash32> wanted;
  for (const Hash32& txid : txids) {
    if (!mempool_->Contains(txid) && !mempool_->HasOrphan(txid)) wanted.push_back(txid);
  }
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr || peer->closing) return;
    for (const Hash32& txid : txids) RememberTxLocked(*peer, txid);
    for (const Hash32& txid : wanted) {
      if (peer->wanted_txs.size() >= ProtocolLimits::kMaxMempoolTxids) break;
      peer->wanted_txs.push_back(txid);
    }
    if (!peer->gettxs_outstanding) RequestTxsLocked(a, *peer, clock_.NowMs());
  }
  Run(a);
}

void PeerManager::RequestTxsLocked(Actions& a, Peer& peer, std::uint64_t now) {
  if (peer.wanted_txs.empty()) return;
  GetTxs request;
  while (!peer.wanted_txs.empty() && request.txids.size() < ProtocolLimits::kMaxGetTxs) {
    request.txids.push_back(peer.wanted_txs.front());
    peer.wanted_txs.pop_front();
  }
  peer.gettxs_outstanding = true;
  peer.gettxs_sent_ms = now;
  SendLocked(a, peer.id, request);
}

void PeerManager::HandleGetTxs(PeerId id, const std::vector<Hash32>& txids) {
  if (mempool_ == nullptr) return;
  // The pool's transactions asked for, in order, cut at the answer cap (a
  // transaction left out is not asked for again: relay brings it, or not).
  Txs reply;
  std::size_t bytes = 0;
  for (const Hash32& txid : txids) {
    const auto entry = mempool_->Get(txid);
    if (!entry.has_value()) continue;
    if (!reply.txs.empty() && bytes + entry->size > options_.max_answer_bytes) break;
    bytes += entry->size;
    reply.txs.push_back(*entry->tx);
  }
  Actions a;
  {
    MutexLock lock(mutex_);
    Peer* peer = FindLocked(id);
    if (peer == nullptr) return;
    for (const Hash32& txid : txids) RememberTxLocked(*peer, txid);
    SendLocked(a, id, reply);
  }
  Run(a);
}

void PeerManager::OnTxAccepted(const TxRef& tx, const Hash32& txid, std::uint64_t peer) {
  {
    MutexLock lock(mutex_);
    if (stopped_) return;
  }
  boost::asio::post(relay_strand_, [this, tx, txid, peer] { RelayTx(tx, txid, peer); });
}

void PeerManager::RelayTx(const TxRef& tx, const Hash32& txid, PeerId source) {
  const std::size_t size = CanonicalTxSize(*tx);
  Actions a;
  bool waiting = false;
  {
    MutexLock lock(mutex_);
    if (stopped_) return;
    for (auto& [id, peer] : peers_) {
      if (id == source || !peer.handshaked || peer.closing ||
          peer.hello.version < kTxRelayVersion || peer.known_txs_set.contains(txid)) {
        continue;
      }
      RememberTxLocked(peer, txid);
      peer.relay_queue.push_back(tx);
      peer.relay_queue_bytes += size;
      if (peer.relay_queue.size() >= ProtocolLimits::kMaxTxsPerMessage ||
          peer.relay_queue_bytes >= kRelayBatchBytes) {
        FlushRelayLocked(a, peer);
      }
      waiting = waiting || !peer.relay_queue.empty();
    }
  }
  Run(a);
  if (waiting && !relay_timer_armed_) {
    relay_timer_armed_ = true;
    relay_timer_.expires_after(options_.tx_relay_delay);
    relay_timer_.async_wait(
        boost::asio::bind_executor(relay_strand_, [this](const boost::system::error_code& error) {
          relay_timer_armed_ = false;
          if (!error) FlushRelays();
        }));
  }
}

void PeerManager::FlushRelays() {
  Actions a;
  {
    MutexLock lock(mutex_);
    if (stopped_) return;
    for (auto& [id, peer] : peers_) FlushRelayLocked(a, peer);
  }
  Run(a);
}

void PeerManager::FlushRelayLocked(Actions& a, Peer& peer) {
  if (peer.relay_queue.empty()) return;
  if (!peer.closing) {
    if (peer.relay_queue.size() == 1) {
      SendLocked(a, peer.id, TxMsg{*peer.relay_queue.front()});
    } else {
      Txs batch;
      batch.txs.reserve(peer.relay_queue.size());
      for (const TxRef& tx : peer.relay_queue) batch.txs.push_back(*tx);
      SendLocked(a, peer.id, batch);
    }
  }
  peer.relay_queue.clear();
  peer.relay_queue_bytes = 0;
}

std::uint64_t PeerManager::TxsOverRate() const {
  MutexLock lock(mutex_);
  return txs_over_rate_;
}

}  // namespace powchain::p2p
