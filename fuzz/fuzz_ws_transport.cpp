// Raw bytes on the P2P port: a real p2p::Transport (the WebSocket upgrade,
// frame parsing, fragmentation, control frames, the first-message and
// message limits, the close handshake) on a loopback port, with a handler
// that checks the events it gets and echoes each message back.
//
// Input: the first byte picks the form of the rest.
//   odd    the rest is sent as it is (an upgrade request and frames the
//          fuzzer wrote itself)
//   even   the rest drives a FuzzedDataProvider that builds the bytes: an
//          upgrade request (valid, or with a header dropped or changed, and
//          extra header text), then frames with chosen FIN, RSV, opcode,
//          mask, length form (7, 16 or 64 bits, minimal or not) and length
//          (the payload's, or a lie), payload text; and now and then a
//          frame that declares more than the limits
// The transport runs with a first-message limit of 1 KiB and a message
// limit of 64 KiB (the node's are 64 KiB and 4 MiB, the same code), so that
// short inputs cross them.
//
// Properties: the server ends every connection within 5 s once the client
// has sent everything; the handler sees OnOpen, then messages, then exactly
// one OnClose, for every connection, and nothing after; a first message is
// at most 1 KiB and any other at most 64 KiB; an upgrade the transport
// accepted was answered 101; in the built form with honest lengths, the
// messages delivered are the first of the text messages sent, in order and
// byte for byte.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "loopback.h"
#include "p2p/transport.h"

namespace powchain::fuzz {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kFirstLimit = 1024;
constexpr std::size_t kMessageLimit = 64 * 1024;

class CheckingHandler final : public p2p::TransportHandler {
 public:
  void OnOpen(p2p::PeerId id, p2p::Direction direction, const std::string&, std::uint16_t,
              const std::optional<PeerUrl>&) override {
    std::lock_guard lock(mutex_);
    FUZZ_CHECK(direction == p2p::Direction::kInbound);
    FUZZ_CHECK(peers_.emplace(id, Peer{}).second);
    ++opened_;
  }
  void OnMessage(p2p::PeerId id, std::string text) override {
    p2p::Transport* transport = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto it = peers_.find(id);
      FUZZ_CHECK(it != peers_.end() && !it->second.closed);
      FUZZ_CHECK(text.size() <= (it->second.messages == 0 ? kFirstLimit : kMessageLimit));
      ++it->second.messages;
      messages_.push_back(text);
      transport = transport_;
    }
    // The answer exercises the write side: the text back, or a close.
    if (text == "close") {
      transport->Close(id, "asked to");
    } else {
      transport->Send(id, std::move(text));
    }
  }
  void OnClose(p2p::PeerId id, const std::string& reason) override {
    std::lock_guard lock(mutex_);
    auto it = peers_.find(id);
    FUZZ_CHECK(it != peers_.end() && !it->second.closed);
    FUZZ_CHECK(!reason.empty());
    it->second.closed = true;
    ++closed_;
    changed_.notify_all();
  }
  void OnDialFailed(const PeerUrl&, const std::string&) override { FUZZ_CHECK(false); }

  void SetTransport(p2p::Transport* transport) {
    std::lock_guard lock(mutex_);
    transport_ = transport;
  }
  // Connections opened so far.
  std::size_t Opened() {
    std::lock_guard lock(mutex_);
    return opened_;
  }
  // The messages delivered since the last call.
  std::vector<std::string> TakeMessages() {
    std::lock_guard lock(mutex_);
    return std::exchange(messages_, {});
  }
  // True once every connection opened has closed, within `wait`.
  bool AllClosed(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, wait, [&] { return closed_ == opened_; });
  }

 private:
  struct Peer {
    std::size_t messages = 0;
    bool closed = false;
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<p2p::PeerId, Peer> peers_;
  std::size_t opened_ = 0;
  std::size_t closed_ = 0;
  std::vector<std::string> messages_;
  p2p::Transport* transport_ = nullptr;
};

struct Node {
  CheckingHandler handler;
  IoThreads threads{2};
  std::unique_ptr<p2p::Transport> transport;

  Node() {
    p2p::TransportOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.max_message_bytes = kMessageLimit;
    options.max_first_message_bytes = kFirstLimit;
    options.connect_timeout = 2s;
    options.write_timeout = 1s;
    transport = std::make_unique<p2p::Transport>(threads.io(), options, handler);
    handler.SetTransport(transport.get());
    FUZZ_CHECK(transport->Start().ok());
  }
};

// What the built form sent, for the comparison with what was delivered.
struct Built {
  std::string bytes;
  std::vector<std::string> messages;  // complete text messages, in order
  bool honest = true;                 // every frame's length was its payload's
};

void AppendFrame(std::string& out, bool fin, unsigned rsv, unsigned opcode, bool masked,
                 std::uint64_t length, int form, const std::string& payload,
                 const std::uint8_t mask[4]) {
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0F)));
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  if (form == 0 && length < 126) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(length)));
  } else if (form <= 1 && length <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  }
  if (masked) out.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(payload[i] ^ (masked ? mask[i % 4] : 0)));
  }
}

Built Build(FuzzedDataProvider& in) {
  Built built;
  // The upgrade request: each line kept, dropped (low bit) or changed.
  const std::uint8_t drop = in.ConsumeIntegral<std::uint8_t>();
  const std::string path = "/" + in.ConsumeRandomLengthString(16);
  std::string& b = built.bytes;
  b += "GET " + path + " HTTP/1.1\r\n";
  if ((drop & 1) == 0) b += "Host: 127.0.0.1\r\n";
  if ((drop & 2) == 0) b += "Upgrade: websocket\r\n";
  if ((drop & 4) == 0) b += "Connection: Upgrade\r\n";
  if ((drop & 8) == 0) b += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  if ((drop & 16) == 0)
    b += (drop & 32) == 0 ? "Sec-WebSocket-Version: 13\r\n" : "Sec-WebSocket-Version: 8\r\n";
  if ((drop & 64) != 0) b += in.ConsumeRandomLengthString(256) + "\r\n";
  b += "\r\n";
  const bool valid_upgrade = (drop & 0x3F) == 0;
  if (!valid_upgrade) built.honest = false;

  std::string pending;  // text of a fragmented message so far
  bool in_text = false;
  std::size_t frames = 0;
  while (in.remaining_bytes() > 0 && frames++ < 64) {
    const std::uint8_t shape = in.ConsumeIntegral<std::uint8_t>();
    // Mostly text, continuation and the control frames; any opcode at times.
    static constexpr unsigned kOpcodes[8] = {1, 1, 0, 9, 10, 8, 2, 3};
    const unsigned opcode = (shape & 0x80) != 0 ? (shape & 0x0F) : kOpcodes[(shape >> 4) & 7];
    const bool fin = (shape & 1) == 0 || opcode >= 8;
    const unsigned rsv = (shape & 0x0E) == 0x0E ? in.ConsumeIntegralInRange<unsigned>(1, 7) : 0;
    const bool masked = in.ConsumeIntegralInRange<int>(0, 15) != 0;
    const int form =
        in.ConsumeIntegralInRange<int>(0, 3) == 0 ? in.ConsumeIntegralInRange<int>(1, 2) : 0;
    std::uint8_t mask[4];
    for (auto& m : mask) m = in.ConsumeIntegral<std::uint8_t>();
    const std::string payload =
        in.ConsumeRandomLengthString(in.ConsumeBool() ? 200 : kMessageLimit + 1024);
    std::uint64_t length = payload.size();
    const int lie = in.ConsumeIntegralInRange<int>(0, 31);
    if (lie == 0) {
      length = in.ConsumeIntegral<std::uint64_t>();  // anything, 2^64-1 included
    } else if (lie == 1) {
      length = kMessageLimit + 1;  // just past the limit; the payload never comes
    }
    if (length != payload.size() || rsv != 0 || !masked) built.honest = false;
    AppendFrame(b, fin, rsv, opcode, masked, length, form, payload, mask);
    // The model of what a correct server delivers, while frames stay sane.
    if (!built.honest) continue;
    if (opcode == 1 && !in_text) {
      pending = payload;
      in_text = !fin;
      if (fin) built.messages.push_back(std::move(pending));
    } else if (opcode == 0 && in_text) {
      pending += payload;
      if (fin) {
        in_text = false;
        built.messages.push_back(std::move(pending));
      }
    } else if (opcode == 9 || opcode == 10) {
      if (payload.size() > 125) built.honest = false;  // a control frame that long is an error
    } else {
      built.honest = false;  // binary, close, reserved or out-of-place frames end the model
    }
  }
  return built;
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain::fuzz;
  static Node* node = new Node();  // never destroyed: its threads run until exit
  if (size == 0) return 0;
  Built built;
  if ((data[0] & 1) != 0) {
    built.bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
    built.honest = false;
  } else {
    FuzzedDataProvider in(data + 1, size - 1);
    built = Build(in);
  }
  const std::size_t opened_before = node->handler.Opened();
  const Exchanged answer = Exchange(node->transport->port(), built.bytes, 5s);
  FUZZ_CHECK(answer.closed);
  FUZZ_CHECK(node->handler.AllClosed(5s));
  FUZZ_CHECK(WaitFor([&] { return node->transport->InboundCount() == 0; }, 5s));
  const bool opened = node->handler.Opened() > opened_before;
  if (opened) FUZZ_CHECK(answer.received.starts_with("HTTP/1.1 101"));
  const std::vector<std::string> delivered = node->handler.TakeMessages();
  if (built.honest) {
    FUZZ_CHECK(delivered.size() <= built.messages.size());
    for (std::size_t i = 0; i < delivered.size(); ++i)
      FUZZ_CHECK(delivered[i] == built.messages[i]);
  }
  return 0;
}
