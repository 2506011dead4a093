// sync_bench: the sync figures of docs/performance.md ("Headers-first
// sync"), on real powchain processes over loopback. It drives any powchain
// binary, an older one too, so that a before/after pair is measured in the
// same session.
//
//   sync_bench make-chain <data-dir> <blocks> <seed> [data-bytes]
//       writes a regtest chain of <blocks> blocks from genesis into the store
//       of <data-dir>, beside whatever it holds; the block data carries
//       <seed>, so chains of different seeds share only genesis. The chain
//       is added as headers first, then blocks, 5,000 a commit.
//   sync_bench sync <binary> <store-dir>
//       node A on a copy of <store-dir>; a fresh node B (PEERS=A) syncs it.
//       Prints the seconds from B's start to A's tip, and the seconds until
//       B's "headers" (in GET /status) reached 50,000 where it reports it.
//   sync_bench heal <binary> <store-x> <store-y>
//       nodes on copies of both; the one on X dials the one on Y. Prints the
//       seconds until the first is on Y's tip (gives up after 120 s).
//   sync_bench locators <binary> <store-dir> <side-tip-hex> [seconds] [protocol-version]
//       a node on a copy of <store-dir>; GET /status latency for <seconds>
//       (default 10) alone, then while four peers each send 200 getblocks a
//       second whose locator names <side-tip-hex> (a block deep on a side
//       branch). Prints median, p99 and max, and the getblocks answered.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
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
namespace fs = std::filesystem;
const Params kRegtest = Params::Regtest();

struct Node {
  std::uint16_t http = FreePort();
  std::uint16_t p2p = FreePort();
  std::unique_ptr<NodeProcess> process;
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(p2p); }
};

void Start(Node& n, const TempDir& dir, const std::string& binary, const fs::path& data,
           const std::string& peers) {
  std::map<std::string, std::string> env = {{"HTTP_PORT", std::to_string(n.http)},
                                            {"P2P_PORT", std::to_string(n.p2p)},
                                            {"NETWORK", "regtest"},
                                            {"DATA_DIR", data.string()},
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

// CPU seconds (user + system) the process has used so far.
double CpuSeconds(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return -1;
  char buf[2048];
  const std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Fields after the command name (which may hold spaces) start past ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  unsigned long utime = 0, stime = 0;
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) !=
      2) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

fs::path CopyStore(const fs::path& from, const TempDir& dir, const std::string& name) {
  const fs::path to = dir.path() / name;
  fs::create_directories(to);
  fs::copy_file(from / "chain.sqlite", to / "chain.sqlite");
  return to;
}

std::string BlockData(const std::string& seed, std::uint64_t i, std::size_t bytes) {
  std::string out = "{\"seed\":\"" + seed + "\",\"n\":" + std::to_string(i) + ",\"memo\":\"";
  while (out.size() + 2 < bytes) out += static_cast<char>('a' + (out.size() + i) % 26);
  return out + "\"}";
}

int MakeChain(const fs::path& data_dir, std::uint64_t count, const std::string& seed,
              std::size_t data_bytes) {
  fs::create_directories(data_dir);
  auto store = SqliteBlockStore::Open(data_dir / "chain.sqlite", kRegtest.network,
                                      HexEncode(MakeGenesis(kRegtest).hash));
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().c_str());
    return 1;
  }
  ChainState chain(kRegtest, **store);
  if (Status s = chain.Load(); !s) {
    std::fprintf(stderr, "%s\n", s.error().c_str());
    return 1;
  }
  constexpr std::uint64_t kNow = ~std::uint64_t{0} / 2;
  test::ChainBuilder builder(kRegtest);
  for (std::uint64_t i = 0; i < count; ++i) {
    builder.Add(kRegtest.mine_rate_ms, BlockData(seed, i, data_bytes));
  }
  const std::vector<Block>& blocks = builder.blocks();
  std::vector<HashedHeader> headers;
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    headers.push_back(HashedHeader{blocks[i].header, blocks[i].hash});
  }
  // Headers first: a chain lighter than what the store holds is kept too.
  if (const AddHeadersResult r = chain.AddHeaders(headers, kNow); !r.ok()) {
    std::fprintf(stderr, "header refused: %s\n", r.validation.message.c_str());
    return 1;
  }
  for (std::size_t i = 1; i < blocks.size(); i += 5000) {
    std::vector<Block> batch(
        blocks.begin() + static_cast<std::ptrdiff_t>(i),
        blocks.begin() + static_cast<std::ptrdiff_t>(std::min(i + 5000, blocks.size())));
    for (const AcceptResult& r : chain.AcceptBlocks(std::move(batch), kNow)) {
      if (!r.ok()) {
        std::fprintf(stderr, "block refused: %s\n",
                     std::string(AcceptStatusName(r.status)).c_str());
        return 1;
      }
    }
  }
  std::printf("%s: chain %s of %llu blocks, tip %s; store tip height %llu\n", data_dir.c_str(),
              seed.c_str(), static_cast<unsigned long long>(count),
              HexEncode(blocks.back().hash).c_str(),
              static_cast<unsigned long long>(chain.Tip().height()));
  return 0;
}

int Sync(const std::string& binary, const fs::path& store) {
  TempDir dir;
  Node a, b;
  Start(a, dir, binary, CopyStore(store, dir, "a"), "");
  const std::string tip = Field(*a.process, "tip");
  const std::uint64_t height = std::stoull(Field(*a.process, "height"));
  const auto t0 = Clock::now();
  Start(b, dir, binary, dir.path() / "b", a.url());
  double headers_s = -1;
  const std::uint64_t headers_mark = std::min<std::uint64_t>(height, 50000);
  while (Since(t0) < 1800) {
    auto v = ParseJson(b.process->Get("/status").body);
    if (v.ok()) {
      if (headers_s < 0 && v->Find("headers") != nullptr &&
          std::stoull(v->Find("headers")->number_text()) >= headers_mark) {
        headers_s = Since(t0);
      }
      if (v->Find("tip")->as_string() == tip) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double sync_s = Since(t0);
  const bool ok = Field(*b.process, "tip") == tip;
  std::printf("cpu: syncing node %.2f s, serving node %.2f s\n", CpuSeconds(b.process->pid()),
              CpuSeconds(a.process->pid()));
  std::printf("sync %llu blocks: %.3f s (%.0f blocks/s)%s; headers to %llu: %s\n",
              static_cast<unsigned long long>(height), sync_s, height / sync_s,
              ok ? "" : " DID NOT FINISH", static_cast<unsigned long long>(headers_mark),
              headers_s < 0
                  ? "not reported"
                  : (std::to_string(headers_s) + " s (" +
                     std::to_string(static_cast<long>(headers_mark / headers_s)) + " headers/s)")
                        .c_str());
  return ok ? 0 : 1;
}

int Heal(const std::string& binary, const fs::path& x, const fs::path& y) {
  TempDir dir;
  Node nx, ny;
  Start(nx, dir, binary, CopyStore(x, dir, "x"), "");
  Start(ny, dir, binary, CopyStore(y, dir, "y"), "");
  const std::string want = Field(*ny.process, "tip");
  const std::string depth = Field(*nx.process, "height");
  const auto t0 = Clock::now();
  nx.process->Post("/peers", "{\"url\":\"" + ny.url() + "\"}");
  while (Field(*nx.process, "tip") != want && Since(t0) < 120) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const bool ok = Field(*nx.process, "tip") == want;
  std::printf("heal a fork %s blocks deep: %s\n", depth.c_str(),
              ok ? (std::to_string(Since(t0)) + " s").c_str() : "not healed after 120 s");
  return ok ? 0 : 1;
}

struct Latency {
  double median = 0, p99 = 0, max = 0;
  std::size_t count = 0;
};

Latency StatusLatency(std::uint16_t port, double seconds) {
  std::vector<double> ms;
  const auto t0 = Clock::now();
  while (Since(t0) < seconds) {
    const auto s = Clock::now();
    HttpRequest(port, "GET", "/status");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  std::sort(ms.begin(), ms.end());
  Latency l;
  l.count = ms.size();
  l.median = ms[ms.size() / 2];
  l.p99 = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  l.max = ms.back();
  return l;
}

int Locators(const std::string& binary, const fs::path& store, const std::string& side_hex,
             double seconds, std::uint32_t version) {
  const auto side = HexToHash32(side_hex);
  if (!side) {
    std::fprintf(stderr, "not a hash: %s\n", side_hex.c_str());
    return 2;
  }
  TempDir dir;
  Node n;
  Start(n, dir, binary, CopyStore(store, dir, "n"), "");
  const Latency quiet = StatusLatency(n.http, seconds);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> answered{0};
  std::vector<std::thread> peers;
  for (int i = 0; i < 4; ++i) {
    peers.emplace_back([&, i] {
      TestPeer peer;
      if (!peer.Handshake(n.p2p, MakeGenesis(kRegtest).hash, "00000000000010c" + std::to_string(i),
                          version)) {
        std::fprintf(stderr, "peer %d: no handshake\n", i);
        return;
      }
      const p2p::GetBlocks ask{{*side}, 1};
      auto next = Clock::now();
      while (!stop) {
        peer.Send(ask);  // 200 a second: within the default limit of 250
        if (!peer.Await<p2p::Blocks>(std::chrono::seconds(5))) break;
        ++answered;
        next += std::chrono::milliseconds(5);
        std::this_thread::sleep_until(next);
      }
    });
  }
  const Latency loaded = StatusLatency(n.http, seconds);
  stop = true;
  for (std::thread& t : peers) t.join();
  std::printf("GET /status alone:            median %.3f ms, p99 %.3f ms, max %.3f ms (%zu)\n",
              quiet.median, quiet.p99, quiet.max, quiet.count);
  std::printf(
      "with 4 peers' deep locators:  median %.3f ms, p99 %.3f ms, max %.3f ms (%zu); "
      "%llu getblocks answered (%.0f a second)\n",
      loaded.median, loaded.p99, loaded.max, loaded.count,
      static_cast<unsigned long long>(answered.load()), answered / seconds);
  return 0;
}

}  // namespace
}  // namespace powchain::itest

int main(int argc, char** argv) {
  using namespace powchain::itest;
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: sync_bench make-chain <data-dir> <blocks> <seed> [data-bytes]\n"
                 "       sync_bench sync <binary> <store-dir>\n"
                 "       sync_bench heal <binary> <store-x> <store-y>\n"
                 "       sync_bench locators <binary> <store-dir> <side-tip-hex> [seconds] "
                 "[protocol-version]\n");
    return 2;
  };
  if (args.size() >= 4 && args[0] == "make-chain") {
    return MakeChain(args[1], std::stoull(args[2]), args[3],
                     args.size() > 4 ? std::stoul(args[4]) : 200);
  }
  if (args.size() == 3 && args[0] == "sync") return Sync(fs::absolute(args[1]), args[2]);
  if (args.size() == 4 && args[0] == "heal") return Heal(fs::absolute(args[1]), args[2], args[3]);
  if (args.size() >= 4 && args[0] == "locators") {
    return Locators(fs::absolute(args[1]), args[2], args[3],
                    args.size() > 4 ? std::stod(args[4]) : 10.0,
                    args.size() > 5 ? static_cast<std::uint32_t>(std::stoul(args[5]))
                                    : powchain::p2p::kProtocolVersion);
  }
  return usage();
}
