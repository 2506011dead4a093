// The real powchain binary, started on free loopback ports and driven over
// HTTP as a user would. Every block a node serves is checked against the
// consensus rules (ParseAndCheckChain).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "node_process.h"
#include "primitives/block_json.h"
#include "primitives/json.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

const Params kRegtest = Params::Regtest();

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = NodeProcess::StartNode(dir_.path());
    ASSERT_TRUE(node_->Running()) << node_->Log();
  }
  void TearDown() override {
    if (HasFailure()) std::printf("--- node log ---\n%s\n", node_->Log().c_str());
  }

  Block Mine(const std::string& data_json) {
    const HttpResponse r = node_->Post("/mine", "{\"data\":" + data_json + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return ParseBlock(r.body);
  }
  std::vector<Block> Chain() {
    const HttpResponse r = node_->Get("/blocks");
    EXPECT_EQ(r.status, 200);
    return ParseAndCheckChain(r.body, kRegtest);
  }
  JsonValue Json(const HttpResponse& r) {
    auto v = ParseJson(r.body);
    EXPECT_TRUE(v.ok()) << r.body;
    return v.ok() ? *v : JsonValue();
  }
  std::string ErrorOf(const HttpResponse& r) {
    const JsonValue v = Json(r);
    const JsonValue* e = v.Find("error");
    EXPECT_TRUE(e != nullptr && e->is_string()) << r.body;
    return e != nullptr && e->is_string() ? e->as_string() : "";
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(NodeTest, StatusDescribesTheNode) {
  const HttpResponse r = node_->Get("/status");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  const JsonValue s = Json(r);
  EXPECT_EQ(s.Find("network")->as_string(), "regtest");
  EXPECT_EQ(s.Find("genesis")->as_string(), HexEncode(MakeGenesis(kRegtest).hash));
  EXPECT_EQ(s.Find("height")->number_text(), "0");
  EXPECT_EQ(s.Find("tip")->as_string(), HexEncode(MakeGenesis(kRegtest).hash));
  EXPECT_EQ(s.Find("difficulty")->number_text(), "8");
  EXPECT_EQ(s.Find("work")->as_string(), "100");
  EXPECT_EQ(s.Find("mineRate")->number_text(), "1000");
  EXPECT_EQ(s.Find("peers")->number_text(), "0");
  const JsonValue* mining = s.Find("mining");
  ASSERT_NE(mining, nullptr);
  EXPECT_FALSE(mining->Find("on")->as_bool());
  EXPECT_EQ(mining->Find("threads")->number_text(), "1");
  ASSERT_NE(mining->Find("hashRate"), nullptr);
}

TEST_F(NodeTest, ServesGenesisFirst) {
  const std::vector<Block> chain = Chain();
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(chain[0], MakeGenesis(kRegtest));
}

TEST_F(NodeTest, MinesPostedDataIntoTheChain) {
  const Block b = Mine("{\"to\":\"bob\",\"amount\":5,\"memo\":\"caf\\u00e9\"}");
  EXPECT_EQ(b.data, "{\"amount\":5,\"memo\":\"café\",\"to\":\"bob\"}");
  EXPECT_EQ(b.header.height, 1u);
  EXPECT_EQ(b.header.last_hash, MakeGenesis(kRegtest).hash);
  const std::vector<Block> chain = Chain();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[1], b);
  // The same block by height and by hash.
  EXPECT_EQ(ParseBlock(node_->Get("/blocks/1").body), b);
  EXPECT_EQ(ParseBlock(node_->Get("/blocks/" + HexEncode(b.hash)).body), b);
  const JsonValue s = Json(node_->Get("/status"));
  EXPECT_EQ(s.Find("height")->number_text(), "1");
  EXPECT_EQ(s.Find("tip")->as_string(), HexEncode(b.hash));
}

TEST_F(NodeTest, PagesTheChain) {
  for (int i = 0; i < 5; ++i) Mine(std::to_string(i));
  const std::vector<Block> chain = Chain();
  ASSERT_EQ(chain.size(), 6u);
  auto page = [&](const std::string& query) {
    const HttpResponse r = node_->Get("/blocks?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<Block> out;
    auto v = ParseJson(r.body);
    if (!v.ok() || !v->is_array()) return out;
    for (const JsonValue& item : v->items()) out.push_back(*BlockFromJson(item));
    return out;
  };
  std::vector<Block> p = page("from=2&limit=2");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], chain[2]);
  EXPECT_EQ(p[1], chain[3]);
  EXPECT_EQ(page("from=0&limit=1").size(), 1u);
  EXPECT_EQ(page("from=5").size(), 1u);
  EXPECT_EQ(page("from=6").size(), 0u);
  EXPECT_EQ(page("from=18446744073709551615").size(), 0u);
  EXPECT_EQ(page("limit=0").size(), 0u);
  EXPECT_EQ(page("limit=3").size(), 3u);
  EXPECT_EQ(page("from=4&limit=100").size(), 2u);
  for (const char* bad : {"from=-1", "from=abc", "limit=1.5", "from=18446744073709551616",
                          "from=1&from=2", "limit="}) {
    const HttpResponse r = node_->Get(std::string("/blocks?") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_FALSE(ErrorOf(r).empty()) << bad;
  }
}

TEST_F(NodeTest, UnknownBlocksAre404AndBadIds400) {
  EXPECT_EQ(node_->Get("/blocks/1").status, 404);
  EXPECT_EQ(node_->Get("/blocks/" + std::string(64, '0')).status, 404);
  EXPECT_EQ(ErrorOf(node_->Get("/blocks/7")), "block not found");
  for (const char* bad : {"/blocks/abc", "/blocks/-1", "/blocks/1.0", "/blocks/0x1",
                          "/blocks/123456789012345678901234"}) {
    EXPECT_EQ(node_->Get(bad).status, 400) << bad;
  }
}

TEST_F(NodeTest, ErrorsHaveTheFittingStatus) {
  auto post = [&](const std::string& body, const std::string& type = "application/json") {
    return HttpRequest(node_->http_port(), "POST", "/mine", body, type);
  };
  EXPECT_EQ(node_->Get("/nope").status, 404);
  EXPECT_EQ(HttpRequest(node_->http_port(), "DELETE", "/blocks").status, 405);
  EXPECT_EQ(HttpRequest(node_->http_port(), "GET", "/mine").status, 405);
  EXPECT_EQ(post("{\"data\":1", "application/json").status, 400);
  EXPECT_EQ(post("[1,2]").status, 400);
  EXPECT_EQ(post("{\"no-data\":1}").status, 400);
  EXPECT_EQ(post("{\"data\":9007199254740993}").status, 400);
  EXPECT_EQ(post("{\"data\":1}", "text/plain").status, 415);
  EXPECT_EQ(post(std::string(100000, '[')).status, 400);
  EXPECT_EQ(post("{\"data\":\"" + std::string(2 << 20, 'x') + "\"}").status, 413);
  const HttpResponse r = post("{\"data\":1,}");
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(ErrorOf(r).empty());
  // The node is unharmed.
  Mine("\"still alive\"");
  EXPECT_EQ(Chain().size(), 2u);
}

TEST_F(NodeTest, ConcurrentMineRequestsEachGetTheirBlock) {
  constexpr int kClients = 8;
  std::vector<std::thread> clients;
  std::vector<Block> answers(kClients);
  std::vector<int> statuses(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      const HttpResponse r =
          node_->Post("/mine", "{\"data\":{\"client\":" + std::to_string(i) + "}}");
      statuses[i] = r.status;
      if (r.status == 201) answers[i] = *BlockFromJsonText(r.body);
    });
  }
  for (std::thread& t : clients) t.join();
  std::map<std::string, int> in_chain;
  for (const Block& b : Chain()) ++in_chain[b.data];
  std::set<Hash32> distinct;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(statuses[i], 201);
    EXPECT_EQ(answers[i].data, "{\"client\":" + std::to_string(i) + "}");
    EXPECT_EQ(in_chain[answers[i].data], 1) << answers[i].data;
    distinct.insert(answers[i].hash);
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kClients));
}

TEST_F(NodeTest, StopsCleanlyOnSigint) {
  Mine("1");
  node_->Signal(SIGINT);
  EXPECT_EQ(node_->WaitExit(30s), 0) << node_->Log();
  EXPECT_NE(node_->Log().find("signal 2 received"), std::string::npos);
}

TEST_F(NodeTest, StopsCleanlyOnSigterm) {
  Mine("1");
  const auto start = std::chrono::steady_clock::now();
  node_->Signal(SIGTERM);
  const std::optional<int> code = node_->WaitExit(30s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << node_->Log();
  EXPECT_NE(node_->Log().find("stopped"), std::string::npos);
  std::printf("SIGTERM to exit: %lld ms\n", static_cast<long long>(took.count()));
}

TEST(NodeMiningTest, StaysResponsiveWhileEveryThreadMines) {
  TempDir dir;
  auto node = NodeProcess::StartNode(dir.path(), {"--mine", "--threads", "2"});
  ASSERT_TRUE(node->Running());
  ASSERT_TRUE(WaitUntil([&] {
    auto v = ParseJson(node->Get("/status").body);
    return v.ok() && std::stoull(v->Find("height")->number_text()) >= 3;
  })) << node->Log();
  // Requests keep being answered while both threads mine, and a posted
  // block still gets mined while --mine is on.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(node->Get("/status").status, 200);
  const HttpResponse mined = node->Post("/mine", "{\"data\":\"while mining\"}");
  ASSERT_EQ(mined.status, 201) << mined.body;
  EXPECT_EQ(ParseBlock(mined.body).data, "\"while mining\"");
  const HttpResponse all = node->Get("/blocks");
  const std::vector<Block> chain = ParseAndCheckChain(all.body, kRegtest);
  int count = 0;
  for (const Block& b : chain) count += b.data == "\"while mining\"" ? 1 : 0;
  EXPECT_EQ(count, 1);
  auto v = ParseJson(node->Get("/status").body);
  EXPECT_TRUE(v->Find("mining")->Find("on")->as_bool());
  node->Signal(SIGTERM);
  EXPECT_EQ(node->WaitExit(30s), 0) << node->Log();
  EXPECT_NE(node->Log().find("source=mined"), std::string::npos);
}

// --- command line ------------------------------------------------------

struct CliResult {
  int code;
  std::string output;
};

CliResult RunCli(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  TempDir dir;
  NodeProcess p(std::move(args), std::move(env), dir.path());
  const std::optional<int> code = p.WaitExit(30s);
  return {code.value_or(-1), p.Log()};
}

TEST(CliTest, HelpAndVersion) {
  CliResult r = RunCli({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("node"), std::string::npos);
  r = RunCli({"node", "--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* word :
       {"--http-port", "HTTP_PORT",     "--p2p-port", "P2P_PORT",      "--peers",     "PEERS",
        "--data-dir",  "DATA_DIR",      "--network",  "NETWORK",       "--http-bind", "HTTP_BIND",
        "--mine",      "MINE",          "--threads",  "MINER_THREADS", "--log-level", "--p2p-bind",
        "P2P_BIND",    "--ban-seconds", "BAN_SECONDS"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << word;
  }
  for (const char* where : {"", "node"}) {
    std::vector<std::string> args = {"--version"};
    if (*where != '\0') args.insert(args.begin(), where);
    r = RunCli(args);
    EXPECT_EQ(r.code, 0) << where;
    EXPECT_EQ(r.output.rfind("powchain 0.", 0), 0u) << where << ": " << r.output;
  }
}

TEST(CliTest, BadFlagsAreOneLineErrorsWithExitCode2) {
  const std::vector<std::vector<std::string>> cases = {
      {"node", "--http-port", "70000"},
      {"node", "--http-port", "abc"},
      {"node", "--p2p-port", "0"},
      {"node", "--peers", "localhost:5001"},
      {"node", "--peers", "ws://a:1,http://b:2"},
      {"node", "--network", "testnet"},
      {"node", "--threads", "0"},
      {"node", "--http-bind", "not-an-ip"},
      {"node", "--bogus"},
      {"bogus"},
      {"node", "--http-port", "5001", "--p2p-port", "5001"},
  };
  for (const auto& args : cases) {
    const CliResult r = RunCli(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, 2) << joined << "\n" << r.output;
    EXPECT_EQ(r.output.rfind("powchain: error: ", 0), 0u) << joined << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << joined << "\n" << r.output;
  }
  // The same checks apply to environment variables.
  CliResult r = RunCli({"node"}, {{"HTTP_PORT", "99999"}});
  EXPECT_EQ(r.code, 2) << r.output;
  r = RunCli({"node"}, {{"PEERS", "ws://ok:1,nonsense"}});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("nonsense"), std::string::npos);
  r = RunCli({"node"}, {{"NETWORK", "moon"}});
  EXPECT_EQ(r.code, 2) << r.output;
}

TEST(CliTest, ErrorsNameTheVariableOrFlagAndTheCommandsHelp) {
  // A value from the environment is blamed on the variable, not the flag.
  CliResult r = RunCli({"node"}, {{"HTTP_PORT", "abc"}});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("HTTP_PORT"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'abc' is not a number"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("--http-port"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(see powchain node --help)"), std::string::npos) << r.output;
  // The same value as a flag is blamed on the flag.
  r = RunCli({"node", "--http-port", "abc"});
  EXPECT_NE(r.output.find("--http-port: 'abc' is not a number"), std::string::npos) << r.output;
  r = RunCli({"node", "--p2p-port=70000"});
  EXPECT_NE(r.output.find("--p2p-port: 70000 is out of range (1 to 65535)"), std::string::npos)
      << r.output;
  r = RunCli({"bench", "--blocks", "x"});
  EXPECT_NE(r.output.find("(see powchain bench --help)"), std::string::npos) << r.output;
  r = RunCli({"bogus"});
  EXPECT_NE(r.output.find("(see powchain --help)"), std::string::npos) << r.output;
}

TEST(CliTest, FlagsWinOverEnvironment) {
  TempDir dir;
  const std::uint16_t flag_port = FreePort();
  const std::uint16_t env_port = FreePort();
  {
    NodeProcess p({"node", "--http-port", std::to_string(flag_port)},
                  {{"HTTP_PORT", std::to_string(env_port)},
                   {"NETWORK", "regtest"},
                   {"P2P_PORT", std::to_string(FreePort())}},
                  dir.path());
    ASSERT_TRUE(p.WaitReady(flag_port)) << p.Log();
    auto v = ParseJson(HttpRequest(flag_port, "GET", "/status").body);
    EXPECT_EQ(v->Find("network")->as_string(), "regtest");  // from the environment
    EXPECT_THROW(HttpRequest(env_port, "GET", "/status", "", "", 2s), std::exception);
    p.Signal(SIGTERM);
    EXPECT_EQ(p.WaitExit(), 0);
  }
  {
    NodeProcess p({"node", "--network", "main"},
                  {{"HTTP_PORT", std::to_string(env_port)},
                   {"NETWORK", "regtest"},
                   {"P2P_PORT", std::to_string(FreePort())}},
                  dir.path());
    ASSERT_TRUE(p.WaitReady(env_port)) << p.Log();
    auto v = ParseJson(HttpRequest(env_port, "GET", "/status").body);
    EXPECT_EQ(v->Find("network")->as_string(), "main");  // the flag won
    p.Signal(SIGTERM);
    EXPECT_EQ(p.WaitExit(), 0);
  }
}

TEST(CliTest, PortInUseIsAClearError) {
  TempDir dir;
  auto first = NodeProcess::StartNode(dir.path());
  ASSERT_TRUE(first->Running());
  const std::string port = std::to_string(first->http_port());
  const CliResult r = RunCli({"node", "--network", "regtest", "--http-port", port, "--p2p-port",
                              std::to_string(FreePort())});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("powchain: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(port), std::string::npos) << r.output;
  // The error alone: no start-up lines before it, no "stopped" after it.
  EXPECT_EQ(r.output.rfind("powchain: error: ", 0), 0u) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(CliTest, AFailedStartLeavesNoDataDirectory) {
  TempDir dir;
  auto first = NodeProcess::StartNode(dir.path());
  ASSERT_TRUE(first->Running());
  const std::uint16_t p2p = FreePort();
  NodeProcess second({"node", "--network", "regtest", "--http-port",
                      std::to_string(first->http_port()), "--p2p-port", std::to_string(p2p)},
                     {}, dir.path());
  EXPECT_EQ(second.WaitExit(), 1) << second.Log();
  // It made data/regtest/<p2p-port> (and data/regtest if new) to start, and
  // took them away again when the HTTP port turned out to be taken.
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "data/regtest" / std::to_string(p2p)));
  // The first node's directory is untouched.
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data/regtest" /
                                      std::to_string(first->p2p_port()) / "chain.sqlite"));
}

TEST(CliTest, NodesOnOneMachineGetTheirOwnDataDir) {
  TempDir dir;
  const std::uint16_t p2p_a = FreePort();
  const std::uint16_t p2p_b = FreePort();
  NodeProcess a({"node", "--network", "regtest"},
                {{"HTTP_PORT", std::to_string(FreePort())}, {"P2P_PORT", std::to_string(p2p_a)}},
                dir.path());
  NodeProcess b({"node", "--network", "regtest"},
                {{"HTTP_PORT", std::to_string(FreePort())}, {"P2P_PORT", std::to_string(p2p_b)}},
                dir.path());
  ASSERT_TRUE(a.WaitReady(a.http_port())) << a.Log();
  ASSERT_TRUE(b.WaitReady(b.http_port())) << b.Log();
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "data/regtest" / std::to_string(p2p_a)));
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "data/regtest" / std::to_string(p2p_b)));
}

}  // namespace
}  // namespace powchain::itest
