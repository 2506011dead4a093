#include "node/watch.h"

#include <algorithm>

#include "primitives/json_writer.h"

namespace powchain {
namespace {

std::string_view OriginName(BlockOrigin origin) {
  switch (origin) {
    case BlockOrigin::kMined:
      return "mined";
    case BlockOrigin::kPeer:
      return "peer";
    case BlockOrigin::kUnknown:
      break;
  }
  return "local";
}

std::string TipEventData(const TipChange& change) {
  const BlockHeader& h = change.new_tip.context.header;
  std::size_t txs = 0;
  if (!change.connected_blocks.empty() && change.connected_blocks.back().block != nullptr) {
    txs = change.connected_blocks.back().block->txs.size();
  }
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("height").UInt(h.height);
  w.Key("hash").Hex(change.new_tip.hash());
  w.Key("lastHash").Hex(h.last_hash);
  w.Key("timestamp").UInt(h.timestamp);
  w.Key("difficulty").UInt(h.difficulty);
  w.Key("txs").UInt(txs);
  w.Key("connected").UInt(change.connected.size());
  w.Key("source").String(OriginName(change.source.origin));
  w.EndObject();
  return out;
}

std::string ReorgEventData(const http::ReorgEntry& r) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("time").UInt(r.time_ms);
  w.Key("oldTip").Hex(r.old_tip);
  w.Key("oldHeight").UInt(r.old_height);
  w.Key("newTip").Hex(r.new_tip);
  w.Key("newHeight").UInt(r.new_height);
  w.Key("fork").Hex(r.fork);
  w.Key("forkHeight").UInt(r.fork_height);
  w.Key("disconnected").UInt(r.disconnected);
  w.Key("connected").UInt(r.connected);
  w.EndObject();
  return out;
}

}  // namespace

void NodeWatch::OnTipChanged(const TipChange& change) {
  if (!change.disconnected.empty()) {
    http::ReorgEntry r;
    r.time_ms = clock_.NowMs();
    r.old_tip = change.old_tip.hash();
    r.old_height = change.old_tip.height();
    r.new_tip = change.new_tip.hash();
    r.new_height = change.new_tip.height();
    r.disconnected = change.disconnected.size();
    r.connected = change.connected.size();
    r.fork_height = r.old_height - r.disconnected;
    if (!change.connected_blocks.empty() && change.connected_blocks.front().block != nullptr) {
      r.fork = change.connected_blocks.front().block->header.last_hash;
    }
    {
      MutexLock lock(mutex_);
      reorgs_.push_front(r);
      if (reorgs_.size() > kMaxReorgs) reorgs_.pop_back();
      ++reorg_count_;
    }
    if (on_reorg_) on_reorg_(r.disconnected);
    events_.Publish("reorg", ReorgEventData(r));
  }
  events_.Publish("tip", TipEventData(change));
}

void NodeWatch::OnTxAccepted(const TxRef& tx, const Hash32& txid, std::uint64_t peer) {
  std::uint64_t value = 0;
  for (const TxOut& out : tx->outputs) value += out.amount;
  std::string data;
  JsonWriter w(data);
  w.BeginObject();
  w.Key("txid").Hex(txid);
  w.Key("inputs").UInt(tx->inputs.size());
  w.Key("outputs").UInt(tx->outputs.size());
  w.Key("value").UInt(value);
  w.Key("source").String(peer != 0 ? "peer" : "local");
  w.EndObject();
  events_.Publish("tx", data);
}

void NodeWatch::Tick(const std::vector<p2p::PeerSnapshot>& peers) {
  std::string data;
  JsonWriter w(data);
  std::size_t connected = 0;
  for (const p2p::PeerSnapshot& p : peers) connected += p.state == "connected" ? 1 : 0;
  w.BeginObject();
  w.Key("connected").UInt(connected);
  w.Key("peers").BeginArray();
  for (const p2p::PeerSnapshot& p : peers) {
    if (p.state != "connected") continue;
    w.BeginObject();
    w.Key("url").String(p.url);
    w.Key("direction").String(p.direction == p2p::Direction::kInbound ? "inbound" : "outbound");
    w.Key("agent").String(p.agent);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  const std::uint64_t now = clock_.NowMs();
  bool changed = false;
  bool heartbeat = false;
  {
    MutexLock lock(mutex_);
    if (data != last_peers_) {
      last_peers_ = data;
      changed = true;
    }
    if (now >= last_heartbeat_ms_ + kHeartbeatMs) {
      last_heartbeat_ms_ = now;
      heartbeat = true;
    }
  }
  if (changed) events_.Publish("peer", data);
  if (heartbeat) events_.Heartbeat();
}

std::vector<http::ReorgEntry> NodeWatch::Reorgs(std::size_t limit) const {
  MutexLock lock(mutex_);
  const std::size_t n = std::min(limit, reorgs_.size());
  return {reorgs_.begin(), reorgs_.begin() + static_cast<std::ptrdiff_t>(n)};
}

std::uint64_t NodeWatch::ReorgCount() const {
  MutexLock lock(mutex_);
  return reorg_count_;
}

}  // namespace powchain
