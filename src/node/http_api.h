// The node's implementation of the HTTP layer's view of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/chainstate.h"
#include "http/node_api.h"
#include "mempool/mempool.h"
#include "mining/miner.h"
#include "node/metrics.h"
#include "node/watch.h"
#include "p2p/peer_manager.h"
#include "storage/block_store.h"
#include "storage/run_cache.h"

namespace powchain {

class NodeApiImpl final : public http::NodeApi {
 public:
  // Not owned; all must outlive this object. `store` is the one `chain`
  // writes to: the coin and index reads go to it directly (it is
  // thread-safe).
  // `stream_cache_bytes` bounds the runs of blocks kept for GET /blocks.
  NodeApiImpl(ChainState& chain, const BlockStore& store, Miner& miner, p2p::PeerManager& peers,
              Mempool& mempool, std::string agent, std::size_t stream_cache_bytes = 0)
      : chain_(chain),
        store_(store),
        miner_(miner),
        peers_(peers),
        mempool_(mempool),
        agent_(std::move(agent)),
        runs_(stream_cache_bytes) {}

  http::NodeStatus Status() override;
  std::pair<Hash32, std::uint64_t> ActiveTip() override;
  Result<http::BlockRun> BlockRunInChain(const Hash32& tip, std::uint64_t from, std::size_t limit,
                                         std::size_t max_bytes) override;
  Result<std::optional<Block>> BlockAtHeight(std::uint64_t height) override;
  Result<std::optional<Block>> BlockByHash(const Hash32& hash) override;
  Result<std::optional<std::string>> BlockJsonAtHeight(std::uint64_t height) override;
  Result<std::optional<std::string>> BlockJsonByHash(const Hash32& hash) override;
  void Mine(http::MineRequest request, MineCallback done) override;
  Result<std::uint64_t> CheckBlockTxs(const std::vector<Transaction>& txs) override;
  std::vector<http::PeerInfo> Peers() override;
  powchain::Status AddPeer(const std::string& url) override;
  powchain::Status RemovePeer(const std::string& url) override;
  Params ChainParams() override { return chain_.params(); }
  Result<std::optional<http::ConfirmedTx>> FindTransaction(const Hash32& txid) override;
  Result<http::AddressTotals> AddressSummary(const XOnlyPubKey& key) override;
  Result<std::vector<http::AddressTxEntry>> AddressTxs(const XOnlyPubKey& key, std::uint64_t offset,
                                                       std::size_t limit) override;
  Result<http::AddressCoinPage> AddressCoins(const XOnlyPubKey& key, std::uint64_t offset,
                                             std::size_t limit) override;
  http::SubmitResult SubmitTransaction(Transaction tx) override;
  std::optional<http::PoolTx> PoolTransaction(const Hash32& txid) override;
  std::vector<http::PoolTx> PoolByFeeRate(std::size_t limit) override;
  http::MempoolSummary PoolSummary() override;
  std::int64_t UnconfirmedBalance(const XOnlyPubKey& key) override {
    return mempool_.UnconfirmedBalance(key);
  }
  std::optional<Hash32> PoolSpender(const OutPoint& outpoint) override {
    return mempool_.SpentBy(outpoint);
  }
  std::vector<http::TipEntry> Tips(std::size_t limit) override;
  std::vector<http::ReorgEntry> Reorgs(std::size_t limit) override {
    return watch_ != nullptr ? watch_->Reorgs(limit) : std::vector<http::ReorgEntry>{};
  }
  http::HealthInfo Health() override;
  std::optional<std::string> MetricsText() override {
    if (metrics_ == nullptr) return std::nullopt;
    return metrics_->Scrape();
  }
  void RecordRequest(std::string_view route, unsigned status, double seconds) override {
    if (metrics_ != nullptr) metrics_->RecordRequest(route, status, seconds);
  }

  // Not owned; may stay null (then no reorganization log, no metrics).
  // Set before the HTTP server starts.
  void SetWatchers(NodeWatch* watch, NodeMetrics* metrics) {
    watch_ = watch;
    metrics_ = metrics;
  }

 private:
  // The coins spent by the inputs of block.txs[index], from the undo data
  // of `block` (whose hash is `hash`); nullopt when the store holds no undo
  // data for it (the block is not, or no longer, active).
  Result<std::optional<std::vector<Coin>>> SpentCoins(const Block& block, const Hash32& hash,
                                                      std::uint32_t index);

  ChainState& chain_;
  const BlockStore& store_;
  Miner& miner_;
  p2p::PeerManager& peers_;
  Mempool& mempool_;
  const std::string agent_;
  RunCache runs_;
  NodeWatch* watch_ = nullptr;
  NodeMetrics* metrics_ = nullptr;
};

}  // namespace powchain
