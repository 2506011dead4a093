// Peer events that reach deep: a real PeerManager over a ChainState on a
// MemoryBlockStore (tiny network), driven by a FuzzedDataProvider that
// picks events over a fixed world of valid blocks, so that most inputs get
// to block acceptance, blocks waiting for their parent, reorganizations
// and headers-first sync (fuzz_p2p_dispatch, which reads whole messages
// from the input, rarely gets past the handshake with a valid block).
//
// The world: a trunk of 10 blocks on genesis and a fork of 13 blocks from
// trunk height 3 (more work: it wins once known), plus, for each, copies
// that break one rule (difficulty, data hash, time, height) with a valid
// proof of work. The node starts with up to 8 trunk blocks; two peers
// (inbound A, outbound B); each connection starts with a hello claiming the
// fork's tip, the trunk's, or ours.
//
// Events (up to 48), each for peer A or B:
//   headers   a run of one branch's headers, from index i, up to 12
//   blocks    a run of one branch's blocks (a "blocks" message)
//   block     one block (its parent may be unknown: it waits)
//   invalid   one of the rule-breaking copies, as "block"
//   answer    answers what the manager last asked this peer, as an honest
//             peer holding the whole world would (headers for a
//             getheaders, blocks for a getdata or getblocks)
//   ask       a getheaders, getblocks or getdata of our own
//   raw       a message text from the input
//   tick      the clock moves 20 s and the timers run
//   hang up   the peer disconnects (the next event reconnects it)
//   disk      now and then, the store fails its next commit (it is rolled
//             back; the chain then takes no more blocks, as the node stops)
// The chain holds at most 4 blocks waiting for a parent, so the cap is met.
//
// Properties: every text the manager sends decodes; the active chain links
// up from genesis and every block on it passes every consensus rule; no
// rule-breaking copy is ever active; and after the events, a new honest
// peer that claims the fork's tip and answers what it is asked brings the
// node to that tip (whatever the earlier peers did, the node still syncs).
//
// POWCHAIN_FUZZ_STATS=1: one line per input on stderr saying which of
// block acceptance, a waiting block, a reorganization, headers ahead of
// data, the waiting blocks' cap and a failed commit it reached
// (scripts/fuzz_reach.sh counts them over a corpus).
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/work.h"
#include "p2p/peer_manager.h"
#include "p2p/protocol.h"
#include "peer_harness.h"
#include "storage/memory_store.h"
#include "testutil/fault_injecting_store.h"
#include "tiny_chain.h"

namespace powchain::fuzz {
namespace {

constexpr std::size_t kMaxEvents = 48;
constexpr std::size_t kMaxOpens = 8;
constexpr std::uint64_t kTickMs = 20000;
constexpr std::size_t kTrunk = 10;
constexpr std::size_t kForkFrom = 3;  // trunk height the fork leaves from
constexpr std::size_t kFork = 13;
constexpr std::size_t kMaxPending = 4;  // blocks held for a parent

struct World {
  Params params = TinyParams();
  std::vector<Block> trunk;  // genesis first
  std::vector<Block> fork;   // trunk[0..kForkFrom] then the fork's blocks
  std::vector<Block> invalid;
  std::set<Hash32> invalid_hashes;

  World() {
    trunk = TinyChain(kTrunk);
    fork.assign(trunk.begin(), trunk.begin() + kForkFrom + 1);
    for (std::size_t i = 0; i < kFork; ++i) {
      // Faster blocks: the difficulty rises, so the fork has more work as
      // well as more blocks.
      fork.push_back(MineChild(TipContext(fork, params), "{\"f\":" + std::to_string(i) + "}",
                               fork.back().header.timestamp + 700, params));
    }
    for (const std::vector<Block>* branch : {&trunk, &fork}) {
      for (std::size_t h : {std::size_t{2}, std::size_t{6}}) {
        const Block& good = (*branch)[h];
        for (int rule = 0; rule < 4; ++rule) {
          Block bad = good;
          switch (rule) {
            case 0:
              bad.header.difficulty += 1;
              break;
            case 1:
              bad.header.data_hash[0] ^= 1;
              break;
            case 2:
              bad.header.timestamp = (*branch)[h - 2].header.timestamp - 1;
              break;
            default:
              bad.header.height += 1;
              break;
          }
          bad.header.nonce = 0;
          FUZZ_CHECK(Solve(bad.header, std::uint64_t{1} << 20));
          bad.hash = bad.header.ComputeHash();
          invalid.push_back(bad);
          invalid_hashes.insert(bad.hash);
        }
      }
    }
  }

  const std::vector<Block>& Branch(bool fork_side) const { return fork_side ? fork : trunk; }

  // The chain work of a branch's tip, as a hello must state it.
  static Work TipWork(const std::vector<Block>& branch) {
    Work work = 0;
    for (const Block& b : branch) work = AddWork(work, BlockWork(b.header.difficulty));
    return work;
  }

  // A valid block of the world by hash, or nullptr.
  const Block* Find(const Hash32& hash) const {
    for (const std::vector<Block>* branch : {&trunk, &fork}) {
      for (const Block& b : *branch) {
        if (b.hash == hash) return &b;
      }
    }
    return nullptr;
  }
};

const World& TheWorld() {
  static const World world;
  return world;
}

struct Reach {
  bool accepted = false;      // a block joined the active chain
  bool waited = false;        // a block waited for its parent (or was refused for lack of one)
  bool reorg = false;         // blocks left the active chain
  bool headers = false;       // the tree held headers ahead of the blocks stored
  bool capped = false;        // the blocks waiting for a parent reached their cap
  bool store_failed = false;  // a commit failed (and was rolled back)
};

class ReorgWatch final : public ChainObserver {
 public:
  void OnTipChanged(const TipChange& change) override {
    if (!change.disconnected.empty()) reorg = true;
  }
  bool reorg = false;
};

struct Slot {
  std::optional<p2p::PeerId> id;
  std::string address;
  p2p::Direction direction = p2p::Direction::kInbound;
  std::optional<PeerUrl> dialed;
  std::string node_id;
  int hello = 0;  // 0: claims the fork's tip, 1: the trunk's, 2: ours
  bool honest_answers = false;
};

class Session {
 public:
  Session(const World& world, FuzzedDataProvider& in)
      : world_(world), chain_(world.params, store_, Options()), clock_(NowMs(world.params)) {
    FUZZ_CHECK(chain_.Load().ok());
    chain_.AddObserver(&watch_);
    // Most inputs start past the fork point, so the fork's arrival is a
    // reorganization; an input that runs out of bytes gets 8.
    const std::size_t preload = kTrunk - 2 - in.ConsumeIntegralInRange<std::size_t>(0, kTrunk - 2);
    if (preload > 0) {
      std::vector<Block> blocks(world_.trunk.begin() + 1, world_.trunk.begin() + 1 + preload);
      for (const AcceptResult& r : chain_.AcceptBlocks(std::move(blocks), clock_.NowMs())) {
        FUZZ_CHECK(r.ok());
      }
    }
    p2p::PeerManagerOptions options;
    options.agent = "fuzz/1";
    options.listen_port = 5001;
    options.sync_batch = in.ConsumeIntegralInRange<std::uint32_t>(1, 8);
    options.headers_batch = in.ConsumeIntegralInRange<std::uint32_t>(1, 16);
    manager_.emplace(chain_, clock_, io_, options);
    slots_[0].address = "127.0.0.1";
    slots_[0].node_id = "00000000000000a1";
    slots_[1].address = "192.0.2.2";
    slots_[1].direction = p2p::Direction::kOutbound;
    slots_[1].dialed = PeerUrl{"192.0.2.2", 5002};
    slots_[1].node_id = "00000000000000b2";
    for (Slot& slot : slots_) slot.hello = in.ConsumeIntegralInRange<int>(0, 2);
    manager_->Start(link_, {*slots_[1].dialed});
  }

  ~Session() {
    for (Slot& slot : slots_) {
      if (slot.id) manager_->OnClose(*slot.id, "fuzz input done");
    }
    manager_->Stop();
    RunPosted();
    chain_.RemoveObserver(&watch_);
  }

  void Event(FuzzedDataProvider& in) {
    Slot& slot = slots_[in.ConsumeBool() ? 1 : 0];
    const int kind = in.ConsumeIntegralInRange<int>(0, 10);
    if (kind == 10) {  // the disk fails the next commit
      if (in.ConsumeIntegralInRange<int>(0, 15) == 0) store_.FailNextCommits(1);
      return;
    }
    if (kind == 8) {  // tick
      clock_.Advance(kTickMs);
      manager_->Tick();
      Settle();
      return;
    }
    if (kind == 9) {  // hang up
      if (slot.id) {
        closed_.insert(*slot.id);
        manager_->OnClose(*std::exchange(slot.id, std::nullopt), "closed by peer");
        Settle();
      }
      return;
    }
    if (!slot.id && !Open(slot)) return;
    const bool fork_side = in.ConsumeBool();
    const auto& branch = world_.Branch(fork_side);
    const std::size_t from = in.ConsumeIntegralInRange<std::size_t>(1, branch.size() - 1);
    const std::size_t count =
        std::min(in.ConsumeIntegralInRange<std::size_t>(1, 12), branch.size() - from);
    switch (kind) {
      case 0: {
        p2p::Headers headers;
        for (std::size_t i = from; i < from + count; ++i) {
          headers.headers.push_back(HashedHeader{branch[i].header, branch[i].hash});
        }
        Send(slot, p2p::Encode(headers));
        break;
      }
      case 1: {
        p2p::Blocks blocks;
        blocks.blocks.assign(branch.begin() + static_cast<std::ptrdiff_t>(from),
                             branch.begin() + static_cast<std::ptrdiff_t>(from + count));
        Send(slot, p2p::Encode(blocks));
        break;
      }
      case 2:
        Send(slot, p2p::Encode(p2p::BlockMsg{branch[from]}));
        break;
      case 3:
        Send(slot, p2p::Encode(p2p::BlockMsg{world_.invalid[in.ConsumeIntegralInRange<std::size_t>(
                       0, world_.invalid.size() - 1)]}));
        break;
      case 4:
      case 5:
        Answer(slot);
        break;
      case 6: {
        const std::vector<Hash32> locator{branch[from].hash, world_.trunk[0].hash};
        switch (in.ConsumeIntegralInRange<int>(0, 2)) {
          case 0:
            Send(slot, p2p::Encode(p2p::GetHeaders{locator, static_cast<std::uint32_t>(count)}));
            break;
          case 1:
            Send(slot, p2p::Encode(p2p::GetBlocks{locator, static_cast<std::uint32_t>(count)}));
            break;
          default:
            Send(slot, p2p::Encode(p2p::GetData{{branch[from].hash}}));
            break;
        }
        break;
      }
      default: {
        std::string text = in.ConsumeRandomLengthString(600);
        if (!text.empty()) Send(slot, std::move(text));
        break;
      }
    }
  }

  // An honest peer holding the whole world answers what it was asked.
  void Answer(Slot& slot) {
    slot.honest_answers = true;
    for (const p2p::Message& asked : link_.TakeSent(*slot.id)) {
      if (!slot.id) return;
      if (const auto* m = std::get_if<p2p::GetHeaders>(&asked)) {
        Send(slot, p2p::Encode(HeadersAfter(m->locator, m->limit)));
      } else if (const auto* m = std::get_if<p2p::GetData>(&asked)) {
        p2p::Blocks blocks;
        for (const Hash32& hash : m->hashes) {
          if (const Block* b = world_.Find(hash)) blocks.blocks.push_back(*b);
        }
        Send(slot, p2p::Encode(blocks));
      } else if (const auto* m = std::get_if<p2p::GetBlocks>(&asked)) {
        p2p::Blocks blocks;
        for (const HashedHeader& h : HeadersAfter(m->locator, m->limit).headers) {
          blocks.blocks.push_back(*world_.Find(h.hash));
        }
        Send(slot, p2p::Encode(blocks));
      } else if (const auto* m = std::get_if<p2p::Ping>(&asked)) {
        Send(slot, p2p::Encode(p2p::Pong{m->nonce}));
      }
    }
  }

  // The best branch's headers after the first locator entry on it.
  p2p::Headers HeadersAfter(const std::vector<Hash32>& locator, std::uint32_t limit) const {
    p2p::Headers out;
    const auto& best = world_.fork;
    std::size_t start = 0;
    for (const Hash32& hash : locator) {
      bool found = false;
      for (std::size_t i = 0; i < best.size(); ++i) {
        if (best[i].hash == hash) {
          start = i + 1;
          found = true;
          break;
        }
      }
      if (found) break;
    }
    for (std::size_t i = start; i < best.size() && out.headers.size() < limit; ++i) {
      out.headers.push_back(HashedHeader{best[i].header, best[i].hash});
    }
    return out;
  }

  // After the events: whatever happened, the chain is whole and valid.
  // Then a new peer that holds the whole world connects, claims the fork's
  // tip and answers everything it is asked, as the timers run: the node
  // must end on the fork's tip (nothing the earlier peers did may keep it
  // from syncing from an honest one).
  void Finish(Reach& reach) {
    CheckActiveChain(chain_, &world_.params);
    Slot& honest = slots_[2];
    honest.address = "198.51.100.9";
    honest.node_id = "00000000000000c3";
    honest.hello = 0;
    opens_ = 0;
    FUZZ_CHECK(Open(honest));
    for (int round = 0; round < 64 && chain_.Tip().hash() != world_.fork.back().hash; ++round) {
      if (!honest.id) break;
      Answer(honest);
      clock_.Advance(1000);
      manager_->Tick();
      Settle();
    }
    // After a failed commit the chain takes no more blocks (the node stops):
    // the honest peer cannot help, and need not.
    if (!chain_.Failed()) {
      FUZZ_CHECK(honest.id.has_value());
      FUZZ_CHECK(chain_.Tip().hash() == world_.fork.back().hash);
    }
    CheckActiveChain(chain_, &world_.params);
    FUZZ_CHECK(world_.invalid_hashes.count(chain_.Tip().hash()) == 0);
    for (std::uint64_t h = 0; h <= chain_.Tip().height(); ++h) {
      FUZZ_CHECK(world_.invalid_hashes.count(*chain_.HashAtHeight(h)) == 0);
    }
    const AcceptCounts counts = chain_.GetAcceptCounts();
    const auto of = [&](AcceptStatus s) { return counts.by_status[static_cast<std::size_t>(s)]; };
    reach.accepted = of(AcceptStatus::kNewTip) > 0;
    reach.waited = of(AcceptStatus::kPending) > 0 || of(AcceptStatus::kUnknownParent) > 0;
    reach.reorg = watch_.reorg;
    reach.headers = headers_ahead_;
    reach.capped = of(AcceptStatus::kPending) > 0 && chain_.PendingCount() >= kMaxPending;
    reach.store_failed = chain_.Failed();
  }

 private:
  bool Open(Slot& slot) {
    if (opens_ >= kMaxOpens) return false;
    ++opens_;
    const p2p::PeerId id = next_id_++;
    slot.id = id;
    slot.honest_answers = false;
    manager_->OnOpen(id, slot.direction, slot.address, static_cast<std::uint16_t>(40000 + id),
                     slot.dialed);
    p2p::Hello hello;
    hello.genesis = chain_.GenesisHash();
    const ChainTip ours = chain_.Tip();
    if (slot.hello == 2) {
      hello.height = ours.height();
      hello.tip = ours.hash();
      hello.work = ours.work;
    } else {
      const std::vector<Block>& branch = slot.hello == 0 ? world_.fork : world_.trunk;
      hello.height = branch.back().header.height;
      hello.tip = branch.back().hash;
      hello.work = World::TipWork(branch);
    }
    hello.port = 5002;
    hello.agent = "fuzz-peer/1";
    hello.node_id = slot.node_id;
    Send(slot, p2p::Encode(hello));
    return slot.id.has_value();
  }

  void Send(Slot& slot, std::string text) {
    if (!slot.id) return;
    manager_->OnMessage(*slot.id, std::move(text));
    Settle();
  }

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
    if (chain_.HeaderCount() > chain_.BlockCount() + chain_.PendingCount()) headers_ahead_ = true;
  }

  void RunPosted() {
    io_.restart();
    io_.poll();
  }

  static ChainOptions Options() {
    ChainOptions options;
    options.max_pending = kMaxPending;  // small, so that the cap is reached
    return options;
  }

  const World& world_;
  MemoryBlockStore memory_;
  FaultInjectingStore store_{memory_};
  ChainState chain_;
  ManualClock clock_;
  ReorgWatch watch_;
  boost::asio::io_context io_;
  FakeLink link_;
  std::optional<p2p::PeerManager> manager_;  // after everything it uses
  Slot slots_[3];                            // peer A, peer B, and the honest peer of Finish
  std::set<p2p::PeerId> closed_;
  p2p::PeerId next_id_ = 1;
  std::size_t opens_ = 0;
  bool headers_ahead_ = false;
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
  static const bool stats = std::getenv("POWCHAIN_FUZZ_STATS") != nullptr;
  const World& world = TheWorld();
  FuzzedDataProvider in(data, size);
  Reach reach;
  {
    Session session(world, in);
    for (std::size_t i = 0; i < kMaxEvents && in.remaining_bytes() > 0; ++i) session.Event(in);
    session.Finish(reach);
  }
  if (stats) {
    std::fprintf(stderr, "reach: accepted=%d waited=%d reorg=%d headers=%d capped=%d failed=%d\n",
                 reach.accepted, reach.waited, reach.reorg, reach.headers, reach.capped,
                 reach.store_failed);
  }
  return 0;
}
