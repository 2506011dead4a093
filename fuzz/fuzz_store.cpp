// Damaged store files: a real regtest store (12 blocks with coinbases, a
// spend, a side branch that was active for a while) written once, then, per input, a copy of it
// changed as the input says and opened as the node and `powchain verify` open it:
// SqliteBlockStore::Open (the meta checks, the upgrade path, ReadTip),
// ChainState::Load (ForEachHeader, BlockHeader::Deserialize, the re-check of
// the top blocks), every read the node serves (blocks, their JSON form,
// runs, coins, undo data, the transaction and address indexes) and
// VerifyStore.
//
// Input: a FuzzedDataProvider. Up to 8 changes, each either
//   - a row change made with SQLite, CHECK constraints off (as a hand edit
//     or a buggy writer would leave it): one column of the n-th row of one
//     table set to a blob (often of the column's own size), a text, an
//     integer, a real or NULL; or the row deleted; or the schema version
//     (user_version) set
//   - bytes written over the file at an offset (a damaged page)
//
// Properties: nothing crashes, hangs or throws; every error says something
// and an error of Open names the file; when verify calls the store sound
// and the node loaded it, verify's height is the node's tip height, and
// every active block the node reads back is there and passes the
// context-free checks.
#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "crypto/schnorr.h"
#include "fuzz_check.h"
#include "node/verify.h"
#include "storage/sqlite_store.h"
#include "tiny_chain.h"
#include "util/hex.h"

namespace powchain::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxChanges = 8;

struct Table {
  const char* name;
  const char* key;  // the primary key's columns, to pick the n-th row
  std::vector<std::pair<const char*, int>> columns;  // name, natural blob size (0: not a blob)
};

const std::array<Table, 6>& Tables() {
  static const std::array<Table, 6> tables = {{
      {"meta", "key", {{"key", 0}, {"value", 0}}},
      {"blocks",
       "seq",
       {{"hash", 32},
        {"height", 0},
        {"last_hash", 32},
        {"timestamp", 0},
        {"difficulty", 0},
        {"header", 96},
        {"data", 0},
        {"txs", 0},
        {"json", 0},
        {"seq", 0}}},
      {"coins",
       "txid, vout",
       {{"txid", 32}, {"vout", 0}, {"amount", 0}, {"key", 32}, {"height", 0}, {"coinbase", 0}}},
      {"undo", "hash", {{"hash", 32}, {"data", 0}}},
      {"txindex", "txid", {{"txid", 32}, {"block", 32}, {"height", 0}, {"pos", 0}}},
      {"address_txs", "key, height, pos", {{"key", 32}, {"height", 0}, {"pos", 0}, {"txid", 32}}},
  }};
  return tables;
}

// Writes the template store and returns its bytes.
std::string MakeTemplate(const fs::path& dir, const Params& params) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Block genesis = MakeGenesis(params);
  {
    auto store = SqliteBlockStore::Open(StoreFile(dir), params.network, HexEncode(genesis.hash));
    FUZZ_CHECK(store.ok());
    ChainState chain(params, **store);
    FUZZ_CHECK(chain.Load().ok());
    const SecretKey alice = SeedKey(1);
    const SecretKey bob = SeedKey(2);
    std::vector<Block> active{genesis};
    std::vector<Block> side;
    Hash32 first_coinbase{};
    for (std::uint64_t h = 1; h <= 12; ++h) {
      std::vector<Transaction> txs;
      Transaction coinbase;
      coinbase.coinbase = h;
      coinbase.outputs.push_back(
          MakeTxOut(params.address_prefix, PublicKeyOf(alice), BlockSubsidy(h, params)));
      txs.push_back(coinbase);
      if (h == 1) first_coinbase = ComputeTxid(coinbase);
      if (h == 12) {
        Transaction spend;
        spend.inputs.push_back(TxIn{OutPoint{first_coinbase, 0}, {}});
        spend.outputs.push_back(MakeTxOut(params.address_prefix, PublicKeyOf(bob), kCoin));
        spend.outputs.push_back(
            MakeTxOut(params.address_prefix, PublicKeyOf(alice), BlockSubsidy(1, params) - kCoin));
        const SighashContext sighash(spend, genesis.hash);
        spend.inputs[0].sig = SignSchnorr(alice, sighash.ForInput(0), Hash32{});
        txs.push_back(spend);
      }
      active.push_back(MineChild(TipContext(active, params), "{\"h\":" + std::to_string(h) + "}",
                                 active.back().header.timestamp + 1500, params, txs));
      if (h == 10) {
        // A side branch of two blocks from height 9, less work than the active chain.
        std::vector<Block> fork(active.begin(), active.end() - 1);
        for (int i = 0; i < 2; ++i) {
          fork.push_back(MineChild(TipContext(fork, params), "\"side\"",
                                   fork.back().header.timestamp + 1700, params));
          side.push_back(fork.back());
        }
      }
    }
    // Heights 1 to 10, then the side branch takes over (it is longer by
    // then), then 11 and 12 take the tip back: the store has been through
    // two reorganizations.
    const std::uint64_t now = active.back().header.timestamp + 60'000;
    auto accept = [&](std::vector<Block> blocks) {
      for (const AcceptResult& r : chain.AcceptBlocks(std::move(blocks), now)) FUZZ_CHECK(r.ok());
    };
    accept({active.begin() + 1, active.begin() + 11});
    accept(side);
    FUZZ_CHECK(chain.Tip().hash() == side.back().hash);
    accept({active.begin() + 11, active.end()});
    FUZZ_CHECK(chain.Tip().height() == 12);
  }
  std::ifstream in(StoreFile(dir), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void ChangeRow(sqlite3* db, FuzzedDataProvider& in) {
  const Table& table = Tables()[in.ConsumeIntegralInRange<std::size_t>(0, Tables().size() - 1)];
  const std::size_t row = in.ConsumeIntegralInRange<std::size_t>(0, 15);
  const auto kind = in.ConsumeIntegralInRange<int>(0, 7);
  std::string sql;
  const std::string pick = "(" + std::string(table.key) + ") = (SELECT " + table.key + " FROM " +
                           table.name + " LIMIT 1 OFFSET " + std::to_string(row) + ")";
  if (kind == 7) {
    sql = "DELETE FROM " + std::string(table.name) + " WHERE " + pick;
    sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    return;
  }
  const auto& [column, blob_size] =
      table.columns[in.ConsumeIntegralInRange<std::size_t>(0, table.columns.size() - 1)];
  sql = "UPDATE OR IGNORE " + std::string(table.name) + " SET " + column + " = ?1 WHERE " + pick;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return;
  }
  switch (kind) {
    case 0:
    case 1: {  // a blob, of the column's size when it has one
      const std::size_t size = blob_size > 0 && kind == 0
                                   ? static_cast<std::size_t>(blob_size)
                                   : in.ConsumeIntegralInRange<std::size_t>(0, 200);
      std::vector<std::uint8_t> bytes = in.ConsumeBytes<std::uint8_t>(size);
      bytes.resize(size);
      sqlite3_bind_blob(stmt, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
      break;
    }
    case 2:
    case 3: {
      const std::string text = in.ConsumeRandomLengthString(400);
      sqlite3_bind_text(stmt, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
      break;
    }
    case 4:
      sqlite3_bind_int64(stmt, 1, in.ConsumeIntegral<std::int64_t>());
      break;
    case 5:
      sqlite3_bind_double(stmt, 1, in.ConsumeFloatingPoint<double>());
      break;
    default:
      sqlite3_bind_null(stmt, 1);
      break;
  }
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
}

// Applies the input's changes to the file at `path`.
void Damage(const fs::path& path, FuzzedDataProvider& in) {
  std::vector<std::pair<std::uint64_t, std::vector<std::uint8_t>>> writes;
  sqlite3* db = nullptr;
  FUZZ_CHECK(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_exec(db, "PRAGMA ignore_check_constraints = ON; BEGIN", nullptr, nullptr, nullptr);
  for (std::size_t i = 0; i < kMaxChanges && in.remaining_bytes() > 0; ++i) {
    const auto what = in.ConsumeIntegralInRange<int>(0, 15);
    if (what <= 11) {
      ChangeRow(db, in);
    } else if (what == 12) {
      const std::string sql =
          "PRAGMA user_version = " + std::to_string(in.ConsumeIntegralInRange<int>(-1, 5));
      sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    } else {
      const auto offset = in.ConsumeIntegral<std::uint64_t>();
      writes.emplace_back(
          offset, in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(1, 64)));
    }
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  FUZZ_CHECK(sqlite3_close(db) == SQLITE_OK);
  if (writes.empty()) return;
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(file.tellg());
  for (const auto& [offset, bytes] : writes) {
    file.seekp(static_cast<std::streamoff>(offset % size));
    file.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
}

// Reads everything the node serves from an open store; only checks that
// reads do not crash and that errors say something.
void ReadAll(const SqliteBlockStore& store, const std::vector<Hash32>& hashes) {
  auto said = [](const auto& result) {
    if (!result) FUZZ_CHECK(!result.error().empty());
  };
  for (const Hash32& hash : hashes) {
    said(store.ReadBlock(hash));
    said(store.ReadBlockJson(hash));
    said(store.ReadUndo(hash));
  }
  said(store.ReadBlocks(hashes));
  std::string json;
  said(store.AppendBlocksJson(hashes, json, 4096));
  // (ForEachCoin holds the store while it calls back: read after it.)
  std::vector<std::pair<OutPoint, XOnlyPubKey>> coins;
  said(store.ForEachCoin([&](const OutPoint& outpoint, const Coin& coin) {
    coins.emplace_back(outpoint, coin.key);
    return coins.size() < 32;
  }));
  for (const auto& [outpoint, key] : coins) {
    said(store.ReadCoin(outpoint));
    said(store.FindTx(outpoint.txid));
    said(store.ReadAddressSummary(key));
    said(store.ReadAddressTxs(key, 0, 10));
    said(store.ReadAddressCoins(key, 1, 10));
  }
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  static const Params params = Params::Regtest();
  static const std::string genesis_hex = HexEncode(MakeGenesis(params).hash);
  static const fs::path dir = ScratchDir("fuzz-store");
  static const std::string original = MakeTemplate(dir, params);
  const fs::path file = StoreFile(dir);
  // A fresh copy, without the journal files of the last input.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(file.string() + suffix);
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(original.data(), static_cast<std::streamsize>(original.size()));
    FUZZ_CHECK(out.good());
  }
  FuzzedDataProvider in(data, size);
  Damage(file, in);

  std::optional<Hash32> loaded_tip;
  std::uint64_t loaded_height = 0;
  std::vector<Block> active;  // as the node read them back
  {
    auto store = SqliteBlockStore::Open(file, params.network, genesis_hex);
    if (!store) {
      FUZZ_CHECK(store.error().find(file.string()) != std::string::npos);
    } else {
      ChainState chain(params, **store);
      const Status load = chain.Load();
      if (!load) {
        FUZZ_CHECK(!load.error().empty());
      } else {
        loaded_tip = chain.Tip().hash();
        loaded_height = chain.Tip().height();
        std::vector<Hash32> hashes;
        for (std::uint64_t h = 0; h <= loaded_height; ++h) {
          const auto hash = chain.HashAtHeight(h);
          FUZZ_CHECK(hash.has_value());
          hashes.push_back(*hash);
        }
        ReadAll(**store, hashes);
        for (const Hash32& hash : hashes) {
          auto block = (*store)->ReadBlock(hash);
          if (block && block->has_value()) active.push_back(std::move(**block));
          if (std::getenv("POWCHAIN_FUZZ_LOG") != nullptr) {
            std::fprintf(stderr, "read %s: %s\n", HexEncode(hash).c_str(),
                         !block               ? block.error().c_str()
                         : block->has_value() ? "ok"
                                              : "missing");
          }
        }
      }
    }
  }
  const auto report = VerifyStore(dir, nullptr);
  if (!report) {
    FUZZ_CHECK(!report.error().empty());
  } else if (report->sound && loaded_tip) {
    FUZZ_CHECK(report->height == loaded_height);
    FUZZ_CHECK(active.size() == loaded_height + 1);
    for (std::size_t h = 1; h < active.size(); ++h) {  // genesis is fixed, not checked
      FUZZ_CHECK(CheckBlockContextFree(active[h], params).ok());
    }
  } else if (!report->sound) {
    FUZZ_CHECK(!report->problem.empty());
  }
  return 0;
}
