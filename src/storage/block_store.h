// Where the chain's blocks live. ChainState writes through this interface
// and treats a block as known only once Commit has returned ok, so a store
// that makes each commit durable (the SQLite store) gives the guarantee that
// nothing is acknowledged, served or relayed before it is on disk.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "primitives/block.h"
#include "primitives/coin.h"
#include "util/bytes.h"
#include "util/result.h"

namespace powchain {

// A change to the coin set: a coin to add, or (nullopt) one to remove.
struct CoinChange {
  OutPoint outpoint;
  std::optional<Coin> coin;
};

// A block joining or leaving the active chain: its undo data is stored or
// dropped, and its transactions enter or leave the transaction and address
// indexes. Pointers are not owned.
struct ChainStep {
  const Block* block = nullptr;
  const std::vector<Hash32>* txids = nullptr;  // of block->txs
  const BlockUndo* undo = nullptr;
};

struct WriteBatch {
  // Blocks to add, parents before children. Not owned.
  std::vector<const Block*> blocks;
  // The new active tip, when it changes.
  std::optional<Hash32> tip;
  // When the tip changes: the blocks that leave the active chain (tip
  // first) and those that join it (fork side first), and the coin set's
  // net change. All of it is applied with the blocks, in one transaction,
  // so that chain, coins and indexes always agree.
  std::vector<ChainStep> disconnected;
  std::vector<ChainStep> connected;
  std::vector<CoinChange> coins;
};

// What BlockStore::AppendBlocksJson appended.
struct JsonRun {
  std::size_t count = 0;  // blocks
  bool full = false;      // it stopped because the next block would pass the byte cap
};

// Where a confirmed transaction is: block, height and index in its txs.
struct TxLocation {
  Hash32 block{};
  std::uint64_t height = 0;
  std::uint32_t index = 0;
  friend bool operator==(const TxLocation&, const TxLocation&) = default;
};

// One transaction of an address's history on the active chain.
struct AddressTx {
  Hash32 txid{};
  std::uint64_t height = 0;
  std::uint32_t index = 0;  // in its block's txs
  friend bool operator==(const AddressTx&, const AddressTx&) = default;
};

struct AddressCoin {
  OutPoint outpoint;
  Coin coin;
  friend bool operator==(const AddressCoin&, const AddressCoin&) = default;
};

struct AddressSummary {
  std::uint64_t balance = 0;     // sum of the address's unspent coins
  std::uint64_t coin_count = 0;  // how many there are
  std::uint64_t tx_count = 0;    // transactions of the active chain that pay or spend it
  friend bool operator==(const AddressSummary&, const AddressSummary&) = default;
};

// The rows of the address index for one block: for each transaction, each
// key it pays (outputs) or spends from (the coins in `undo`), once.
std::vector<std::pair<XOnlyPubKey, AddressTx>> AddressIndexRows(const ChainStep& step);

class BlockStore {
 public:
  virtual ~BlockStore() = default;

  // Applies the whole batch or nothing. On ok the batch must survive a crash
  // (for a durable store) and be visible to every reader. After an error the
  // store's previous contents are intact; the caller stops writing.
  virtual Status Commit(const WriteBatch& batch) = 0;

  // nullopt when the block is not stored. An error means the store could not
  // be read, not that the block is unknown.
  virtual Result<std::optional<Block>> ReadBlock(const Hash32& hash) const = 0;

  // The blocks with these hashes, in order, stopping before the first one
  // that is not stored, and after the one whose data brings the total data
  // read to `max_data_bytes` or more (the first block is always read); so
  // the result may be shorter than `hashes` (the caller compares the
  // sizes). An error means the store could not be read. Meant for runs of
  // blocks (a chain streamed over HTTP, a batch for a peer), which a store
  // may read together more cheaply; this default reads them one by one.
  virtual Result<std::vector<Block>> ReadBlocks(
      std::span<const Hash32> hashes,
      std::size_t max_data_bytes = std::numeric_limits<std::size_t>::max()) const {
    std::vector<Block> out;
    std::size_t bytes = 0;
    for (const Hash32& hash : hashes) {
      if (!out.empty() && bytes >= max_data_bytes) break;
      auto block = ReadBlock(hash);
      if (!block) return Error{block.error()};
      if (!block->has_value()) break;
      bytes += (*block)->data.size();
      out.push_back(std::move(**block));
    }
    return out;
  }

  // A block's JSON form (BlockToJson), as the store keeps it: what the node
  // serves over HTTP and to peers, so that serving a block is a copy.
  // nullopt when the block is not stored. This default encodes the block.
  virtual Result<std::optional<std::string>> ReadBlockJson(const Hash32& hash) const;

  // Appends to `out` the JSON forms of the blocks with these hashes, in
  // order and separated by commas, stopping before the first one not
  // stored and before the one that would take the bytes appended past
  // `max_bytes` (the first is always appended, whatever its size). Says
  // how many, and whether it stopped for the cap. On error `out` may hold
  // part of the answer. This default encodes the blocks ReadBlocks returns.
  virtual Result<JsonRun> AppendBlocksJson(
      std::span<const Hash32> hashes, std::string& out,
      std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) const;

  // Bytes the store may still grow by (free space on its disk); nullopt
  // when it cannot tell. The chain refuses side-branch data when it runs
  // low, so that only the active chain can fill the disk.
  virtual std::optional<std::uint64_t> AvailableBytes() const { return std::nullopt; }

  // The tip of the last commit that set one; nullopt for an empty store.
  virtual Result<std::optional<Hash32>> ReadTip() const = 0;

  // The block whose coin set, undo data and indexes the store holds on
  // disk. A store that writes them with every commit holds the tip's
  // (this default). One that defers them (SqliteBlockStore) may hold an
  // older block's after a crash; ChainState::Load then replays the blocks
  // between, in one commit. The reads below always answer for the tip.
  virtual Result<std::optional<Hash32>> ReadCoinsTip() const { return ReadTip(); }
  // Writes deferred coin set, undo and index changes now, durably.
  virtual Status Flush() { return {}; }

  // --- The coin set and indexes of the active chain (as of ReadTip) ---
  // An error means the store could not be read.
  virtual Result<std::optional<Coin>> ReadCoin(const OutPoint& outpoint) const = 0;
  // Undo data of an active block (nullopt for other blocks).
  virtual Result<std::optional<BlockUndo>> ReadUndo(const Hash32& block) const = 0;
  // Where an active-chain transaction is.
  virtual Result<std::optional<TxLocation>> FindTx(const Hash32& txid) const = 0;
  virtual Result<AddressSummary> ReadAddressSummary(const XOnlyPubKey& key) const = 0;
  // The address's transactions, newest first, skipping `offset`.
  virtual Result<std::vector<AddressTx>> ReadAddressTxs(const XOnlyPubKey& key, std::size_t offset,
                                                        std::size_t limit) const = 0;
  // The address's unspent coins, newest first, skipping `offset`.
  virtual Result<std::vector<AddressCoin>> ReadAddressCoins(const XOnlyPubKey& key,
                                                            std::size_t offset,
                                                            std::size_t limit) const = 0;
  // Every coin, in outpoint order (for verify). `fn` returns false to stop.
  virtual Status ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn) const = 0;

  // Calls `fn` for every stored block's header and hash, in commit order
  // (so a parent always comes before its children). Used at start-up to
  // rebuild the block index without reading block data.
  virtual Status ForEachHeader(
      const std::function<void(const Hash32& hash, const BlockHeader& header)>& fn) const = 0;
};

}  // namespace powchain
