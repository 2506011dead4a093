#include "util/url.h"

#include <gtest/gtest.h>

#include <string>

namespace powchain {
namespace {

TEST(PeerUrlTest, ParsesHostsAndPorts) {
  struct Case {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  for (const Case& c :
       {Case{"ws://localhost:5001", "localhost", 5001}, Case{"ws://127.0.0.1:1", "127.0.0.1", 1},
        Case{"ws://node-2.example.org:65535", "node-2.example.org", 65535},
        Case{"ws://[::1]:5002", "::1", 5002}}) {
    auto url = ParsePeerUrl(c.text);
    ASSERT_TRUE(url.ok()) << c.text << ": " << url.error();
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->ToString(), c.text);
  }
}

TEST(PeerUrlTest, RefusesEverythingElse) {
  for (const char* bad : {"",
                          "localhost:5001",
                          "http://localhost:5001",
                          "WS://localhost:5001",
                          "wss://h:1",
                          "ws://localhost",
                          "ws://:5001",
                          "ws://localhost:",
                          "ws://localhost:0",
                          "ws://localhost:65536",
                          "ws://localhost:-1",
                          "ws://localhost:50a1",
                          "ws://localhost:5001/path",
                          "ws://user@host:5001",
                          "ws://ho st:1",
                          "ws://[::1:5001",
                          "ws://[]:5001",
                          "ws://[xyz]:1",
                          "ws://-bad:1",
                          "ws://localhost:5001?x=1",
                          "ws://localhost:123456"}) {
    auto url = ParsePeerUrl(bad);
    EXPECT_FALSE(url.ok()) << bad;
    if (!url.ok()) {
      EXPECT_NE(url.error().find("invalid peer URL"), std::string::npos);
    }
  }
  EXPECT_FALSE(ParsePeerUrl("ws://" + std::string(300, 'a') + ":1").ok());
}

TEST(PortTest, AcceptsOneTo65535) {
  EXPECT_EQ(*ParsePort("1"), 1);
  EXPECT_EQ(*ParsePort("3001"), 3001);
  EXPECT_EQ(*ParsePort("65535"), 65535);
  for (const char* bad : {"", "0", "65536", "-1", "+1", "1.0", "0x10", " 1", "1 ", "999999"}) {
    EXPECT_FALSE(ParsePort(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace powchain
