// A NodeApi over a vector of made-up blocks, for the HTTP tests. The blocks
// need not be valid: BlockToJson only serializes them.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "http/node_api.h"
#include "primitives/block.h"
#include "primitives/block_json.h"

namespace powchain::http::testing {

// A block whose fields are all derived from `height`, with `data` as given.
inline Block FakeBlock(std::uint64_t height, std::string data = "") {
  Block b;
  b.header.height = height;
  b.header.timestamp = 1735689600000 + height;
  b.header.difficulty = 8;
  b.header.nonce = height * 7;
  b.hash[0] = static_cast<std::uint8_t>(height);
  b.hash[1] = static_cast<std::uint8_t>(height >> 8);
  b.hash[31] = 0xAB;
  b.header.last_hash[0] = static_cast<std::uint8_t>(height - 1);
  b.data = data.empty() ? "{\"n\":" + std::to_string(height) + "}" : std::move(data);
  return b;
}

class FakeNodeApi : public NodeApi {
 public:
  explicit FakeNodeApi(std::size_t chain_length = 3) {
    for (std::uint64_t h = 0; h < chain_length; ++h) chain_.push_back(FakeBlock(h));
  }

  // --- Knobs (set before use, or under no concurrent request) ----------

  std::vector<Block> chain_;
  // BlockRunInChain fails for any batch that would include this height.
  std::optional<std::uint64_t> fail_reads_at_;
  // BlockAtHeight / BlockByHash fail.
  bool fail_lookups_ = false;
  // AddPeer refuses with this message.
  std::optional<std::string> refuse_peers_;
  std::vector<PeerInfo> peers_;
  NodeStatus status_;
  // Status() throws, as a buggy node might.
  bool throw_on_status_ = false;

  // Coins: confirmed transactions by txid, and per address its totals and
  // its lists (newest first, which the fake pages through).
  std::map<Hash32, ConfirmedTx> txs_;
  std::map<XOnlyPubKey, AddressTotals> totals_;
  std::map<XOnlyPubKey, std::vector<AddressTxEntry>> address_txs_;
  std::map<XOnlyPubKey, std::vector<AddressCoinEntry>> address_coins_;
  std::uint64_t coin_tip_height_ = 0;  // AddressCoinPage::tip_height
  // Every coin read fails.
  bool fail_coins_ = false;
  // Watching the node.
  std::vector<TipEntry> tips_;
  std::vector<ReorgEntry> reorgs_;
  HealthInfo health_;
  std::optional<std::string> metrics_;

  // --- Recorded calls (read under mu_ or after the requests are done) --

  struct BatchCall {
    Hash32 tip;
    std::uint64_t from;
    std::size_t limit;
  };

  std::vector<BatchCall> batch_calls() {
    std::lock_guard lock(mu_);
    return batch_calls_;
  }
  std::vector<std::string> added_peers() {
    std::lock_guard lock(mu_);
    return added_peers_;
  }

  struct PageCall {
    std::uint64_t offset;
    std::size_t limit;
    friend bool operator==(const PageCall&, const PageCall&) = default;
  };
  std::vector<PageCall> page_calls() {
    std::lock_guard lock(mu_);
    return page_calls_;
  }

  struct RequestRecord {
    std::string route;
    unsigned status;
    double seconds;
  };
  std::vector<RequestRecord> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // --- Mining: Mine() only queues; the test completes the callbacks ----

  struct PendingMine {
    std::string data;
    MineCallback done;
    std::vector<Transaction> txs;
    std::uint64_t fees = 0;
  };

  // Waits until at least `n` Mine() calls are queued (or a generous time
  // has passed) and returns whether they are.
  bool WaitForMines(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return mines_.size() >= n; });
  }
  std::vector<PendingMine> TakeMines() {
    std::lock_guard lock(mu_);
    return std::exchange(mines_, {});
  }

  // --- NodeApi -----------------------------------------------------------

  std::vector<TipEntry> Tips(std::size_t limit) override {
    return {tips_.begin(),
            tips_.begin() + static_cast<std::ptrdiff_t>(std::min(limit, tips_.size()))};
  }
  std::vector<ReorgEntry> Reorgs(std::size_t limit) override {
    return {reorgs_.begin(),
            reorgs_.begin() + static_cast<std::ptrdiff_t>(std::min(limit, reorgs_.size()))};
  }
  HealthInfo Health() override { return health_; }
  std::optional<std::string> MetricsText() override { return metrics_; }
  void RecordRequest(std::string_view route, unsigned status, double seconds) override {
    std::lock_guard lock(mu_);
    requests_.push_back({std::string(route), status, seconds});
  }

  NodeStatus Status() override {
    if (throw_on_status_) throw std::runtime_error("status exploded");
    return status_;
  }

  std::pair<Hash32, std::uint64_t> ActiveTip() override {
    if (chain_.empty()) return {Hash32{}, 0};
    return {chain_.back().hash, chain_.back().header.height};
  }

  Result<BlockRun> BlockRunInChain(const Hash32& tip, std::uint64_t from, std::size_t limit,
                                   std::size_t max_bytes) override {
    {
      std::lock_guard lock(mu_);
      batch_calls_.push_back({tip, from, limit});
    }
    if (fail_reads_at_ && *fail_reads_at_ >= from && *fail_reads_at_ - from < limit) {
      return Error{"disk on fire"};
    }
    if (from >= chain_.size()) return BlockRun{};
    const std::size_t end = from + std::min<std::size_t>(limit, chain_.size() - from);
    return EncodeBlockRun(std::span<const Block>(chain_).subspan(from, end - from), max_bytes);
  }

  Result<std::optional<Block>> BlockAtHeight(std::uint64_t height) override {
    if (fail_lookups_) return Error{"disk on fire"};
    if (height >= chain_.size()) return std::optional<Block>();
    return std::optional<Block>(chain_[height]);
  }

  Result<std::optional<Block>> BlockByHash(const Hash32& hash) override {
    if (fail_lookups_) return Error{"disk on fire"};
    for (const Block& b : chain_) {
      if (b.hash == hash) return std::optional<Block>(b);
    }
    return std::optional<Block>();
  }

  void Mine(MineRequest request, MineCallback done) override {
    {
      std::lock_guard lock(mu_);
      mines_.push_back({std::move(request.canonical_data), std::move(done), std::move(request.txs),
                        request.fees});
    }
    cv_.notify_all();
  }

  // Refuses transactions whose version is not kTxVersion (a stand-in for
  // the consensus checks); otherwise the fees are 1000 per transaction.
  Result<std::uint64_t> CheckBlockTxs(const std::vector<Transaction>& txs) override {
    for (std::size_t i = 0; i < txs.size(); ++i) {
      if (txs[i].version != kTxVersion) {
        return Error{"txs[" + std::to_string(i) + "] bad-version: not version 1"};
      }
    }
    return std::uint64_t{1000} * txs.size();
  }

  std::vector<PeerInfo> Peers() override { return peers_; }

  powchain::Status AddPeer(const std::string& url) override {
    if (refuse_peers_) return Error{*refuse_peers_};
    std::lock_guard lock(mu_);
    added_peers_.push_back(url);
    return {};
  }

  // Removes a peer AddPeer added; an error for any other.
  powchain::Status RemovePeer(const std::string& url) override {
    std::lock_guard lock(mu_);
    const auto erased = std::erase(added_peers_, url);
    if (erased == 0) return Error{url + " is not a configured peer"};
    return {};
  }

  // ChainParams() is left to NodeApi's default (Status().params).

  Result<std::optional<ConfirmedTx>> FindTransaction(const Hash32& txid) override {
    if (fail_coins_) return Error{"disk on fire"};
    const auto it = txs_.find(txid);
    if (it == txs_.end()) return std::optional<ConfirmedTx>();
    return std::optional<ConfirmedTx>(it->second);
  }

  Result<AddressTotals> AddressSummary(const XOnlyPubKey& key) override {
    if (fail_coins_) return Error{"disk on fire"};
    const auto it = totals_.find(key);
    return it == totals_.end() ? AddressTotals{} : it->second;
  }

  Result<std::vector<AddressTxEntry>> AddressTxs(const XOnlyPubKey& key, std::uint64_t offset,
                                                 std::size_t limit) override {
    RecordPage(offset, limit);
    if (fail_coins_) return Error{"disk on fire"};
    const auto it = address_txs_.find(key);
    if (it == address_txs_.end()) return std::vector<AddressTxEntry>();
    return Page(it->second, offset, limit);
  }

  Result<AddressCoinPage> AddressCoins(const XOnlyPubKey& key, std::uint64_t offset,
                                       std::size_t limit) override {
    RecordPage(offset, limit);
    if (fail_coins_) return Error{"disk on fire"};
    const auto it = address_coins_.find(key);
    if (it == address_coins_.end()) return AddressCoinPage{{}, coin_tip_height_};
    return AddressCoinPage{Page(it->second, offset, limit), coin_tip_height_};
  }

 private:
  void RecordPage(std::uint64_t offset, std::size_t limit) {
    std::lock_guard lock(mu_);
    page_calls_.push_back({offset, limit});
  }

  template <typename T>
  static std::vector<T> Page(const std::vector<T>& all, std::uint64_t offset, std::size_t limit) {
    if (offset >= all.size()) return {};
    const auto first = all.begin() + static_cast<std::ptrdiff_t>(offset);
    const auto count = std::min<std::size_t>(limit, all.size() - offset);
    return {first, first + static_cast<std::ptrdiff_t>(count)};
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<BatchCall> batch_calls_;
  std::vector<std::string> added_peers_;
  std::vector<PageCall> page_calls_;
  std::vector<RequestRecord> requests_;
  std::vector<PendingMine> mines_;
};

}  // namespace powchain::http::testing
