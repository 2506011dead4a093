// Sync that no fork or flood can break, with real nodes on loopback
// (docs/protocol.md "Headers-first sync", docs/security.md): a fork 10,000
// blocks deep heals whichever side dials; cheap siblings and a peer that
// lies about its work leave the data directory and the tip alone; one
// `peers` message cannot open more than the outbound cap of connections;
// GET /blocks stays linear when the chain reorganizes under it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "consensus/pow.h"
#include "node_process.h"
#include "primitives/json.h"
#include "storage/sqlite_store.h"
#include "test_peer.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const Params kRegtest = Params::Regtest();

JsonValue Status(const NodeProcess& node) {
  auto v = ParseJson(node.Get("/status").body);
  return v.ok() ? *v : JsonValue();
}
std::string Tip(const NodeProcess& node) {
  const JsonValue s = Status(node);
  return s.Find("tip") ? s.Find("tip")->as_string() : "";
}
std::uint64_t Height(const NodeProcess& node) {
  const JsonValue s = Status(node);
  return s.Find("height") ? std::stoull(s.Find("height")->number_text()) : 0;
}

// Writes `blocks` (genesis first; every block after the first a child of
// an earlier one) into a fresh store at <dir>/chain.sqlite, as a node that
// had received them would hold them.
void PrepareStore(const fs::path& dir, const std::vector<Block>& blocks) {
  fs::create_directories(dir);
  auto store = SqliteBlockStore::Open(dir / "chain.sqlite", kRegtest.network,
                                      HexEncode(MakeGenesis(kRegtest).hash));
  ASSERT_TRUE(store.ok()) << store.error();
  ChainState chain(kRegtest, **store);
  ASSERT_TRUE(chain.Load().ok());
  std::vector<HashedHeader> headers;
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    headers.push_back(HashedHeader{blocks[i].header, blocks[i].hash});
  }
  ASSERT_TRUE(chain.AddHeaders(headers, 1ull << 62).ok());
  for (std::size_t i = 1; i < blocks.size(); i += 5000) {
    std::vector<Block> batch(
        blocks.begin() + static_cast<std::ptrdiff_t>(i),
        blocks.begin() + static_cast<std::ptrdiff_t>(std::min(i + 5000, blocks.size())));
    for (const AcceptResult& r : chain.AcceptBlocks(std::move(batch), 1ull << 62)) {
      ASSERT_TRUE(r.ok()) << AcceptStatusName(r.status) << " " << r.validation.message;
    }
  }
  ASSERT_EQ(chain.Tip().hash(), blocks.back().hash);
}

std::uint64_t DirectoryBytes(const fs::path& dir) {
  std::uint64_t total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

struct Ports {
  std::uint16_t http = FreePort();
  std::uint16_t p2p = FreePort();
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(p2p); }
};

std::unique_ptr<NodeProcess> StartAt(const TempDir& dir, const Ports& ports, const fs::path& data,
                                     std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"node",
                                   "--network",
                                   "regtest",
                                   "--http-port",
                                   std::to_string(ports.http),
                                   "--p2p-port",
                                   std::to_string(ports.p2p),
                                   "--data-dir",
                                   data.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto node = std::make_unique<NodeProcess>(args, std::map<std::string, std::string>{}, dir.path());
  EXPECT_TRUE(node->WaitReady(ports.http)) << node->Log();
  return node;
}

// --- A deep fork ---------------------------------------------------------------

// Chains at the floor difficulty, one mine-rate apart, so all lie in the
// past: 100 common blocks, then branch X (10,000 blocks) and the heavier
// branch Y (10,050 blocks).
struct Fork {
  std::vector<Block> x;
  std::vector<Block> y;
  Fork() {
    test::ChainBuilder common(kRegtest);
    for (int i = 0; i < 100; ++i) common.Add(kRegtest.mine_rate_ms, std::to_string(i));
    test::ChainBuilder bx(kRegtest, common.blocks());
    for (int i = 0; i < 10000; ++i)
      bx.Add(kRegtest.mine_rate_ms, "{\"x\":" + std::to_string(i) + "}");
    test::ChainBuilder by(kRegtest, common.blocks());
    for (int i = 0; i < 10050; ++i)
      by.Add(kRegtest.mine_rate_ms, "{\"y\":" + std::to_string(i) + "}");
    x = bx.blocks();
    y = by.blocks();
  }
};

const Fork& TheFork() {
  static const Fork fork;
  return fork;
}

// Node A holds X, node B the heavier Y; they split 10,000 blocks back.
// Connected (A dialling B, or B dialling A), A reorganizes to Y.
void HealFork(bool lighter_dials) {
  const Fork& fork = TheFork();
  TempDir dir;
  PrepareStore(dir.path() / "a", fork.x);
  PrepareStore(dir.path() / "b", fork.y);
  if (::testing::Test::HasFatalFailure()) return;
  Ports pa, pb;
  auto b = StartAt(dir, pb, dir.path() / "b");
  auto a = StartAt(dir, pa, dir.path() / "a");
  ASSERT_EQ(Tip(*a), HexEncode(fork.x.back().hash));
  const auto start = std::chrono::steady_clock::now();
  NodeProcess& dialer = lighter_dials ? *a : *b;
  const Ports& target = lighter_dials ? pb : pa;
  ASSERT_EQ(dialer.Post("/peers", "{\"url\":\"" + target.url() + "\"}").status, 202);
  const std::string want = HexEncode(fork.y.back().hash);
  ASSERT_TRUE(WaitUntil([&] { return Tip(*a) == want; }, 240s)) << a->Log();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::printf("a fork 10,000 blocks deep healed in %lld ms (%s dialled; ASan build)\n",
              static_cast<long long>(took.count()),
              lighter_dials ? "the lighter node" : "the heavier node");
  // A serves Y now, and still has X stored on a side branch.
  EXPECT_EQ(Height(*a), fork.y.back().header.height);
  EXPECT_EQ(a->Get("/blocks/" + HexEncode(fork.x.back().hash)).status, 200);
  const std::vector<Block> served = ParseAndCheckChain(a->Get("/blocks").body, kRegtest);
  ASSERT_EQ(served.size(), fork.y.size());
  EXPECT_EQ(served.back(), fork.y.back());
  EXPECT_EQ(Tip(*b), want);  // B did not move
  EXPECT_NE(a->Log().find("reorganization: 10000 block(s) left the active chain"),
            std::string::npos);
}

TEST(DeepForkTest, TenThousandDeepForkHealsWhenTheLighterNodeDials) { HealFork(true); }

TEST(DeepForkTest, TenThousandDeepForkHealsWhenTheHeavierNodeDials) { HealFork(false); }

// --- Cheap blocks and a liar -------------------------------------------------

// A branch off genesis walked down to the floor difficulty, then `n`
// siblings at its top that differ only in their nonce (about two hashes of
// work each).
std::vector<Block> CheapSiblings(std::size_t n) {
  test::ChainBuilder ramp(kRegtest);
  for (int i = 0; i < 8; ++i) ramp.Add(kRegtest.mine_rate_ms, "\"ramp\"");
  const ParentContext parent = ramp.TipContext();
  Block sibling =
      test::MineChild(parent, "\"sibling\"", ramp.tip().header.timestamp + 1000, kRegtest);
  std::vector<Block> out = ramp.WithoutGenesis();
  while (out.size() < n) {
    ++sibling.header.nonce;
    sibling.hash = sibling.header.ComputeHash();
    if (LeadingZeroBits(sibling.hash) >= sibling.header.difficulty) out.push_back(sibling);
  }
  return out;
}

TEST(CheapFloodTest, SiblingsAndALiarLeaveTheDataDirectoryAndTheTipAlone) {
  TempDir dir;
  Ports ports;
  const fs::path data = dir.path() / "node";
  auto node = StartAt(dir, ports, data, {"--log-level", "warn"});
  // Twelve quick blocks: difficulty climbs to 20 bits, so the chain holds
  // about 2^21 work, far more than any chain at the floor difficulty here.
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(node->Post("/mine", "{\"data\":" + std::to_string(i) + "}").status, 201);
  }
  const std::string tip = Tip(*node);
  const std::uint64_t before = DirectoryBytes(data);
  const Hash32 genesis = MakeGenesis(kRegtest).hash;

  // 100,000 unsolicited cheap blocks, 2,000 a message; the node drops the
  // connection once they outrun the junk limit, and the sender comes back.
  const std::vector<Block> cheap = CheapSiblings(100000);
  std::size_t sent = 0;
  int connections = 0;
  while (sent < cheap.size()) {
    TestPeer flooder;
    ASSERT_TRUE(flooder
                    .Handshake(ports.p2p, genesis,
                               "00000000f100d" + std::to_string(connections % 10) + "00")
                    .has_value());
    ++connections;
    while (sent < cheap.size() && !flooder.closed()) {
      p2p::Blocks batch;
      for (std::size_t i = sent; i < cheap.size() && batch.blocks.size() < 2000; ++i) {
        batch.blocks.push_back(cheap[i]);
      }
      flooder.Send(batch);
      sent += batch.blocks.size();
      // The node answers with an error and a close, or keeps the line open.
      if (flooder.AwaitAnyOf<p2p::ErrorMsg>(2s)) flooder.WaitClosed(10s);
    }
  }

  // A peer that claims huge work and serves a long light chain of headers.
  {
    test::ChainBuilder light(kRegtest);
    for (int i = 0; i < 20000; ++i) light.Add(kRegtest.mine_rate_ms, "\"light\"");
    const ChainFeed feed(light.blocks());
    TestPeer liar;
    ASSERT_TRUE(liar.Connect(ports.p2p));
    ASSERT_TRUE(liar.Await<p2p::Hello>().has_value());
    p2p::Hello hello = feed.Hello("000000000011a400");
    hello.work = Work(1) << 200;
    liar.Send(hello);
    while (feed.ServeOne(liar, 10s)) {
    }
    ASSERT_TRUE(liar.closed());
    EXPECT_NE(node->Log().find("claimed work"), std::string::npos) << node->Log();
  }

  const std::uint64_t after = DirectoryBytes(data);
  std::printf(
      "%zu cheap blocks over %d connections and a 20,000-header liar: data dir %llu -> %llu "
      "bytes\n",
      sent, connections, static_cast<unsigned long long>(before),
      static_cast<unsigned long long>(after));
  EXPECT_LT(after, before + 1000000);
  EXPECT_EQ(Tip(*node), tip);
  for (std::size_t i : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{99999}}) {
    EXPECT_EQ(node->Get("/blocks/" + HexEncode(cheap[i].hash)).status, 404);
  }
  // Honest mining goes on.
  const HttpResponse mined = node->Post("/mine", "{\"data\":\"after the flood\"}");
  ASSERT_EQ(mined.status, 201) << mined.body;
  EXPECT_EQ(ParseBlock(mined.body).header.height, 13u);
}

// --- Dials ---------------------------------------------------------------------

// A listener that accepts TCP connections and never says a word, counting
// how many it holds at once.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 1024);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~SilentListener() {
    stop_ = true;
    thread_.join();
    for (int c : open_) ::close(c);
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::size_t most() const { return most_; }
  std::size_t accepted() const { return accepted_; }

 private:
  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds;
      fds.push_back({fd_, POLLIN, 0});
      for (int c : open_) fds.push_back({c, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 20);
      if ((fds[0].revents & POLLIN) != 0) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c >= 0) {
          open_.push_back(c);
          ++accepted_;
        }
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {  // closed by the dialler
          ::close(fds[i].fd);
          std::erase(open_, fds[i].fd);
        }
      }
      most_ = std::max<std::size_t>(most_, open_.size());
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::vector<int> open_;
  std::atomic<std::size_t> most_{0};
  std::atomic<std::size_t> accepted_{0};
};

TEST(DialTest, OnePeersMessageOfAThousandAddressesStaysWithinTheCap) {
  SilentListener silent;
  TempDir dir;
  Ports ports;
  auto node = StartAt(dir, ports, dir.path() / "node");
  TestPeer peer;
  ASSERT_TRUE(peer.Handshake(ports.p2p, MakeGenesis(kRegtest).hash).has_value());
  p2p::Peers many;
  for (int i = 0; i < 1000; ++i) {
    many.peers.push_back("ws://127.0." + std::to_string(1 + i / 250) + "." +
                         std::to_string(1 + i % 250) + ":" + std::to_string(silent.port()));
  }
  peer.Send(many);
  // Dials of silent addresses time out after 10 s: watch until a second
  // round of them has started.
  EXPECT_TRUE(WaitUntil([&] { return silent.accepted() >= 12; }, 60s));
  std::printf("1,000 silent addresses: %zu dials, at most %zu held at once\n", silent.accepted(),
              silent.most());
  EXPECT_GE(silent.most(), 4u);  // it did dial them
  EXPECT_LE(silent.most(), 8u + 2u);
  EXPECT_LE(silent.accepted(), 40u);  // 1 a second (4 at once) at most
}

// --- The miner ---------------------------------------------------------------

// Sixteen workers on a solo node: every block it stores is on its active
// chain (two workers' hits in one job used to both be stored).
TEST(SoloMinerTest, SixteenThreadsStoreNoSiblings) {
  TempDir dir;
  Ports ports;
  const fs::path data = dir.path() / "node";
  auto node = StartAt(dir, ports, data, {"--mine", "--threads", "16", "--log-level", "warn"});
  ASSERT_TRUE(WaitUntil([&] { return Height(*node) >= 25; }, 120s)) << node->Log();
  node->Signal(SIGTERM);
  ASSERT_EQ(node->WaitExit(), 0) << node->Log();
  NodeProcess verify({"verify", "--data-dir", data.string()}, {}, dir.path());
  ASSERT_EQ(verify.WaitExit(120s), 0) << verify.Log();
  // "sound: N blocks of the regtest network, tip at height H": N = H + 1.
  const std::string out = verify.Log();
  const auto at = out.find("sound: ");
  const auto tip = out.find("tip at height ");
  ASSERT_TRUE(at != std::string::npos && tip != std::string::npos) << out;
  const std::uint64_t blocks = std::stoull(out.substr(at + 7));
  const std::uint64_t height = std::stoull(out.substr(tip + 14));
  EXPECT_GE(height, 25u);
  EXPECT_EQ(blocks, height + 1) << out;
}

// --- GET /blocks under a reorganization ---------------------------------------

// Downloads GET /blocks from `port` on a plain socket. Once the first bytes
// of the answer are in (the stream has pinned its tip), runs `midway`; the
// time `midway` takes is not counted. Returns the milliseconds the download
// took and the body's size in `bytes`.
long long TimedBlocksDownload(std::uint16_t port, const std::function<void()>& midway,
                              std::size_t* bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "GET /blocks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::vector<char> buf(1 << 16);
  std::size_t total = 0;
  std::chrono::steady_clock::duration paused{0};
  bool ran = false;
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
    if (!ran) {
      ran = true;
      const auto t0 = std::chrono::steady_clock::now();
      midway();
      paused = std::chrono::steady_clock::now() - t0;
    }
  }
  ::close(fd);
  *bytes = total;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start - paused)
      .count();
}

TEST(BlocksStreamTest, AReorganizationDuringGetBlocksCostsNoMore) {
  test::ChainBuilder builder(kRegtest);
  for (int i = 0; i < 150000; ++i) builder.Add(kRegtest.mine_rate_ms, "null");
  TempDir dir;
  PrepareStore(dir.path() / "node", builder.blocks());
  if (HasFatalFailure()) return;
  Ports ports;
  auto node = StartAt(dir, ports, dir.path() / "node", {"--log-level", "warn"});
  const std::vector<Block>& chain = builder.blocks();

  std::size_t plain_bytes = 0;
  TimedBlocksDownload(
      ports.http, [] {}, &plain_bytes);  // warms the caches
  const long long plain = TimedBlocksDownload(
      ports.http, [] {}, &plain_bytes);

  // A one-block reorganization while the stream runs: a sibling of the tip
  // and a child of it, from a peer.
  test::ChainBuilder fork(kRegtest, {chain.begin(), chain.end() - 1});
  const Block sibling = fork.Add(kRegtest.mine_rate_ms, "\"sibling\"");
  const Block child = fork.Add(kRegtest.mine_rate_ms, "\"child\"");
  std::size_t reorg_bytes = 0;
  const long long reorg = TimedBlocksDownload(
      ports.http,
      [&] {
        TestPeer peer;
        ASSERT_TRUE(peer.Handshake(ports.p2p, chain.front().hash).has_value());
        peer.Send(p2p::Blocks{{sibling, child}});
        ASSERT_TRUE(WaitUntil([&] { return Tip(*node) == HexEncode(child.hash); }, 60s));
      },
      &reorg_bytes);
  std::printf("GET /blocks of 150,001 blocks: %lld ms; with a reorganization during it: %lld ms\n",
              plain, reorg);
  // The stream served the chain it started on, whole.
  EXPECT_EQ(reorg_bytes, plain_bytes);
  EXPECT_LT(reorg, 2 * plain);
}

}  // namespace
}  // namespace powchain::itest
