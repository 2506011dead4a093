#include "net/http_client.h"

#include <gtest/gtest.h>

#include <string>

namespace powchain::net {
namespace {

TEST(NodeUrlTest, ParsesHostAndPort) {
  auto a = ParseNodeUrl("http://127.0.0.1:3001");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 3001);
  auto b = ParseNodeUrl("http://[::1]:3002/");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->ToString(), "http://[::1]:3002");
  auto c = ParseNodeUrl("http://node-1.example:80");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->ToString(), "http://node-1.example:80");
}

TEST(NodeUrlTest, RefusesWhatIsNotHostAndPort) {
  const struct {
    const char* text;
    const char* why;
  } cases[] = {
      {"https://127.0.0.1:3001", "scheme must be http://"},
      {"ws://127.0.0.1:3001", "scheme must be http://"},
      {"http://127.0.0.1", "missing :port"},
      {"http://127.0.0.1:0", "port must be"},
      {"http://127.0.0.1:3001/status", "a path is not allowed"},
      {"http://:3001", "missing host"},
      {"http://a b:3001", "bad character in host"},
  };
  for (const auto& c : cases) {
    auto url = ParseNodeUrl(c.text);
    ASSERT_FALSE(url) << c.text;
    EXPECT_NE(url.error().find("invalid node URL"), std::string::npos) << url.error();
    EXPECT_NE(url.error().find(c.why), std::string::npos) << c.text << ": " << url.error();
    EXPECT_NE(url.error().find("(expected http://host:port)"), std::string::npos) << url.error();
  }
}

}  // namespace
}  // namespace powchain::net
