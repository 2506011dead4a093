// A regtest node for the coin tests, and the HTTP calls they make of it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "node_process.h"
#include "primitives/json.h"
#include "spec_tx.h"

namespace powchain::itest {

inline constexpr std::uint64_t kCoin = 100'000'000;
inline constexpr std::uint64_t kReward = 50 * kCoin;  // regtest initialReward
// The regtest genesis hash (docs/consensus.md, "Networks and genesis"),
// and main's, whose signatures regtest must refuse.
inline const std::string kRegtestGenesis =
    "e202ab5c9d9f593d3eab6d447d3e434851a24b5f18c2d981e24e8507d1f62d9d";
inline const std::string kMainGenesis =
    "bfe39aab9065e71a8a1055b290abdf5a6aad5d84a2205500c6d2e5a95b613f89";

inline JsonValue Json(const HttpResponse& r) {
  auto v = ParseJson(r.body);
  if (!v) throw std::runtime_error("not JSON: " + r.body);
  return std::move(v).value();
}

inline std::uint64_t U64(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.Find(key);
  if (v == nullptr || !v->AsU64()) throw std::runtime_error("no integer " + std::string(key));
  return *v->AsU64();
}

inline std::string Str(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.Find(key);
  if (v == nullptr || !v->is_string()) throw std::runtime_error("no string " + std::string(key));
  return v->as_string();
}

// A node and the HTTP calls the tests make of it.
class CoinNode {
 public:
  CoinNode(const std::filesystem::path& dir, const std::filesystem::path& data,
           const std::string& miner_address, std::vector<std::string> extra = {})
      : dir_(dir), data_(data) {
    args_ = {"node",       "--network",          "regtest",    "--http-port", std::to_string(http_),
             "--p2p-port", std::to_string(p2p_), "--data-dir", data.string(), "--log-level",
             "warn"};
    if (!miner_address.empty()) {
      args_.push_back("--miner-address");
      args_.push_back(miner_address);
    }
    args_.insert(args_.end(), extra.begin(), extra.end());
  }

  bool Start() {
    process_ = std::make_unique<NodeProcess>(args_, std::map<std::string, std::string>{}, dir_);
    return process_->WaitReady(http_);
  }
  NodeProcess& process() { return *process_; }
  std::uint16_t p2p() const { return p2p_; }
  const std::filesystem::path& data() const { return data_; }

  // POST /mine; the block's JSON on 201.
  HttpResponse Mine(const std::string& data, const std::vector<std::string>& txs = {}) {
    std::string body = "{\"data\":" + data + ",\"txs\":[";
    for (std::size_t i = 0; i < txs.size(); ++i) body += (i > 0 ? "," : "") + txs[i];
    return HttpRequest(http_, "POST", "/mine", body + "]}", "application/json",
                       std::chrono::seconds(120));
  }
  JsonValue Status() { return Json(process_->Get("/status")); }
  std::uint64_t Height() { return U64(Status(), "height"); }
  std::string TipHash() { return Str(Status(), "tip"); }
  JsonValue Address(const std::string& address, const std::string& suffix = "") {
    return Json(process_->Get("/addresses/" + address + suffix));
  }
  std::uint64_t Balance(const std::string& address) { return U64(Address(address), "balance"); }

 private:
  std::filesystem::path dir_;
  std::filesystem::path data_;
  std::uint16_t http_ = FreePort();
  std::uint16_t p2p_ = FreePort();
  std::vector<std::string> args_;
  std::unique_ptr<NodeProcess> process_;
};

// The coinbase of the active block at `height`: its txid, recomputed here
// from the canonical form, after checking that the node names it so.
inline std::string CoinbaseTxid(CoinNode& node, std::uint64_t height, const std::string& address) {
  const JsonValue block = Json(node.process().Get("/blocks/" + std::to_string(height)));
  const JsonValue& coinbase = block.Find("txs")->items().at(0);
  const std::uint64_t amount = U64(coinbase.Find("outputs")->items().at(0), "amount");
  const std::string txid = SpecTxid(SpecTxJson({}, {}, {{address, amount}}, std::uint64_t{height}));
  EXPECT_EQ(node.process().Get("/transactions/" + txid).status, 200)
      << "the node names block " << height << "'s coinbase differently";
  return txid;
}

inline std::string ErrorOf(const HttpResponse& r) {
  auto v = ParseJson(r.body);
  return v && v->Find("error") ? v->Find("error")->as_string() : r.body;
}

// Mines `count` blocks of plain data; false (with a test failure) if one
// is refused.
inline bool MineBlocks(CoinNode& node, int count, const std::string& tag) {
  for (int i = 0; i < count; ++i) {
    const HttpResponse r = node.Mine("\"" + tag + std::to_string(i) + "\"");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return false;
  }
  return true;
}

struct Wallets {
  SpecWallet alice = MakeSpecWallet(1, "powrt");
  SpecWallet bob = MakeSpecWallet(2, "powrt");
};

}  // namespace powchain::itest
