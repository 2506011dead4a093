// A scripted peer for integration tests: a WebSocket client that speaks the
// P2P protocol (or deliberately does not) to a real node.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
    auto m = AwaitAnyOf<T>(timeout);
    if (!m) return std::nullopt;
    return std::get<T>(std::move(*m));
  }
  // Reads until a message of one of the types Ts arrives (skipping others,
  // answering pings); nullopt if the connection closes or the time runs
  // out first.
  template <typename... Ts>
  std::optional<p2p::Message> AwaitAnyOf(
      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
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
      if ((std::holds_alternative<Ts>(*m) || ...)) return std::move(*m);
    }
    return std::nullopt;
  }
  // True once the node has closed the connection (reads until it does).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool closed() const { return closed_; }
  bool timed_out() const { return timed_out_; }
  // The code of the close frame the node sent, once the connection ended
  // with one (1000 normal, 1002 protocol error, 1003 binary, 1009 too big).
  std::optional<std::uint16_t> close_code() const { return close_code_; }

  // Connect, read the node's hello, answer with a hello of this network
  // (and of protocol `version`: an older one for a node built before it).
  // Returns the node's hello.
  std::optional<p2p::Hello> Handshake(std::uint16_t port, const Hash32& genesis,
                                      const std::string& node_id = "00000000deadbeef",
                                      std::uint32_t version = p2p::kProtocolVersion);

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  bool closed_ = false;
  bool timed_out_ = false;
  std::optional<std::uint16_t> close_code_;
};

// A plain TCP connection to a node's P2P port that writes whatever bytes it
// is told: for the attacks a WebSocket library will not make (lying frame
// lengths, unmasked or reserved frames, stalls in the middle of a frame).
// It reads the node's frames itself (a server's frames are unmasked).
class RawPeer {
 public:
  // How a frame's length is written: the shortest form, or the 16-bit or
  // 64-bit extended form whatever the length (non-canonical when shorter
  // would do).
  enum class LengthForm { kShortest, k16, k64 };
  struct FrameOptions {
    bool mask = true;                      // clients must mask
    std::optional<std::uint64_t> claimed;  // the length written, if not the payload's
    LengthForm form = LengthForm::kShortest;
  };
  // A client frame: `head` is the first byte (FIN 0x80, RSV 0x70, opcode
  // 0x0f) followed by the length, the masking key and the masked payload.
  static std::string Frame(std::uint8_t head, std::string_view payload, FrameOptions options);
  static std::string Frame(std::uint8_t head, std::string_view payload) {
    return Frame(head, payload, FrameOptions{});
  }
  // A whole text message in one frame.
  static std::string Text(std::string_view payload) { return Frame(0x81, payload); }

  RawPeer();
  ~RawPeer();

  // TCP connect to 127.0.0.1:port; nothing is sent.
  bool Connect(std::uint16_t port);
  // Writes `bytes` as they are; false when the connection is gone.
  bool Write(std::string_view bytes);
  // Connect, then the HTTP upgrade written by hand; true on "101".
  bool Upgrade(std::uint16_t port);
  // Upgrade, read the node's hello, answer with a hello of `genesis`.
  bool Handshake(std::uint16_t port, const Hash32& genesis, const std::string& node_id);

  // The next text frame from the node; nullopt when the connection ended or
  // the time ran out (closed() tells which).
  std::optional<std::string> ReadText(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // The payload of the next pong frame (a WebSocket-level pong).
  std::optional<std::string> ReadPong(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // True once the node has ended the TCP connection (EOF or reset); reads
  // and parses what comes until then. False when `timeout` passed first.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Whether nothing has come and the connection is still up after `wait`.
  bool StillOpen(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  bool closed() const { return closed_; }
  bool timed_out() const { return timed_out_; }
  // The code of the node's close frame, if one came.
  std::optional<std::uint16_t> close_code() const { return close_code_; }
  // Every text frame the node sent, in order.
  const std::vector<std::string>& texts() const { return texts_; }

 private:
  // Reads more bytes until `deadline`; false on EOF, error or timeout.
  bool ReadMore(std::chrono::steady_clock::time_point deadline);
  // Moves every complete frame in in_ into texts_, pongs_ and close_code_.
  void ParseFrames();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  bool upgraded_ = false;  // frames follow the HTTP response
  std::string in_;         // bytes read and not yet parsed
  std::string partial_;    // a fragmented text message so far
  std::vector<std::string> texts_;
  std::size_t texts_taken_ = 0;
  std::vector<std::string> pongs_;
  std::size_t pongs_taken_ = 0;
  std::optional<std::uint16_t> close_code_;
  bool closed_ = false;
  bool timed_out_ = false;
};

// A fixed chain that a test peer hands out as a node would: it claims the
// chain's tip (with its real work) and answers getheaders and getblocks by
// locator and getdata by hash.
class ChainFeed {
 public:
  explicit ChainFeed(const std::vector<Block>& chain);  // genesis first; not copied
  // A hello announcing the chain's tip and its cumulative work.
  p2p::Hello Hello(const std::string& node_id) const;
  // The blocks after the first locator hash the chain holds, at most `limit`.
  p2p::Blocks Answer(const p2p::GetBlocks& ask) const;
  // The headers after the first locator hash the chain holds, at most
  // `limit` and 2,000.
  p2p::Headers Answer(const p2p::GetHeaders& ask) const;
  // The blocks asked for, in order, up to the first one the chain lacks.
  p2p::Blocks Answer(const p2p::GetData& ask) const;
  // Waits for the node's next getheaders, getdata or getblocks on `peer`
  // and answers it. False when none came within `timeout` (or the
  // connection closed).
  bool ServeOne(TestPeer& peer, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // Whether an answer so far carried the chain's tip block: after that
  // answer the node has every block and asks for no more.
  bool tip_sent() const { return tip_sent_; }

 private:
  // Index after the first locator hash the chain holds (1 when none).
  std::size_t Start(const std::vector<Hash32>& locator) const;

  const std::vector<Block>& chain_;
  std::map<Hash32, std::size_t> index_;
  mutable bool tip_sent_ = false;
};

}  // namespace powchain::itest
