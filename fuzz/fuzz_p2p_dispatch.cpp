// Peer messages from outside, through a real PeerManager over a ChainState
// on a MemoryBlockStore (tiny network, tiny_chain.h), with a fake link and
// a clock that moves only when the input says so. No sockets, no threads:
// the relay work the manager posts runs on a local io_context after each
// message.
//
// Input: lines. The first byte of the first line holds flags (low four
// bits, so '0'..'?' are all the combinations; the rest of that line is
// ignored), then each line is one message:
//   bit 0  send a valid hello first on every connection, so the handlers
//          behind the handshake are reached
//   bit 1  the chain starts with TinyChain(5) instead of genesis alone
//   bit 2  peer A's address is not loopback (misbehaviour bans it)
//   bit 3  that hello claims more work than ours, so we sync from the peer
// A line is a message from peer A (inbound); "@" first: from peer B (an
// outbound peer the manager dialled). After that, "#" first: blocks in the
// message get their dataHash, proof of work and hash fixed, and lastHash
// linked to the block before, before delivery; "+" alone: the peer connects
// (if it is not connected) and sends nothing; "-" alone: the peer hangs up.
// A line "~" moves the clock 20 s on and runs the timers. A peer that is
// not connected (or that the manager closed) connects again, with a new
// PeerId, for its next line.
//
// Properties: nothing crashes or throws; every text the manager sends is a
// message Decode accepts; the chain stays on one valid active chain.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "chain/chainstate.h"
#include "p2p/peer_link.h"
#include "p2p/peer_manager.h"
#include "p2p/protocol.h"
#include "peer_harness.h"
#include "storage/memory_store.h"
#include "tiny_chain.h"

namespace powchain::fuzz {
namespace {

constexpr std::size_t kMaxLines = 64;
constexpr std::size_t kMaxOpens = 8;  // connections per input, both peers together
constexpr std::uint64_t kTickMs = 20000;
constexpr std::size_t kPreloadBlocks = 5;

// Gives every block in a "block" or "blocks" message a matching dataHash, a
// proof of work (a few nonces tried) and its own hash; in "blocks", a block
// one above the one before it gets that block's hash as lastHash. Other
// texts are returned as they are.
std::string FixBlocks(std::string_view text) {
  auto decoded = p2p::Decode(text);
  auto* message = std::get_if<p2p::Message>(&decoded);
  if (message == nullptr) return std::string(text);
  auto fix = [](Block& b, const Block* before) {
    if (before != nullptr && b.header.height == before->header.height + 1) {
      b.header.last_hash = before->hash;
    }
    b.header.data_hash = DataHash(b.data);
    Solve(b.header, 64);
    b.hash = b.header.ComputeHash();
  };
  if (auto* m = std::get_if<p2p::BlockMsg>(message)) {
    fix(m->block, nullptr);
  } else if (auto* m = std::get_if<p2p::Blocks>(message)) {
    for (std::size_t i = 0; i < m->blocks.size(); ++i) {
      fix(m->blocks[i], i > 0 ? &m->blocks[i - 1] : nullptr);
    }
  } else {
    return std::string(text);
  }
  return p2p::Encode(*message);
}

struct Slot {
  std::optional<p2p::PeerId> id;  // open connection, if any
  std::string address;
  p2p::Direction direction = p2p::Direction::kInbound;
  std::optional<PeerUrl> dialed;
  std::string node_id;
};

class Session {
 public:
  explicit Session(std::uint8_t flags)
      : flags_(flags), chain_(params_, store_), clock_(NowMs(params_)) {
    FUZZ_CHECK(chain_.Load().ok());
    if ((flags_ & 2) != 0) {
      static const std::vector<Block> preload = TinyChain(kPreloadBlocks);
      std::vector<Block> blocks(preload.begin() + 1, preload.end());
      for (const AcceptResult& r : chain_.AcceptBlocks(std::move(blocks), clock_.NowMs())) {
        FUZZ_CHECK(r.ok());
      }
    }
    p2p::PeerManagerOptions options;
    options.agent = "fuzz/1";
    options.listen_port = 5001;
    options.sync_batch = 4;
    manager_.emplace(chain_, clock_, io_, options);
    slots_[0].address = (flags_ & 4) != 0 ? "192.0.2.1" : "127.0.0.1";
    slots_[0].node_id = "00000000000000a1";
    slots_[1].address = "192.0.2.2";
    slots_[1].direction = p2p::Direction::kOutbound;
    slots_[1].dialed = PeerUrl{"192.0.2.2", 5002};
    slots_[1].node_id = "00000000000000b2";
    manager_->Start(link_, {*slots_[1].dialed});
  }

  ~Session() {
    for (Slot& slot : slots_) {
      if (slot.id) manager_->OnClose(*slot.id, "fuzz input done");
    }
    manager_->Stop();
    RunPosted();
    CheckChain();
    if (Verbose()) {
      std::fprintf(stderr, "tip: height %llu\n",
                   static_cast<unsigned long long>(chain_.Tip().height()));
    }
  }

  void Line(std::string_view line) {
    if (line == "~") {
      clock_.Advance(kTickMs);
      manager_->Tick();
      Settle();
      return;
    }
    Slot* slot = &slots_[0];
    if (!line.empty() && line.front() == '@') {
      slot = &slots_[1];
      line.remove_prefix(1);
    }
    if (line == "-") {
      if (slot->id) {
        closed_.insert(*slot->id);
        manager_->OnClose(*std::exchange(slot->id, std::nullopt), "closed by peer");
        Settle();
      }
      return;
    }
    const bool fix = !line.empty() && line.front() == '#';
    if (fix) line.remove_prefix(1);
    if (!slot->id && !Open(*slot)) return;
    if (line == "+") return;
    manager_->OnMessage(*slot->id, fix ? FixBlocks(line) : std::string(line));
    Settle();
  }

 private:
  bool Open(Slot& slot) {
    if (opens_ >= kMaxOpens) return false;
    ++opens_;
    const p2p::PeerId id = next_id_++;
    slot.id = id;
    manager_->OnOpen(id, slot.direction, slot.address, static_cast<std::uint16_t>(40000 + id),
                     slot.dialed);
    if ((flags_ & 1) != 0) {
      const ChainTip tip = chain_.Tip();
      p2p::Hello hello;
      hello.genesis = chain_.GenesisHash();
      hello.height = tip.height();
      hello.tip = tip.hash();
      hello.work = tip.work;
      if ((flags_ & 8) != 0) {
        hello.height += 100;
        hello.tip[0] ^= 0x5a;
        hello.work += 1000;
      }
      hello.port = 5002;
      hello.agent = "fuzz-peer/1";
      hello.node_id = slot.node_id;
      manager_->OnMessage(id, p2p::Encode(hello));
    }
    Settle();
    return slot.id.has_value();
  }

  // Runs the relays posted, then tells the manager of the connections it
  // closed, as the transport would. Then checks the manager's peer list:
  // only connections that are open, each counted once.
  void Settle() {
    RunPosted();
    for (p2p::PeerId id : link_.TakeClosed()) {
      if (!closed_.insert(id).second) continue;
      manager_->OnClose(id, "closed by us");
      RunPosted();
      for (Slot& slot : slots_) {
        if (slot.id == id) slot.id.reset();
      }
    }
    std::size_t connected = 0;
    for (const p2p::PeerSnapshot& peer : manager_->Peers()) {
      if (peer.id == 0) continue;  // a configured peer not connected: no connection
      FUZZ_CHECK(slots_[0].id == peer.id || slots_[1].id == peer.id);
      if (peer.state == "connected") ++connected;
    }
    FUZZ_CHECK(manager_->ConnectedCount() == connected);
  }

  void RunPosted() {
    io_.restart();
    io_.poll();
  }

  void CheckChain() const { CheckActiveChain(chain_, &params_); }

  const std::uint8_t flags_;
  const Params params_ = TinyParams();
  MemoryBlockStore store_;
  ChainState chain_;
  ManualClock clock_;
  boost::asio::io_context io_;
  FakeLink link_;
  std::optional<p2p::PeerManager> manager_;  // after everything it uses
  Slot slots_[2];
  std::set<p2p::PeerId> closed_;
  p2p::PeerId next_id_ = 1;
  std::size_t opens_ = 0;
};

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain::fuzz;
  static const bool quiet = [] {
    spdlog::set_level(Verbose() ? spdlog::level::debug : spdlog::level::off);
    return true;
  }();
  (void)quiet;
  std::string_view rest = AsText(data, size);
  auto next_line = [&rest] {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    return line;
  };
  const std::string_view flags = next_line();
  Session session(flags.empty() ? 0 : static_cast<std::uint8_t>(flags.front()));
  for (std::size_t lines = 0; lines < kMaxLines && !rest.empty(); ++lines) {
    session.Line(next_line());
  }
  return 0;
}
