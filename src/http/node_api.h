// The narrow view of the node that the HTTP layer needs. The node implements
// it; the HTTP layer never sees the chain, the miner or the peers directly.
//
// Every method is thread-safe and may be called from any I/O thread. None of
// them blocks for long: reads touch memory or the block store; Mine() only
// queues.
//
// The HTTP layer does not see the storage layer: the coin and index reads
// below answer in plain structs of their own, which the node fills from the
// store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/params.h"
#include "consensus/work.h"
#include "primitives/block.h"
#include "primitives/coin.h"
#include "primitives/transaction.h"
#include "util/bytes.h"
#include "util/result.h"

namespace powchain::http {

struct MiningStatus {
  bool continuous = false;  // --mine
  unsigned threads = 0;     // worker threads
  bool active = false;      // a search is running now
  double hash_rate = 0;     // hashes per second, measured
  std::size_t queued = 0;   // POST /mine requests not yet in a block
};

// The mempool's size (GET /status, GET /mempool).
struct MempoolSummary {
  std::size_t count = 0;
  std::size_t bytes = 0;  // canonical bytes
  std::uint64_t fees = 0;
  std::uint64_t fee_floor = 0;  // units per byte a new transaction must pay
  std::size_t max_bytes = 0;
  std::size_t orphans = 0;
};

struct NodeStatus {
  Params params;  // network name and every consensus parameter
  Hash32 genesis{};
  std::uint64_t height = 0;
  Hash32 tip{};
  std::uint32_t difficulty = 0;  // of the tip
  Work work = 0;                 // cumulative, of the tip
  // Height of the most-work valid header known: above `height` while block
  // data is being fetched.
  std::uint64_t headers = 0;
  std::size_t peers = 0;
  MiningStatus mining;
  MempoolSummary mempool;
  std::string agent;  // "powchain/<version>"
};

// A mempool transaction.
struct PoolTx {
  Transaction tx;
  Hash32 txid{};
  std::size_t size = 0;  // canonical bytes
  std::uint64_t fee = 0;
  std::uint64_t time_ms = 0;  // when it entered the pool
  // With its unconfirmed ancestors (itself included).
  std::size_t ancestor_count = 0;
  std::size_t ancestor_size = 0;
  std::uint64_t ancestor_fee = 0;
  std::vector<Hash32> parents;  // unconfirmed parents
};

// What became of a submitted transaction (POST /transactions).
struct SubmitResult {
  enum class Outcome {
    kAccepted,  // in the pool now (or was already)
    kInvalid,   // breaks a rule, or policy refuses it
    kConflict,  // another pool transaction spends one of its inputs, or it is confirmed
  };
  Outcome outcome = Outcome::kInvalid;
  Hash32 txid{};
  bool duplicate = false;  // was in the pool already
  std::string reason;      // short and stable, e.g. "fee-too-low"
  std::string message;
};

struct PeerInfo {
  std::string url;           // ws://host:port
  std::string direction;     // "inbound" or "outbound"
  std::uint64_t height = 0;  // as last reported by the peer
  std::string agent;
  std::uint64_t connected_since_ms = 0;  // Unix ms; 0 while not connected
  // "handshaking" or "connected"; a configured peer not connected is
  // "dialing", "waiting" (until next_attempt_ms), "refused" (another
  // network) or "self".
  std::string state;
  std::string last_error;             // why its last dial or connection ended; may be empty
  std::uint64_t next_attempt_ms = 0;  // Unix ms of the next dial, while "waiting"
};

// A transaction of the active chain and the block that holds it.
struct ConfirmedTx {
  Block block;                   // the transaction is block.txs[index]
  std::uint64_t height = 0;      // of the block
  std::uint32_t index = 0;       // in block.txs
  std::uint64_t tip_height = 0;  // of the active chain as read; >= height
  // The coins the transaction's inputs spent, in input order (from the
  // block's undo data); empty for a coinbase.
  std::vector<Coin> spent;
};

// An address's totals on the active chain.
struct AddressTotals {
  std::uint64_t balance = 0;     // units in its unspent coins
  std::uint64_t coin_count = 0;  // how many unspent coins it has
  std::uint64_t tx_count = 0;    // active-chain transactions that pay or spend it
};

// One transaction of an address's history.
struct AddressTxEntry {
  Hash32 txid{};
  std::uint64_t height = 0;
  std::uint32_t index = 0;  // in its block's txs
  Hash32 block{};           // the block's hash
};

// One unspent coin of an address.
struct AddressCoinEntry {
  OutPoint outpoint;
  Coin coin;
};

// A page of an address's unspent coins and the active tip's height as read
// with them (at least the height of every coin listed).
struct AddressCoinPage {
  std::vector<AddressCoinEntry> coins;
  std::uint64_t tip_height = 0;
};

// One tip of the block tree (GET /tips).
struct TipEntry {
  Hash32 hash{};
  std::uint64_t height = 0;
  Work work = 0;  // cumulative, of the chain ending at the tip
  Hash32 fork{};  // highest ancestor on the active chain
  std::uint64_t fork_height = 0;
  std::string status;  // "active", "valid-fork", "headers-only" or "invalid"
};

// A reorganization the node made (GET /reorgs, the explorer's block tree).
struct ReorgEntry {
  std::uint64_t time_ms = 0;  // Unix ms, when the node switched
  Hash32 old_tip{};
  std::uint64_t old_height = 0;
  Hash32 new_tip{};
  std::uint64_t new_height = 0;
  Hash32 fork{};  // the last block both chains share
  std::uint64_t fork_height = 0;
  std::size_t disconnected = 0;  // blocks that left the active chain
  std::size_t connected = 0;     // blocks that joined it
};

// What GET /health reports.
struct HealthInfo {
  // False once the store has failed: the node serves reads but can take
  // no block (docs/storage.md).
  bool store_ok = true;
  // The active tip is the best valid header the node knows: no block data
  // is missing behind it.
  bool synced = true;
  std::uint64_t height = 0;
  std::uint64_t headers = 0;
  std::size_t peers = 0;
};

// POST /mine, validated: the "data" member in canonical JSON bytes and the
// "txs" to put after the coinbase (checked by NodeApi::CheckBlockTxs, which
// gave `fees`), small enough for a block with a coinbase.
struct MineRequest {
  std::string canonical_data;
  std::vector<Transaction> txs;
  std::uint64_t fees = 0;  // what txs pay; the coinbase claims them
};

// Blocks in their JSON form, comma-separated: a shared, immutable string,
// which the server writes as it is (a run may be cached and served to many
// clients at once).
struct BlockRun {
  std::shared_ptr<const std::string> json;  // null when count is 0
  std::size_t count = 0;                    // blocks in it
};

// The run of these blocks' JSON forms, stopping before one would take it
// past `max_bytes` (the first always goes in): a BlockRunInChain answer for
// a NodeApi that keeps no stored forms.
BlockRun EncodeBlockRun(std::span<const Block> blocks, std::size_t max_bytes);

class NodeApi {
 public:
  static constexpr const char* kNoCoins = "this node keeps no coin indexes";

  virtual ~NodeApi() = default;

  virtual NodeStatus Status() = 0;

  // The active tip's hash and height: a snapshot to stream a chain from.
  virtual std::pair<Hash32, std::uint64_t> ActiveTip() = 0;

  // The JSON forms (BlockToJson, as the store keeps them: no encoding) of
  // up to `limit` blocks at heights from, from+1, ... of the chain that ends
  // at `tip` (which need not be active any more: blocks are never deleted,
  // so a response streamed across a reorganization stays one linked
  // chain), as one run separated by commas. It stops before the block that
  // would take the run past `max_bytes` (the first block is always in).
  // Fewer blocks (possibly none) when the chain is shorter. An error when
  // the store cannot be read, a block of the chain is missing or `tip` is
  // unknown.
  virtual Result<BlockRun> BlockRunInChain(const Hash32& tip, std::uint64_t from, std::size_t limit,
                                           std::size_t max_bytes) = 0;

  // One active-chain block by height, or any stored block by hash;
  // nullopt when unknown.
  virtual Result<std::optional<Block>> BlockAtHeight(std::uint64_t height) = 0;
  virtual Result<std::optional<Block>> BlockByHash(const Hash32& hash) = 0;
  // The same blocks' JSON forms: as stored, for a node that keeps them;
  // by default BlockToJson of BlockAtHeight / BlockByHash.
  virtual Result<std::optional<std::string>> BlockJsonAtHeight(std::uint64_t height);
  virtual Result<std::optional<std::string>> BlockJsonByHash(const Hash32& hash);

  // Queues `request` for mining on the current tip. `done` is called
  // exactly once, from some other thread: with the block once it is in the
  // active chain (and committed to the store), or with an error (node
  // stopping, store failure, queue full, or request.txs no longer valid
  // when the block is found). It must not block.
  using MineCallback = std::function<void(Result<Block>)>;
  virtual void Mine(MineRequest request, MineCallback done) = 0;

  // Checks `txs` as the transactions after the coinbase of a block on the
  // active tip: every rule of docs/consensus.md, "Transactions and coins",
  // signatures included. Returns the fees they pay, or an error naming the
  // first bad transaction ("txs[i] <reason>: <text>"). Its cost is one
  // signature check per input.
  virtual Result<std::uint64_t> CheckBlockTxs(const std::vector<Transaction>& /*txs*/) {
    return Error{kNoCoins};
  }

  virtual std::vector<PeerInfo> Peers() = 0;
  // Starts dialling `url` (already syntax-checked by the caller). An error
  // names why it is refused (e.g. P2P disabled, peer cap reached).
  // Spelled powchain::Status: inside this class, Status names the method above.
  virtual powchain::Status AddPeer(const std::string& url) = 0;
  // Stops dialling a configured peer and closes its connection; an error
  // when `url` is not one.
  virtual powchain::Status RemovePeer(const std::string& url) = 0;

  // The consensus parameters (fixed while the node runs). By default those
  // of Status(); a node overrides it with a cheaper read.
  virtual Params ChainParams() { return Status().params; }

  // --- Coins: the active chain's transactions, coin set and address
  // indexes (docs/api.md, "Transactions and addresses"). Each call reads
  // the store without a snapshot shared with other calls, so answers read
  // across a reorganization may disagree with one another. An error means
  // the store could not be read (or holds data that disagrees with
  // itself). A NodeApi that does not keep coins (a test double) need not
  // implement them: by default they answer an error.

  // The confirmed transaction `txid`; nullopt when the active chain does
  // not hold it.
  virtual Result<std::optional<ConfirmedTx>> FindTransaction(const Hash32& /*txid*/) {
    return Error{kNoCoins};
  }
  virtual Result<AddressTotals> AddressSummary(const XOnlyPubKey& /*key*/) {
    return Error{kNoCoins};
  }
  // The address's transactions, newest first (height, then index in the
  // block, both descending), skipping `offset`, at most `limit`. An entry
  // whose transaction leaves the active chain while it is read is dropped.
  virtual Result<std::vector<AddressTxEntry>> AddressTxs(const XOnlyPubKey& /*key*/,
                                                         std::uint64_t /*offset*/,
                                                         std::size_t /*limit*/) {
    return Error{kNoCoins};
  }
  // The address's unspent coins, newest first, skipping `offset`, at most
  // `limit`.
  virtual Result<AddressCoinPage> AddressCoins(const XOnlyPubKey& /*key*/, std::uint64_t /*offset*/,
                                               std::size_t /*limit*/) {
    return Error{kNoCoins};
  }

  // --- Watching the node (docs/api.md, "Watching the node"). A NodeApi
  // without these answers empty lists, a healthy node and no metrics.

  // Every tip of the block tree, highest first, at most `limit`.
  virtual std::vector<TipEntry> Tips(std::size_t /*limit*/) { return {}; }
  // The most recent reorganizations, newest first, at most `limit` (the
  // node keeps a bounded number).
  virtual std::vector<ReorgEntry> Reorgs(std::size_t /*limit*/) { return {}; }
  virtual HealthInfo Health() { return {}; }
  // The Prometheus text exposition of every metric; nullopt when the node
  // keeps none.
  virtual std::optional<std::string> MetricsText() { return std::nullopt; }
  // One answered HTTP request: `route` is the route's template (e.g.
  // "/blocks/{id}"), never the raw path, so that labels stay few. Called by
  // the server when the answer is ready to send (a stream: when its last
  // chunk is out); must be quick.
  virtual void RecordRequest(std::string_view /*route*/, unsigned /*status*/, double /*seconds*/) {}

  // --- The mempool (docs/mempool.md). A NodeApi without one refuses
  // submissions and shows an empty pool.

  // Hands `tx` to the mempool. Costs one signature check per input.
  virtual SubmitResult SubmitTransaction(Transaction /*tx*/) {
    SubmitResult r;
    r.reason = "no-mempool";
    r.message = "this node keeps no mempool";
    return r;
  }
  virtual std::optional<PoolTx> PoolTransaction(const Hash32& /*txid*/) { return std::nullopt; }
  // Up to `limit` pool transactions, best ancestor fee rate first.
  virtual std::vector<PoolTx> PoolByFeeRate(std::size_t /*limit*/) { return {}; }
  virtual MempoolSummary PoolSummary() { return {}; }
  // What the pool adds to (or takes from) the address's balance.
  virtual std::int64_t UnconfirmedBalance(const XOnlyPubKey& /*key*/) { return 0; }
  // The pool transaction that spends `outpoint`, if any.
  virtual std::optional<Hash32> PoolSpender(const OutPoint& /*outpoint*/) { return std::nullopt; }
};

}  // namespace powchain::http
