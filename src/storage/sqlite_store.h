// The durable BlockStore: one SQLite database file (docs/storage.md).
//
// WAL journal with synchronous=FULL: Commit() returns only after the batch's
// blocks and tip are on stable storage, so a block acknowledged by the node
// (answered, served, relayed) survives kill -9 and power loss. A batch is
// one transaction: all of it or none of it is there after a crash.
//
// The coin set, undo data and indexes a batch changes are derived from its
// blocks, and are written in batches: a commit keeps them in memory
// (PendingWrites, which every read consults) and writes them with the
// commit that takes them past `max_pending_bytes`, on Flush(), before a
// read of the address index or the whole coin set, and when the store
// closes. Meta coins_tip names the block the tables hold while they lag;
// after a crash ChainState::Load replays the blocks since (docs/storage.md,
// "Deferred writes").
//
// Blocks read one at a time (a block served by hash or height, a tip
// relayed to peers) go through a small cache of whole blocks (BlockCache),
// which also gets the newest block of each commit. Runs of blocks
// (ReadBlocks: a chain streamed over HTTP, a batch for a peer) are read in
// one read transaction, scanning rows in commit order, and bypass the
// cache, so a stream of the whole chain does not empty it.
//
// Thread-safe: one connection, used under the store's own lock.
#pragma once

#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/block_cache.h"
#include "storage/block_store.h"
#include "storage/pending_writes.h"
#include "storage/wal_checkpointer.h"
#include "util/hash_map.h"
#include "util/lru_cache.h"
#include "util/mutex.h"
#include "util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace powchain {

class SqliteBlockStore final : public BlockStore {
 public:
  static constexpr int kSchemaVersion = 4;
  // Open() upgrades files of versions 2 and 3 (docs/storage.md,
  // "Upgrades"); OpenReadOnly() reads version 3 as it is.
  static constexpr int kOldestUpgradableVersion = 2;
  static constexpr std::size_t kDefaultCacheBytes = std::size_t{8} * 1024 * 1024;
  // Deferred coin set, undo and index changes held before they are written.
  static constexpr std::size_t kDefaultPendingBytes = std::size_t{64} * 1024 * 1024;

  // Opens (creating if absent) the database at `path` for the network whose
  // genesis block hash is `genesis_hex` and name is `network`. Errors name
  // the file and say what is wrong: not a database, damaged, another
  // schema version, another network, or an I/O error.
  // `cache_bytes` bounds the block cache (0: none); `max_pending_bytes`
  // the deferred changes (0: every commit writes its own).
  static Result<std::unique_ptr<SqliteBlockStore>> Open(
      const std::filesystem::path& path, const std::string& network, const std::string& genesis_hex,
      std::size_t cache_bytes = kDefaultCacheBytes,
      std::size_t max_pending_bytes = kDefaultPendingBytes);

  // Opens an existing database read-only, whatever its network (for
  // `powchain verify`). `network()` then tells which one it holds.
  static Result<std::unique_ptr<SqliteBlockStore>> OpenReadOnly(const std::filesystem::path& path);

  ~SqliteBlockStore() override;
  SqliteBlockStore(const SqliteBlockStore&) = delete;
  SqliteBlockStore& operator=(const SqliteBlockStore&) = delete;

  Status Commit(const WriteBatch& batch) override;
  Result<std::optional<Block>> ReadBlock(const Hash32& hash) const override;
  // One read transaction (one snapshot, one round of file locking); the
  // blocks are found by scanning the rows in commit order from the first
  // one's, falling back to lookups by hash when the rows between them are
  // mostly other branches'.
  Result<std::vector<Block>> ReadBlocks(
      std::span<const Hash32> hashes,
      std::size_t max_data_bytes = std::numeric_limits<std::size_t>::max()) const override;
  // The json column: no decoding.
  Result<std::optional<std::string>> ReadBlockJson(const Hash32& hash) const override;
  // The json column of each, in one read transaction scanned as ReadBlocks.
  Result<JsonRun> AppendBlocksJson(
      std::span<const Hash32> hashes, std::string& out,
      std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) const override;
  Result<std::optional<Hash32>> ReadTip() const override;
  // Meta coins_tip when the tables lag, else the tip.
  Result<std::optional<Hash32>> ReadCoinsTip() const override;
  // Writes the pending changes in one transaction; nothing when none.
  Status Flush() override;
  // Free space for an unprivileged writer on the file system of the
  // database's directory.
  std::optional<std::uint64_t> AvailableBytes() const override;
  // Commit order (the blocks table's sequence). Also checks that it saw as
  // many blocks as the store recorded committing, so a damaged or truncated
  // file can never pass as a shorter chain. `fn` runs under the store's lock
  // and must not call the store.
  Status ForEachHeader(
      const std::function<void(const Hash32&, const BlockHeader&)>& fn) const override;
  Result<std::optional<Coin>> ReadCoin(const OutPoint& outpoint) const override;
  Result<std::optional<BlockUndo>> ReadUndo(const Hash32& block) const override;
  Result<std::optional<TxLocation>> FindTx(const Hash32& txid) const override;
  Result<AddressSummary> ReadAddressSummary(const XOnlyPubKey& key) const override;
  Result<std::vector<AddressTx>> ReadAddressTxs(const XOnlyPubKey& key, std::size_t offset,
                                                std::size_t limit) const override;
  Result<std::vector<AddressCoin>> ReadAddressCoins(const XOnlyPubKey& key, std::size_t offset,
                                                    std::size_t limit) const override;
  // These three and ForEachCoin write the pending changes first.
  // Outpoint order, in one read transaction.
  Status ForEachCoin(const std::function<bool(const OutPoint&, const Coin&)>& fn) const override;

  // Every stored block with its data and its stored JSON form (valid for
  // the call only), in commit order (for verify). `fn` returns false to
  // stop early (then the count is not checked). Runs under the store's
  // lock: `fn` must not call the store.
  Status ForEachBlock(const std::function<bool(const Block&, std::string_view json)>& fn) const;
  // Blocks recorded as committed.
  Result<std::uint64_t> BlockCount() const;
  // SQLite's full check of the file's structure (PRAGMA integrity_check):
  // pages, records, and that every index holds exactly its table's rows, so
  // a damaged index, which lookups by hash go through while scans in
  // commit order do not, is found. "" when sound, else up to ten of
  // SQLite's findings, one per line. Reads the whole file (for verify).
  Result<std::string> CheckStructure() const;

  const std::string& network() const { return network_; }
  // The version Open() upgraded the file from (0 when it did not).
  int upgraded_from() const { return upgraded_from_; }
  // Rows Open() filled in when it upgraded the file from version 2 (0 when
  // it did not), for the node's log.
  std::uint64_t upgraded_rows() const { return upgraded_rows_; }
  const std::filesystem::path& path() const { return path_; }
  // The checkpoints of the write-ahead log run so far (none for a store
  // opened read-only, which does not checkpoint).
  WalCheckpointer::Stats checkpoint_stats() const {
    return checkpointer_ ? checkpointer_->stats() : WalCheckpointer::Stats{};
  }

 private:
  SqliteBlockStore(sqlite3* db, std::filesystem::path path, std::size_t cache_bytes);
  Status Prepare() REQUIRES(mutex_);
  // Open, step by step: the journal and sync settings; a new file's schema
  // and meta; an existing file's meta against this network and genesis.
  Status SetDurability();
  Status CreateLocked(const std::string& genesis) REQUIRES(mutex_);
  Status CheckExistingLocked(const std::vector<std::string>& tables, const std::string& genesis)
      REQUIRES(mutex_);
  // Offers the row of each of `hashes` in turn to take(row, hash), in one
  // read transaction: found by `scan` (the rows from the first hash's on,
  // in commit order; hash in column 0) while the rows between them are
  // mostly the asked ones, else by `one` (the row of hash ?1, the same
  // columns). Stops at the first hash not stored, or when take answers
  // false; returns how many it took.
  // `db` is the connection of both statements, whose lock the caller holds.
  using TakeRow = std::function<Result<bool>(sqlite3_stmt* row, const Hash32& hash)>;
  Result<std::size_t> ReadRun(sqlite3* db, std::span<const Hash32> hashes, sqlite3_stmt* scan,
                              sqlite3_stmt* one, const TakeRow& take) const;
  // The transaction index's row, without pending changes.
  Result<std::optional<TxLocation>> FindTxLocked(const Hash32& txid) const REQUIRES(mutex_);
  // One block from the file.
  Result<std::optional<Block>> ReadLocked(const Hash32& hash) const REQUIRES(mutex_);
  // The block in the current row of `stmt` (columns hash, header, data,
  // txs and, `with_json`, json from `col` on), whose hash is `hash`; an
  // error if the header is malformed.
  Result<Block> BlockFromRow(sqlite3_stmt* stmt, const Hash32& hash, int col = 0,
                             bool with_json = true) const;
  // Schema version 2 or 3 to 4, inside Open.
  Status UpgradeLocked() REQUIRES(mutex_);
  // Version 2 to 3 inside UpgradeLocked's transaction: the json column,
  // filled `batch_rows` rows at a time. How many rows it filled.
  Result<std::uint64_t> AddJsonColumnLocked(const std::string& what, int batch_rows)
      REQUIRES(mutex_);
  // The transactions of the current row: column `col`, or when that is
  // empty (rows written since version 4), the JSON form in column
  // `json_col` (-1: none, a version 2 row being upgraded).
  Result<std::vector<Transaction>> TxsFromColumn(sqlite3_stmt* stmt, int col, const Hash32& hash,
                                                 int json_col) const;
  // The coin set, undo and index changes of a batch, inside Commit's transaction.
  Status WriteCoinsLocked(const WriteBatch& batch) REQUIRES(mutex_);
  Status WriteStepLocked(const ChainStep& step, bool connect) REQUIRES(mutex_);
  // Inside Commit, before the first change it defers: meta coins_tip is
  // set to the tip, unless it is set already (the tables lag further back).
  Status KeepCoinsTipLocked() REQUIRES(mutex_);
  // pending_'s rows, inside a write transaction.
  Status WritePendingLocked() const REQUIRES(mutex_);
  // Flush() under the lock; const for the reads that flush first.
  Status FlushLocked() const REQUIRES(mutex_);
  // A statement prepared on first use and kept (see statements_).
  sqlite3_stmt* StatementLocked(const char* sql) const REQUIRES(mutex_);
  // The coin in the current row of `stmt`: columns amount, key, height,
  // coinbase from `col` on; an error when the row is malformed.
  Result<Coin> CoinFromRow(sqlite3_stmt* stmt, int col) const;
  Error Fail(const std::string& what) const;                 // "<file>: <what>: <sqlite message>"
  Error FailOn(sqlite3* db, const std::string& what) const;  // the same, of connection `db`
  // Opens reader_ (after the file is known to be ours).
  Status OpenReader();
  // Checks an existing file: a meta table (in `tables`), schema version,
  // the meta keys; prepares the statements.
  Status CheckMeta(const std::vector<std::string>& tables) REQUIRES(mutex_);
  // meta block_count.
  Result<std::uint64_t> ReadCountLocked() const REQUIRES(mutex_);
  // Steps through the blocks in commit order in one read transaction,
  // calling `row` (which returns false to stop) for each well-formed row;
  // when it ran to the end, compares the rows seen with block_count.
  Status ScanLocked(bool with_data, const std::function<bool(sqlite3_stmt*)>& row) const
      REQUIRES(mutex_);

  std::filesystem::path path_;
  std::string network_;
  std::size_t max_pending_bytes_ = kDefaultPendingBytes;
  // Changes committed but not yet in the tables; emptied by a flush, which
  // reads may do.
  mutable PendingWrites pending_ GUARDED_BY(mutex_);
  int upgrade_from_ = 0;  // the file's version, when Open() must upgrade it
  int upgraded_from_ = 0;
  std::uint64_t upgraded_rows_ = 0;
  mutable Mutex mutex_;
  sqlite3* db_;  // owned
  // Prepared statements, reused.
  sqlite3_stmt* set_meta_ GUARDED_BY(mutex_) = nullptr;
  sqlite3_stmt* get_meta_ GUARDED_BY(mutex_) = nullptr;
  // Statements of the coin set and indexes, by their SQL text (a constant's address).
  mutable std::vector<std::pair<const char*, sqlite3_stmt*>> statements_ GUARDED_BY(mutex_);
  mutable BlockCache cache_;  // its own lock
  // Copies the WAL into the main file on its own thread and connection;
  // set by Open() (read-write), closed before db_.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  // The reads that serve clients, blocks' JSON forms one by one and in
  // runs (GET /blocks/{id}, GET /blocks, the P2P blocks answer), on a
  // connection of their own with its own lock: under WAL it reads every
  // committed block while a commit holds mutex_ through its fsync. A block
  // row never changes once committed and the chain names only committed
  // blocks, so it reads what the writer would. Set by Open() and
  // OpenReadOnly(); closed before db_.
  struct Reader {
    Reader() = default;
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader();
    Mutex mutex;
    sqlite3* db = nullptr;                           // owned
    sqlite3_stmt* one GUARDED_BY(mutex) = nullptr;   // kSelectBlockJson
    sqlite3_stmt* scan GUARDED_BY(mutex) = nullptr;  // kScanBlocksJsonFrom
  };
  std::unique_ptr<Reader> reader_;
  // Single blocks' JSON forms as served (GET /blocks/{id}), by hash; as
  // large as the block cache. Its own lock.
  static std::size_t JsonCharge(const std::string& json) { return json.size() + 96; }
  mutable LruCache<Hash32, std::string, Hash32Hasher, &SqliteBlockStore::JsonCharge> json_cache_;
};

}  // namespace powchain
