// Floods from peers against a real node: the per-peer rate limits drop the
// flooding peer and refuse its address for a while (loopback included, with
// --ban-loopback), other peers and the HTTP API carry on, and once the
// refusal lapses a valid block from the same address is accepted.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "consensus/genesis.h"
#include "node_process.h"
#include "primitives/json.h"
#include "test_peer.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

const Params kRegtest = Params::Regtest();

class PeerFloodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = NodeProcess::StartNode(
        dir_.path(), {"--ban-loopback", "--ban-seconds", "2", "--peer-msg-rate", "100",
                      "--peer-request-rate", "10"});
    ASSERT_TRUE(node_->WaitReady(node_->http_port())) << node_->Log();
    genesis_ = MakeGenesis(kRegtest);
    tip_before_ = Tip();
  }
  void TearDown() override {
    EXPECT_TRUE(node_->Running()) << node_->Log();
    if (HasFailure()) std::printf("--- node log ---\n%s\n", node_->Log().c_str());
  }

  std::string Tip() const {
    auto status = ParseJson(node_->Get("/status").body);
    if (!status.ok() || status->Find("tip") == nullptr) return "";
    return status->Find("tip")->as_string();
  }
  // True when a fresh connection from this address is refused: the node
  // sends an error instead of its hello and closes.
  bool Refused() {
    TestPeer peer;
    if (!peer.Connect(node_->p2p_port())) return false;
    const auto text = peer.ReadText();
    return text && text->find("refused") != std::string::npos && peer.WaitClosed();
  }
  // After the refusal lapses, a block mined on the node's tip and sent by a
  // peer from the same address becomes the tip.
  void ValidBlockAcceptedAfterwards() {
    std::unique_ptr<TestPeer> peer;
    ASSERT_TRUE(WaitUntil([&] {
      peer = std::make_unique<TestPeer>();
      return peer->Handshake(node_->p2p_port(), genesis_.hash).has_value();
    })) << "the address stayed refused";
    const std::vector<Block> chain = ParseAndCheckChain(node_->Get("/blocks").body, kRegtest);
    test::ChainBuilder builder(kRegtest, chain);
    const auto now =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    const Block b = builder.Add(now - chain.back().header.timestamp, "\"after the flood\"");
    peer->Send(p2p::BlockMsg{b});
    ASSERT_TRUE(WaitUntil([&] { return Tip() == HexEncode(b.hash); })) << node_->Log();
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  Block genesis_;
  std::string tip_before_;
};

TEST_F(PeerFloodTest, AMessageFloodDropsAndRefusesThePeer) {
  // A quiet peer on another connection is not affected.
  TestPeer quiet;
  ASSERT_TRUE(quiet.Handshake(node_->p2p_port(), genesis_.hash, "00000000000000aa").has_value());

  TestPeer flooder;
  ASSERT_TRUE(flooder.Handshake(node_->p2p_port(), genesis_.hash).has_value());
  for (std::uint64_t i = 1; i <= 2000; ++i) flooder.Send(p2p::Ping{i});
  const auto error = flooder.Await<p2p::ErrorMsg>();
  ASSERT_TRUE(error.has_value()) << node_->Log();
  EXPECT_EQ(error->reason, "message flood: over 100 messages a second (200 at once)");
  EXPECT_TRUE(flooder.WaitClosed());
  EXPECT_TRUE(Refused());

  // The node stays up, its chain unchanged, and still answers the quiet
  // peer and HTTP.
  EXPECT_EQ(Tip(), tip_before_);
  EXPECT_EQ(node_->Get("/status").status, 200);
  EXPECT_FALSE(quiet.closed());
  ValidBlockAcceptedAfterwards();
}

TEST_F(PeerFloodTest, AGetblocksFloodDropsAndRefusesThePeer) {
  TestPeer flooder;
  ASSERT_TRUE(flooder.Handshake(node_->p2p_port(), genesis_.hash).has_value());
  p2p::GetBlocks ask;
  ask.locator = {genesis_.hash};
  ask.limit = 500;
  for (int i = 0; i < 100; ++i) flooder.Send(ask);
  const auto error = flooder.Await<p2p::ErrorMsg>();
  ASSERT_TRUE(error.has_value()) << node_->Log();
  EXPECT_EQ(error->reason,
            "getblocks flood: over 10 requests for headers or blocks a second (20 at once)");
  EXPECT_TRUE(flooder.WaitClosed());
  EXPECT_TRUE(Refused());
  EXPECT_EQ(Tip(), tip_before_);
  ValidBlockAcceptedAfterwards();
}

TEST_F(PeerFloodTest, GetblocksWithinTheLimitAreAllAnswered) {
  TestPeer peer;
  ASSERT_TRUE(peer.Handshake(node_->p2p_port(), genesis_.hash).has_value());
  p2p::GetBlocks ask;
  ask.locator = {genesis_.hash};
  ask.limit = 500;
  for (int i = 0; i < 20; ++i) peer.Send(ask);  // the whole burst
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(peer.Await<p2p::Blocks>().has_value()) << "answer " << i << "\n" << node_->Log();
  }
  peer.Send(p2p::Ping{42});
  const auto pong = peer.Await<p2p::Pong>();
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->nonce, 42u);
}

}  // namespace
}  // namespace powchain::itest
