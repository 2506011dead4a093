#include "storage/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "primitives/block_json.h"
#include "storage/data_dir_lock.h"
#include "testutil/chain_builder.h"
#include "testutil/coins.h"
#include "testutil/fault_injecting_store.h"
#include "testutil/temp_dir.h"
#include "testutil/wait.h"
#include "util/hex.h"

namespace powchain {
namespace {

namespace fs = std::filesystem;
using test::ChainBuilder;
using test::TinyParams;
using ::testing::HasSubstr;

constexpr std::uint64_t kFarFuture = 1ull << 62;  // `now` for tests that don't test time

using test::TempDir;

// Runs `sql` on its own connection, as the sqlite3 shell would. Returns ""
// or the SQLite error message.
std::string RawExec(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string error;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    error = sqlite3_errmsg(db);
  } else {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      error = msg != nullptr ? msg : "error";
    }
    sqlite3_free(msg);
  }
  sqlite3_close(db);
  return error;
}

// Column `col` of the rows `sql` returns, as text.
std::vector<std::string> RawQuery(const fs::path& file, const std::string& sql, int col = 0) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
        out.emplace_back(text != nullptr ? text : "NULL");
      }
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  } else {
    ADD_FAILURE() << file << ": " << sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return out;
}

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// A block the store accepts as it is (the store checks no consensus rule):
// quick to make in bulk, with any header values.
Block Synthetic(std::uint64_t height, const Hash32& parent, std::string data) {
  BlockHeader h;
  h.height = height;
  h.last_hash = parent;
  h.timestamp = 1735689600000 + height * 1000;
  h.difficulty = 1;
  h.nonce = height * 7;
  return MakeBlock(h, std::move(data));
}

// `n` synthetic blocks on top of `parent` at `height`.
std::vector<Block> SyntheticChain(std::size_t n, std::uint64_t height, Hash32 parent,
                                  const std::string& data = "null") {
  std::vector<Block> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(Synthetic(height + i, parent, data));
    parent = out.back().hash;
  }
  return out;
}

WriteBatch BatchOf(const std::vector<Block>& blocks, bool set_tip = true) {
  WriteBatch batch;
  for (const Block& b : blocks) batch.blocks.push_back(&b);
  if (set_tip && !blocks.empty()) batch.tip = blocks.back().hash;
  return batch;
}

std::vector<Hash32> Headers(const BlockStore& store, Status* status = nullptr) {
  std::vector<Hash32> out;
  Status s = store.ForEachHeader([&](const Hash32& h, const BlockHeader& header) {
    EXPECT_EQ(header.ComputeHash(), h);
    out.push_back(h);
  });
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.error();
  }
  return out;
}

std::vector<Hash32> HashesOf(const std::vector<Block>& blocks) {
  std::vector<Hash32> out;
  for (const Block& b : blocks) out.push_back(b.hash);
  return out;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteStoreTest()
      : params_(TinyParams()),
        genesis_(MakeGenesis(params_)),
        genesis_hex_(HexEncode(genesis_.hash)),
        file_(dir_.path() / "chain.sqlite") {}

  std::unique_ptr<SqliteBlockStore> OpenStore() {
    auto store = SqliteBlockStore::Open(file_, params_.network, genesis_hex_);
    EXPECT_TRUE(store.ok()) << store.error();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Opens `file` expecting an error, and returns its message.
  std::string OpenError(const fs::path& file) {
    auto store = SqliteBlockStore::Open(file, params_.network, genesis_hex_);
    EXPECT_FALSE(store.ok());
    return store.ok() ? "" : store.error();
  }

  // A closed store holding `n` blocks (genesis first), with data of
  // `data_bytes` bytes each; returns the blocks.
  std::vector<Block> MakeStore(std::size_t n, std::size_t data_bytes = 8) {
    std::vector<Block> blocks{genesis_};
    auto more = SyntheticChain(n - 1, 1, genesis_.hash, "\"" + std::string(data_bytes, 'x') + "\"");
    blocks.insert(blocks.end(), more.begin(), more.end());
    auto store = OpenStore();
    for (std::size_t i = 0; i < blocks.size(); i += 100) {
      std::vector<Block> part(
          blocks.begin() + static_cast<std::ptrdiff_t>(i),
          blocks.begin() + static_cast<std::ptrdiff_t>(std::min(blocks.size(), i + 100)));
      Status s = store->Commit(BatchOf(part));
      EXPECT_TRUE(s.ok()) << s.error();
    }
    return blocks;
  }

  void ExpectHolds(const SqliteBlockStore& store, const std::vector<Block>& blocks,
                   const Hash32& tip) {
    EXPECT_EQ(Headers(store), HashesOf(blocks));
    auto count = store.BlockCount();
    ASSERT_TRUE(count.ok()) << count.error();
    EXPECT_EQ(*count, blocks.size());
    auto stored_tip = store.ReadTip();
    ASSERT_TRUE(stored_tip.ok()) << stored_tip.error();
    EXPECT_EQ(*stored_tip, std::optional<Hash32>(tip));
    for (const Block& b : blocks) {
      auto read = store.ReadBlock(b.hash);
      ASSERT_TRUE(read.ok()) << read.error();
      ASSERT_TRUE(read->has_value());
      EXPECT_EQ(**read, b);
    }
  }

  TempDir dir_;
  Params params_;
  Block genesis_;
  std::string genesis_hex_;
  fs::path file_;
};

TEST_F(SqliteStoreTest, NewStoreIsEmpty) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->network(), params_.network);
  EXPECT_EQ(store->path(), file_);
  auto tip = store->ReadTip();
  ASSERT_TRUE(tip.ok());
  EXPECT_FALSE(tip->has_value());
  auto count = store->BlockCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0u);
  EXPECT_TRUE(Headers(*store).empty());
  auto missing = store->ReadBlock(genesis_.hash);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreTest, CommitsAndReadsBackInCommitOrder) {
  ChainBuilder chain(params_);
  chain.AddSlow("{\"tx\":\"alice pays bob\"}");
  chain.AddFast("[1,2,3]");
  chain.AddSlow();
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  // Two batches; only the second moves the tip.
  std::vector<Block> first(chain.blocks().begin(), chain.blocks().begin() + 2);
  std::vector<Block> second(chain.blocks().begin() + 2, chain.blocks().end());
  ASSERT_TRUE(store->Commit(BatchOf(first, /*set_tip=*/false)).ok());
  auto no_tip = store->ReadTip();
  ASSERT_TRUE(no_tip.ok());
  EXPECT_FALSE(no_tip->has_value());
  ASSERT_TRUE(store->Commit(BatchOf(second)).ok());
  ExpectHolds(*store, chain.blocks(), chain.tip().hash);

  // ForEachBlock: every block with its data, and it stops when told.
  std::vector<Block> seen;
  ASSERT_TRUE(store
                  ->ForEachBlock([&](const Block& b, std::string_view json) {
                    EXPECT_EQ(json, BlockToJson(b));
                    seen.push_back(b);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen, chain.blocks());
  std::size_t calls = 0;
  ASSERT_TRUE(
      store->ForEachBlock([&](const Block&, std::string_view) { return ++calls < 2; }).ok());
  EXPECT_EQ(calls, 2u);
}

// What the node serves is the json column: for every block, on every
// branch and with transactions, it is the block's own encoding, read one by
// one or as a run, and a run stops before the byte cap and at a block that
// is not stored.
TEST_F(SqliteStoreTest, StoresEachBlocksJsonForm) {
  ChainBuilder chain(params_);
  const XOnlyPubKey key = PublicKeyOf(test::KeyFromSeed(7));
  chain.AddSlow("{\"tx\":\"alice pays bob\",\"n\":[1,2.5,\"\\u00e9\"]}");
  chain.Add(params_.mine_rate_ms, "null", {test::Coinbase(2, key, 50, params_)});
  chain.AddFast("[1,2,3]");
  ChainBuilder side(params_, {chain.blocks().begin(), chain.blocks().begin() + 2});
  side.Add(params_.mine_rate_ms, "\"side\"", {test::Coinbase(2, key, 49, params_)});
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(BatchOf(chain.blocks())).ok());
  ASSERT_TRUE(store->Commit(BatchOf({side.tip()}, /*set_tip=*/false)).ok());

  std::vector<Block> all = chain.blocks();
  all.push_back(side.tip());
  std::string joined;
  for (const Block& b : all) {
    auto json = store->ReadBlockJson(b.hash);
    ASSERT_TRUE(json.ok() && json->has_value());
    EXPECT_EQ(**json, BlockToJson(b));
    if (!joined.empty()) joined += ',';
    joined += BlockToJson(b);
  }
  const std::vector<Hash32> hashes = HashesOf(all);
  std::string out = "[";
  auto run = store->AppendBlocksJson(hashes, out);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->count, all.size());
  EXPECT_FALSE(run->full);
  EXPECT_EQ(out, "[" + joined);

  // A cap that the first two fit exactly: the third is left out.
  const std::size_t two = BlockToJson(all[0]).size() + 1 + BlockToJson(all[1]).size();
  out.clear();
  run = store->AppendBlocksJson(hashes, out, two);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->count, 2u);
  EXPECT_TRUE(run->full);
  EXPECT_EQ(out.size(), two);
  // The first block goes in whatever the cap.
  out.clear();
  run = store->AppendBlocksJson(hashes, out, 1);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->count, 1u);
  EXPECT_TRUE(run->full);
  EXPECT_EQ(out, BlockToJson(all[0]));
  // A hash not stored ends the run.
  std::vector<Hash32> gap = {hashes[0], hashes[1], Hash32{}, hashes[2]};
  out.clear();
  run = store->AppendBlocksJson(gap, out);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->count, 2u);
  EXPECT_FALSE(run->full);
  auto missing = store->ReadBlockJson(Hash32{});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

// A file of schema version 2 (no json column) is upgraded when the node
// opens it, and only then: verify's read-only open refuses it, and a file
// of another network is refused unchanged.
TEST_F(SqliteStoreTest, UpgradesSchemaVersion2) {
  ChainBuilder chain(params_);
  const XOnlyPubKey key = PublicKeyOf(test::KeyFromSeed(9));
  chain.AddSlow("{\"a\":1}");
  chain.Add(params_.mine_rate_ms, "null", {test::Coinbase(2, key, 50, params_)});
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Commit(BatchOf(chain.blocks())).ok());
  }
  // Version 2 kept the transactions in the txs column ('' for none), and
  // had no json column.
  ASSERT_EQ(RawExec(file_,
                    "UPDATE blocks SET txs = substr(json, instr(json, '\"txs\":') + 6, "
                    "length(json) - instr(json, '\"txs\":') - 6); "
                    "UPDATE blocks SET txs = '' WHERE txs = '[]'; "
                    "ALTER TABLE blocks DROP COLUMN json; "
                    "UPDATE meta SET value = '2' WHERE key = 'schema_version'"),
            "");
  EXPECT_EQ(RawQuery(file_, "SELECT count(*) FROM blocks WHERE txs != ''"),
            std::vector<std::string>{"1"});
  auto ro = SqliteBlockStore::OpenReadOnly(file_);
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.error(), file_.string() +
                            ": schema version 2: start this powchain's node on it once to "
                            "upgrade it to version 4");
  auto other = SqliteBlockStore::Open(file_, "elsewhere", genesis_hex_);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(RawQuery(file_, "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::vector<std::string>{"2"});

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->upgraded_rows(), chain.blocks().size());
  EXPECT_EQ(store->upgraded_from(), 2);
  EXPECT_EQ(RawQuery(file_, "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::vector<std::string>{"4"});
  for (const Block& b : chain.blocks()) {
    auto json = store->ReadBlockJson(b.hash);
    ASSERT_TRUE(json.ok() && json->has_value());
    EXPECT_EQ(**json, BlockToJson(b));
  }
  // New blocks go on as usual.
  chain.AddFast();
  ASSERT_TRUE(store->Commit(BatchOf({chain.tip()})).ok());
  auto json = store->ReadBlockJson(chain.tip().hash);
  ASSERT_TRUE(json.ok() && json->has_value());
  EXPECT_EQ(**json, BlockToJson(chain.tip()));
  store.reset();
  EXPECT_EQ(OpenStore()->upgraded_rows(), 0u);
}

// Version 3 has version 4's tables, but wrote the coin set with every
// commit: verify reads it as it is, and the node's open marks it version 4
// (which a version 3 binary refuses, since it would not know meta
// coins_tip).
TEST_F(SqliteStoreTest, UpgradesSchemaVersion3) {
  ChainBuilder chain(params_);
  chain.AddSlow("{\"a\":1}");
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Commit(BatchOf(chain.blocks())).ok());
  }
  ASSERT_EQ(RawExec(file_, "UPDATE meta SET value = '3' WHERE key = 'schema_version'"), "");
  {
    auto ro = SqliteBlockStore::OpenReadOnly(file_);
    ASSERT_TRUE(ro.ok()) << ro.error();
    auto coins_tip = (*ro)->ReadCoinsTip();
    ASSERT_TRUE(coins_tip.ok());
    EXPECT_EQ(*coins_tip, std::optional<Hash32>(chain.tip().hash));
  }
  EXPECT_EQ(RawQuery(file_, "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::vector<std::string>{"3"});
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->upgraded_from(), 3);
  EXPECT_EQ(store->upgraded_rows(), 0u);
  EXPECT_EQ(RawQuery(file_, "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::vector<std::string>{"4"});
  auto tip = store->ReadTip();
  ASSERT_TRUE(tip.ok());
  EXPECT_EQ(*tip, std::optional<Hash32>(chain.tip().hash));
}

// The write-ahead log is copied into the main file by the store's own
// thread once a commit leaves it at 1,000 pages or more, not by the commit.
TEST_F(SqliteStoreTest, CheckpointsTheLogOnItsOwnThread) {
  std::vector<Block> blocks{genesis_};
  // About 6 MB of data: the log passes 1,000 pages of 4 KiB.
  auto more = SyntheticChain(60, 1, genesis_.hash, "\"" + std::string(100000, 'x') + "\"");
  blocks.insert(blocks.end(), more.begin(), more.end());
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->checkpoint_stats().runs, 0u);
  for (const Block& b : blocks) ASSERT_TRUE(store->Commit(BatchOf({b})).ok());
  ASSERT_TRUE(testutil::WaitUntil([&] { return store->checkpoint_stats().runs >= 1; }));
  const WalCheckpointer::Stats stats = store->checkpoint_stats();
  EXPECT_EQ(stats.failures, 0u) << stats.last_error;
  ExpectHolds(*store, blocks, blocks.back().hash);
  store.reset();
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  ExpectHolds(*reopened, blocks, blocks.back().hash);
  auto read_only = SqliteBlockStore::OpenReadOnly(file_);
  ASSERT_TRUE(read_only.ok()) << read_only.error();
  EXPECT_EQ((*read_only)->checkpoint_stats().runs, 0u);
}

TEST_F(SqliteStoreTest, BlockJsonIsReadWithoutTheWritersLock) {
  // ForEachHeader holds the writer's lock while its callback runs, as a
  // commit does through its fsync. Reads of blocks' JSON forms (what
  // GET /blocks and peers are served) go on meanwhile on another thread,
  // on the store's reading connection, and see every committed block.
  auto chain = SyntheticChain(40, 1, genesis_.hash, "7");
  std::vector<Block> blocks{genesis_};
  blocks.insert(blocks.end(), chain.begin(), chain.end());
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (std::size_t i = 0; i < blocks.size(); i += 10) {
    const auto end = std::min(blocks.size(), i + 10);
    ASSERT_TRUE(
        store->Commit(BatchOf(std::vector<Block>(blocks.begin() + i, blocks.begin() + end))).ok());
  }
  std::vector<Hash32> hashes;
  for (const Block& b : blocks) hashes.push_back(b.hash);
  std::atomic<bool> read{false};
  std::string joined;
  std::string one;
  bool waited = false;
  std::thread reader;
  const Status scanned = store->ForEachHeader([&](const Hash32& hash, const BlockHeader&) {
    if (hash != blocks.back().hash) return;
    reader = std::thread([&] {
      auto run = store->AppendBlocksJson(hashes, joined);
      auto single = store->ReadBlockJson(blocks[20].hash);
      if (run.ok() && run->count == blocks.size() && single.ok() && *single) {
        one = **single;
      }
      read = true;
    });
    // Bounded: reads that wait for this lock fail the test
    // rather than hang it (joined once the lock is free).
    waited = testutil::WaitUntil([&] { return read.load(); }, std::chrono::seconds(10));
  });
  if (reader.joinable()) reader.join();
  ASSERT_TRUE(scanned.ok()) << scanned.error();
  EXPECT_TRUE(waited) << "the reads waited for the writer's lock";
  std::string expected;
  for (const Block& b : blocks) expected += (expected.empty() ? "" : ",") + BlockToJson(b);
  EXPECT_EQ(joined, expected);
  EXPECT_EQ(one, BlockToJson(blocks[20]));
}

TEST_F(SqliteStoreTest, EmptyBatchIsANoOp) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Commit(WriteBatch{}).ok());
  auto count = store->BlockCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 0u);
}

TEST_F(SqliteStoreTest, ReopenKeepsEverything) {
  ChainBuilder chain(params_);
  for (int i = 0; i < 5; ++i) chain.AddSlow("{\"i\":" + std::to_string(i) + "}");
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Commit(BatchOf(chain.blocks())).ok());
  }
  // Closing the last connection checkpoints the WAL into the main file.
  EXPECT_FALSE(fs::exists(file_.string() + "-wal"));
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ExpectHolds(*store, chain.blocks(), chain.tip().hash);
}

TEST_F(SqliteStoreTest, StoredBlocksAreSkippedAndNotCounted) {
  ChainBuilder chain(params_);
  chain.AddSlow("\"a\"");
  chain.AddSlow("\"b\"");
  const auto& b = chain.blocks();
  auto store = OpenStore();
  ASSERT_TRUE(store->Commit(BatchOf({b[0], b[1]})).ok());
  // Again, with a duplicate inside the batch and one new block.
  WriteBatch batch;
  batch.blocks = {&b[1], &b[0], &b[2], &b[2]};
  batch.tip = b[2].hash;
  ASSERT_TRUE(store->Commit(batch).ok());
  ExpectHolds(*store, b, b[2].hash);
  // A block stored again keeps its place in commit order.
  ASSERT_TRUE(store->Commit(BatchOf({b[0]})).ok());
  ExpectHolds(*store, b, b[0].hash);
}

TEST_F(SqliteStoreTest, KeepsHeaderValuesAboveInt64Max) {
  Block b = Synthetic(std::numeric_limits<std::uint64_t>::max(), Hash32{}, "{\"big\":true}");
  b.header.timestamp = std::numeric_limits<std::uint64_t>::max() - 1;
  b.header.difficulty = std::numeric_limits<std::uint32_t>::max();
  b.header.nonce = std::numeric_limits<std::uint64_t>::max();
  b.hash = b.header.ComputeHash();
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Commit(BatchOf({b})).ok());
  }
  auto store = OpenStore();
  ExpectHolds(*store, {b}, b.hash);
  // The inspection columns hold it as REAL (approximate, never negative).
  EXPECT_EQ(RawQuery(file_, "SELECT typeof(height) || ' ' || (height > 0) FROM blocks"),
            std::vector<std::string>{"real 1"});
  EXPECT_EQ(RawQuery(file_, "SELECT difficulty FROM blocks"),
            std::vector<std::string>{"4294967295"});
}

TEST_F(SqliteStoreTest, SchemaIsPleasantToInspect) {
  ChainBuilder chain(params_);
  chain.AddSlow("{\"tx\":1}");
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Commit(BatchOf(chain.blocks())).ok());
  }
  EXPECT_EQ(RawQuery(file_, "SELECT key || '=' || value FROM meta ORDER BY key"),
            (std::vector<std::string>{"block_count=2", "genesis=" + genesis_hex_,
                                      "network=" + params_.network, "schema_version=4",
                                      "tip=" + HexEncode(chain.tip().hash)}));
  EXPECT_EQ(RawQuery(file_, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  const Block& b = chain.tip();
  EXPECT_EQ(RawQuery(file_,
                     "SELECT lower(hex(hash)) || ' ' || height || ' ' || lower(hex(last_hash)) || "
                     "' ' || timestamp || ' ' || difficulty || ' ' || length(header) || ' ' || "
                     "data FROM blocks ORDER BY seq DESC LIMIT 1"),
            std::vector<std::string>{HexEncode(b.hash) + " 1 " + HexEncode(b.header.last_hash) +
                                     " " + std::to_string(b.header.timestamp) + " " +
                                     std::to_string(b.header.difficulty) + " 96 {\"tx\":1}"});
  EXPECT_EQ(RawQuery(file_, "SELECT typeof(data) FROM blocks LIMIT 1"),
            std::vector<std::string>{"text"});
  // The start-up scan reads the covering index, in seq order without a
  // sort, and not the rows that hold the data.
  EXPECT_EQ(
      RawQuery(file_, "EXPLAIN QUERY PLAN SELECT seq, hash, header FROM blocks ORDER BY seq", 3),
      std::vector<std::string>{"SCAN blocks USING COVERING INDEX blocks_headers"});
}

// A real SQLite failure in the middle of a batch: a trigger (added with the
// sqlite3 shell's means) refuses the batch's second block.
TEST_F(SqliteStoreTest, FailedBatchChangesNothing) {
  const auto blocks = MakeStore(3);
  auto store = OpenStore();
  ASSERT_EQ(RawExec(file_,
                    "CREATE TRIGGER refuse BEFORE INSERT ON blocks WHEN NEW.height = 4 "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"),
            "");
  const auto more = SyntheticChain(3, 3, blocks.back().hash);  // heights 3, 4, 5
  Status s = store->Commit(BatchOf(more));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error(), HasSubstr(file_.string()));
  EXPECT_THAT(s.error(), HasSubstr("refused by the test trigger"));
  ExpectHolds(*store, blocks, blocks.back().hash);
  auto first = store->ReadBlock(more[0].hash);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());

  // The store still works, and nothing of the failed batch reappears.
  ASSERT_EQ(RawExec(file_, "DROP TRIGGER refuse"), "");
  const auto other = SyntheticChain(1, 3, blocks.back().hash, "\"other\"");
  ASSERT_TRUE(store->Commit(BatchOf(other)).ok());
  store.reset();
  store = OpenStore();
  auto all = blocks;
  all.push_back(other[0]);
  ExpectHolds(*store, all, other[0].hash);
}

// A real write failure: the file size limit (RLIMIT_FSIZE) stops the WAL
// from growing, as a full disk would.
TEST_F(SqliteStoreTest, DiskFullChangesNothing) {
  const auto blocks = MakeStore(3);
  auto store = OpenStore();
  const auto more =
      SyntheticChain(64, 3, blocks.back().hash, "\"" + std::string(32 * 1024, 'y') + "\"");

  std::uintmax_t biggest = fs::file_size(file_);
  std::error_code ec;
  const std::uintmax_t wal = fs::file_size(file_.string() + "-wal", ec);
  if (!ec) biggest = std::max(biggest, wal);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(biggest + 64 * 1024);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tight), 0);
  Status s = store->Commit(BatchOf(more));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error(), HasSubstr(file_.string() + ": cannot commit"));
  EXPECT_THAT(s.error(), HasSubstr("(File too large)"));
  ExpectHolds(*store, blocks, blocks.back().hash);
  // Once there is room again, the same batch commits.
  ASSERT_TRUE(store->Commit(BatchOf(more)).ok());
  store.reset();
  store = OpenStore();
  auto all = blocks;
  all.insert(all.end(), more.begin(), more.end());
  EXPECT_EQ(Headers(*store), HashesOf(all));
}

TEST_F(SqliteStoreTest, RefusesAnotherSchemaVersion) {
  MakeStore(2);
  ASSERT_EQ(RawExec(file_, "UPDATE meta SET value = '1' WHERE key = 'schema_version'"), "");
  const std::string error = OpenError(file_);
  EXPECT_EQ(error, file_.string() + ": schema version 1, this powchain reads version 4");
  auto ro = SqliteBlockStore::OpenReadOnly(file_);
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.error(), error);
}

TEST_F(SqliteStoreTest, RefusesAnotherNetwork) {
  MakeStore(2);
  const Params main = Params::Main();
  const std::string main_genesis = HexEncode(MakeGenesis(main).hash);
  auto store = SqliteBlockStore::Open(file_, main.network, main_genesis);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error(), file_.string() + ": holds the " + params_.network + " chain (genesis " +
                               genesis_hex_ + "), not " + main.network);
  // Same name, other parameters: the genesis tells them apart.
  auto other = SqliteBlockStore::Open(file_, params_.network, main_genesis);
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.error(), HasSubstr(file_.string()));
  EXPECT_THAT(other.error(), HasSubstr(main_genesis));
  // Nothing was changed: the right network still opens it.
  EXPECT_NE(OpenStore(), nullptr);
}

TEST_F(SqliteStoreTest, AcceptsGenesisHexInEitherCase) {
  MakeStore(1);
  std::string upper = genesis_hex_;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(SqliteBlockStore::Open(file_, params_.network, upper).ok());
}

TEST_F(SqliteStoreTest, RefusesGarbageWithoutChangingIt) {
  std::mt19937 rng(42);
  std::string garbage(8192, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  for (const std::string& bytes :
       {garbage, std::string("this is not a database\n"), std::string(4096, '\0')}) {
    WriteFile(file_, bytes);
    const std::string error = OpenError(file_);
    EXPECT_THAT(error, HasSubstr(file_.string() + ": not a powchain database or damaged: "));
    auto ro = SqliteBlockStore::OpenReadOnly(file_);
    ASSERT_FALSE(ro.ok());
    EXPECT_THAT(ro.error(), HasSubstr(file_.string() + ": not a powchain database or damaged: "));
    EXPECT_EQ(ReadFile(file_), bytes);
  }
}

TEST_F(SqliteStoreTest, RefusesAnotherApplicationsDatabase) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(OpenError(file_), file_.string() + ": not a powchain database (it has no meta table)");
  // Untouched: still not in WAL mode.
  EXPECT_EQ(RawQuery(file_, "PRAGMA journal_mode"), std::vector<std::string>{"delete"});
}

TEST_F(SqliteStoreTest, MissingDirectoryIsAnError) {
  const fs::path file = dir_.path() / "no" / "such" / "chain.sqlite";
  EXPECT_THAT(OpenError(file), HasSubstr(file.string() + ": cannot open: "));
}

// Truncation at many points, as a bad copy or a broken disk might leave the
// file: Open or ForEachHeader fails; never a shorter chain without an error.
// Whole pages cut off: the page count in the file's header no longer
// matches. A cut inside a page: the size is not a whole number of pages.
TEST_F(SqliteStoreTest, TruncatedFileIsNeverAShorterChain) {
  const auto blocks = MakeStore(400, 300);
  ASSERT_FALSE(fs::exists(file_.string() + "-wal"));
  const std::string full = ReadFile(file_);
  ASSERT_GT(full.size(), 40u * 4096);
  std::vector<std::size_t> sizes = {full.size() / 2,
                                    full.size() / 4,
                                    full.size() * 3 / 4,
                                    full.size() - 4096,
                                    full.size() - 1,
                                    full.size() - 100,
                                    full.size() - 4095,
                                    4096,
                                    100,
                                    50};
  for (std::size_t s = 8192; s < full.size(); s += 4096 * 7) sizes.push_back(s);
  for (const std::size_t size : sizes) {
    SCOPED_TRACE("truncated to " + std::to_string(size) + " bytes");
    const fs::path copy = dir_.path() / ("copy-" + std::to_string(size) + ".sqlite");
    WriteFile(copy, full.substr(0, size));
    auto store = SqliteBlockStore::Open(copy, params_.network, genesis_hex_);
    if (!store.ok()) {
      EXPECT_THAT(store.error(), HasSubstr(copy.string() + ": "));
      continue;
    }
    Status status;
    const auto headers = Headers(**store, &status);
    EXPECT_FALSE(status.ok()) << headers.size() << " headers and no error";
  }
  const fs::path cut = dir_.path() / ("copy-" + std::to_string(full.size() - 1) + ".sqlite");
  EXPECT_EQ(OpenError(cut), cut.string() + ": not a powchain database or damaged: its size, " +
                                std::to_string(full.size() - 1) +
                                " bytes, is not a whole number of 4096-byte pages");
}

TEST_F(SqliteStoreTest, DetectsBlockCountMismatch) {
  const auto blocks = MakeStore(5);
  // Rows lost (as if a page of the table were gone).
  ASSERT_EQ(RawExec(file_, "DELETE FROM blocks WHERE seq IN (2, 3)"), "");
  {
    auto store = OpenStore();
    Status status;
    Headers(*store, &status);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error(), file_.string() + ": damaged: 5 blocks recorded, 3 readable");
    Status full = store->ForEachBlock([](const Block&, std::string_view) { return true; });
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.error(), status.error());
  }
  ASSERT_EQ(RawExec(file_, "UPDATE meta SET value = '3' WHERE key = 'block_count'"), "");
  EXPECT_TRUE(OpenStore()->ForEachHeader([](const Hash32&, const BlockHeader&) {}).ok());
  ASSERT_EQ(RawExec(file_, "UPDATE meta SET value = 'many' WHERE key = 'block_count'"), "");
  EXPECT_EQ(OpenError(file_), file_.string() + ": damaged: block_count is 'many'");
}

TEST_F(SqliteStoreTest, MalformedRowIsAnError) {
  const auto blocks = MakeStore(3);
  ASSERT_EQ(RawExec(file_,
                    "PRAGMA ignore_check_constraints = ON; "
                    "UPDATE blocks SET header = x'0102' WHERE height = 1"),
            "");
  auto store = OpenStore();
  auto read = store->ReadBlock(blocks[1].hash);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.error(), HasSubstr(file_.string() + ": damaged: block " +
                                      HexEncode(blocks[1].hash) + " has a header of 2 bytes"));
  Status status;
  Headers(*store, &status);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error(), HasSubstr(file_.string() + ": damaged: block row 2"));
  auto tip = store->ReadTip();  // unaffected
  ASSERT_TRUE(tip.ok());
  EXPECT_EQ(*tip, std::optional<Hash32>(blocks.back().hash));

  ASSERT_EQ(RawExec(file_, "UPDATE meta SET value = 'zz' WHERE key = 'tip'"), "");
  EXPECT_FALSE(store->ReadTip().ok());
}

TEST_F(SqliteStoreTest, CheckConstraintsRefuseMalformedRows) {
  MakeStore(1);
  EXPECT_THAT(RawExec(file_, "UPDATE blocks SET header = x'00'"), HasSubstr("CHECK constraint"));
}

TEST_F(SqliteStoreTest, OpensReadOnly) {
  auto missing = SqliteBlockStore::OpenReadOnly(dir_.path() / "absent.sqlite");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), HasSubstr((dir_.path() / "absent.sqlite").string()));
  EXPECT_FALSE(fs::exists(dir_.path() / "absent.sqlite"));

  const auto blocks = MakeStore(4);
  auto store = SqliteBlockStore::OpenReadOnly(file_);
  ASSERT_TRUE(store.ok()) << store.error();
  EXPECT_EQ((*store)->network(), params_.network);
  ExpectHolds(**store, blocks, blocks.back().hash);
  // Writes fail and change nothing.
  const auto more = SyntheticChain(1, 4, blocks.back().hash);
  Status s = (*store)->Commit(BatchOf(more));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error(), HasSubstr(file_.string()));
  ExpectHolds(**store, blocks, blocks.back().hash);

  // Alongside a writer, it sees what the writer committed.
  auto writer = OpenStore();
  ASSERT_TRUE(writer->Commit(BatchOf(more)).ok());
  auto all = blocks;
  all.push_back(more[0]);
  ExpectHolds(**store, all, more[0].hash);
}

TEST_F(SqliteStoreTest, ConcurrentCommitsAndReads) {
  auto store = OpenStore();
  constexpr int kThreads = 4;
  constexpr int kBlocksPerThread = 25;
  std::vector<std::vector<Block>> chains;
  for (int t = 0; t < kThreads; ++t) {
    Hash32 root{};
    root[0] = static_cast<std::uint8_t>(t + 1);
    chains.push_back(SyntheticChain(kBlocksPerThread, 1, root));
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (const Block& b : chains[static_cast<std::size_t>(t)]) {
        if (!store->Commit(BatchOf({b})).ok()) ++failures;
        Status s;
        Headers(*store, &s);
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto count = store->BlockCount();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, std::uint64_t{kThreads * kBlocksPerThread});
}

TEST(DataDirLockTest, OneHolderAtATime) {
  TempDir dir;
  auto first = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(fs::exists(dir.path() / "LOCK"));
  EXPECT_EQ(fs::status(dir.path() / "LOCK").permissions() & fs::perms::group_write,
            fs::perms::none);
  // flock locks belong to the open file description: a second Acquire in
  // the same process fails like one in another process.
  auto second = DataDirLock::Acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error(),
            "data directory " + dir.path().string() + " is in use by another powchain process");

  // Another process.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(DataDirLock::Acquire(dir.path()).ok() ? 1 : 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child got the lock";

  first->reset();  // releases the lock
  auto third = DataDirLock::Acquire(dir.path());
  EXPECT_TRUE(third.ok()) << third.error();
}

TEST(DataDirLockTest, MissingDirectoryNamesTheFile) {
  TempDir dir;
  const fs::path missing = dir.path() / "absent";
  auto lock = DataDirLock::Acquire(missing);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error(), (missing / "LOCK").string() + ": cannot open: No such file or directory");
}

TEST_F(SqliteStoreTest, FaultInjectingStoreFailsCommitsOnDemand) {
  auto store = OpenStore();
  FaultInjectingStore faulty(*store);
  ChainBuilder chain(params_);
  chain.AddSlow();
  faulty.FailNextCommits(2, "database or disk is full (injected)");
  for (int i = 0; i < 2; ++i) {
    Status s = faulty.Commit(BatchOf(chain.blocks()));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error(), "database or disk is full (injected)");
  }
  EXPECT_TRUE(Headers(faulty).empty());
  auto tip = faulty.ReadTip();
  ASSERT_TRUE(tip.ok());
  EXPECT_FALSE(tip->has_value());
  ASSERT_TRUE(faulty.Commit(BatchOf(chain.blocks())).ok());
  ExpectHolds(*store, chain.blocks(), chain.tip().hash);
  auto read = faulty.ReadBlock(chain.tip().hash);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(**read, chain.tip());
  faulty.FailNextCommits(1);
  Status s = faulty.Commit(BatchOf(chain.blocks()));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "disk I/O error (injected)");
}

// The chain over the real store: blocks, a side branch and the tip survive
// closing everything and starting again.
TEST_F(SqliteStoreTest, ChainStateRoundTrip) {
  ChainBuilder main_branch(params_);
  for (int i = 0; i < 4; ++i) main_branch.AddSlow("{\"main\":" + std::to_string(i) + "}");
  ChainBuilder side(params_, {main_branch.blocks().begin(), main_branch.blocks().begin() + 2});
  side.AddSlow("{\"side\":0}");
  {
    auto store = OpenStore();
    ChainState chain(params_, *store);
    ASSERT_TRUE(chain.Load().ok());
    std::vector<Block> first(main_branch.blocks().begin() + 1, main_branch.blocks().begin() + 3);
    for (const AcceptResult& r : chain.AcceptBlocks(first, kFarFuture)) {
      ASSERT_EQ(r.status, AcceptStatus::kNewTip) << r.validation.message << r.store_error;
    }
    EXPECT_EQ(chain.AcceptBlock(side.tip(), kFarFuture).status, AcceptStatus::kSideBranch);
    for (std::size_t i = 3; i < main_branch.blocks().size(); ++i) {
      ASSERT_EQ(chain.AcceptBlock(main_branch.blocks()[i], kFarFuture).status,
                AcceptStatus::kNewTip);
    }
    EXPECT_EQ(chain.Tip().hash(), main_branch.tip().hash);
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ChainState chain(params_, *store);
  Status loaded = chain.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(chain.Tip().hash(), main_branch.tip().hash);
  EXPECT_EQ(chain.Tip().height(), 4u);
  EXPECT_EQ(chain.BlockCount(), 6u);
  EXPECT_TRUE(chain.Contains(side.tip().hash));
  EXPECT_FALSE(chain.IsActive(side.tip().hash));
  auto side_block = chain.BlockByHash(side.tip().hash);
  ASSERT_TRUE(side_block.ok() && side_block->has_value());
  EXPECT_EQ(**side_block, side.tip());
  for (std::uint64_t h = 0; h <= 4; ++h) {
    auto b = chain.BlockAtHeight(h);
    ASSERT_TRUE(b.ok() && b->has_value());
    EXPECT_EQ(**b, main_branch.blocks()[h]);
  }
  // The side branch can still win after the restart.
  side.AddSlow("{\"side\":1}");
  side.AddSlow("{\"side\":2}");
  side.AddSlow("{\"side\":3}");
  // Delivered as a peer would: its headers (a chain with more work than
  // ours), then the blocks.
  std::vector<HashedHeader> headers;
  for (std::size_t i = 3; i < side.blocks().size(); ++i) {
    headers.push_back(HashedHeader{side.blocks()[i].header, side.blocks()[i].hash});
  }
  ASSERT_TRUE(chain.AddHeaders(headers, kFarFuture).ok());
  for (std::size_t i = 3; i < side.blocks().size(); ++i) {
    chain.AcceptBlock(side.blocks()[i], kFarFuture);
  }
  EXPECT_EQ(chain.Tip().hash(), side.tip().hash);
}

// Loading a store builds the block index from its header rows; rows that
// break what the index relies on (a hash that is its header's, heights one
// above the parent's, the genesis header) stop the load with the reason.
// Found by fuzz_store: a header row whose height did not follow its
// parent's crashed the load.
TEST_F(SqliteStoreTest, LoadRefusesHeaderRowsThatBreakTheIndex) {
  ChainBuilder builder(params_);
  for (int i = 0; i < 3; ++i) builder.AddSlow();
  const std::vector<Block>& blocks = builder.blocks();
  {
    auto store = OpenStore();
    ChainState chain(params_, *store);
    ASSERT_TRUE(chain.Load().ok());
    for (const AcceptResult& r : chain.AcceptBlocks(builder.WithoutGenesis(), kFarFuture)) {
      ASSERT_EQ(r.status, AcceptStatus::kNewTip);
    }
  }
  const fs::path sound = file_.string() + ".sound";
  fs::copy_file(file_, sound);
  const auto restore = [&]() { fs::copy_file(sound, file_, fs::copy_options::overwrite_existing); };
  const auto load = [&]() {
    auto store = OpenStore();
    ChainState chain(params_, *store);
    return chain.Load();
  };
  ASSERT_TRUE(load().ok());

  // Two rows whose hashes match their headers, the first claiming height 7
  // on block 2, the second its child at height 8.
  Block high = blocks[3];
  high.header.height = 7;
  high.hash = high.header.ComputeHash();
  Block child = blocks[3];
  child.header.height = 8;
  child.header.last_hash = high.hash;
  child.hash = child.header.ComputeHash();
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Commit(BatchOf({high, child}, /*set_tip=*/false)).ok());
  }
  Status loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error(), HasSubstr("block " + HexEncode(high.hash) +
                                        " claims height 7 on a parent at height 2"));

  // A header moved to another block's row.
  restore();
  ASSERT_TRUE(load().ok());
  ASSERT_EQ(RawExec(file_,
                    "UPDATE blocks SET header = (SELECT header FROM blocks WHERE height = 1) "
                    "WHERE height = 2"),
            "");
  loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error(), HasSubstr("block " + HexEncode(blocks[2].hash) +
                                        " is stored with a header of another hash"));

  // The genesis row with another header under the genesis hash.
  restore();
  ASSERT_EQ(RawExec(file_,
                    "UPDATE blocks SET header = (SELECT header FROM blocks WHERE height = 2) "
                    "WHERE height = 0"),
            "");
  loaded = load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error(), HasSubstr("its genesis row holds another header"));
}

// Changes one byte of the cells at the end of the page that holds the
// index of blocks by hash (a small store's index is one page): a damaged
// index that scans in commit order never read.
void DamageHashIndex(const fs::path& file) {
  const auto page_size = RawQuery(file, "PRAGMA page_size");
  const auto root =
      RawQuery(file, "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_blocks_1'");
  ASSERT_EQ(page_size.size(), 1u);
  ASSERT_EQ(root.size(), 1u);
  const std::uint64_t end = std::stoull(root[0]) * std::stoull(page_size[0]);
  std::fstream f(file, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(end - 20));
  char byte = 0;
  f.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(end - 20));
  f.write(&byte, 1);
  ASSERT_TRUE(f.good());
}

// Found by fuzz_store: a damaged index made a block unreadable by hash while
// every check that scans rows passed. CheckStructure (which verify runs
// first) finds it.
TEST_F(SqliteStoreTest, CheckStructureFindsADamagedIndex) {
  const auto blocks = MakeStore(6);
  {
    auto store = OpenStore();
    auto sound = store->CheckStructure();
    ASSERT_TRUE(sound.ok()) << sound.error();
    EXPECT_EQ(*sound, "");
  }
  DamageHashIndex(file_);
  auto store = OpenStore();
  Status scan;
  EXPECT_EQ(Headers(*store, &scan), HashesOf(blocks));  // scans still see every row
  EXPECT_TRUE(scan.ok());
  auto found = store->CheckStructure();
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_THAT(*found, HasSubstr("sqlite_autoindex_blocks_1"));
}

// ReadBlocks: runs of one chain, found by scanning rows in commit order past
// other branches' rows, or by hash when too many are in the way; it stops
// at a block not stored and after its data budget.
TEST_F(SqliteStoreTest, ReadsRunsOfBlocksPastOtherBranches) {
  auto store = OpenStore();
  // Two chains committed interleaved, one block of each a batch, then 300
  // rows of a third branch, then the first chain goes on.
  Hash32 other_root{};
  other_root[0] = 0xee;
  const auto ours = SyntheticChain(30, 1, genesis_.hash, "\"ours\"");
  const auto theirs = SyntheticChain(20, 1, other_root, "\"theirs\"");
  const auto between = SyntheticChain(300, 1, theirs.back().hash);
  const auto more = SyntheticChain(5, 31, ours.back().hash, "\"more\"");
  ASSERT_TRUE(store->Commit(BatchOf({genesis_})).ok());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    ASSERT_TRUE(store->Commit(BatchOf({ours[i]})).ok());
    if (i < theirs.size()) {
      ASSERT_TRUE(store->Commit(BatchOf({theirs[i]})).ok());
    }
  }
  ASSERT_TRUE(store->Commit(BatchOf(between)).ok());
  ASSERT_TRUE(store->Commit(BatchOf(more)).ok());

  std::vector<Block> chain{genesis_};
  chain.insert(chain.end(), ours.begin(), ours.end());
  chain.insert(chain.end(), more.begin(), more.end());
  const std::vector<Hash32> hashes = HashesOf(chain);
  auto all = store->ReadBlocks(hashes);
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(*all, chain);
  // Any run, from anywhere.
  auto part = store->ReadBlocks(std::span(hashes).subspan(7, 10));
  ASSERT_TRUE(part.ok()) << part.error();
  EXPECT_EQ(*part, std::vector<Block>(chain.begin() + 7, chain.begin() + 17));
  auto across = store->ReadBlocks(std::span(hashes).subspan(29));
  ASSERT_TRUE(across.ok()) << across.error();
  EXPECT_EQ(*across, std::vector<Block>(chain.begin() + 29, chain.end()));
  // Out of commit order, still right (by hash).
  const std::vector<Hash32> backwards{hashes[5], hashes[3], hashes[4]};
  auto back = store->ReadBlocks(backwards);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, (std::vector<Block>{chain[5], chain[3], chain[4]}));

  // It stops before a block that is not stored.
  std::vector<Hash32> gap(hashes.begin(), hashes.begin() + 4);
  gap.push_back(Hash32{});
  gap.push_back(hashes[4]);
  auto stopped = store->ReadBlocks(gap);
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_EQ(*stopped, std::vector<Block>(chain.begin(), chain.begin() + 4));
  const std::vector<Hash32> unknown{Hash32{}};
  auto none = store->ReadBlocks(unknown);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // And after the block that reaches the data budget, reading at least one.
  const std::size_t per_block = ours[0].data.size();
  auto budget = store->ReadBlocks(std::span(hashes).subspan(1), 3 * per_block);
  ASSERT_TRUE(budget.ok());
  EXPECT_EQ(*budget, std::vector<Block>(chain.begin() + 1, chain.begin() + 4));
  auto one = store->ReadBlocks(std::span(hashes).subspan(1), 0);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

// A block read by hash is cached; what is read back equals what was stored
// whether it comes from the cache or the file.
TEST_F(SqliteStoreTest, ReadsThroughItsCache) {
  const auto blocks = MakeStore(5);
  auto store = OpenStore();
  for (int pass = 0; pass < 2; ++pass) {
    for (const Block& b : blocks) {
      auto read = store->ReadBlock(b.hash);
      ASSERT_TRUE(read.ok() && read->has_value());
      EXPECT_EQ(**read, b);
    }
  }
  auto all = store->ReadBlocks(HashesOf(blocks));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, blocks);
  // Without a cache, the same.
  store.reset();
  auto uncached = SqliteBlockStore::Open(file_, params_.network, genesis_hex_, 0);
  ASSERT_TRUE(uncached.ok()) << uncached.error();
  for (const Block& b : blocks) {
    auto read = (*uncached)->ReadBlock(b.hash);
    ASSERT_TRUE(read.ok() && read->has_value());
    EXPECT_EQ(**read, b);
  }
}

}  // namespace
}  // namespace powchain
