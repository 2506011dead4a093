#include "node/http_api.h"

#include <utility>

namespace powchain {

http::NodeStatus NodeApiImpl::Status() {
  const ChainTip tip = chain_.Tip();
  const Miner::Stats mining = miner_.GetStats();
  http::NodeStatus s;
  s.params = chain_.params();
  s.genesis = chain_.GenesisHash();
  s.height = tip.height();
  s.tip = tip.hash();
  s.difficulty = tip.context.header.difficulty;
  s.work = tip.work;
  s.headers = chain_.BestHeader().height;
  s.peers = peers_.ConnectedCount();
  s.mining.continuous = mining.continuous;
  s.mining.threads = mining.threads;
  s.mining.active = mining.active;
  s.mining.hash_rate = mining.hash_rate;
  s.mining.queued = mining.queued;
  s.agent = agent_;
  return s;
}

std::pair<Hash32, std::uint64_t> NodeApiImpl::ActiveTip() {
  const ChainTip tip = chain_.Tip();
  return {tip.hash(), tip.height()};
}

Result<std::vector<Block>> NodeApiImpl::BlocksInChain(const Hash32& tip, std::uint64_t from,
                                                      std::size_t limit) {
  const auto hashes = chain_.HashesInChain(tip, from, limit);
  if (!hashes) return Error{"unknown chain tip"};
  auto blocks = chain_.ReadBlocks(*hashes);
  if (blocks && blocks->size() != hashes->size()) return Error{"block missing from the store"};
  return blocks;
}

Result<std::optional<Block>> NodeApiImpl::BlockAtHeight(std::uint64_t height) {
  return chain_.BlockAtHeight(height);
}

Result<std::optional<Block>> NodeApiImpl::BlockByHash(const Hash32& hash) {
  return chain_.BlockByHash(hash);
}

void NodeApiImpl::Mine(std::string canonical_data, MineCallback done) {
  miner_.Submit(std::move(canonical_data), std::move(done));
}

std::vector<http::PeerInfo> NodeApiImpl::Peers() {
  std::vector<http::PeerInfo> out;
  for (const p2p::PeerSnapshot& p : peers_.Peers()) {
    http::PeerInfo info;
    info.url = p.url;
    info.direction = p.direction == p2p::Direction::kInbound ? "inbound" : "outbound";
    info.height = p.height;
    info.agent = p.agent;
    info.connected_since_ms = p.connected_since_ms;
    info.state = p.state;
    info.last_error = p.last_error;
    info.next_attempt_ms = p.next_attempt_ms;
    out.push_back(std::move(info));
  }
  return out;
}

powchain::Status NodeApiImpl::AddPeer(const std::string& url) {
  auto parsed = ParsePeerUrl(url);
  if (!parsed) return Error{parsed.error()};
  return peers_.AddPeer(*parsed);
}

powchain::Status NodeApiImpl::RemovePeer(const std::string& url) {
  auto parsed = ParsePeerUrl(url);
  if (!parsed) return Error{parsed.error()};
  return peers_.RemovePeer(*parsed);
}

}  // namespace powchain
