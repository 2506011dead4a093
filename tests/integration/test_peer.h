// A scripted peer for integration tests: a WebSocket client that speaks the
// P2P protocol (or deliberately does not) to a real node.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "p2p/protocol.h"

namespace powchain::itest {

class TestPeer {
 public:
  TestPeer();
  ~TestPeer();

  // TCP connect + WebSocket upgrade to 127.0.0.1:port. False on failure.
  bool Connect(std::uint16_t port);
  void SendText(const std::string& text);
  void SendBinary(const std::string& bytes);
  void Send(const p2p::Message& m) { SendText(p2p::Encode(m)); }

  // The next frame, or nullopt when the connection closed or `timeout`
  // passed (closed() tells which).
  std::optional<std::string> ReadText(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Reads until a message of type T arrives (skipping others, answering
  // pings); nullopt if the connection closes or the time runs out first.
  template <typename T>
  std::optional<T> Await(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto text = ReadText(left);
      if (!text) return std::nullopt;
      auto decoded = p2p::Decode(*text);
      auto* m = std::get_if<p2p::Message>(&decoded);
      if (m == nullptr) continue;
      if (auto* ping = std::get_if<p2p::Ping>(m)) Send(p2p::Pong{ping->nonce});
      if (auto* t = std::get_if<T>(m)) return *t;
    }
    return std::nullopt;
  }
  // True once the node has closed the connection (reads until it does).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool closed() const { return closed_; }
  bool timed_out() const { return timed_out_; }

  // Connect, read the node's hello, answer with a hello of this network.
  // Returns the node's hello.
  std::optional<p2p::Hello> Handshake(std::uint16_t port, const Hash32& genesis,
                                      const std::string& node_id = "00000000deadbeef");

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  bool closed_ = false;
  bool timed_out_ = false;
};

// A fixed chain that a test peer hands out as a node would: it claims the
// chain's tip (with more work than any test node has) and answers getblocks
// by locator.
class ChainFeed {
 public:
  explicit ChainFeed(const std::vector<Block>& chain);  // genesis first; not copied
  // A hello announcing the chain's tip.
  p2p::Hello Hello(const std::string& node_id) const;
  // The blocks after the first locator hash the chain holds, at most `limit`.
  p2p::Blocks Answer(const p2p::GetBlocks& ask) const;

 private:
  const std::vector<Block>& chain_;
  std::map<Hash32, std::size_t> index_;
};

}  // namespace powchain::itest
