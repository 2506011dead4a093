// What the node tells watchers: the live events of GET /events ("tip",
// "reorg", "tx", "peer") and the log of recent reorganizations behind
// GET /reorgs and the explorer's block tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "chain/notifications.h"
#include "http/events.h"
#include "http/node_api.h"
#include "mempool/mempool.h"
#include "p2p/peer_manager.h"
#include "util/clock.h"
#include "util/mutex.h"

namespace powchain {

class NodeWatch final : public ChainObserver, public MempoolListener {
 public:
  // Reorganizations kept for GET /reorgs.
  static constexpr std::size_t kMaxReorgs = 128;
  // Between heartbeats on the event streams.
  static constexpr std::uint64_t kHeartbeatMs = 15'000;

  // Called with the depth (blocks disconnected) of each reorganization.
  using ReorgHook = std::function<void(std::size_t depth)>;

  // Neither is owned; both must outlive the watch.
  NodeWatch(const Clock& clock, http::EventHub& events, ReorgHook on_reorg = {})
      : clock_(clock), events_(events), on_reorg_(std::move(on_reorg)) {}

  // ChainObserver: a "tip" event for every change, a "reorg" event before
  // it when blocks left the active chain.
  void OnTipChanged(const TipChange& change) override EXCLUDES(mutex_);
  // MempoolListener: a "tx" event.
  void OnTxAccepted(const TxRef& tx, const Hash32& txid, std::uint64_t peer) override;

  // From the node's timer: a "peer" event when the connected peers changed
  // since the last call, and a heartbeat every kHeartbeatMs.
  void Tick(const std::vector<p2p::PeerSnapshot>& peers) EXCLUDES(mutex_);

  // Newest first, at most `limit`.
  std::vector<http::ReorgEntry> Reorgs(std::size_t limit) const EXCLUDES(mutex_);
  std::uint64_t ReorgCount() const EXCLUDES(mutex_);

 private:
  const Clock& clock_;
  http::EventHub& events_;
  const ReorgHook on_reorg_;
  mutable Mutex mutex_;
  std::deque<http::ReorgEntry> reorgs_ GUARDED_BY(mutex_);  // newest first
  std::uint64_t reorg_count_ GUARDED_BY(mutex_) = 0;
  std::string last_peers_ GUARDED_BY(mutex_);  // the last "peer" event's data
  std::uint64_t last_heartbeat_ms_ GUARDED_BY(mutex_) = 0;
};

}  // namespace powchain
