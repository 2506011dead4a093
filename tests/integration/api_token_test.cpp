// Access control: a node whose HTTP API listens beyond loopback guards POST
// /mine and POST /peers with a bearer token kept in <data-dir>/api.token
// (mode 0600); reads stay open.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "node_process.h"

namespace powchain::itest {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadToken(const fs::path& file) {
  std::ifstream in(file);
  std::string token;
  std::getline(in, token);
  return token;
}

HttpResponse Mine(const NodeProcess& n, const std::string& authorization) {
  std::map<std::string, std::string> headers;
  if (!authorization.empty()) headers["Authorization"] = authorization;
  return HttpRequest(n.http_port(), "POST", "/mine", R"({"data":"guarded"})", "application/json",
                     30s, headers);
}

TEST(ApiTokenTest, AllInterfacesNeedTheTokenFromTheDataDir) {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  std::string token;
  {
    auto node =
        NodeProcess::StartNode(dir.path(), {"--http-bind", "0.0.0.0", "--data-dir", data.string()});
    const fs::path file = data / "api.token";
    ASSERT_TRUE(fs::exists(file)) << node->Log();
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    token = ReadToken(file);
    EXPECT_EQ(token.size(), 64u);
    EXPECT_NE(node->Log().find("api.token"), std::string::npos) << node->Log();

    const HttpResponse none = Mine(*node, "");
    EXPECT_EQ(none.status, 401) << none.body;
    EXPECT_EQ(none.headers.at("www-authenticate"), "Bearer realm=\"powchain\"");
    EXPECT_EQ(Mine(*node, "Bearer " + std::string(64, '0')).status, 401);
    const HttpResponse peer =
        HttpRequest(node->http_port(), "POST", "/peers", R"({"url":"ws://127.0.0.1:1"})");
    EXPECT_EQ(peer.status, 401) << peer.body;
    EXPECT_EQ(node->Get("/status").status, 200);
    EXPECT_EQ(node->Get("/blocks").status, 200);
    EXPECT_EQ(node->Get("/peers").status, 200);
    EXPECT_EQ(node->Get("/peers").body, "[]");  // the refused POST added nothing

    const HttpResponse mined = Mine(*node, "Bearer " + token);
    EXPECT_EQ(mined.status, 201) << mined.body;
  }
  // A restart keeps the same token.
  auto again =
      NodeProcess::StartNode(dir.path(), {"--http-bind", "0.0.0.0", "--data-dir", data.string()});
  EXPECT_EQ(ReadToken(data / "api.token"), token);
  EXPECT_EQ(Mine(*again, "Bearer " + token).status, 201);
}

TEST(ApiTokenTest, LoopbackIsOpenUnlessATokenIsGiven) {
  TempDir dir;
  {
    auto node = NodeProcess::StartNode(dir.path(), {"--data-dir", (dir.path() / "a").string()});
    EXPECT_EQ(Mine(*node, "").status, 201);
    EXPECT_FALSE(fs::exists(dir.path() / "a" / "api.token"));
  }
  const std::string token = "given-token-0123456789";
  auto node = NodeProcess::StartNode(
      dir.path(), {"--data-dir", (dir.path() / "b").string(), "--api-token", token});
  EXPECT_EQ(Mine(*node, "").status, 401);
  EXPECT_EQ(Mine(*node, "Bearer " + token).status, 201);
}

TEST(ApiTokenTest, RefusesATokenFileOthersCanRead) {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  fs::create_directories(data);
  {
    std::ofstream out(data / "api.token");
    out << "0123456789abcdef0123456789abcdef\n";
  }
  fs::permissions(data / "api.token", fs::perms::owner_read | fs::perms::owner_write |
                                          fs::perms::group_read | fs::perms::others_read);
  NodeProcess node({"node", "--network", "regtest", "--http-bind", "0.0.0.0", "--http-port",
                    std::to_string(FreePort()), "--p2p-port", std::to_string(FreePort()),
                    "--data-dir", data.string()},
                   {}, dir.path());
  EXPECT_EQ(node.WaitExit(30s), 1);
  EXPECT_NE(node.Log().find("chmod 600"), std::string::npos) << node.Log();
}

TEST(ApiTokenTest, RefusesABadTokenFlag) {
  TempDir dir;
  NodeProcess node({"node", "--api-token", "short"}, {}, dir.path());
  EXPECT_EQ(node.WaitExit(30s), 2);
  EXPECT_NE(node.Log().find("--api-token"), std::string::npos) << node.Log();
}

}  // namespace
}  // namespace powchain::itest
