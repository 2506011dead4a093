// Network figures for docs/performance.md, measured on real powchain
// processes over loopback:
//   1. fresh-node sync rate: node A is loaded with N blocks by a test peer,
//      then a fresh node B syncs them from A (N = 10,000 and 100,000);
//   2. propagation along a line of 5 nodes: a block mined on the first
//      reaches the last (10 runs).
// Usage: p2p_bench [path/to/powchain] [data-bytes]
//          (default: build/release/powchain; data a small integer, else a
//          JSON object of about data-bytes canonical bytes per block)
//        p2p_bench make-store <data-dir> <blocks> [data-bytes]
//          writes a regtest chain of <blocks> blocks (genesis not counted)
//          into <data-dir> through the chain's own validation and commits
//          (500 blocks a batch), for the node measurements of
//          bench/node_http.py; about 15 s per 1,000,000 blocks.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "node_process.h"
#include "primitives/json.h"
#include "storage/sqlite_store.h"
#include "test_peer.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using Clock = std::chrono::steady_clock;
const Params kRegtest = Params::Regtest();

struct Node {
  std::uint16_t http = FreePort();
  std::uint16_t p2p = FreePort();
  std::unique_ptr<NodeProcess> process;
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(p2p); }
};

void Start(Node& n, const TempDir& dir, const std::string& binary, const std::string& peers) {
  std::map<std::string, std::string> env = {{"HTTP_PORT", std::to_string(n.http)},
                                            {"P2P_PORT", std::to_string(n.p2p)},
                                            {"NETWORK", "regtest"},
                                            {"LOG_LEVEL", "warn"}};
  if (!peers.empty()) env["PEERS"] = peers;
  n.process =
      std::make_unique<NodeProcess>(std::vector<std::string>{"node"}, env, dir.path(), binary);
  if (!n.process->WaitReady(n.http)) {
    std::fprintf(stderr, "node failed to start:\n%s\n", n.process->Log().c_str());
    std::exit(1);
  }
}

// Block data of about `bytes` canonical JSON bytes (at least a few): an
// object with the block's number and a filler string. 0: the number alone.
std::string BlockData(std::uint64_t i, std::size_t bytes) {
  if (bytes == 0) return std::to_string(i);
  std::string out = "{\"n\":" + std::to_string(i) + ",\"memo\":\"";
  const std::size_t tail = 2;  // "}
  while (out.size() + tail < bytes) out += static_cast<char>('a' + (out.size() + i) % 26);
  return out + "\"}";
}

std::string Field(const NodeProcess& n, const char* name) {
  auto v = ParseJson(n.Get("/status").body);
  if (!v.ok() || v->Find(name) == nullptr) return "";
  const JsonValue* f = v->Find(name);
  return f->is_string() ? f->as_string() : f->number_text();
}

void Sync(const std::string& binary, int count, std::size_t data_bytes) {
  std::printf("building a chain of %d blocks...\n", count);
  test::ChainBuilder builder(kRegtest);
  for (int i = 0; i < count; ++i) {
    builder.Add(kRegtest.mine_rate_ms, BlockData(static_cast<std::uint64_t>(i), data_bytes));
  }
  const std::vector<Block>& chain = builder.blocks();
  const std::string tip = HexEncode(chain.back().hash);
  const ChainFeed feed(chain);

  TempDir dir;
  Node a, b;
  Start(a, dir, binary, "");
  TestPeer feeder;
  feeder.Connect(a.p2p);
  feeder.Await<p2p::Hello>();
  feeder.Send(feed.Hello("000000000000bead"));
  const auto load_start = Clock::now();
  while (!feed.tip_sent()) {
    if (!feed.ServeOne(feeder, std::chrono::seconds(60))) break;
  }
  // A may still be committing the last batch.
  WaitUntil([&] { return Field(*a.process, "tip") == tip; }, std::chrono::seconds(60));
  const double load_s = std::chrono::duration<double>(Clock::now() - load_start).count();

  const auto start = Clock::now();
  Start(b, dir, binary, a.url());
  WaitUntil([&] { return Field(*b.process, "tip") == tip; }, std::chrono::minutes(30));
  const double sync_s = std::chrono::duration<double>(Clock::now() - start).count();
  const bool ok = Field(*b.process, "tip") == tip;
  std::printf("| %d | %.2f s (%.0f blocks/s) | %.2f s (%.0f blocks/s)%s |\n", count, load_s,
              count / load_s, sync_s, count / sync_s, ok ? "" : " DID NOT FINISH");

  // Restarts of B with its store of `count` blocks: process start until
  // GET /status answers with the whole chain loaded.
  std::vector<double> restarts;
  for (int i = 0; i < 3; ++i) {
    b.process->Signal(SIGTERM);
    b.process->WaitExit();
    const auto t0 = Clock::now();
    Start(b, dir, binary, "");
    restarts.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (Field(*b.process, "tip") != tip) std::printf("restart lost the tip!\n");
  }
  std::sort(restarts.begin(), restarts.end());
  std::printf("  restart with %d blocks: %.3f / %.3f / %.3f s (min / median / max)\n", count,
              restarts[0], restarts[1], restarts[2]);
}

void Line(const std::string& binary, int runs) {
  TempDir dir;
  std::vector<Node> nodes(5);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    Start(nodes[i], dir, binary, i == 0 ? "" : nodes[i - 1].url());
  }
  // A line: 1-2-3-4-5. Wait until each inner node has its two neighbours.
  WaitUntil([&] {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::size_t want = (i == 0 || i + 1 == nodes.size()) ? 1 : 2;
      if (Field(*nodes[i].process, "peers") != std::to_string(want)) return false;
    }
    return true;
  });
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const HttpResponse mined =
        nodes.front().process->Post("/mine", "{\"data\":{\"run\":" + std::to_string(r) + "}}");
    const auto t0 = Clock::now();
    auto block = ParseJson(mined.body);
    const std::string hash = block.ok() ? block->Find("hash")->as_string() : "";
    // Poll finely: the interval bounds the measurement's resolution.
    const auto limit = Clock::now() + std::chrono::seconds(30);
    while (Field(*nodes.back().process, "tip") != hash && Clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("line of 5 nodes, %d blocks: median %.1f ms, min %.1f ms, max %.1f ms\n", runs,
              ms[ms.size() / 2], ms.front(), ms.back());
}

// Writes a regtest chain of `count` blocks into `data_dir`, as a node would
// store it after a sync: ChainState over the SQLite store, one commit per
// 500-block batch. Blocks are built a batch at a time, so memory stays small.
int MakeStore(const std::filesystem::path& data_dir, std::uint64_t count, std::size_t data_bytes) {
  std::filesystem::create_directories(data_dir);
  const Block genesis = MakeGenesis(kRegtest);
  auto store =
      SqliteBlockStore::Open(data_dir / "chain.sqlite", kRegtest.network, HexEncode(genesis.hash));
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().c_str());
    return 1;
  }
  ChainState chain(kRegtest, **store);
  if (Status s = chain.Load(); !s) {
    std::fprintf(stderr, "%s\n", s.error().c_str());
    return 1;
  }
  const ChainTip start = chain.Tip();
  // Continues an existing chain: the builder starts from the stored tip's
  // ancestors (enough of them for the median-time window).
  std::vector<Block> prefix;
  for (std::uint64_t h =
           start.height() >= kRegtest.mtp_window ? start.height() - kRegtest.mtp_window : 0;
       h <= start.height(); ++h) {
    auto b = chain.BlockAtHeight(h);
    if (!b || !b->has_value()) {
      std::fprintf(stderr, "cannot read block %llu\n", static_cast<unsigned long long>(h));
      return 1;
    }
    prefix.push_back(std::move(**b));
  }
  constexpr std::size_t kBatch = 500;
  const auto t0 = Clock::now();
  std::uint64_t done = 0;
  while (done < count) {
    test::ChainBuilder builder(kRegtest, std::move(prefix));
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBatch, count - done));
    for (std::size_t i = 0; i < n; ++i) {
      builder.Add(kRegtest.mine_rate_ms, BlockData(builder.tip().header.height + 1, data_bytes));
    }
    std::vector<Block> all = builder.blocks();
    std::vector<Block> batch(all.end() - static_cast<std::ptrdiff_t>(n), all.end());
    const auto results = chain.AcceptBlocks(std::move(batch), ~std::uint64_t{0} / 2);
    for (const AcceptResult& r : results) {
      if (r.status != AcceptStatus::kNewTip) {
        std::fprintf(stderr, "block refused: %s %s\n", r.validation.message.c_str(),
                     r.store_error.c_str());
        return 1;
      }
    }
    prefix.assign(all.end() - static_cast<std::ptrdiff_t>(kRegtest.mtp_window), all.end());
    done += n;
    if (done % 100000 == 0 || done == count) {
      std::fprintf(stderr, "%llu blocks, %.1f s\n", static_cast<unsigned long long>(done),
                   std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
  std::printf("%s: height %llu, tip %s\n", data_dir.c_str(),
              static_cast<unsigned long long>(chain.Tip().height()),
              HexEncode(chain.Tip().hash()).c_str());
  return 0;
}

}  // namespace
}  // namespace powchain::itest

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "make-store") {
    if (argc < 4) {
      std::fprintf(stderr, "usage: p2p_bench make-store <data-dir> <blocks> [data-bytes]\n");
      return 2;
    }
    return powchain::itest::MakeStore(argv[2], std::stoull(argv[3]),
                                      argc > 4 ? std::stoul(argv[4]) : 200);
  }
  const std::string binary =
      std::filesystem::absolute(argc > 1 ? argv[1] : "build/release/powchain").string();
  const std::size_t data_bytes = argc > 2 ? std::stoul(argv[2]) : 0;
  std::printf("| blocks | load node A from a test peer | fresh node B syncs from A |\n");
  std::printf("| --- | --- | --- |\n");
  powchain::itest::Sync(binary, 10000, data_bytes);
  powchain::itest::Sync(binary, 100000, data_bytes);
  powchain::itest::Line(binary, 10);
  return 0;
}
