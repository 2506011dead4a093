// A node under a flood of the most expensive peer messages: how much memory
// it takes and how long a quiet peer and an HTTP client wait meanwhile.
//
// Flooders (handshaked test peers) send, as fast as the node reads them,
// messages at the frame limit whose JSON parses into the largest tree a
// message can make (an array of 2 million zeros); whatever the node does
// with them (refuse, close, answer), a flooder reconnects and goes on. A
// monitor samples the node's resident memory (/proc/<pid>/status) and times
// GET /status and a quiet peer's ping round trip.
//
// Usage: p2p_flood [path/to/powchain] [flooders] [seconds]
//        (defaults: build/release/powchain, 30, 20)
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "consensus/genesis.h"
#include "node_process.h"
#include "test_peer.h"

namespace powchain::itest {
namespace {

using Steady = std::chrono::steady_clock;

// VmRSS or VmHWM of `pid` in KiB.
long StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

int Run(const std::string& binary, int flooders, int seconds) {
  TempDir dir;
  const std::uint16_t http = FreePort();
  const std::uint16_t p2p = FreePort();
  NodeProcess node({"node", "--network", "regtest", "--http-port", std::to_string(http),
                    "--p2p-port", std::to_string(p2p), "--log-level", "error"},
                   {}, dir.path(), binary);
  if (!node.WaitReady(http)) {
    std::fprintf(stderr, "node failed to start:\n%s\n", node.Log().c_str());
    return 1;
  }
  const Hash32 genesis = MakeGenesis(Params::Regtest()).hash;
  const long rss_idle = StatusKiB(node.pid(), "VmRSS");

  // 4 MiB less room for the envelope: {"type":"ping","nonce":1,"pad":[0,0,...]}
  std::string flood = "{\"type\":\"ping\",\"nonce\":1,\"pad\":[0";
  while (flood.size() < std::size_t{4} * 1024 * 1024 - 16) flood += ",0";
  flood += "]}";

  std::atomic<bool> stop{false};
  std::atomic<long> sent{0};
  std::atomic<long> connections{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < flooders; ++i) {
    threads.emplace_back([&, i] {
      char id[17];
      std::snprintf(id, sizeof id, "%016x", 0x1000 + i);
      while (!stop) {
        TestPeer peer;
        if (!peer.Handshake(p2p, genesis, id)) continue;
        ++connections;
        while (!stop && !peer.closed()) {
          peer.SendText(flood);
          if (!peer.closed()) ++sent;
        }
      }
    });
  }

  TestPeer quiet;
  if (!quiet.Handshake(p2p, genesis, "00000000000000aa")) {
    std::fprintf(stderr, "quiet peer could not connect\n");
    return 1;
  }
  std::vector<double> http_ms;
  std::vector<double> ping_ms;
  long rss_max = 0;
  int http_failures = 0;
  const auto end = Steady::now() + std::chrono::seconds(seconds);
  for (std::uint64_t nonce = 1; Steady::now() < end; ++nonce) {
    rss_max = std::max(rss_max, StatusKiB(node.pid(), "VmRSS"));
    auto t0 = Steady::now();
    try {
      if (HttpRequest(http, "GET", "/status").status != 200) ++http_failures;
    } catch (const std::exception&) {
      ++http_failures;
    }
    http_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    t0 = Steady::now();
    quiet.Send(p2p::Ping{nonce});
    const auto pong = quiet.Await<p2p::Pong>(std::chrono::seconds(30));
    if (!pong) {
      std::fprintf(stderr, "the quiet peer was dropped\n");
      break;
    }
    ping_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  const long hwm = StatusKiB(node.pid(), "VmHWM");
  const bool alive = node.Running();

  std::printf("flooders %d, %d s: %ld messages of %zu bytes sent, %ld connections\n", flooders,
              seconds, sent.load(), flood.size(), connections.load());
  std::printf("node RSS: idle %.1f MiB, max sampled %.1f MiB, peak (VmHWM) %.1f MiB\n",
              rss_idle / 1024.0, rss_max / 1024.0, hwm / 1024.0);
  std::printf("GET /status: %zu requests, %d failed, median %.2f ms, p99 %.2f ms, max %.2f ms\n",
              http_ms.size(), http_failures, Percentile(http_ms, 0.5), Percentile(http_ms, 0.99),
              Percentile(http_ms, 1.0));
  std::printf("quiet peer ping: %zu, median %.2f ms, p99 %.2f ms, max %.2f ms\n", ping_ms.size(),
              Percentile(ping_ms, 0.5), Percentile(ping_ms, 0.99), Percentile(ping_ms, 1.0));
  std::printf("node %s\n", alive ? "still running" : "DIED");
  return alive ? 0 : 1;
}

}  // namespace
}  // namespace powchain::itest

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const std::string binary =
      std::filesystem::absolute(argc > 1 ? argv[1] : "build/release/powchain").string();
  const int flooders = argc > 2 ? std::stoi(argv[2]) : 30;
  const int seconds = argc > 3 ? std::stoi(argv[3]) : 20;
  return powchain::itest::Run(binary, flooders, seconds);
}
