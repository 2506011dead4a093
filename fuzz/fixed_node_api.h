// A small stateless NodeApi for the HTTP fuzz targets: four made-up blocks,
// three peers, a fixed status, one confirmed transaction and an address
// with two coins. Holds no state that grows between inputs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "http/node_api.h"
#include "primitives/transaction.h"

namespace powchain::fuzz {

inline Block FakeBlock(std::uint64_t height) {
  Block b;
  b.header.height = height;
  b.header.timestamp = 1735689600000 + height;
  b.header.difficulty = 8;
  b.header.nonce = height * 7;
  b.hash[0] = static_cast<std::uint8_t>(height + 1);
  b.hash[31] = 0xAB;
  b.header.last_hash[0] = static_cast<std::uint8_t>(height);
  b.data = "{\"n\":" + std::to_string(height) + "}";
  return b;
}

// A chain of four made-up blocks, two peers and a fixed status. Holds no
// state that grows: AddPeer accepts every address but one port, Mine answers
// at once.
class FixedNodeApi final : public http::NodeApi {
 public:
  FixedNodeApi() {
    for (std::uint64_t h = 0; h < 4; ++h) chain_.push_back(FakeBlock(h));
    status_.params = Params::Regtest();
    status_.genesis = chain_.front().hash;
    status_.height = chain_.back().header.height;
    status_.tip = chain_.back().hash;
    status_.difficulty = 8;
    status_.work = 1234;
    status_.peers = 2;
    status_.mining.hash_rate = 1e300;  // rounded and capped in the answer
    status_.agent = "powchain/\xff";   // not UTF-8: repaired in the answer
    peers_.push_back(
        {"ws://127.0.0.1:5002", "outbound", 3, "powchain/0.1.0", 1, "connected", "", 0});
    peers_.push_back({"ws://[::1]:5003", "inbound", 0, "\xc3(", 0, "handshaking", "", 0});
    peers_.push_back({"ws://a:1", "outbound", 0, "", 0, "waiting", "dial \xff failed", 7});
    coin_block_ = FakeBlock(3);
    Transaction coinbase;
    coinbase.coinbase = 3;
    coinbase.outputs.push_back(MakeTxOut("powrt", XOnlyPubKey{}, 50 * kCoin));
    coin_block_.txs.push_back(coinbase);
    coin_block_.header.data_hash = ComputeDataHash(coin_block_);
    coin_txid_ = ComputeTxid(coinbase);
  }

  http::NodeStatus Status() override { return status_; }
  std::pair<Hash32, std::uint64_t> ActiveTip() override {
    return {chain_.back().hash, chain_.back().header.height};
  }
  Result<http::BlockRun> BlockRunInChain(const Hash32&, std::uint64_t from, std::size_t limit,
                                         std::size_t max_bytes) override {
    if (from >= chain_.size()) return http::BlockRun{};
    const std::size_t end = from + std::min<std::size_t>(limit, chain_.size() - from);
    return http::EncodeBlockRun(std::span<const Block>(chain_).subspan(from, end - from),
                                max_bytes);
  }
  Result<std::optional<Block>> BlockAtHeight(std::uint64_t height) override {
    if (height >= chain_.size()) return std::optional<Block>();
    return std::optional<Block>(chain_[height]);
  }
  Result<std::optional<Block>> BlockByHash(const Hash32& hash) override {
    for (const Block& b : chain_) {
      if (b.hash == hash) return std::optional<Block>(b);
    }
    if (hash[0] == 0xEE) return Error{"disk on fire"};
    return std::optional<Block>();
  }
  void Mine(http::MineRequest, MineCallback done) override {
    done(Error{"not mining in a fuzz run"});
  }
  Result<std::uint64_t> CheckBlockTxs(const std::vector<Transaction>& txs) override {
    if (!txs.empty() && txs[0].version == 7) return Error{"txs[0] refused by the fuzz double"};
    return std::uint64_t{0};
  }
  // Coins: one confirmed transaction (a coinbase in block 3, found by any
  // txid starting 01), an address with two coins and three transactions.
  // A txid or key starting EE is a store error.
  Result<std::optional<http::ConfirmedTx>> FindTransaction(const Hash32& txid) override {
    if (txid[0] == 0xEE) return Error{"disk on fire"};
    if (txid[0] != 0x01) return std::optional<http::ConfirmedTx>();
    return std::optional<http::ConfirmedTx>(http::ConfirmedTx{coin_block_, 3, 0, 3, {}});
  }
  Result<http::AddressTotals> AddressSummary(const XOnlyPubKey& key) override {
    if (key[0] == 0xEE) return Error{"disk on fire"};
    return http::AddressTotals{kMaxMoney, 2, 3};
  }
  Result<std::vector<http::AddressTxEntry>> AddressTxs(const XOnlyPubKey& key, std::uint64_t offset,
                                                       std::size_t limit) override {
    if (key[0] == 0xEE) return Error{"disk on fire"};
    std::vector<http::AddressTxEntry> out;
    for (std::uint64_t i = offset; i < 3 && out.size() < limit; ++i) {
      out.push_back({coin_txid_, 3 - i, static_cast<std::uint32_t>(i), coin_block_.hash});
    }
    return out;
  }
  Result<http::AddressCoinPage> AddressCoins(const XOnlyPubKey& key, std::uint64_t offset,
                                             std::size_t limit) override {
    if (key[0] == 0xEE) return Error{"disk on fire"};
    http::AddressCoinPage page;
    page.tip_height = 3;
    for (std::uint64_t i = offset; i < 2 && page.coins.size() < limit; ++i) {
      page.coins.push_back(
          {OutPoint{coin_txid_, static_cast<std::uint32_t>(i)}, Coin{kCoin, key, 3 - i, i == 0}});
    }
    return page;
  }
  std::vector<http::PeerInfo> Peers() override { return peers_; }
  powchain::Status AddPeer(const std::string& url) override {
    if (url.ends_with(":1")) return Error{"refused: port 1"};
    return {};
  }
  powchain::Status RemovePeer(const std::string& url) override {
    if (!url.ends_with(":2")) return Error{"not a configured peer"};
    return {};
  }

 private:
  std::vector<Block> chain_;
  http::NodeStatus status_;
  std::vector<http::PeerInfo> peers_;
  Block coin_block_;
  Hash32 coin_txid_{};
};

}  // namespace powchain::fuzz
