// NodeWatch: what the node publishes on GET /events and keeps for
// GET /reorgs, fed by hand.
#include "node/watch.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "http/events.h"
#include "util/clock.h"
#include "util/hex.h"

namespace powchain {
namespace {

class NodeWatchTest : public ::testing::Test {
 protected:
  NodeWatchTest() {
    hub_.Subscribe([this](const http::EventFrame& frame) {
      frames_.push_back(*frame);
      return true;
    });
  }

  static Hash32 HashOf(std::uint8_t b) {
    Hash32 h{};
    h[0] = b;
    return h;
  }
  static ChainTip TipAt(std::uint64_t height, std::uint8_t id) {
    ChainTip t;
    t.context.header.height = height;
    t.context.header.difficulty = 9;
    t.context.header.timestamp = 1000 + height;
    t.context.hash = HashOf(id);
    return t;
  }

  FixedClock clock_{50'000};
  http::EventHub hub_;
  std::vector<std::string> frames_;
  std::vector<std::size_t> depths_;
  NodeWatch watch_{clock_, hub_, [this](std::size_t d) { depths_.push_back(d); }};
};

TEST_F(NodeWatchTest, ATipChangeIsOneTipEvent) {
  TipChange change;
  change.source = BlockSource(BlockOrigin::kMined);
  change.old_tip = TipAt(4, 4);
  change.new_tip = TipAt(5, 5);
  change.connected = {HashOf(5)};
  Block block;
  block.txs.resize(3);
  const std::vector<Hash32> txids(3);
  change.connected_blocks = {{&block, &txids}};
  watch_.OnTipChanged(change);
  ASSERT_EQ(frames_.size(), 1u);
  EXPECT_EQ(frames_[0], "event: tip\ndata: {\"height\":5,\"hash\":\"" + HexEncode(HashOf(5)) +
                            "\",\"lastHash\":\"" + HexEncode(Hash32{}) +
                            "\",\"timestamp\":1005,\"difficulty\":9,\"txs\":3,\"connected\":1,"
                            "\"source\":\"mined\"}\n\n");
  EXPECT_TRUE(watch_.Reorgs(10).empty());
  EXPECT_TRUE(depths_.empty());
}

TEST_F(NodeWatchTest, AReorganizationIsLoggedAndAnnouncedBeforeItsTip) {
  TipChange change;
  change.old_tip = TipAt(6, 6);
  change.new_tip = TipAt(7, 17);
  change.disconnected = {HashOf(6), HashOf(16)};
  change.connected = {HashOf(15), HashOf(16), HashOf(17)};
  Block first;
  first.header.last_hash = HashOf(4);
  const std::vector<Hash32> none;
  change.connected_blocks = {{&first, &none}};
  watch_.OnTipChanged(change);
  ASSERT_EQ(frames_.size(), 2u);
  EXPECT_EQ(frames_[0].rfind("event: reorg\n", 0), 0u) << frames_[0];
  EXPECT_EQ(frames_[1].rfind("event: tip\n", 0), 0u) << frames_[1];
  const auto reorgs = watch_.Reorgs(10);
  ASSERT_EQ(reorgs.size(), 1u);
  EXPECT_EQ(reorgs[0].time_ms, 50'000u);
  EXPECT_EQ(reorgs[0].fork_height, 4u);
  EXPECT_EQ(reorgs[0].fork, HashOf(4));
  EXPECT_EQ(reorgs[0].disconnected, 2u);
  EXPECT_EQ(reorgs[0].connected, 3u);
  EXPECT_EQ(depths_, std::vector<std::size_t>{2});
  // The log is bounded, newest first.
  for (std::size_t i = 0; i < NodeWatch::kMaxReorgs + 5; ++i) watch_.OnTipChanged(change);
  EXPECT_EQ(watch_.Reorgs(1000).size(), NodeWatch::kMaxReorgs);
  EXPECT_EQ(watch_.ReorgCount(), NodeWatch::kMaxReorgs + 6);
}

TEST_F(NodeWatchTest, ATransactionEntersThePool) {
  auto tx = std::make_shared<Transaction>();
  tx->inputs.resize(2);
  tx->outputs.resize(2);
  tx->outputs[0].amount = 7;
  tx->outputs[1].amount = 5;
  watch_.OnTxAccepted(tx, HashOf(9), 3);
  ASSERT_EQ(frames_.size(), 1u);
  EXPECT_EQ(frames_[0], "event: tx\ndata: {\"txid\":\"" + HexEncode(HashOf(9)) +
                            "\",\"inputs\":2,\"outputs\":2,\"value\":12,\"source\":\"peer\"}\n\n");
}

TEST_F(NodeWatchTest, PeerEventsOnlyWhenTheSetChanges) {
  p2p::PeerSnapshot peer;
  peer.url = "ws://127.0.0.1:5002";
  peer.direction = p2p::Direction::kOutbound;
  peer.agent = "powchain/test";
  peer.state = "connected";
  watch_.Tick({peer});  // the first tick: a peer event and a heartbeat
  ASSERT_EQ(frames_.size(), 2u);
  EXPECT_EQ(frames_[0],
            "event: peer\ndata: {\"connected\":1,\"peers\":[{\"url\":\"ws://127.0.0.1:5002\","
            "\"direction\":\"outbound\",\"agent\":\"powchain/test\"}]}\n\n");
  EXPECT_EQ(frames_[1], ": keep-alive\n\n");
  watch_.Tick({peer});  // nothing changed, no heartbeat due
  EXPECT_EQ(frames_.size(), 2u);
  p2p::PeerSnapshot dialing = peer;
  dialing.state = "dialing";  // not connected: not listed
  watch_.Tick({dialing});
  ASSERT_EQ(frames_.size(), 3u);
  EXPECT_EQ(frames_[2], "event: peer\ndata: {\"connected\":0,\"peers\":[]}\n\n");
}

}  // namespace
}  // namespace powchain
