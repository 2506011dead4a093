#include "storage/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "primitives/block_json.h"
#include "primitives/transaction.h"
#include "util/hex.h"

namespace powchain {
namespace {

// How long a statement waits for a lock held by another connection (the
// sqlite3 shell, `powchain verify`) before failing with SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 5000;

// Schema version 3 (docs/storage.md). The CHECKs keep a malformed row out
// even if a future bug tried to write one.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE blocks(
  seq        INTEGER PRIMARY KEY,
  hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
  height     INTEGER NOT NULL,
  last_hash  BLOB NOT NULL CHECK (length(last_hash) = 32),
  timestamp  INTEGER NOT NULL,
  difficulty INTEGER NOT NULL,
  header     BLOB NOT NULL CHECK (length(header) = 96),
  data       TEXT NOT NULL,
  -- Rows written by versions 2 and 3: the canonical JSON array of the
  -- block's transactions ('' for none). Since version 4 always '': they
  -- are read from json, whose last member they are.
  txs        TEXT NOT NULL DEFAULT '',
  json       TEXT NOT NULL  -- the JSON form, byte for byte as served
);
-- The unspent outputs of the active chain.
CREATE TABLE coins(
  txid     BLOB NOT NULL CHECK (length(txid) = 32),
  vout     INTEGER NOT NULL,
  amount   INTEGER NOT NULL,
  key      BLOB NOT NULL CHECK (length(key) = 32),
  height   INTEGER NOT NULL,
  coinbase INTEGER NOT NULL CHECK (coinbase IN (0, 1)),
  PRIMARY KEY (txid, vout)
) WITHOUT ROWID;
CREATE INDEX coins_by_key ON coins(key, height);
-- Per active block: the coins it spent (consensus/coins.h, SerializeUndo).
CREATE TABLE undo(
  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),
  data BLOB NOT NULL
) WITHOUT ROWID;
-- Where each active-chain transaction is.
CREATE TABLE txindex(
  txid   BLOB PRIMARY KEY CHECK (length(txid) = 32),
  block  BLOB NOT NULL CHECK (length(block) = 32),
  height INTEGER NOT NULL,
  pos    INTEGER NOT NULL
) WITHOUT ROWID;
-- Per key: the active-chain transactions that pay or spend it.
CREATE TABLE address_txs(
  key    BLOB NOT NULL CHECK (length(key) = 32),
  height INTEGER NOT NULL,
  pos    INTEGER NOT NULL,
  txid   BLOB NOT NULL CHECK (length(txid) = 32),
  PRIMARY KEY (key, height, pos)
) WITHOUT ROWID;
-- Covers ForEachHeader: the start-up scan reads about 160 bytes a block
-- from this index and never the pages that hold the data.
CREATE INDEX blocks_headers ON blocks(seq, hash, header);
)sql";

// ON CONFLICT(hash) DO NOTHING rather than INSERT OR IGNORE: only "already
// stored" is skipped; any other constraint failure stays an error.
constexpr const char* kInsertBlock =
    "INSERT INTO blocks(hash, height, last_hash, timestamp, difficulty, header, data, txs, json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(hash) DO NOTHING";
// Columns as in kScanBlocksFrom, for BlockFromRow.
constexpr const char* kSelectBlock =
    "SELECT hash, header, data, txs, json FROM blocks WHERE hash = ?1";
// The blocks committed from the one with hash ?1 on, in commit order: a
// range of row ids, read sequentially (see ReadBlocks).
constexpr const char* kScanBlocksFrom =
    "SELECT hash, header, data, txs, json FROM blocks "
    "WHERE seq >= (SELECT seq FROM blocks WHERE hash = ?1) ORDER BY seq";
// Columns hash, json: kSelectBlockJson for one block, kScanBlocksJsonFrom
// for a run as kScanBlocksFrom.
constexpr const char* kSelectBlockJson = "SELECT hash, json FROM blocks WHERE hash = ?1";
constexpr const char* kScanBlocksJsonFrom =
    "SELECT hash, json FROM blocks "
    "WHERE seq >= (SELECT seq FROM blocks WHERE hash = ?1) ORDER BY seq";
// How many rows of other branches ReadBlocks skips in a scan before it
// looks the rest of the blocks up by hash.
constexpr std::size_t kMaxSkippedRows = 256;
constexpr const char* kSetMeta =
    "INSERT INTO meta(key, value) VALUES (?1, ?2) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
constexpr const char* kGetMeta = "SELECT value FROM meta WHERE key = ?1";
// Meta coins_tip: the block whose coin set and indexes the tables hold,
// present only while they lag behind the tip.
constexpr const char* kKeepCoinsTip =
    "INSERT INTO meta(key, value) VALUES ('coins_tip', ?1) ON CONFLICT(key) DO NOTHING";
constexpr const char* kForgetCoinsTip = "DELETE FROM meta WHERE key = 'coins_tip'";

// Resets a reused statement and drops its bindings when the scope ends, so
// it holds no read snapshot and no pointer into the caller's buffers.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

struct StatementDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// Rolls back the connection's open transaction, if any, when the scope
// ends: ends a read transaction, and undoes a write transaction that did not
// reach COMMIT (or whose COMMIT failed).
class RollbackIfOpen {
 public:
  explicit RollbackIfOpen(sqlite3* db) : db_(db) {}
  ~RollbackIfOpen() {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  RollbackIfOpen(const RollbackIfOpen&) = delete;
  RollbackIfOpen& operator=(const RollbackIfOpen&) = delete;

 private:
  sqlite3* db_;
};

bool IsDamage(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
}

int Exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

// Runs a query whose result is one text value; `out` is nullopt when it
// returns no row. Returns an SQLite result code.
int QueryText(sqlite3* db, const char* sql, std::optional<std::string>* out) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) return rc;
  out->reset();
  rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    const int n = sqlite3_column_bytes(stmt.get(), 0);
    *out = text == nullptr ? std::string() : std::string(text, static_cast<std::size_t>(n));
    rc = sqlite3_step(stmt.get());
  }
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

// Reads meta[key] with the prepared get_meta statement.
int GetMeta(sqlite3_stmt* get_meta, std::string_view key, std::optional<std::string>* out) {
  StatementUse use(get_meta);
  out->reset();
  int rc = sqlite3_bind_text(get_meta, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(get_meta);
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(get_meta, 0));
    const int n = sqlite3_column_bytes(get_meta, 0);
    *out = text == nullptr ? std::string() : std::string(text, static_cast<std::size_t>(n));
    return SQLITE_OK;
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int SetMeta(sqlite3_stmt* set_meta, std::string_view key, std::string_view value) {
  StatementUse use(set_meta);
  int rc = sqlite3_bind_text(set_meta, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  if (rc == SQLITE_OK) {
    rc =
        sqlite3_bind_text(set_meta, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  }
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(set_meta);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

std::optional<std::uint64_t> ParseU64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The inspection columns hold u64 header fields as INTEGER; a value above
// INT64_MAX (never seen in practice) goes in as REAL, approximate but with
// the right sign and order. The header blob keeps the exact value.
int BindU64(sqlite3_stmt* stmt, int index, std::uint64_t v) {
  if (v <= static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max())) {
    return sqlite3_bind_int64(stmt, index, static_cast<sqlite3_int64>(v));
  }
  return sqlite3_bind_double(stmt, index, static_cast<double>(v));
}

int BindBlob(sqlite3_stmt* stmt, int index, std::span<const std::uint8_t> bytes) {
  // An empty span may have no data pointer, which SQLite would bind as NULL.
  if (bytes.empty()) return sqlite3_bind_zeroblob(stmt, index, 0);
  return sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()),
                           SQLITE_STATIC);
}

std::span<const std::uint8_t> ColumnBlob(sqlite3_stmt* stmt, int col) {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, col));
  const int n = sqlite3_column_bytes(stmt, col);
  if (p == nullptr || n <= 0) return {};
  return {p, static_cast<std::size_t>(n)};
}

// The bytes of a column, valid until the statement steps or resets.
std::string_view ColumnText(sqlite3_stmt* stmt, int col) {
  // column_blob returns the bytes as stored, whatever the storage class.
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
  const int n = sqlite3_column_bytes(stmt, col);
  if (p == nullptr || n <= 0) return {};
  return {p, static_cast<std::size_t>(n)};
}

std::string ColumnString(sqlite3_stmt* stmt, int col) { return std::string(ColumnText(stmt, col)); }

std::string ErrnoText(int err) { return std::generic_category().message(err); }

// Runs a bound statement that returns no rows.
bool StepDone(sqlite3_stmt* stmt, std::initializer_list<int> binds) {
  for (int rc : binds) {
    if (rc != SQLITE_OK) return false;
  }
  return sqlite3_step(stmt) == SQLITE_DONE;
}

}  // namespace

SqliteBlockStore::SqliteBlockStore(sqlite3* db, std::filesystem::path path, std::size_t cache_bytes)
    : path_(std::move(path)), db_(db), cache_(cache_bytes), json_cache_(cache_bytes, 8) {}

SqliteBlockStore::~SqliteBlockStore() {
  {
    // Deferred changes are written when the store closes; should that
    // fail, the next Open() finds the tables lagging and the chain replays.
    MutexLock lock(mutex_);
    (void)FlushLocked();
  }
  // Closed before the writer, so that the writer's close is the last one.
  if (checkpointer_) {
    checkpointer_->Detach(db_);
    checkpointer_.reset();
  }
  reader_.reset();
  for (sqlite3_stmt* stmt : {set_meta_, get_meta_}) {
    sqlite3_finalize(stmt);
  }
  for (const auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  // The last connection to close checkpoints the WAL into the main file and
  // deletes it; a failure there loses nothing (the WAL stays and is replayed
  // on the next open).
  sqlite3_close_v2(db_);
}

Error SqliteBlockStore::Fail(const std::string& what) const { return FailOn(db_, what); }

Error SqliteBlockStore::FailOn(sqlite3* db, const std::string& what) const {
  std::string message = path_.string() + ": " + what + ": " + sqlite3_errmsg(db);
  // For failures of the file system, what the OS said ("No space left on
  // device", "Permission denied").
  const int primary = sqlite3_errcode(db) & 0xff;
  const int err = sqlite3_system_errno(db);
  if ((primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR || primary == SQLITE_FULL) &&
      err != 0) {
    message += " (" + ErrnoText(err) + ")";
  }
  return Error{std::move(message)};
}

SqliteBlockStore::Reader::~Reader() {
  MutexLock lock(mutex);
  sqlite3_finalize(one);
  sqlite3_finalize(scan);
  sqlite3_close_v2(db);
}

Status SqliteBlockStore::Prepare() {
  const std::pair<const char*, sqlite3_stmt**> statements[] = {
      {kSetMeta, &set_meta_},
      {kGetMeta, &get_meta_},
  };
  for (const auto& [sql, out] : statements) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, out, nullptr) != SQLITE_OK) {
      return Fail("not a powchain database or damaged");
    }
  }
  return {};
}

namespace {

// Opens the connection and reads the list of tables, which is the first
// read of the file: a file that is not a database or is damaged fails here.
// On error the store (if any) is closed by the caller's unique_ptr.
int OpenAndListTables(sqlite3** db, const std::filesystem::path& path, int flags,
                      std::vector<std::string>* tables) {
  int rc = sqlite3_open_v2(path.c_str(), db, flags, nullptr);
  if (rc != SQLITE_OK) return rc;
  sqlite3_extended_result_codes(*db, 1);
  sqlite3_busy_timeout(*db, kBusyTimeoutMs);
  // Refuse the features a crafted file could use against us (writable
  // schema, triggers on shadow tables); powchain needs none of them.
  sqlite3_db_config(*db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(*db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);

  sqlite3_stmt* raw = nullptr;
  rc = sqlite3_prepare_v2(*db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &raw,
                          nullptr);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) return rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    tables->push_back(ColumnString(stmt.get(), 0));
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

}  // namespace

Status SqliteBlockStore::OpenReader() {
  auto reader = std::make_unique<Reader>();
  std::vector<std::string> tables;
  const int rc =
      OpenAndListTables(&reader->db, path_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, &tables);
  MutexLock lock(reader->mutex);
  if (rc != SQLITE_OK ||
      sqlite3_prepare_v3(reader->db, kSelectBlockJson, -1, SQLITE_PREPARE_PERSISTENT, &reader->one,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(reader->db, kScanBlocksJsonFrom, -1, SQLITE_PREPARE_PERSISTENT,
                         &reader->scan, nullptr) != SQLITE_OK) {
    return FailOn(reader->db, "cannot open a connection for reading blocks");
  }
  lock.Unlock();
  reader_ = std::move(reader);
  return {};
}

Status SqliteBlockStore::SetDurability() {
  // synchronous first, so that switching a new file to WAL is itself
  // durable. synchronous is per connection; the WAL mode is recorded in the
  // file. journal_size_limit: after a checkpoint, a WAL that a big batch
  // grew is cut back to 64 MiB.
  std::optional<std::string> mode;
  std::optional<std::string> sync;
  if (Exec(db_, "PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864") != SQLITE_OK ||
      QueryText(db_, "PRAGMA journal_mode=WAL", &mode) != SQLITE_OK ||
      QueryText(db_, "PRAGMA synchronous", &sync) != SQLITE_OK) {
    return Fail(IsDamage(sqlite3_extended_errcode(db_)) ? "not a powchain database or damaged"
                                                        : "cannot set up the database");
  }
  if (mode != "wal") {
    return Error{path_.string() + ": cannot use the WAL journal (journal mode is " +
                 mode.value_or("unknown") + ")"};
  }
  if (sync != "2") {
    return Error{path_.string() + ": cannot set synchronous=FULL (it is " +
                 sync.value_or("unknown") + ")"};
  }
  return {};
}

Status SqliteBlockStore::CreateLocked(const std::string& genesis) {
  // The schema and meta in one transaction.
  if (Status s = SetDurability(); !s) return s;
  if (Exec(db_, "BEGIN IMMEDIATE") != SQLITE_OK) return Fail("cannot create the database");
  RollbackIfOpen rollback_on_error(db_);
  if (Exec(db_, kCreateSchema) != SQLITE_OK) return Fail("cannot create the database");
  if (Status s = Prepare(); !s) return s;
  const std::pair<const char*, std::string> meta[] = {
      {"schema_version", std::to_string(kSchemaVersion)},
      {"network", network_},
      {"genesis", genesis},
      {"block_count", "0"},
  };
  for (const auto& [key, value] : meta) {
    if (SetMeta(set_meta_, key, value) != SQLITE_OK) return Fail("cannot create the database");
  }
  if (Exec(db_, "COMMIT") != SQLITE_OK) return Fail("cannot create the database");
  return {};
}

Status SqliteBlockStore::CheckExistingLocked(const std::vector<std::string>& tables,
                                             const std::string& genesis) {
  if (Status s = CheckMeta(tables); !s) return s;
  std::optional<std::string> stored_network;
  std::optional<std::string> stored_genesis;
  if (GetMeta(get_meta_, "network", &stored_network) != SQLITE_OK ||
      GetMeta(get_meta_, "genesis", &stored_genesis) != SQLITE_OK) {
    return Fail("cannot read the database");
  }
  const std::string file = path_.string();
  if (stored_network != network_) {
    return Error{file + ": holds the " + *stored_network + " chain (genesis " + *stored_genesis +
                 "), not " + network_};
  }
  if (Lower(*stored_genesis) != genesis) {
    return Error{file + ": holds a " + *stored_network + " chain with genesis " + *stored_genesis +
                 ", not the genesis " + genesis + " of this powchain's " + network_ +
                 " parameters"};
  }
  // Only now, knowing the file is ours (WAL is normally set already).
  if (Status s = SetDurability(); !s) return s;
  return upgrade_from_ != 0 ? UpgradeLocked() : Status{};
}

Status SqliteBlockStore::UpgradeLocked() {
  // Version 3 to 4 changes no table: version 4 may defer the coin set's
  // writes (meta coins_tip), which a version 3 binary must not read.
  // Version 2 to 3: the json column, filled from each row. Both in one
  // transaction (a crash leaves the old version as it was). Rows are read a
  // batch at a time and then updated, so no update runs under an open scan.
  constexpr int kBatch = 1000;
  const std::string what =
      "cannot upgrade the database to schema version " + std::to_string(kSchemaVersion);
  if (Exec(db_, "BEGIN IMMEDIATE") != SQLITE_OK) return Fail(what);
  RollbackIfOpen rollback_on_error(db_);
  std::uint64_t rows = 0;
  if (upgrade_from_ == 2) {
    auto filled = AddJsonColumnLocked(what, kBatch);
    if (!filled) return Error{filled.error()};
    rows = *filled;
  }
  if (SetMeta(set_meta_, "schema_version", std::to_string(kSchemaVersion)) != SQLITE_OK ||
      Exec(db_, "COMMIT") != SQLITE_OK) {
    return Fail(what);
  }
  upgraded_from_ = upgrade_from_;
  upgrade_from_ = 0;
  upgraded_rows_ = rows;
  return {};
}

Result<std::uint64_t> SqliteBlockStore::AddJsonColumnLocked(const std::string& what,
                                                            int batch_rows) {
  if (Exec(db_, "ALTER TABLE blocks ADD COLUMN json TEXT NOT NULL DEFAULT ''") != SQLITE_OK) {
    return Fail(what);
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT seq, hash, header, data, txs FROM blocks WHERE seq > ?1 "
                         "ORDER BY seq LIMIT ?2",
                         -1, &raw, nullptr) != SQLITE_OK) {
    return Fail(what);
  }
  StatementPtr select(raw);
  if (sqlite3_prepare_v2(db_, "UPDATE blocks SET json = ?1 WHERE seq = ?2", -1, &raw, nullptr) !=
      SQLITE_OK) {
    return Fail(what);
  }
  StatementPtr update(raw);
  std::int64_t last = 0;
  std::uint64_t rows = 0;
  for (;;) {
    std::vector<std::pair<std::int64_t, std::string>> batch;
    {
      StatementUse use(select.get());
      sqlite3_bind_int64(select.get(), 1, last);
      sqlite3_bind_int(select.get(), 2, batch_rows);
      int rc;
      while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
        const std::int64_t seq = sqlite3_column_int64(select.get(), 0);
        const auto hash_bytes = ColumnBlob(select.get(), 1);
        if (hash_bytes.size() != Hash32().size()) {
          return Error{path_.string() + ": damaged: block row " + std::to_string(seq) + " has a " +
                       std::to_string(hash_bytes.size()) + "-byte hash"};
        }
        Hash32 hash;
        std::copy(hash_bytes.begin(), hash_bytes.end(), hash.begin());
        // Columns hash, header, data, txs from 1, as BlockFromRow reads them.
        auto block = BlockFromRow(select.get(), hash, 1, false);
        if (!block) return Error{block.error()};
        batch.emplace_back(seq, BlockToJson(*block));
      }
      if (rc != SQLITE_DONE) return Fail(what);
    }
    if (batch.empty()) break;
    for (const auto& [seq, json] : batch) {
      StatementUse use(update.get());
      if (sqlite3_bind_text(update.get(), 1, json.data(), static_cast<int>(json.size()),
                            SQLITE_STATIC) != SQLITE_OK ||
          sqlite3_bind_int64(update.get(), 2, seq) != SQLITE_OK ||
          sqlite3_step(update.get()) != SQLITE_DONE) {
        return Fail(what);
      }
    }
    rows += batch.size();
    last = batch.back().first;
  }
  return rows;
}

Result<std::unique_ptr<SqliteBlockStore>> SqliteBlockStore::Open(const std::filesystem::path& path,
                                                                 const std::string& network,
                                                                 const std::string& genesis_hex,
                                                                 std::size_t cache_bytes,
                                                                 std::size_t max_pending_bytes) {
  sqlite3* db = nullptr;
  std::vector<std::string> tables;
  const int rc = OpenAndListTables(
      &db, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, &tables);
  // The store owns the handle from here on, even a failed one.
  std::unique_ptr<SqliteBlockStore> store(new SqliteBlockStore(db, path, cache_bytes));
  if (rc != SQLITE_OK) {
    return store->Fail(IsDamage(rc) ? "not a powchain database or damaged" : "cannot open");
  }
  store->network_ = network;
  store->max_pending_bytes_ = max_pending_bytes;
  const std::string genesis = Lower(genesis_hex);
  MutexLock lock(store->mutex_);  // not shared yet; the statements want it
  Status s =
      tables.empty() ? store->CreateLocked(genesis) : store->CheckExistingLocked(tables, genesis);
  if (!s) return Error{s.error()};
  lock.Unlock();
  // The file is in WAL mode now: checkpoints leave the commit path.
  auto checkpointer = WalCheckpointer::Start(path);
  if (!checkpointer) return Error{checkpointer.error()};
  store->checkpointer_ = std::move(*checkpointer);
  store->checkpointer_->Attach(store->db_);
  if (Status r = store->OpenReader(); !r) return Error{r.error()};
  return store;
}

Result<std::unique_ptr<SqliteBlockStore>> SqliteBlockStore::OpenReadOnly(
    const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Error{path.string() + ": " + (ec ? ec.message() : "no such file")};
  }
  sqlite3* db = nullptr;
  std::vector<std::string> tables;
  const int rc = OpenAndListTables(&db, path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, &tables);
  std::unique_ptr<SqliteBlockStore> store(new SqliteBlockStore(db, path, 0));
  if (rc != SQLITE_OK) {
    return store->Fail(IsDamage(rc) ? "not a powchain database or damaged" : "cannot open");
  }
  MutexLock lock(store->mutex_);  // not shared yet; the statements want it
  if (Status s = store->CheckMeta(tables); !s) return Error{s.error()};
  if (store->upgrade_from_ == 2) {
    return Error{path.string() + ": schema version 2" +
                 ": start this powchain's node on it once to upgrade it to version " +
                 std::to_string(kSchemaVersion)};
  }
  std::optional<std::string> network;
  if (GetMeta(store->get_meta_, "network", &network) != SQLITE_OK) {
    return store->Fail("cannot read the database");
  }
  store->network_ = *network;
  lock.Unlock();
  if (Status r = store->OpenReader(); !r) return Error{r.error()};
  return store;
}

Status SqliteBlockStore::CheckMeta(const std::vector<std::string>& tables) {
  const std::string file = path_.string();
  if (std::find(tables.begin(), tables.end(), "meta") == tables.end()) {
    return Error{file + ": not a powchain database (it has no meta table)"};
  }
  // The version first, by itself: another version may have other tables.
  std::optional<std::string> version;
  if (QueryText(db_, "SELECT value FROM meta WHERE key = 'schema_version'", &version) !=
      SQLITE_OK) {
    return Fail(IsDamage(sqlite3_extended_errcode(db_)) ? "not a powchain database or damaged"
                                                        : "cannot read the database");
  }
  if (!version) return Error{file + ": not a powchain database (no schema_version)"};
  // SQLite notices a file missing whole pages (the page count in its
  // header), but reads the missing end of a last page cut short as zeros.
  // So a file whose size is not a whole number of pages is damaged, unless
  // a WAL with frames is there: a checkpoint that failed (disk full, crash)
  // may leave a partly written page whose content is still in the WAL and
  // is read from there.
  std::optional<std::string> page_size;
  if (QueryText(db_, "PRAGMA page_size", &page_size) != SQLITE_OK) {
    return Fail("cannot read the database");
  }
  std::error_code ec;
  std::error_code wal_ec;
  const std::uintmax_t size = std::filesystem::file_size(path_, ec);
  const std::uintmax_t wal_size = std::filesystem::file_size(path_.string() + "-wal", wal_ec);
  const auto page = ParseU64(page_size.value_or(""));
  if (!ec && (wal_ec || wal_size == 0) && page && *page > 0 && size % *page != 0) {
    return Error{file + ": not a powchain database or damaged: its size, " + std::to_string(size) +
                 " bytes, is not a whole number of " + *page_size + "-byte pages"};
  }
  if (*version == "2" || *version == "3") {
    // By CheckExistingLocked, once the file is known to be ours.
    upgrade_from_ = *version == "2" ? 2 : 3;
  } else if (*version != std::to_string(kSchemaVersion)) {
    return Error{file + ": schema version " + *version + ", this powchain reads version " +
                 std::to_string(kSchemaVersion)};
  }
  if (Status s = Prepare(); !s) return s;
  for (const char* key : {"network", "genesis", "block_count"}) {
    std::optional<std::string> value;
    if (GetMeta(get_meta_, key, &value) != SQLITE_OK) return Fail("cannot read the database");
    if (!value) return Error{file + ": damaged: meta has no " + key};
  }
  auto count = ReadCountLocked();
  if (!count) return Error{count.error()};
  return {};
}

Result<std::uint64_t> SqliteBlockStore::ReadCountLocked() const {
  std::optional<std::string> count;
  if (GetMeta(get_meta_, "block_count", &count) != SQLITE_OK) {
    return Fail("cannot read the block count");
  }
  if (!count) return Error{path_.string() + ": damaged: meta has no block_count"};
  const auto n = ParseU64(*count);
  if (!n) return Error{path_.string() + ": damaged: block_count is '" + *count + "'"};
  return *n;
}

Status SqliteBlockStore::KeepCoinsTipLocked() {
  // The tip before this commit's: the block the tables hold.
  std::optional<std::string> tip;
  if (GetMeta(get_meta_, "tip", &tip) != SQLITE_OK) return Fail("cannot commit");
  if (!tip) return Error{path_.string() + ": cannot defer coin changes: the store has no tip"};
  sqlite3_stmt* keep = StatementLocked(kKeepCoinsTip);
  if (keep == nullptr) return Fail("cannot commit");
  StatementUse use(keep);
  if (!StepDone(keep, {sqlite3_bind_text(keep, 1, tip->data(), static_cast<int>(tip->size()),
                                         SQLITE_STATIC)})) {
    return Fail("cannot commit");
  }
  return {};
}

Status SqliteBlockStore::Commit(const WriteBatch& batch) {
  MutexLock lock(mutex_);
  if (batch.blocks.empty() && !batch.tip) return {};
  if (Exec(db_, "BEGIN IMMEDIATE") != SQLITE_OK) return Fail("cannot commit");
  // Rolls back unless COMMIT below succeeded; the error message is taken
  // before that, since ROLLBACK would replace it.
  RollbackIfOpen rollback_on_error(db_);

  // Prepared on first use (the statements Prepare() makes must also work
  // on a file of schema version 2, before UpgradeLocked).
  sqlite3_stmt* insert = StatementLocked(kInsertBlock);
  if (insert == nullptr) return Fail("cannot commit");
  std::uint64_t inserted = 0;
  for (const Block* block : batch.blocks) {
    const BlockHeader::Bytes header = block->header.Serialize();
    // The JSON form holds the transactions; the txs column stays empty, so
    // they are written out once (rows of versions 2 and 3 have them there).
    const std::string json = BlockToJson(*block);
    const std::string_view txs("");  // not a null pointer: that would bind NULL
    StatementUse use(insert);
    const int bind[] = {
        BindBlob(insert, 1, block->hash),
        BindU64(insert, 2, block->header.height),
        BindBlob(insert, 3, block->header.last_hash),
        BindU64(insert, 4, block->header.timestamp),
        sqlite3_bind_int64(insert, 5, block->header.difficulty),
        BindBlob(insert, 6, header),
        sqlite3_bind_text(insert, 7, block->data.data(), static_cast<int>(block->data.size()),
                          SQLITE_STATIC),
        sqlite3_bind_text(insert, 8, txs.data(), static_cast<int>(txs.size()), SQLITE_STATIC),
        sqlite3_bind_text(insert, 9, json.data(), static_cast<int>(json.size()), SQLITE_STATIC),
    };
    for (int rc : bind) {
      if (rc != SQLITE_OK) return Fail("cannot commit block " + HexEncode(block->hash));
    }
    if (sqlite3_step(insert) != SQLITE_DONE) {
      return Fail("cannot commit block " + HexEncode(block->hash));
    }
    inserted += static_cast<std::uint64_t>(sqlite3_changes(db_));
  }
  if (inserted > 0) {
    auto count = ReadCountLocked();
    if (!count) return Error{count.error()};
    if (SetMeta(set_meta_, "block_count", std::to_string(*count + inserted)) != SQLITE_OK) {
      return Fail("cannot commit");
    }
  }
  // The batch's coin set, undo and index changes are written now, with
  // those still pending, when they would take the pending ones past the
  // bound; else they join them. The first change deferred records which
  // block the tables hold (meta coins_tip, unless a replay's tables lag
  // already), and a write of all of them removes the record.
  const bool changes =
      !batch.coins.empty() || !batch.connected.empty() || !batch.disconnected.empty();
  const bool write_through =
      changes && pending_.bytes() + PendingWrites::Estimate(batch) > max_pending_bytes_;
  if (changes && !write_through && pending_.empty()) {
    if (Status s = KeepCoinsTipLocked(); !s) return s;
  }
  if (batch.tip && SetMeta(set_meta_, "tip", HexEncode(*batch.tip)) != SQLITE_OK) {
    return Fail("cannot commit");
  }
  if (write_through) {
    if (Status s = WritePendingLocked(); !s) return s;
    if (Status s = WriteCoinsLocked(batch); !s) return s;
    if (Exec(db_, kForgetCoinsTip) != SQLITE_OK) return Fail("cannot commit");
  }
  if (Exec(db_, "COMMIT") != SQLITE_OK) return Fail("cannot commit");
  if (write_through) {
    pending_.Clear();
  } else if (changes) {
    pending_.Add(batch);
  }
  // The newest block is the one most likely read next (relayed to peers,
  // asked for as the tip).
  if (!batch.blocks.empty()) cache_.Put(*batch.blocks.back());
  return {};
}

Result<std::optional<Block>> SqliteBlockStore::ReadBlock(const Hash32& hash) const {
  if (auto cached = cache_.Get(hash)) return cached;
  MutexLock lock(mutex_);
  auto block = ReadLocked(hash);
  if (block && block->has_value()) cache_.Put(**block);
  return block;
}

Result<std::size_t> SqliteBlockStore::ReadRun(sqlite3* db, std::span<const Hash32> hashes,
                                              sqlite3_stmt* scan, sqlite3_stmt* one,
                                              const TakeRow& take) const {
  std::size_t taken = 0;
  bool stopped = false;
  const auto offer = [&](sqlite3_stmt* stmt) -> Status {
    auto took = take(stmt, hashes[taken]);
    if (!took) return Error{took.error()};
    if (*took) {
      ++taken;
    } else {
      stopped = true;
    }
    return {};
  };
  const auto more = [&] { return taken < hashes.size() && !stopped; };
  if (hashes.empty()) return taken;
  // One read transaction: one snapshot, and the file locks taken once.
  if (Exec(db, "BEGIN") != SQLITE_OK) return FailOn(db, "cannot read the blocks");
  RollbackIfOpen end(db);
  {
    // A run of blocks of one chain was committed in order (a parent before
    // its child), mostly with no other rows between them: scan the rows
    // from the first block's on, in commit order, taking the ones asked
    // for and skipping those of other branches. A lookup by hash costs a
    // walk down the hash index to a random page; the scan reads pages in
    // order.
    StatementUse use(scan);
    if (BindBlob(scan, 1, hashes.front()) != SQLITE_OK) return FailOn(db, "cannot read the blocks");
    std::size_t skipped = 0;
    while (more() && skipped <= kMaxSkippedRows) {
      const int rc = sqlite3_step(scan);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return FailOn(db, "cannot read the blocks");
      const Hash32& want = hashes[taken];
      const auto hash = ColumnBlob(scan, 0);
      if (!std::equal(hash.begin(), hash.end(), want.begin(), want.end())) {
        ++skipped;
        continue;
      }
      if (Status s = offer(scan); !s) return Error{s.error()};
    }
  }
  // What the scan did not reach, by hash.
  while (more()) {
    StatementUse use(one);
    if (BindBlob(one, 1, hashes[taken]) != SQLITE_OK) return FailOn(db, "cannot read the blocks");
    const int rc = sqlite3_step(one);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return FailOn(db, "cannot read block " + HexEncode(hashes[taken]));
    if (Status s = offer(one); !s) return Error{s.error()};
  }
  return taken;
}

Result<std::vector<Block>> SqliteBlockStore::ReadBlocks(std::span<const Hash32> hashes,
                                                        std::size_t max_data_bytes) const {
  std::vector<Block> out;
  std::size_t bytes = 0;
  MutexLock lock(mutex_);
  sqlite3_stmt* scan = StatementLocked(kScanBlocksFrom);
  sqlite3_stmt* one = StatementLocked(kSelectBlock);
  if (scan == nullptr || one == nullptr) return Fail("cannot read the blocks");
  auto read =
      ReadRun(db_, hashes, scan, one, [&](sqlite3_stmt* stmt, const Hash32& hash) -> Result<bool> {
        if (!out.empty() && bytes >= max_data_bytes) return false;
        auto block = BlockFromRow(stmt, hash);
        if (!block) return Error{block.error()};
        bytes += block->data.size();
        out.push_back(std::move(*block));
        return true;
      });
  if (!read) return Error{read.error()};
  return out;
}

Result<std::optional<std::string>> SqliteBlockStore::ReadBlockJson(const Hash32& hash) const {
  if (auto cached = json_cache_.Get(hash)) return cached;
  MutexLock lock(reader_->mutex);
  sqlite3_stmt* stmt = reader_->one;
  StatementUse use(stmt);
  if (BindBlob(stmt, 1, hash) != SQLITE_OK) return FailOn(reader_->db, "cannot read a block");
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return FailOn(reader_->db, "cannot read block " + HexEncode(hash));
  std::string json = ColumnString(stmt, 1);
  json_cache_.Put(hash, json);
  return std::optional<std::string>(std::move(json));
}

Result<JsonRun> SqliteBlockStore::AppendBlocksJson(std::span<const Hash32> hashes, std::string& out,
                                                   std::size_t max_bytes) const {
  const std::size_t start = out.size();
  bool full = false;
  MutexLock lock(reader_->mutex);
  // Each block's JSON unless it would take the answer past max_bytes (the
  // first always goes in).
  auto read = ReadRun(reader_->db, hashes, reader_->scan, reader_->one,
                      [&](sqlite3_stmt* stmt, const Hash32&) -> Result<bool> {
                        const std::string_view json = ColumnText(stmt, 1);
                        const bool first = out.size() == start;
                        if (!first && out.size() - start + 1 + json.size() > max_bytes) {
                          full = true;
                          return false;
                        }
                        if (!first) out += ',';
                        out += json;
                        return true;
                      });
  if (!read) return Error{read.error()};
  return JsonRun{*read, full};
}

Result<Block> SqliteBlockStore::BlockFromRow(sqlite3_stmt* stmt, const Hash32& hash, int col,
                                             bool with_json) const {
  const auto header = ColumnBlob(stmt, col + 1);
  if (header.size() != kHeaderSize) {
    return Error{path_.string() + ": damaged: block " + HexEncode(hash) + " has a header of " +
                 std::to_string(header.size()) + " bytes"};
  }
  Block block;
  block.header = BlockHeader::Deserialize(header.first<kHeaderSize>());
  block.hash = hash;
  block.data = ColumnString(stmt, col + 2);
  auto txs = TxsFromColumn(stmt, col + 3, hash, with_json ? col + 4 : -1);
  if (!txs) return Error{txs.error()};
  block.txs = std::move(*txs);
  return block;
}

Result<std::vector<Transaction>> SqliteBlockStore::TxsFromColumn(sqlite3_stmt* stmt, int col,
                                                                 const Hash32& hash,
                                                                 int json_col) const {
  std::string_view text = ColumnText(stmt, col);
  if (text.empty() && json_col >= 0) {
    // Written since version 4: the transactions are the JSON form's last
    // member. Its key is the last "txs": in the text, since the data comes
    // before it and no key inside a transaction has that name.
    const std::string_view json = ColumnText(stmt, json_col);
    constexpr std::string_view kKey = "\"txs\":";
    const std::size_t key = json.rfind(kKey);
    if (key == std::string_view::npos || json.size() < key + kKey.size() + 3 ||
        json.back() != '}') {
      return Error{path_.string() + ": damaged: block " + HexEncode(hash) +
                   " has no transactions in its JSON form"};
    }
    const std::size_t begin = key + kKey.size();
    text = json.substr(begin, json.size() - 1 - begin);
  }
  if (text.empty()) return std::vector<Transaction>();
  auto txs = TxsFromJsonText(text);
  if (!txs) {
    return Error{path_.string() + ": damaged: the transactions of block " + HexEncode(hash) + ": " +
                 txs.error()};
  }
  return txs;
}

Result<std::optional<Block>> SqliteBlockStore::ReadLocked(const Hash32& hash) const {
  sqlite3_stmt* select = StatementLocked(kSelectBlock);
  if (select == nullptr) return Fail("cannot read a block");
  StatementUse use(select);
  if (BindBlob(select, 1, hash) != SQLITE_OK) return Fail("cannot read a block");
  const int rc = sqlite3_step(select);
  if (rc == SQLITE_DONE) return std::optional<Block>();
  if (rc != SQLITE_ROW) return Fail("cannot read block " + HexEncode(hash));
  auto block = BlockFromRow(select, hash);
  if (!block) return Error{block.error()};
  return std::optional<Block>(std::move(*block));
}

std::optional<std::uint64_t> SqliteBlockStore::AvailableBytes() const {
  // The file grows on the file system of its directory; space the WAL and
  // the checkpoint need comes from there too.
  struct statvfs fs {};
  const std::filesystem::path dir = path_.has_parent_path() ? path_.parent_path() : ".";
  if (statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
}

Result<std::optional<Hash32>> SqliteBlockStore::ReadTip() const {
  MutexLock lock(mutex_);
  std::optional<std::string> tip;
  if (GetMeta(get_meta_, "tip", &tip) != SQLITE_OK) return Fail("cannot read the tip");
  if (!tip) return std::optional<Hash32>();
  const auto hash = HexToHash32(*tip);
  if (!hash) return Error{path_.string() + ": damaged: the tip is '" + *tip + "'"};
  return std::optional<Hash32>(*hash);
}

Status SqliteBlockStore::ScanLocked(bool with_data,
                                    const std::function<bool(sqlite3_stmt*)>& row) const {
  // One read transaction: the rows and block_count come from one snapshot.
  if (Exec(db_, "BEGIN") != SQLITE_OK) return Fail("cannot read the blocks");
  RollbackIfOpen end(db_);
  sqlite3_stmt* raw = nullptr;
  const char* sql = with_data ? "SELECT seq, hash, header, data, txs, json FROM blocks ORDER BY seq"
                              : "SELECT seq, hash, header FROM blocks ORDER BY seq";
  if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) {
    return Fail("cannot read the blocks");
  }
  StatementPtr stmt(raw);
  std::uint64_t seen = 0;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const auto hash = ColumnBlob(stmt.get(), 1);
    const auto header = ColumnBlob(stmt.get(), 2);
    if (hash.size() != Hash32().size() || header.size() != kHeaderSize) {
      return Error{path_.string() + ": damaged: block row " +
                   std::to_string(sqlite3_column_int64(stmt.get(), 0)) + " has a " +
                   std::to_string(hash.size()) + "-byte hash and a " +
                   std::to_string(header.size()) + "-byte header"};
    }
    ++seen;
    if (!row(stmt.get())) return {};  // stopped by the caller: no count check
  }
  if (rc != SQLITE_DONE) return Fail("cannot read the blocks");
  auto count = ReadCountLocked();
  if (!count) return Error{count.error()};
  if (*count != seen) {
    return Error{path_.string() + ": damaged: " + std::to_string(*count) + " blocks recorded, " +
                 std::to_string(seen) + " readable"};
  }
  return {};
}

Status SqliteBlockStore::ForEachHeader(
    const std::function<void(const Hash32&, const BlockHeader&)>& fn) const {
  MutexLock lock(mutex_);
  return ScanLocked(false, [&](sqlite3_stmt* stmt) {
    Hash32 hash;
    const auto hash_bytes = ColumnBlob(stmt, 1);
    std::copy(hash_bytes.begin(), hash_bytes.end(), hash.begin());
    fn(hash, BlockHeader::Deserialize(ColumnBlob(stmt, 2).first<kHeaderSize>()));
    return true;
  });
}

Status SqliteBlockStore::ForEachBlock(
    const std::function<bool(const Block&, std::string_view json)>& fn) const {
  MutexLock lock(mutex_);
  std::string scan_error;
  Status s = ScanLocked(true, [&](sqlite3_stmt* stmt) {
    Block block;
    const auto hash_bytes = ColumnBlob(stmt, 1);
    std::copy(hash_bytes.begin(), hash_bytes.end(), block.hash.begin());
    block.header = BlockHeader::Deserialize(ColumnBlob(stmt, 2).first<kHeaderSize>());
    block.data = ColumnString(stmt, 3);
    auto txs = TxsFromColumn(stmt, 4, block.hash, 5);
    if (!txs) {
      scan_error = txs.error();
      return false;
    }
    block.txs = std::move(*txs);
    return fn(block, ColumnText(stmt, 5));
  });
  if (!scan_error.empty()) return Error{scan_error};
  return s;
}

Result<std::uint64_t> SqliteBlockStore::BlockCount() const {
  MutexLock lock(mutex_);
  return ReadCountLocked();
}

Result<std::string> SqliteBlockStore::CheckStructure() const {
  MutexLock lock(mutex_);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA integrity_check(10)", -1, &raw, nullptr) != SQLITE_OK) {
    return Fail("cannot check the file's structure");
  }
  StatementPtr stmt(raw);
  std::string findings;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    const std::string line = text == nullptr ? std::string() : std::string(text);
    if (line == "ok") continue;
    findings += (findings.empty() ? "" : "\n") + line;
  }
  // A file damaged badly enough fails the check itself: that is a finding.
  if (rc != SQLITE_DONE) {
    if (!IsDamage(sqlite3_extended_errcode(db_))) return Fail("cannot check the file's structure");
    findings += (findings.empty() ? "" : "\n") + std::string(sqlite3_errmsg(db_));
  }
  return findings;
}

// --- Coins, undo data and indexes ---

namespace {

constexpr const char* kPutCoin =
    "INSERT OR REPLACE INTO coins(txid, vout, amount, key, height, coinbase) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kDeleteCoin = "DELETE FROM coins WHERE txid = ?1 AND vout = ?2";
constexpr const char* kSelectCoin =
    "SELECT amount, key, height, coinbase FROM coins WHERE txid = ?1 AND vout = ?2";
constexpr const char* kPutUndo = "INSERT OR REPLACE INTO undo(hash, data) VALUES (?1, ?2)";
constexpr const char* kDeleteUndo = "DELETE FROM undo WHERE hash = ?1";
constexpr const char* kSelectUndo = "SELECT data FROM undo WHERE hash = ?1";
constexpr const char* kPutTx =
    "INSERT OR REPLACE INTO txindex(txid, block, height, pos) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kDeleteTx = "DELETE FROM txindex WHERE txid = ?1 AND block = ?2";
constexpr const char* kDeleteTxAnywhere = "DELETE FROM txindex WHERE txid = ?1";
constexpr const char* kSelectTx = "SELECT block, height, pos FROM txindex WHERE txid = ?1";
constexpr const char* kPutAddressTx =
    "INSERT OR REPLACE INTO address_txs(key, height, pos, txid) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kDeleteAddressTx =
    "DELETE FROM address_txs WHERE key = ?1 AND height = ?2 AND pos = ?3";
constexpr const char* kAddressBalance =
    "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM coins WHERE key = ?1";
constexpr const char* kAddressTxCount = "SELECT COUNT(*) FROM address_txs WHERE key = ?1";
constexpr const char* kAddressTxs =
    "SELECT txid, height, pos FROM address_txs WHERE key = ?1 "
    "ORDER BY height DESC, pos DESC LIMIT ?2 OFFSET ?3";
constexpr const char* kAddressCoins =
    "SELECT txid, vout, amount, key, height, coinbase FROM coins WHERE key = ?1 "
    "ORDER BY height DESC, txid, vout LIMIT ?2 OFFSET ?3";
constexpr const char* kAllCoins =
    "SELECT txid, vout, amount, key, height, coinbase FROM coins ORDER BY txid, vout";

std::int64_t ToInt64(std::size_t n) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(n, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

Hash32 ColumnHash(sqlite3_stmt* stmt, int col) {
  Hash32 h{};
  const auto bytes = ColumnBlob(stmt, col);
  if (bytes.size() == h.size()) std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

}  // namespace

sqlite3_stmt* SqliteBlockStore::StatementLocked(const char* sql) const {
  for (const auto& [text, stmt] : statements_) {
    if (text == sql) return stmt;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return nullptr;
  }
  statements_.emplace_back(sql, stmt);
  return stmt;
}

Result<Coin> SqliteBlockStore::CoinFromRow(sqlite3_stmt* stmt, int col) const {
  Coin coin;
  const std::int64_t amount = sqlite3_column_int64(stmt, col);
  const auto key = ColumnBlob(stmt, col + 1);
  const std::int64_t height = sqlite3_column_int64(stmt, col + 2);
  const std::int64_t coinbase = sqlite3_column_int64(stmt, col + 3);
  if (amount <= 0 || static_cast<std::uint64_t>(amount) > kMaxMoney || key.size() != 32 ||
      height < 0 || (coinbase != 0 && coinbase != 1)) {
    return Error{path_.string() + ": damaged: a malformed coin row"};
  }
  coin.amount = static_cast<std::uint64_t>(amount);
  std::copy(key.begin(), key.end(), coin.key.begin());
  coin.height = static_cast<std::uint64_t>(height);
  coin.coinbase = coinbase == 1;
  return coin;
}

Status SqliteBlockStore::WriteStepLocked(const ChainStep& step, bool connect) {
  const Block& block = *step.block;
  const std::string what = "cannot commit the coins of block " + HexEncode(block.hash);
  sqlite3_stmt* undo = StatementLocked(connect ? kPutUndo : kDeleteUndo);
  sqlite3_stmt* tx = StatementLocked(connect ? kPutTx : kDeleteTx);
  sqlite3_stmt* addr = StatementLocked(connect ? kPutAddressTx : kDeleteAddressTx);
  if (undo == nullptr || tx == nullptr || addr == nullptr) return Fail(what);
  {
    StatementUse use(undo);
    const std::vector<std::uint8_t> bytes =
        connect ? SerializeUndo(*step.undo) : std::vector<std::uint8_t>();
    const bool ok = StepDone(
        undo, {BindBlob(undo, 1, block.hash), connect ? BindBlob(undo, 2, bytes) : SQLITE_OK});
    if (!ok) return Fail(what);
  }
  for (std::size_t i = 0; i < step.txids->size(); ++i) {
    StatementUse use(tx);
    const bool ok = StepDone(
        tx, {BindBlob(tx, 1, (*step.txids)[i]), BindBlob(tx, 2, block.hash),
             connect ? BindU64(tx, 3, block.header.height) : SQLITE_OK,
             connect ? sqlite3_bind_int64(tx, 4, static_cast<std::int64_t>(i)) : SQLITE_OK});
    if (!ok) return Fail(what);
  }
  for (const auto& [key, row] : AddressIndexRows(step)) {
    StatementUse use(addr);
    const bool ok = StepDone(addr, {BindBlob(addr, 1, key), BindU64(addr, 2, row.height),
                                    sqlite3_bind_int64(addr, 3, row.index),
                                    connect ? BindBlob(addr, 4, row.txid) : SQLITE_OK});
    if (!ok) return Fail(what);
  }
  return {};
}

Status SqliteBlockStore::WriteCoinsLocked(const WriteBatch& batch) {
  for (const ChainStep& step : batch.disconnected) {
    if (Status s = WriteStepLocked(step, false); !s) return s;
  }
  for (const ChainStep& step : batch.connected) {
    if (Status s = WriteStepLocked(step, true); !s) return s;
  }
  if (batch.coins.empty()) return {};
  sqlite3_stmt* put = StatementLocked(kPutCoin);
  sqlite3_stmt* del = StatementLocked(kDeleteCoin);
  if (put == nullptr || del == nullptr) return Fail("cannot commit the coins");
  for (const CoinChange& c : batch.coins) {
    sqlite3_stmt* stmt = c.coin.has_value() ? put : del;
    StatementUse use(stmt);
    bool ok;
    if (c.coin.has_value()) {
      ok = StepDone(
          stmt,
          {BindBlob(stmt, 1, c.outpoint.txid), sqlite3_bind_int64(stmt, 2, c.outpoint.vout),
           BindU64(stmt, 3, c.coin->amount), BindBlob(stmt, 4, c.coin->key),
           BindU64(stmt, 5, c.coin->height), sqlite3_bind_int(stmt, 6, c.coin->coinbase ? 1 : 0)});
    } else {
      ok = StepDone(
          stmt, {BindBlob(stmt, 1, c.outpoint.txid), sqlite3_bind_int64(stmt, 2, c.outpoint.vout)});
    }
    if (!ok) return Fail("cannot commit the coins");
  }
  return {};
}

Status SqliteBlockStore::WritePendingLocked() const {
  const std::string what = "cannot write the coin set and indexes";
  sqlite3_stmt* put_coin = StatementLocked(kPutCoin);
  sqlite3_stmt* del_coin = StatementLocked(kDeleteCoin);
  sqlite3_stmt* put_undo = StatementLocked(kPutUndo);
  sqlite3_stmt* del_undo = StatementLocked(kDeleteUndo);
  sqlite3_stmt* put_tx = StatementLocked(kPutTx);
  sqlite3_stmt* del_tx = StatementLocked(kDeleteTx);
  sqlite3_stmt* del_tx_any = StatementLocked(kDeleteTxAnywhere);
  sqlite3_stmt* put_addr = StatementLocked(kPutAddressTx);
  sqlite3_stmt* del_addr = StatementLocked(kDeleteAddressTx);
  for (sqlite3_stmt* stmt :
       {put_coin, del_coin, put_undo, del_undo, put_tx, del_tx, del_tx_any, put_addr, del_addr}) {
    if (stmt == nullptr) return Fail(what);
  }
  for (const auto& [o, coin] : pending_.coins()) {
    sqlite3_stmt* stmt = coin.has_value() ? put_coin : del_coin;
    StatementUse use(stmt);
    const bool ok =
        coin.has_value()
            ? StepDone(stmt, {BindBlob(stmt, 1, o.txid), sqlite3_bind_int64(stmt, 2, o.vout),
                              BindU64(stmt, 3, coin->amount), BindBlob(stmt, 4, coin->key),
                              BindU64(stmt, 5, coin->height),
                              sqlite3_bind_int(stmt, 6, coin->coinbase ? 1 : 0)})
            : StepDone(stmt, {BindBlob(stmt, 1, o.txid), sqlite3_bind_int64(stmt, 2, o.vout)});
    if (!ok) return Fail(what);
  }
  for (const auto& [hash, bytes] : pending_.undo()) {
    sqlite3_stmt* stmt = bytes.has_value() ? put_undo : del_undo;
    StatementUse use(stmt);
    if (!StepDone(stmt, {BindBlob(stmt, 1, hash),
                         bytes.has_value() ? BindBlob(stmt, 2, *bytes) : SQLITE_OK})) {
      return Fail(what);
    }
  }
  for (const auto& [txid, change] : pending_.txs()) {
    if (change.put.has_value()) {
      StatementUse use(put_tx);
      if (!StepDone(put_tx, {BindBlob(put_tx, 1, txid), BindBlob(put_tx, 2, change.put->block),
                             BindU64(put_tx, 3, change.put->height),
                             sqlite3_bind_int64(put_tx, 4, change.put->index)})) {
        return Fail(what);
      }
    } else if (change.erase) {
      StatementUse use(del_tx_any);
      if (!StepDone(del_tx_any, {BindBlob(del_tx_any, 1, txid)})) return Fail(what);
    } else {
      for (const Hash32& block : change.erase_if_block) {
        StatementUse use(del_tx);
        if (!StepDone(del_tx, {BindBlob(del_tx, 1, txid), BindBlob(del_tx, 2, block)})) {
          return Fail(what);
        }
      }
    }
  }
  for (const auto& [row, txid] : pending_.addresses()) {
    sqlite3_stmt* stmt = txid.has_value() ? put_addr : del_addr;
    StatementUse use(stmt);
    if (!StepDone(stmt, {BindBlob(stmt, 1, row.key), BindU64(stmt, 2, row.height),
                         sqlite3_bind_int64(stmt, 3, row.index),
                         txid.has_value() ? BindBlob(stmt, 4, *txid) : SQLITE_OK})) {
      return Fail(what);
    }
  }
  return {};
}

Status SqliteBlockStore::FlushLocked() const {
  if (pending_.empty()) return {};
  const std::string what = "cannot write the coin set and indexes";
  if (Exec(db_, "BEGIN IMMEDIATE") != SQLITE_OK) return Fail(what);
  RollbackIfOpen rollback_on_error(db_);
  if (Status s = WritePendingLocked(); !s) return s;
  if (Exec(db_, kForgetCoinsTip) != SQLITE_OK || Exec(db_, "COMMIT") != SQLITE_OK) {
    return Fail(what);
  }
  pending_.Clear();
  return {};
}

Status SqliteBlockStore::Flush() {
  MutexLock lock(mutex_);
  return FlushLocked();
}

Result<std::optional<Hash32>> SqliteBlockStore::ReadCoinsTip() const {
  {
    MutexLock lock(mutex_);
    std::optional<std::string> hex;
    if (GetMeta(get_meta_, "coins_tip", &hex) != SQLITE_OK) return Fail("cannot read the database");
    if (hex.has_value()) {
      const auto hash = HexToHash32(*hex);
      if (!hash) return Error{path_.string() + ": damaged: the coins tip is '" + *hex + "'"};
      return std::optional<Hash32>(*hash);
    }
  }
  return ReadTip();
}

Result<std::optional<Coin>> SqliteBlockStore::ReadCoin(const OutPoint& outpoint) const {
  MutexLock lock(mutex_);
  if (const auto* pending = pending_.FindCoin(outpoint)) return *pending;
  sqlite3_stmt* stmt = StatementLocked(kSelectCoin);
  if (stmt == nullptr) return Fail("cannot read a coin");
  StatementUse use(stmt);
  if (BindBlob(stmt, 1, outpoint.txid) != SQLITE_OK ||
      sqlite3_bind_int64(stmt, 2, outpoint.vout) != SQLITE_OK) {
    return Fail("cannot read a coin");
  }
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<Coin>();
  if (rc != SQLITE_ROW) return Fail("cannot read a coin");
  auto coin = CoinFromRow(stmt, 0);
  if (!coin) return Error{coin.error()};
  return std::optional<Coin>(*coin);
}

Result<std::optional<BlockUndo>> SqliteBlockStore::ReadUndo(const Hash32& block) const {
  MutexLock lock(mutex_);
  if (const auto* pending = pending_.FindUndo(block)) {
    if (!pending->has_value()) return std::optional<BlockUndo>();
    auto undo = DeserializeUndo(**pending);
    if (!undo) return Error{"undo data of block " + HexEncode(block) + ": " + undo.error()};
    return std::optional<BlockUndo>(std::move(*undo));
  }
  sqlite3_stmt* stmt = StatementLocked(kSelectUndo);
  if (stmt == nullptr) return Fail("cannot read undo data");
  StatementUse use(stmt);
  if (BindBlob(stmt, 1, block) != SQLITE_OK) return Fail("cannot read undo data");
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<BlockUndo>();
  if (rc != SQLITE_ROW) return Fail("cannot read undo data");
  auto undo = DeserializeUndo(ColumnBlob(stmt, 0));
  if (!undo) {
    return Error{path_.string() + ": damaged: undo data of block " + HexEncode(block) + ": " +
                 undo.error()};
  }
  return std::optional<BlockUndo>(std::move(*undo));
}

Result<std::optional<TxLocation>> SqliteBlockStore::FindTx(const Hash32& txid) const {
  MutexLock lock(mutex_);
  const PendingWrites::TxChange* pending = pending_.FindTx(txid);
  if (pending != nullptr && (pending->put.has_value() || pending->erase)) {
    return pending->Apply(std::nullopt);
  }
  auto stored = FindTxLocked(txid);
  if (!stored || pending == nullptr) return stored;
  return pending->Apply(*stored);
}

Result<std::optional<TxLocation>> SqliteBlockStore::FindTxLocked(const Hash32& txid) const {
  sqlite3_stmt* stmt = StatementLocked(kSelectTx);
  if (stmt == nullptr) return Fail("cannot read the transaction index");
  StatementUse use(stmt);
  if (BindBlob(stmt, 1, txid) != SQLITE_OK) return Fail("cannot read the transaction index");
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<TxLocation>();
  if (rc != SQLITE_ROW) return Fail("cannot read the transaction index");
  TxLocation loc;
  loc.block = ColumnHash(stmt, 0);
  loc.height = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 1));
  loc.index = static_cast<std::uint32_t>(sqlite3_column_int64(stmt, 2));
  return std::optional<TxLocation>(loc);
}

Result<AddressSummary> SqliteBlockStore::ReadAddressSummary(const XOnlyPubKey& key) const {
  MutexLock lock(mutex_);
  if (Status s = FlushLocked(); !s) return Error{s.error()};
  if (Exec(db_, "BEGIN") != SQLITE_OK) return Fail("cannot read the address index");
  RollbackIfOpen end(db_);
  AddressSummary summary;
  sqlite3_stmt* balance = StatementLocked(kAddressBalance);
  sqlite3_stmt* count = StatementLocked(kAddressTxCount);
  if (balance == nullptr || count == nullptr) return Fail("cannot read the address index");
  {
    StatementUse use(balance);
    if (BindBlob(balance, 1, key) != SQLITE_OK || sqlite3_step(balance) != SQLITE_ROW) {
      return Fail("cannot read the address index");
    }
    summary.balance = static_cast<std::uint64_t>(sqlite3_column_int64(balance, 0));
    summary.coin_count = static_cast<std::uint64_t>(sqlite3_column_int64(balance, 1));
  }
  StatementUse use(count);
  if (BindBlob(count, 1, key) != SQLITE_OK || sqlite3_step(count) != SQLITE_ROW) {
    return Fail("cannot read the address index");
  }
  summary.tx_count = static_cast<std::uint64_t>(sqlite3_column_int64(count, 0));
  return summary;
}

Result<std::vector<AddressTx>> SqliteBlockStore::ReadAddressTxs(const XOnlyPubKey& key,
                                                                std::size_t offset,
                                                                std::size_t limit) const {
  MutexLock lock(mutex_);
  if (Status s = FlushLocked(); !s) return Error{s.error()};
  sqlite3_stmt* stmt = StatementLocked(kAddressTxs);
  if (stmt == nullptr) return Fail("cannot read the address index");
  StatementUse use(stmt);
  if (BindBlob(stmt, 1, key) != SQLITE_OK ||
      sqlite3_bind_int64(stmt, 2, ToInt64(limit)) != SQLITE_OK ||
      sqlite3_bind_int64(stmt, 3, ToInt64(offset)) != SQLITE_OK) {
    return Fail("cannot read the address index");
  }
  std::vector<AddressTx> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out.push_back(AddressTx{ColumnHash(stmt, 0),
                            static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 1)),
                            static_cast<std::uint32_t>(sqlite3_column_int64(stmt, 2))});
  }
  if (rc != SQLITE_DONE) return Fail("cannot read the address index");
  return out;
}

Result<std::vector<AddressCoin>> SqliteBlockStore::ReadAddressCoins(const XOnlyPubKey& key,
                                                                    std::size_t offset,
                                                                    std::size_t limit) const {
  MutexLock lock(mutex_);
  if (Status s = FlushLocked(); !s) return Error{s.error()};
  sqlite3_stmt* stmt = StatementLocked(kAddressCoins);
  if (stmt == nullptr) return Fail("cannot read the coins");
  StatementUse use(stmt);
  if (BindBlob(stmt, 1, key) != SQLITE_OK ||
      sqlite3_bind_int64(stmt, 2, ToInt64(limit)) != SQLITE_OK ||
      sqlite3_bind_int64(stmt, 3, ToInt64(offset)) != SQLITE_OK) {
    return Fail("cannot read the coins");
  }
  std::vector<AddressCoin> out;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    auto coin = CoinFromRow(stmt, 2);
    if (!coin) return Error{coin.error()};
    out.push_back(AddressCoin{
        OutPoint{ColumnHash(stmt, 0), static_cast<std::uint32_t>(sqlite3_column_int64(stmt, 1))},
        *coin});
  }
  if (rc != SQLITE_DONE) return Fail("cannot read the coins");
  return out;
}

Status SqliteBlockStore::ForEachCoin(
    const std::function<bool(const OutPoint&, const Coin&)>& fn) const {
  MutexLock lock(mutex_);
  if (Status s = FlushLocked(); !s) return Error{s.error()};
  if (Exec(db_, "BEGIN") != SQLITE_OK) return Fail("cannot read the coins");
  RollbackIfOpen end(db_);
  sqlite3_stmt* stmt = StatementLocked(kAllCoins);
  if (stmt == nullptr) return Fail("cannot read the coins");
  StatementUse use(stmt);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    auto coin = CoinFromRow(stmt, 2);
    if (!coin) return Error{coin.error()};
    const OutPoint o{ColumnHash(stmt, 0),
                     static_cast<std::uint32_t>(sqlite3_column_int64(stmt, 1))};
    if (!fn(o, *coin)) return {};
  }
  if (rc != SQLITE_DONE) return Fail("cannot read the coins");
  return {};
}

}  // namespace powchain
