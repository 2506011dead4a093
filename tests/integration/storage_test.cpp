// Durable storage, end to end: the real powchain binary restarted, killed
// with SIGKILL at random moments, pointed at damaged files; `powchain
// verify` run on what it leaves.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "consensus/genesis.h"
#include "node_process.h"
#include "primitives/block_json.h"
#include "primitives/json.h"
#include "test_peer.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const Params kRegtest = Params::Regtest();

struct Node {
  std::uint16_t http = FreePort();
  std::uint16_t p2p = FreePort();
  std::unique_ptr<NodeProcess> process;
};

std::vector<std::string> NodeArgs(const Node& n, const fs::path& data_dir,
                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {
      "node",       "--network",           "regtest",    "--http-port",    std::to_string(n.http),
      "--p2p-port", std::to_string(n.p2p), "--data-dir", data_dir.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool Start(Node& n, const TempDir& dir, const fs::path& data_dir,
           std::vector<std::string> extra = {}) {
  n.process = std::make_unique<NodeProcess>(NodeArgs(n, data_dir, std::move(extra)),
                                            std::map<std::string, std::string>{}, dir.path());
  return n.process->WaitReady(n.http);
}

std::vector<Block> Chain(const NodeProcess& n) {
  return ParseAndCheckChain(n.Get("/blocks").body, kRegtest);
}

struct CliResult {
  int code;
  std::string output;
};
CliResult Verify(const TempDir& dir, const fs::path& data_dir) {
  NodeProcess p({"verify", "--data-dir", data_dir.string()}, {}, dir.path());
  const auto code = p.WaitExit(120s);
  return {code.value_or(-1), p.Log()};
}

// Runs one SQL statement on a store file (to damage it on purpose).
void Sql(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

TEST(StorageTest, RestartKeepsChainTipAndSideBranches) {
  TempDir dir;
  const fs::path data = dir.path() / "node";
  Node n;
  ASSERT_TRUE(Start(n, dir, data)) << n.process->Log();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(n.process->Post("/mine", "{\"data\":" + std::to_string(i) + "}").status, 201);
  }
  // A side branch: a sibling of the tip from a peer, with as much work (a
  // block with less would not be kept).
  const Block genesis = MakeGenesis(kRegtest);
  const std::vector<Block> mined = Chain(*n.process);
  ASSERT_EQ(mined.size(), 5u);
  test::ChainBuilder side(kRegtest, {mined.begin(), mined.end() - 1});
  const Block side_block =
      side.Add(mined[4].header.timestamp - mined[3].header.timestamp, "\"side\"");
  ASSERT_EQ(side_block.header.difficulty, mined[4].header.difficulty);
  {
    TestPeer peer;
    ASSERT_TRUE(peer.Handshake(n.p2p, genesis.hash).has_value());
    peer.Send(p2p::BlockMsg{side_block});
    ASSERT_TRUE(WaitUntil(
        [&] { return n.process->Get("/blocks/" + HexEncode(side_block.hash)).status == 200; }));
  }
  const std::vector<Block> before = Chain(*n.process);
  ASSERT_EQ(before.size(), 5u);
  n.process->Signal(SIGTERM);
  ASSERT_EQ(n.process->WaitExit(), 0) << n.process->Log();

  ASSERT_TRUE(Start(n, dir, data)) << n.process->Log();
  EXPECT_EQ(Chain(*n.process), before);
  EXPECT_EQ(n.process->Get("/blocks/" + HexEncode(side_block.hash)).status, 200);
  // And it carries on from there.
  EXPECT_EQ(ParseBlock(n.process->Post("/mine", "{\"data\":\"after\"}").body).header.height, 5u);
  n.process->Signal(SIGTERM);
  ASSERT_EQ(n.process->WaitExit(), 0) << n.process->Log();
  const CliResult v = Verify(dir, data);
  EXPECT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("sound: 7 blocks"), std::string::npos) << v.output;
}

TEST(StorageTest, RunningTwiceWithDefaultsKeepsTheChain) {
  // What `make run` twice does: the same ports, no --data-dir.
  TempDir dir;
  Node n;
  const std::vector<std::string> args = {
      "node",       "--network",          "regtest", "--http-port", std::to_string(n.http),
      "--p2p-port", std::to_string(n.p2p)};
  std::vector<Block> before;
  for (int run = 0; run < 2; ++run) {
    NodeProcess p(args, {}, dir.path());
    ASSERT_TRUE(p.WaitReady(n.http)) << p.Log();
    if (run == 0) {
      ASSERT_EQ(p.Post("/mine", "{\"data\":\"kept\"}").status, 201);
      before = Chain(p);
    } else {
      EXPECT_EQ(Chain(p), before);
    }
    p.Signal(SIGINT);
    ASSERT_EQ(p.WaitExit(), 0) << p.Log();
  }
  EXPECT_TRUE(fs::exists(dir.path() / "data/regtest" / std::to_string(n.p2p) / "chain.sqlite"));
}

TEST(StorageTest, TheDataDirectoryIsLocked) {
  TempDir dir;
  const fs::path data = dir.path() / "shared";
  Node a, b;
  ASSERT_TRUE(Start(a, dir, data)) << a.process->Log();
  b.process = std::make_unique<NodeProcess>(NodeArgs(b, data), std::map<std::string, std::string>{},
                                            dir.path());
  const auto code = b.process->WaitExit();
  EXPECT_EQ(code, 1);
  EXPECT_NE(b.process->Log().find("in use by another powchain process"), std::string::npos)
      << b.process->Log();
  EXPECT_NE(b.process->Log().find(data.string()), std::string::npos) << b.process->Log();
  EXPECT_TRUE(a.process->Running());
}

TEST(StorageTest, DamagedFilesAreClearErrorsNeverAShorterChain) {
  TempDir dir;
  const fs::path data = dir.path() / "node";
  Node n;
  ASSERT_TRUE(Start(n, dir, data)) << n.process->Log();
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(
        n.process->Post("/mine", "{\"data\":\"" + std::string(2000, 'a' + i % 26) + "\"}").status,
        201);
  }
  const std::vector<Block> full = Chain(*n.process);
  n.process->Signal(SIGTERM);
  ASSERT_EQ(n.process->WaitExit(), 0);
  const fs::path file = data / "chain.sqlite";
  const fs::path good = dir.path() / "good.sqlite";
  fs::copy_file(file, good);
  auto try_start = [&]() {
    Node m;
    m.process = std::make_unique<NodeProcess>(NodeArgs(m, data),
                                              std::map<std::string, std::string>{}, dir.path());
    if (m.process->WaitReady(m.http)) {
      // If it starts at all, it must have the whole chain.
      EXPECT_EQ(Chain(*m.process), full);
      m.process->Signal(SIGTERM);
      m.process->WaitExit();
      return std::pair<int, std::string>{0, m.process->Log()};
    }
    return std::pair<int, std::string>{m.process->WaitExit().value_or(-1), m.process->Log()};
  };
  // Garbage in place of the database.
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << std::string(8192, '\x5a');
  }
  auto [code, log] = try_start();
  EXPECT_EQ(code, 1) << log;
  EXPECT_NE(log.find(file.string()), std::string::npos) << log;
  // Truncated to half, and to a few pages.
  for (const double fraction : {0.5, 0.1}) {
    fs::copy_file(good, file, fs::copy_options::overwrite_existing);
    fs::resize_file(
        file, static_cast<std::uintmax_t>(static_cast<double>(fs::file_size(good)) * fraction));
    auto [c, l] = try_start();
    EXPECT_NE(c, 0) << fraction << "\n" << l;
    EXPECT_NE(l.find(file.string()), std::string::npos) << l;
  }
  // Another schema version.
  fs::copy_file(good, file, fs::copy_options::overwrite_existing);
  Sql(file, "UPDATE meta SET value='99' WHERE key='schema_version'");
  auto [c2, l2] = try_start();
  EXPECT_EQ(c2, 1) << l2;
  EXPECT_NE(l2.find("schema version"), std::string::npos) << l2;
  // The sound copy still starts with the whole chain.
  fs::copy_file(good, file, fs::copy_options::overwrite_existing);
  auto [c3, l3] = try_start();
  EXPECT_EQ(c3, 0) << l3;
}

TEST(StorageTest, VerifyFindsTheFirstBadBlock) {
  TempDir dir;
  const fs::path data = dir.path() / "node";
  Node n;
  ASSERT_TRUE(Start(n, dir, data)) << n.process->Log();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(n.process->Post("/mine", "{\"data\":" + std::to_string(i) + "}").status, 201);
  }
  n.process->Signal(SIGTERM);
  ASSERT_EQ(n.process->WaitExit(), 0);
  CliResult v = Verify(dir, data);
  EXPECT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("sound: 21 blocks of the regtest network, tip at height 20"),
            std::string::npos)
      << v.output;
  EXPECT_NE(v.output.find("verifying"), std::string::npos) << v.output;  // the progress bar
  // Change the data of block 3 on disk: verify names it; the node, which
  // re-checks only the top of the chain at start-up, is caught by verify.
  Sql(data / "chain.sqlite", "UPDATE blocks SET data='\"tampered\"' WHERE height=3");
  v = Verify(dir, data);
  EXPECT_EQ(v.code, 1) << v.output;
  EXPECT_NE(v.output.find("first bad block at height 3"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("bad-data-hash"), std::string::npos) << v.output;
  // Damage near the tip stops the node from starting.
  Sql(data / "chain.sqlite", "UPDATE blocks SET data='\"tampered\"' WHERE height=19");
  Node m;
  m.process = std::make_unique<NodeProcess>(NodeArgs(m, data), std::map<std::string, std::string>{},
                                            dir.path());
  EXPECT_EQ(m.process->WaitExit(), 1);
  EXPECT_NE(m.process->Log().find("height 19"), std::string::npos) << m.process->Log();
  // Usage and missing stores.
  NodeProcess missing({"verify", "--data-dir", (dir.path() / "nothing").string()}, {}, dir.path());
  EXPECT_EQ(missing.WaitExit(), 1);
  NodeProcess usage({"verify"}, {}, dir.path());
  EXPECT_EQ(usage.WaitExit(), 2);
}

// The node serves each block as the bytes it stored with it: GET /blocks,
// its pages and GET /blocks/{id} are, byte for byte, a fresh encoding of the
// blocks they carry. A stored copy damaged on disk is found by verify.
TEST(StorageTest, ServesStoredBytesAndVerifyChecksThem) {
  TempDir dir;
  const fs::path data = dir.path() / "node";
  Node n;
  ASSERT_TRUE(Start(n, dir, data)) << n.process->Log();
  const std::vector<std::string> payloads = {"{\"a\":[1,2.5e3,-0,\"\\u00e9\\n\"]}", "null",
                                             "\"" + std::string(3000, 'x') + "\"",
                                             "{\"z\":{},\"a\":[]}", "9007199254740991"};
  for (int i = 0; i < 12; ++i) {
    const std::string& d = payloads[static_cast<std::size_t>(i) % payloads.size()];
    const HttpResponse mined = n.process->Post("/mine", "{\"data\":" + d + "}");
    ASSERT_EQ(mined.status, 201) << d << ": " << mined.body;
  }
  const HttpResponse all = n.process->Get("/blocks");
  ASSERT_EQ(all.status, 200);
  auto parsed = ParseJson(all.body, JsonLimits{std::size_t{1} << 26, 64});
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(parsed->items().size(), 13u);
  std::string fresh = "[";
  for (std::size_t h = 0; h < parsed->items().size(); ++h) {
    auto block = BlockFromJson(parsed->items()[h]);
    ASSERT_TRUE(block.ok()) << block.error();
    const std::string encoded = BlockToJson(*block);
    if (h > 0) fresh += ',';
    fresh += encoded;
    const HttpResponse one = n.process->Get("/blocks/" + std::to_string(h));
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(one.body, encoded) << h;
    EXPECT_EQ(n.process->Get("/blocks/" + HexEncode(block->hash)).body, encoded) << h;
  }
  fresh += ']';
  EXPECT_EQ(all.body, fresh);
  // A page in the middle.
  const HttpResponse page = n.process->Get("/blocks?from=4&limit=3");
  ASSERT_EQ(page.status, 200);
  auto page_items = ParseJson(page.body, JsonLimits{std::size_t{1} << 26, 64});
  ASSERT_TRUE(page_items.ok());
  ASSERT_EQ(page_items->items().size(), 3u);
  EXPECT_EQ(page.body, "[" + n.process->Get("/blocks/4").body + "," +
                           n.process->Get("/blocks/5").body + "," +
                           n.process->Get("/blocks/6").body + "]");
  n.process->Signal(SIGTERM);
  ASSERT_EQ(n.process->WaitExit(), 0);

  CliResult v = Verify(dir, data);
  EXPECT_EQ(v.code, 0) << v.output;
  // The stored copy of block 7 changed (its data column, which the hash
  // covers, is intact): verify names the block.
  Sql(data / "chain.sqlite",
      "UPDATE blocks SET json = replace(json, '\"version\":1', '\"version\":2') WHERE height=7");
  v = Verify(dir, data);
  EXPECT_EQ(v.code, 1) << v.output;
  EXPECT_NE(v.output.find("first bad block at height 7"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("stored JSON form"), std::string::npos) << v.output;
}

// --- Crash tests -----------------------------------------------------------

// Kills a continuously mining node at a random moment while clients post
// and read blocks; after a restart every block it acknowledged is there and
// the store verifies.
TEST(CrashTest, KilledWhileMiningKeepsEveryAcknowledgedBlock) {
  std::mt19937 rng(20261124);
  constexpr int kTrials = 12;
  for (int trial = 0; trial < kTrials; ++trial) {
    TempDir dir;
    const fs::path data = dir.path() / "node";
    Node n;
    ASSERT_TRUE(Start(n, dir, data, {"--mine", "--threads", "1"})) << n.process->Log();
    std::mutex mutex;
    std::set<std::string> acknowledged;  // hashes returned by POST /mine or GET /blocks
    std::atomic<bool> stop{false};
    std::thread poster([&] {
      for (int i = 0; !stop; ++i) {
        try {
          const HttpResponse r = n.process->Post("/mine", "{\"data\":" + std::to_string(i) + "}");
          if (r.status != 201) continue;
          const Block b = *BlockFromJsonText(r.body);
          std::lock_guard lock(mutex);
          acknowledged.insert(HexEncode(b.hash));
        } catch (const std::exception&) {
          return;  // the node is gone
        }
      }
    });
    std::thread reader([&] {
      while (!stop) {
        try {
          const HttpResponse r = n.process->Get("/blocks");
          auto v = ParseJson(r.body, JsonLimits{std::size_t{1} << 30, 64});
          if (r.status != 200 || !v.ok()) continue;
          std::lock_guard lock(mutex);
          for (const JsonValue& b : v->items()) acknowledged.insert(b.Find("hash")->as_string());
        } catch (const std::exception&) {
          return;
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(50, 600)(rng)));  // a random moment
    n.process->Signal(SIGKILL);
    ASSERT_EQ(n.process->WaitExit(), 128 + SIGKILL);
    stop = true;
    poster.join();
    reader.join();

    const CliResult v = Verify(dir, data);
    ASSERT_EQ(v.code, 0) << "trial " << trial << ": " << v.output;
    ASSERT_TRUE(Start(n, dir, data)) << "trial " << trial << ": " << n.process->Log();
    std::set<std::string> stored;
    for (const Block& b : Chain(*n.process)) stored.insert(HexEncode(b.hash));
    for (const std::string& h : acknowledged) {
      // Acknowledged blocks were active when acknowledged; a later block
      // may have replaced one in the active chain, but it is still stored.
      EXPECT_TRUE(stored.contains(h) || n.process->Get("/blocks/" + h).status == 200)
          << "trial " << trial << ": acknowledged block " << h << " is lost";
    }
    EXPECT_GE(acknowledged.size(), 1u) << "trial " << trial;
    std::printf("trial %d: %zu acknowledged blocks, %zu on the chain after restart\n", trial,
                acknowledged.size(), stored.size());
  }
}

// Kills a node at a random moment while it syncs 12,000 blocks from a peer
// (headers in 2,000s, blocks in 2,000s: about a dozen requests).
TEST(CrashTest, KilledWhileSyncingStaysSound) {
  test::ChainBuilder builder(kRegtest);
  for (int i = 0; i < 12000; ++i) builder.Add(kRegtest.mine_rate_ms, std::to_string(i));
  const std::vector<Block>& chain = builder.blocks();

  std::mt19937 rng(42);
  constexpr int kTrials = 8;
  for (int trial = 0; trial < kTrials; ++trial) {
    TempDir dir;
    const fs::path data = dir.path() / "node";
    Node n;
    ASSERT_TRUE(Start(n, dir, data)) << n.process->Log();
    // A test peer serves the chain in small batches, slowly enough that the
    // kill lands mid-sync.
    const ChainFeed feed(chain);
    TestPeer feeder;
    ASSERT_TRUE(feeder.Connect(n.p2p));
    ASSERT_TRUE(feeder.Await<p2p::Hello>().has_value());
    feeder.Send(feed.Hello("00000000000feed1"));
    std::set<std::string> served;
    const int kill_after = std::uniform_int_distribution<int>(1, 12)(rng);
    for (int batch = 0; batch < kill_after && !feed.tip_sent(); ++batch) {
      ASSERT_TRUE(feed.ServeOne(feeder));
      // What the node serves now, it has acknowledged.
      const HttpResponse tip = n.process->Get("/status");
      auto v = ParseJson(tip.body);
      if (v.ok()) served.insert(v->Find("tip")->as_string());
    }
    // A random instant within a batch's commit or so after the last answer.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
    n.process->Signal(SIGKILL);
    ASSERT_EQ(n.process->WaitExit(), 128 + SIGKILL);

    const CliResult v = Verify(dir, data);
    ASSERT_EQ(v.code, 0) << "trial " << trial << ": " << v.output;
    ASSERT_TRUE(Start(n, dir, data)) << n.process->Log();
    for (const std::string& h : served) {
      EXPECT_EQ(n.process->Get("/blocks/" + h).status, 200)
          << "trial " << trial << ": served block " << h << " is lost";
    }
    // The restarted chain is a prefix of the peer's chain.
    const std::vector<Block> after = Chain(*n.process);
    for (std::size_t i = 0; i < after.size(); ++i) ASSERT_EQ(after[i], chain[i]);
    std::printf("sync trial %d: killed after %d batches; %zu blocks kept\n", trial, kill_after,
                after.size() - 1);
  }
}

}  // namespace
}  // namespace powchain::itest
