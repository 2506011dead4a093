// What the wallet does with a node (docs/wallet.md): check that the node
// runs the wallet's network, add up balances, follow the transactions it
// sent, choose coins, build, sign and submit a payment, and list history.
// The keys never leave this process: the node sees signed transactions
// only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wallet/node_client.h"
#include "wallet/wallet_file.h"

namespace powchain::wallet {

// GET /status: the node's network and genesis must be the wallet's.
Status CheckNetwork(NodeClient& node, const Params& params);

struct Balance {
  std::uint64_t confirmed = 0;   // units in unspent coins of the active chain
  std::int64_t unconfirmed = 0;  // the mempool's net change to them
  std::uint64_t coins = 0;       // unspent coins
};
Result<Balance> GetBalance(NodeClient& node, const WalletFile& wallet);

// What became of the sent transactions: confirmed ones are forgotten (the
// chain has them), ones in the mempool stay, and ones the node does not know
// are submitted again (a send cut off after it was recorded), then
// forgotten if refused. `changed` tells whether the list changed.
Status FollowSent(NodeClient& node, WalletFile& wallet, bool& changed,
                  std::vector<std::string>& notes);

// The highest fee rate a send accepts (units per byte): far above any
// floor, and low enough that no fee computation can overflow.
inline constexpr std::uint64_t kMaxFeeRate = 1'000'000;

struct SendRequest {
  std::string to;
  std::uint64_t amount = 0;
  std::uint64_t fee_rate = 0;  // units per byte; 0: the node's mempool floor
};

struct SendResult {
  Hash32 txid{};
  std::uint64_t fee = 0;
  std::uint64_t size = 0;
  std::uint64_t change = 0;
  std::string change_address;  // empty when there is no change output
  std::size_t inputs = 0;
};

// Builds, signs, records (the wallet file is saved before the transaction
// leaves) and submits a payment. Requires an unlocked wallet.
Result<SendResult> Send(NodeClient& node, WalletFile& wallet, const SendRequest& request);

struct HistoryEntry {
  Hash32 txid{};
  std::optional<std::uint64_t> height;  // nullopt while in the mempool
  std::uint64_t confirmations = 0;
  std::int64_t amount = 0;  // the wallet's net change
  std::uint64_t fee = 0;
  bool coinbase = false;
};
// The newest `limit` transactions touching the wallet, mempool ones first.
Result<std::vector<HistoryEntry>> History(NodeClient& node, const WalletFile& wallet,
                                          std::size_t limit);

// "1.5" -> 150000000 units; at most 8 decimals, at most 21 million coins.
Result<std::uint64_t> ParseCoins(std::string_view text);
// 150000000 -> "1.50000000".
std::string FormatCoins(std::int64_t units);

}  // namespace powchain::wallet
