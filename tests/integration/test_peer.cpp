#include "test_peer.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace powchain::itest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

TestPeer::TestPeer() : ws_(io_) {}

TestPeer::~TestPeer() {
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

bool TestPeer::Connect(std::uint16_t port) {
  beast::error_code ec;
  beast::get_lowest_layer(ws_).connect(
      net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return false;
  ws_.handshake("127.0.0.1:" + std::to_string(port), "/", ec);
  if (ec) return false;
  ws_.read_message_max(std::size_t{64} * 1024 * 1024);
  return true;
}

void TestPeer::SendText(const std::string& text) {
  beast::error_code ec;
  ws_.text(true);
  ws_.write(net::buffer(text), ec);
  if (ec) closed_ = true;
}

void TestPeer::SendBinary(const std::string& bytes) {
  beast::error_code ec;
  ws_.binary(true);
  ws_.write(net::buffer(bytes), ec);
  ws_.text(true);
  if (ec) closed_ = true;
}

std::optional<std::string> TestPeer::ReadText(std::chrono::milliseconds timeout) {
  if (closed_) return std::nullopt;
  beast::flat_buffer buffer;
  beast::error_code result;
  bool done = false;
  ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  io_.restart();
  io_.run_for(timeout);
  if (!done) {
    // Out of time: give up on this connection.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().cancel(ignored);
    io_.restart();
    io_.run();
    closed_ = true;
    timed_out_ = true;
    return std::nullopt;
  }
  if (result) {
    closed_ = true;
    return std::nullopt;
  }
  return beast::buffers_to_string(buffer.data());
}

bool TestPeer::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ReadText(std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now()))) {
  }
  return !timed_out_;
}

std::optional<p2p::Hello> TestPeer::Handshake(std::uint16_t port, const Hash32& genesis,
                                              const std::string& node_id) {
  if (!Connect(port)) return std::nullopt;
  auto theirs = Await<p2p::Hello>();
  if (!theirs) return std::nullopt;
  p2p::Hello mine;
  mine.genesis = genesis;
  mine.height = 0;
  mine.tip = genesis;
  mine.work = 0;  // less than anyone: the node never fetches from us unasked
  mine.agent = "powchain-test-peer";
  mine.node_id = node_id;
  Send(mine);
  return theirs;
}

ChainFeed::ChainFeed(const std::vector<Block>& chain) : chain_(chain) {
  for (std::size_t i = 0; i < chain_.size(); ++i) index_[chain_[i].hash] = i;
}

p2p::Hello ChainFeed::Hello(const std::string& node_id) const {
  p2p::Hello hello;
  hello.genesis = chain_.front().hash;
  hello.height = chain_.back().header.height;
  hello.tip = chain_.back().hash;
  hello.work = Work(1) << 60;
  hello.agent = "powchain-test-feed";
  hello.node_id = node_id;
  return hello;
}

p2p::Blocks ChainFeed::Answer(const p2p::GetBlocks& ask) const {
  std::size_t start = 1;
  for (const Hash32& h : ask.locator) {
    if (auto it = index_.find(h); it != index_.end()) {
      start = it->second + 1;
      break;
    }
  }
  p2p::Blocks answer;
  for (std::size_t i = start; i < chain_.size() && answer.blocks.size() < ask.limit; ++i) {
    answer.blocks.push_back(chain_[i]);
  }
  return answer;
}

}  // namespace powchain::itest
