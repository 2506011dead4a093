// The node's implementation of the HTTP layer's view of it.
#pragma once

#include <string>

#include "chain/chainstate.h"
#include "http/node_api.h"
#include "mining/miner.h"
#include "p2p/peer_manager.h"

namespace powchain {

class NodeApiImpl final : public http::NodeApi {
 public:
  // Not owned; all must outlive this object.
  NodeApiImpl(ChainState& chain, Miner& miner, p2p::PeerManager& peers, std::string agent)
      : chain_(chain), miner_(miner), peers_(peers), agent_(std::move(agent)) {}

  http::NodeStatus Status() override;
  std::pair<Hash32, std::uint64_t> ActiveTip() override;
  Result<std::vector<Block>> BlocksInChain(const Hash32& tip, std::uint64_t from,
                                           std::size_t limit) override;
  Result<std::optional<Block>> BlockAtHeight(std::uint64_t height) override;
  Result<std::optional<Block>> BlockByHash(const Hash32& hash) override;
  void Mine(std::string canonical_data, MineCallback done) override;
  std::vector<http::PeerInfo> Peers() override;
  powchain::Status AddPeer(const std::string& url) override;
  powchain::Status RemovePeer(const std::string& url) override;

 private:
  ChainState& chain_;
  Miner& miner_;
  p2p::PeerManager& peers_;
  const std::string agent_;
};

}  // namespace powchain
