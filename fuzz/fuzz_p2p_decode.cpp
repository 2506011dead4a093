// One peer message from outside: p2p::Decode.
//
// Properties: Decode never throws; a message that decodes is within
// ProtocolLimits, and Encode of it decodes again to a message of the same
// type that encodes to the same text (protocol.cpp promises
// Decode(Encode(m)) == m for every message within the limits).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "fuzz_check.h"
#include "p2p/protocol.h"
#include "util/url.h"

namespace powchain::fuzz {
namespace {

void CheckLimits(const p2p::Message& message) {
  using p2p::ProtocolLimits;
  if (const auto* m = std::get_if<p2p::Hello>(&message)) {
    FUZZ_CHECK(m->agent.size() <= ProtocolLimits::kMaxAgentLength);
    FUZZ_CHECK(!m->port || *m->port != 0);
  } else if (const auto* m = std::get_if<p2p::GetBlocks>(&message)) {
    FUZZ_CHECK(!m->locator.empty() && m->locator.size() <= ProtocolLimits::kMaxLocator);
    FUZZ_CHECK(m->limit >= 1);
  } else if (const auto* m = std::get_if<p2p::Blocks>(&message)) {
    FUZZ_CHECK(m->blocks.size() <= ProtocolLimits::kMaxBlocksPerMessage);
  } else if (const auto* m = std::get_if<p2p::Peers>(&message)) {
    FUZZ_CHECK(m->peers.size() <= ProtocolLimits::kMaxPeersPerMessage);
    // Each address is kept in its canonical form.
    for (const std::string& peer : m->peers) {
      const Result<PeerUrl> url = ParsePeerUrl(peer);
      FUZZ_CHECK(url.ok() && url->ToString() == peer);
    }
  } else if (const auto* m = std::get_if<p2p::ErrorMsg>(&message)) {
    FUZZ_CHECK(m->reason.size() <= ProtocolLimits::kMaxReasonLength);
  }
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;

  auto decoded = p2p::Decode(AsText(data, size));
  const auto* message = std::get_if<p2p::Message>(&decoded);
  if (message == nullptr) {
    FUZZ_CHECK(!std::get<p2p::DecodeFailure>(decoded).message.empty());
    return 0;
  }
  CheckLimits(*message);

  const std::string text = p2p::Encode(*message);
  auto again = p2p::Decode(text);
  const auto* second = std::get_if<p2p::Message>(&again);
  FUZZ_CHECK(second != nullptr);
  FUZZ_CHECK(second->index() == message->index());
  FUZZ_CHECK(p2p::Encode(*second) == text);
  return 0;
}
