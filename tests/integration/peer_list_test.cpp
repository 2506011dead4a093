// What an operator sees of the peers the node was told to dial: a peer that
// cannot be reached or is on another network shows in GET /peers with its
// state and last error, is reported once in the log rather than at every
// retry, can be removed with DELETE /peers, and one on another network is
// not redialled.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "node_process.h"
#include "primitives/json.h"

namespace powchain::itest {
namespace {

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The GET /peers entry for `url`, if listed.
std::optional<JsonValue> PeerEntry(const NodeProcess& node, const std::string& url) {
  auto peers = ParseJson(node.Get("/peers").body);
  if (!peers || !peers->is_array()) return std::nullopt;
  for (const JsonValue& p : peers->items()) {
    const JsonValue* u = p.Find("url");
    if (u != nullptr && u->is_string() && u->as_string() == url) return p;
  }
  return std::nullopt;
}

std::string StateOf(const NodeProcess& node, const std::string& url) {
  const auto entry = PeerEntry(node, url);
  if (!entry) return "(not listed)";
  const JsonValue* state = entry->Find("state");
  return state != nullptr && state->is_string() ? state->as_string() : "(no state)";
}

TEST(PeerListTest, AnUnreachablePeerIsListedReportedOnceAndRemovable) {
  TempDir dir;
  // A port nobody listens on: every dial is refused.
  const std::string url = "ws://127.0.0.1:" + std::to_string(FreePort());
  // Debug logging shows every dial, so the test can wait for retries.
  auto node = NodeProcess::StartNode(dir.path(), {"--peers", url, "--log-level", "debug"});
  ASSERT_TRUE(node->Running());

  // Listed, with why the last dial failed, while it waits to be redialled.
  ASSERT_TRUE(WaitUntil([&] {
    const auto entry = PeerEntry(*node, url);
    return entry && entry->Find("lastError") != nullptr && StateOf(*node, url) == "waiting";
  })) << node->Get("/peers").body;
  const auto entry = PeerEntry(*node, url);
  EXPECT_EQ(entry->Find("direction")->as_string(), "outbound");
  EXPECT_FALSE(entry->Find("lastError")->as_string().empty());
  EXPECT_GT(entry->Find("nextAttempt")->AsU64().value_or(0), 0u);

  // Said at the default log level, with the retry schedule, and only once
  // however many retries follow (the backoff starts at half a second).
  ASSERT_TRUE(WaitUntil([&] { return Count(node->Log(), "cannot reach peer " + url) == 1; }))
      << node->Log();
  const std::string log_before = node->Log();
  EXPECT_NE(log_before.find("retrying in"), std::string::npos) << log_before;
  // Three failed dials later, it has still been said once.
  ASSERT_TRUE(WaitUntil([&] { return Count(node->Log(), "dial " + url + " failed (") >= 3; }))
      << node->Log();
  EXPECT_EQ(Count(node->Log(), "cannot reach peer " + url), 1u) << node->Log();

  // Removed: no longer listed, and the answer says so on a second try.
  const std::string body = R"({"url":")" + url + R"("})";
  HttpResponse removed = HttpRequest(node->http_port(), "DELETE", "/peers", body);
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(StateOf(*node, url), "(not listed)");
  removed = HttpRequest(node->http_port(), "DELETE", "/peers", body);
  EXPECT_EQ(removed.status, 404) << removed.body;
}

TEST(PeerListTest, APeerOfAnotherNetworkIsRefusedAndNotRedialled) {
  TempDir dir;
  // A main-network node, and a regtest node told to dial it.
  const std::uint16_t main_http = FreePort();
  const std::uint16_t main_p2p = FreePort();
  NodeProcess main_node({"node", "--network", "main", "--http-port", std::to_string(main_http),
                         "--p2p-port", std::to_string(main_p2p)},
                        {}, dir.path());
  ASSERT_TRUE(main_node.WaitReady(main_http)) << main_node.Log();
  const std::string url = "ws://127.0.0.1:" + std::to_string(main_p2p);
  // A second peer that nobody runs: its failed dials, shown at debug level,
  // measure how long the dialling loop has run.
  const std::string nobody = "ws://127.0.0.1:" + std::to_string(FreePort());
  auto node =
      NodeProcess::StartNode(dir.path(), {"--peers", url + "," + nobody, "--log-level", "debug"});

  ASSERT_TRUE(WaitUntil([&] { return StateOf(*node, url) == "refused"; }))
      << node->Get("/peers").body << node->Log();
  const auto entry = PeerEntry(*node, url);
  EXPECT_NE(entry->Find("lastError")->as_string().find("another network"), std::string::npos);
  const std::size_t connections = Count(main_node.Log(), "another network");
  // Three dials of the other peer take at least 1.5 s of backoff (0.5 to
  // 1 s, then 1 to 2 s); a refused peer that was still dialled would have
  // been tried again within 1 s of its refusal.
  ASSERT_TRUE(WaitUntil([&] { return Count(node->Log(), "dial " + nobody + " failed (") >= 3; }))
      << node->Log();
  EXPECT_EQ(StateOf(*node, url), "refused");
  EXPECT_EQ(Count(main_node.Log(), "another network"), connections) << main_node.Log();
  EXPECT_EQ(Count(node->Log(), "not dialling it again"), 1u) << node->Log();
}

}  // namespace
}  // namespace powchain::itest
