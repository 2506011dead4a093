// Network figures for docs/performance.md, measured on real powchain
// processes over loopback:
//   1. fresh-node sync rate: node A is loaded with N blocks by a test peer,
//      then a fresh node B syncs them from A (N = 10,000 and 100,000);
//   2. propagation along a line of 5 nodes: a block mined on the first
//      reaches the last (10 runs).
// Usage: p2p_bench [path/to/powchain]   (default: build/release/powchain)
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "consensus/genesis.h"
#include "node_process.h"
#include "primitives/json.h"
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

std::string Field(const NodeProcess& n, const char* name) {
  auto v = ParseJson(n.Get("/status").body);
  if (!v.ok() || v->Find(name) == nullptr) return "";
  const JsonValue* f = v->Find(name);
  return f->is_string() ? f->as_string() : f->number_text();
}

void Sync(const std::string& binary, int count) {
  std::printf("building a chain of %d blocks...\n", count);
  test::ChainBuilder builder(kRegtest);
  for (int i = 0; i < count; ++i) builder.Add(kRegtest.mine_rate_ms, std::to_string(i));
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
  while (Field(*a.process, "tip") != tip) {
    auto ask = feeder.Await<p2p::GetBlocks>(std::chrono::seconds(60));
    if (!ask) break;
    const p2p::Blocks answer = feed.Answer(*ask);
    feeder.Send(answer);
    if (answer.blocks.empty()) break;
  }
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

}  // namespace
}  // namespace powchain::itest

int main(int argc, char** argv) {
  const std::string binary =
      std::filesystem::absolute(argc > 1 ? argv[1] : "build/release/powchain").string();
  std::printf("| blocks | load node A from a test peer | fresh node B syncs from A |\n");
  std::printf("| --- | --- | --- |\n");
  powchain::itest::Sync(binary, 10000);
  powchain::itest::Sync(binary, 100000);
  powchain::itest::Line(binary, 10);
  return 0;
}
