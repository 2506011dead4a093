// What the peer-message targets share: a clock that moves only when told,
// a fake link that checks and keeps what the PeerManager sends, and the
// check that the active chain is whole and valid.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/difficulty.h"
#include "consensus/validation.h"
#include "fuzz_check.h"
#include "p2p/peer_link.h"
#include "p2p/protocol.h"
#include "util/clock.h"

namespace powchain::fuzz {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::uint64_t now) : now_(now) {}
  std::uint64_t NowMs() const override { return now_; }
  void Advance(std::uint64_t ms) { now_ += ms; }

 private:
  std::uint64_t now_;
};

// POWCHAIN_FUZZ_LOG=1 in the environment: the manager's log and every
// send, close and dial go to stderr (for reading what an input does).
inline bool Verbose() {
  static const bool verbose = std::getenv("POWCHAIN_FUZZ_LOG") != nullptr;
  return verbose;
}

// Records closes; checks that whatever the manager sends decodes, and keeps
// the decoded messages per peer (the last 16) for a harness that answers
// them as an honest peer would.
class FakeLink final : public p2p::PeerLink {
 public:
  bool Send(p2p::PeerId id, std::string text) override {
    if (Verbose()) std::fprintf(stderr, "send %llu: %.300s\n", Id(id), text.c_str());
    auto decoded = p2p::Decode(text);
    FUZZ_CHECK(std::holds_alternative<p2p::Message>(decoded));
    auto& kept = sent_[id];
    if (kept.size() == 16) kept.erase(kept.begin());
    kept.push_back(std::get<p2p::Message>(std::move(decoded)));
    return true;
  }
  void Close(p2p::PeerId id, const std::string& reason) override {
    if (Verbose()) std::fprintf(stderr, "close %llu: %s\n", Id(id), reason.c_str());
    closed_.push_back(id);
  }
  void Dial(const PeerUrl& url) override {
    if (Verbose()) std::fprintf(stderr, "dial %s\n", url.ToString().c_str());
  }

  std::vector<p2p::PeerId> TakeClosed() { return std::exchange(closed_, {}); }
  // The messages sent to `id` since the last call, oldest first.
  std::vector<p2p::Message> TakeSent(p2p::PeerId id) {
    auto it = sent_.find(id);
    if (it == sent_.end()) return {};
    std::vector<p2p::Message> out = std::move(it->second);
    sent_.erase(it);
    return out;
  }

 private:
  static unsigned long long Id(p2p::PeerId id) { return id; }
  std::vector<p2p::PeerId> closed_;
  std::map<p2p::PeerId, std::vector<p2p::Message>> sent_;
};

// The active chain links up from genesis, its tip is the tip, and, with
// `params`, every block on it passes every consensus rule against its
// parent (future drift aside): no input may make an invalid block active.
inline void CheckActiveChain(const ChainState& chain, const Params* params = nullptr) {
  const ChainTip tip = chain.Tip();
  std::optional<Block> prev;
  std::vector<std::uint64_t> times;  // newest last
  for (std::uint64_t h = 0; h <= tip.height(); ++h) {
    const std::optional<Hash32> hash = chain.HashAtHeight(h);
    FUZZ_CHECK(hash.has_value());
    const auto block = chain.BlockByHash(*hash);
    FUZZ_CHECK(block.ok() && block->has_value());
    const Block& b = **block;
    FUZZ_CHECK(b.header.height == h);
    if (prev) {
      FUZZ_CHECK(b.header.last_hash == prev->hash);
      if (params != nullptr) {
        std::vector<std::uint64_t> window;
        for (auto it = times.rbegin(); it != times.rend() && window.size() < params->mtp_window;
             ++it) {
          window.push_back(*it);
        }
        const ParentContext parent{prev->header, prev->hash, MedianTimePast(window)};
        const std::uint64_t never_late =
            std::numeric_limits<std::uint64_t>::max() - params->max_future_drift_ms;
        FUZZ_CHECK(CheckBlock(b, parent, never_late, *params).ok());
      }
    }
    times.push_back(b.header.timestamp);
    prev = b;
  }
  FUZZ_CHECK(prev && prev->hash == tip.hash());
}

}  // namespace powchain::fuzz
