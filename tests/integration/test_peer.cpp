#include "test_peer.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <utility>

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
    // The node's close frame, if one came (the read may still end in a
    // reset when the node closes the TCP connection at once).
    if (ws_.reason().code != websocket::close_code::none) close_code_ = ws_.reason().code;
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
                                              const std::string& node_id, std::uint32_t version) {
  if (!Connect(port)) return std::nullopt;
  auto theirs = Await<p2p::Hello>();
  if (!theirs) return std::nullopt;
  p2p::Hello mine;
  mine.version = version;
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
  hello.work = 0;
  for (const Block& b : chain_) hello.work += BlockWork(b.header.difficulty);
  hello.agent = "powchain-test-feed";
  hello.node_id = node_id;
  return hello;
}

std::size_t ChainFeed::Start(const std::vector<Hash32>& locator) const {
  for (const Hash32& h : locator) {
    if (auto it = index_.find(h); it != index_.end()) return it->second + 1;
  }
  return 1;
}

p2p::Blocks ChainFeed::Answer(const p2p::GetBlocks& ask) const {
  p2p::Blocks answer;
  for (std::size_t i = Start(ask.locator); i < chain_.size() && answer.blocks.size() < ask.limit;
       ++i) {
    answer.blocks.push_back(chain_[i]);
  }
  return answer;
}

p2p::Headers ChainFeed::Answer(const p2p::GetHeaders& ask) const {
  const std::size_t limit =
      std::min<std::size_t>(ask.limit, p2p::ProtocolLimits::kMaxHeadersPerMessage);
  p2p::Headers answer;
  for (std::size_t i = Start(ask.locator); i < chain_.size() && answer.headers.size() < limit;
       ++i) {
    answer.headers.push_back(HashedHeader{chain_[i].header, chain_[i].hash});
  }
  return answer;
}

p2p::Blocks ChainFeed::Answer(const p2p::GetData& ask) const {
  p2p::Blocks answer;
  for (const Hash32& h : ask.hashes) {
    auto it = index_.find(h);
    if (it == index_.end()) break;
    answer.blocks.push_back(chain_[it->second]);
  }
  return answer;
}

bool ChainFeed::ServeOne(TestPeer& peer, std::chrono::milliseconds timeout) const {
  const auto ask = peer.AwaitAnyOf<p2p::GetHeaders, p2p::GetData, p2p::GetBlocks>(timeout);
  if (!ask) return false;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, p2p::GetHeaders>) {
          peer.Send(Answer(m));
        } else if constexpr (std::is_same_v<T, p2p::GetData> || std::is_same_v<T, p2p::GetBlocks>) {
          const p2p::Blocks answer = Answer(m);
          for (const Block& b : answer.blocks)
            tip_sent_ = tip_sent_ || b.hash == chain_.back().hash;
          peer.Send(answer);
        }
      },
      *ask);
  return true;
}

// --- RawPeer --------------------------------------------------------------

std::string RawPeer::Frame(std::uint8_t head, std::string_view payload, FrameOptions options) {
  const std::uint64_t length = options.claimed.value_or(payload.size());
  LengthForm form = options.form;
  if (form == LengthForm::kShortest) {
    form = length < 126 ? LengthForm::kShortest
                        : (length <= 0xffff ? LengthForm::k16 : LengthForm::k64);
  }
  const std::uint8_t mask_bit = options.mask ? 0x80 : 0x00;
  std::string out;
  out.push_back(static_cast<char>(head));
  if (form == LengthForm::kShortest) {
    out.push_back(static_cast<char>(mask_bit | length));
  } else if (form == LengthForm::k16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  }
  static constexpr std::uint8_t kKey[4] = {0x12, 0x34, 0x56, 0x78};
  if (options.mask) out.append(reinterpret_cast<const char*>(kKey), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    const auto byte = static_cast<std::uint8_t>(payload[i]);
    out.push_back(static_cast<char>(options.mask ? byte ^ kKey[i % 4] : byte));
  }
  return out;
}

RawPeer::RawPeer() : socket_(io_) {}

RawPeer::~RawPeer() {
  beast::error_code ignored;
  socket_.close(ignored);
}

bool RawPeer::Connect(std::uint16_t port) {
  beast::error_code ec;
  socket_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  return !ec;
}

bool RawPeer::Write(std::string_view bytes) {
  beast::error_code ec;
  net::write(socket_, net::buffer(bytes.data(), bytes.size()), ec);
  if (ec) closed_ = true;
  return !ec;
}

bool RawPeer::Upgrade(std::uint16_t port) {
  if (!Connect(port)) return false;
  // The key of RFC 6455 section 1.3; any 16 bytes in base64 will do.
  if (!Write("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::size_t end = std::string::npos;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(deadline)) return false;
  }
  const bool switched = in_.rfind("HTTP/1.1 101", 0) == 0;
  in_.erase(0, end + 4);
  upgraded_ = true;
  ParseFrames();  // the node's hello may have come with the response
  return switched;
}

bool RawPeer::Handshake(std::uint16_t port, const Hash32& genesis, const std::string& node_id) {
  if (!Upgrade(port)) return false;
  const auto text = ReadText();
  if (!text) return false;
  const auto decoded = p2p::Decode(*text);
  const auto* m = std::get_if<p2p::Message>(&decoded);
  if (m == nullptr || !std::holds_alternative<p2p::Hello>(*m)) return false;
  p2p::Hello mine;
  mine.genesis = genesis;
  mine.tip = genesis;
  mine.agent = "powchain-raw-peer";
  mine.node_id = node_id;
  return Write(Text(p2p::Encode(mine)));
}

bool RawPeer::ReadMore(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) {
    timed_out_ = true;
    return false;
  }
  char buf[64 * 1024];
  beast::error_code result;
  std::size_t got = 0;
  bool done = false;
  socket_.async_read_some(net::buffer(buf), [&](beast::error_code ec, std::size_t n) {
    result = ec;
    got = n;
    done = true;
  });
  io_.restart();
  io_.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
  if (!done) {
    beast::error_code ignored;
    socket_.cancel(ignored);
    io_.restart();
    io_.run();
    if (!done || result == net::error::operation_aborted) {
      timed_out_ = true;
      return false;
    }
  }
  in_.append(buf, got);
  ParseFrames();
  if (result) {
    closed_ = true;
    return false;
  }
  return true;
}

void RawPeer::ParseFrames() {
  if (!upgraded_) return;
  for (;;) {
    if (in_.size() < 2) return;
    const auto b0 = static_cast<std::uint8_t>(in_[0]);
    const auto b1 = static_cast<std::uint8_t>(in_[1]);
    std::size_t header = 2;
    std::uint64_t length = b1 & 0x7f;
    if (length == 126) {
      if (in_.size() < 4) return;
      length = (std::uint64_t{static_cast<std::uint8_t>(in_[2])} << 8) |
               static_cast<std::uint8_t>(in_[3]);
      header = 4;
    } else if (length == 127) {
      if (in_.size() < 10) return;
      length = 0;
      for (std::size_t i = 2; i < 10; ++i)
        length = (length << 8) | static_cast<std::uint8_t>(in_[i]);
      header = 10;
    }
    const bool masked = (b1 & 0x80) != 0;
    const std::size_t key_at = header;
    if (masked) header += 4;
    if (in_.size() < header || in_.size() - header < length) return;
    std::string payload = in_.substr(header, length);
    if (masked) {
      for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<char>(payload[i] ^ in_[key_at + i % 4]);
      }
    }
    in_.erase(0, header + length);
    const std::uint8_t opcode = b0 & 0x0f;
    const bool fin = (b0 & 0x80) != 0;
    if (opcode == 0x1 || opcode == 0x0) {
      partial_ += payload;
      if (fin) texts_.push_back(std::exchange(partial_, std::string()));
    } else if (opcode == 0x8) {
      close_code_ = payload.size() >= 2
                        ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                     static_cast<std::uint8_t>(payload[1]))
                        : std::uint16_t{1005};  // "no status" (RFC 6455 7.4.1)
    } else if (opcode == 0xA) {
      pongs_.push_back(std::move(payload));
    }
  }
}

std::optional<std::string> RawPeer::ReadText(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (texts_taken_ == texts_.size()) {
    if (!ReadMore(deadline)) return std::nullopt;
  }
  return texts_[texts_taken_++];
}

std::optional<std::string> RawPeer::ReadPong(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pongs_taken_ == pongs_.size()) {
    if (!ReadMore(deadline)) return std::nullopt;
  }
  return pongs_[pongs_taken_++];
}

bool RawPeer::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ReadMore(deadline)) {
  }
  return closed_;
}

bool RawPeer::StillOpen(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (ReadMore(deadline)) {
  }
  return !closed_;
}

}  // namespace powchain::itest
