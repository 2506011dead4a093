// The peer manager's behaviour without sockets: a fake link records what it
// sends, and the tests play the peers' side by calling the transport events.
#include "p2p/peer_manager.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "consensus/genesis.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::p2p {
namespace {

class ManualClock final : public Clock {
 public:
  std::uint64_t NowMs() const override { return now; }
  std::uint64_t now = 1ull << 41;  // well after every test block's timestamp
};

class FakeLink final : public PeerLink {
 public:
  bool Send(PeerId id, std::string text) override {
    std::lock_guard lock(mu);
    auto decoded = Decode(text);
    EXPECT_TRUE(std::holds_alternative<Message>(decoded)) << text.substr(0, 200);
    if (auto* m = std::get_if<Message>(&decoded)) sent.emplace_back(id, std::move(*m));
    return true;
  }
  void Close(PeerId id, const std::string& reason) override {
    std::lock_guard lock(mu);
    closed.emplace_back(id, reason);
  }
  void Dial(const PeerUrl& url) override {
    std::lock_guard lock(mu);
    dialed.push_back(url.ToString());
  }

  // Messages of type T sent to `id`, in order.
  template <typename T>
  std::vector<T> To(PeerId id) {
    std::lock_guard lock(mu);
    std::vector<T> out;
    for (auto& [to, m] : sent) {
      if (to == id && std::holds_alternative<T>(m)) out.push_back(std::get<T>(m));
    }
    return out;
  }
  bool WasClosed(PeerId id) {
    std::lock_guard lock(mu);
    for (auto& [c, reason] : closed) {
      if (c == id) return true;
    }
    return false;
  }
  std::string CloseReason(PeerId id) {
    std::lock_guard lock(mu);
    for (auto& [c, reason] : closed) {
      if (c == id) return reason;
    }
    return "";
  }

  std::mutex mu;
  std::vector<std::pair<PeerId, Message>> sent;
  std::vector<std::pair<PeerId, std::string>> closed;
  std::vector<std::string> dialed;
};

class PeerManagerTest : public ::testing::Test {
 protected:
  PeerManagerTest() : params_(test::TinyParams()), chain_(params_, store_) {
    EXPECT_TRUE(chain_.Load().ok());
    options_.agent = "test/1";
    options_.listen_port = 5001;
    options_.sync_batch = 4;
  }

  void StartManager(std::vector<PeerUrl> peers = {}) {
    manager_ = std::make_unique<PeerManager>(chain_, clock_, io_, options_);
    manager_->Start(link_, peers);
  }

  // A peer's hello: our network, `work` and `height`, its own node id.
  Hello PeerHello(const Block& tip, const Work& work,
                  const std::string& node_id = "00000000000000ab") {
    Hello h;
    h.genesis = chain_.GenesisHash();
    h.height = tip.header.height;
    h.tip = tip.hash;
    h.work = work;
    h.port = 5002;
    h.agent = "peer/1";
    h.node_id = node_id;
    return h;
  }
  void Connect(PeerId id, const Hello& hello, const std::string& address = "127.0.0.1",
               Direction direction = Direction::kInbound) {
    manager_->OnOpen(id, direction, address, 40000, std::nullopt);
    manager_->OnMessage(id, Encode(hello));
  }
  void Deliver(PeerId id, const Message& m) { manager_->OnMessage(id, Encode(m)); }
  void RunRelays() {
    io_.restart();
    io_.poll();
  }

  Params params_;
  MemoryBlockStore store_;
  ChainState chain_;
  ManualClock clock_;
  boost::asio::io_context io_;
  FakeLink link_;
  PeerManagerOptions options_;
  std::unique_ptr<PeerManager> manager_;
};

TEST_F(PeerManagerTest, SendsHelloAndCompletesTheHandshake) {
  StartManager();
  manager_->OnOpen(1, Direction::kInbound, "127.0.0.1", 40000, std::nullopt);
  const std::vector<Hello> hellos = link_.To<Hello>(1);
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].genesis, chain_.GenesisHash());
  EXPECT_EQ(hellos[0].tip, chain_.Tip().hash());
  EXPECT_EQ(hellos[0].work, chain_.Tip().work);
  EXPECT_EQ(hellos[0].port, 5001);
  EXPECT_EQ(hellos[0].agent, "test/1");
  EXPECT_EQ(hellos[0].node_id, manager_->node_id());
  EXPECT_EQ(manager_->ConnectedCount(), 0u);
  Deliver(1, PeerHello(MakeGenesis(params_), chain_.Tip().work));
  EXPECT_EQ(manager_->ConnectedCount(), 1u);
  EXPECT_EQ(link_.To<GetPeers>(1).size(), 1u);
  EXPECT_TRUE(link_.To<GetBlocks>(1).empty());  // equal work: nothing to fetch
  const std::vector<PeerSnapshot> peers = manager_->Peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].url, "ws://127.0.0.1:5002");
  EXPECT_EQ(peers[0].agent, "peer/1");
  EXPECT_EQ(peers[0].state, "connected");
}

TEST_F(PeerManagerTest, AnotherNetworkOrVersionEndsTheConnectionWithoutBan) {
  StartManager();
  Hello other = PeerHello(MakeGenesis(params_), 1);
  other.genesis[0] ^= 1;
  Connect(1, other, "10.0.0.1");
  EXPECT_TRUE(link_.WasClosed(1));
  ASSERT_EQ(link_.To<ErrorMsg>(1).size(), 1u);
  EXPECT_NE(link_.To<ErrorMsg>(1)[0].reason.find("genesis"), std::string::npos);
  Hello future = PeerHello(MakeGenesis(params_), 1, "00000000000000cd");
  future.version = 2;
  Connect(2, future, "10.0.0.1");
  EXPECT_TRUE(link_.WasClosed(2));
  // Not punished: the same address may connect again.
  manager_->OnOpen(3, Direction::kInbound, "10.0.0.1", 40000, std::nullopt);
  EXPECT_FALSE(link_.WasClosed(3));
}

TEST_F(PeerManagerTest, ViolationsDisconnectAndBanExceptLoopback) {
  StartManager();
  manager_->OnOpen(1, Direction::kInbound, "10.0.0.9", 40000, std::nullopt);
  manager_->OnMessage(1, "{not json");
  EXPECT_TRUE(link_.WasClosed(1));
  ASSERT_EQ(link_.To<ErrorMsg>(1).size(), 1u);
  EXPECT_NE(link_.To<ErrorMsg>(1)[0].reason.find("malformed"), std::string::npos);
  // The address is refused for a while...
  manager_->OnOpen(2, Direction::kInbound, "10.0.0.9", 40001, std::nullopt);
  EXPECT_TRUE(link_.WasClosed(2));
  EXPECT_FALSE(manager_->AddPeer(PeerUrl{"10.0.0.9", 5001}).ok());
  // ...and accepted again after the ban.
  clock_.now += static_cast<std::uint64_t>(options_.ban_duration.count()) + 1;
  manager_->OnOpen(3, Direction::kInbound, "10.0.0.9", 40002, std::nullopt);
  EXPECT_FALSE(link_.WasClosed(3));
  // A loopback peer is only disconnected.
  manager_->OnOpen(4, Direction::kInbound, "127.0.0.1", 40003, std::nullopt);
  Deliver(4, Ping{7});  // before hello
  EXPECT_TRUE(link_.WasClosed(4));
  manager_->OnOpen(5, Direction::kInbound, "127.0.0.1", 40004, std::nullopt);
  EXPECT_FALSE(link_.WasClosed(5));
}

TEST_F(PeerManagerTest, BanLoopbackRefusesLoopbackToo) {
  options_.ban_loopback = true;
  StartManager();
  manager_->OnOpen(1, Direction::kInbound, "127.0.0.1", 40000, std::nullopt);
  Deliver(1, Ping{7});  // before hello
  EXPECT_TRUE(link_.WasClosed(1));
  manager_->OnOpen(2, Direction::kInbound, "127.0.0.1", 40001, std::nullopt);
  EXPECT_TRUE(link_.WasClosed(2));
  EXPECT_EQ(link_.CloseReason(2), "banned address");
}

TEST_F(PeerManagerTest, AMessageFloodDropsAndRefusesThePeer) {
  options_.message_rate = 10;
  options_.message_burst = 20;
  StartManager();
  const Hello h = PeerHello(MakeGenesis(params_), chain_.Tip().work);
  manager_->OnOpen(1, Direction::kInbound, "10.0.0.9", 40000, std::nullopt);
  Deliver(1, h);  // the first of the 20
  // Within the burst, and then at the sustained rate, nothing happens.
  for (int i = 0; i < 19; ++i) Deliver(1, Ping{static_cast<std::uint64_t>(i + 1)});
  for (int i = 0; i < 30; ++i) {
    clock_.now += 100;  // one token a tenth of a second
    Deliver(1, Ping{100});
  }
  EXPECT_FALSE(link_.WasClosed(1));
  EXPECT_EQ(link_.To<Pong>(1).size(), 49u);
  // Two at once when only one token is there: the second is a flood.
  clock_.now += 100;
  Deliver(1, Ping{200});
  Deliver(1, Ping{201});
  EXPECT_TRUE(link_.WasClosed(1));
  EXPECT_EQ(link_.To<Pong>(1).size(), 50u);  // the one over the limit is not answered
  ASSERT_EQ(link_.To<ErrorMsg>(1).size(), 1u);
  EXPECT_EQ(link_.To<ErrorMsg>(1)[0].reason,
            "message flood: over 10 messages a second (20 at once)");
  // Refused for a while.
  manager_->OnOpen(2, Direction::kInbound, "10.0.0.9", 40001, std::nullopt);
  EXPECT_TRUE(link_.WasClosed(2));
  // Other peers are not affected.
  Connect(3, PeerHello(MakeGenesis(params_), chain_.Tip().work, "00000000000000cd"), "10.0.0.10");
  Deliver(3, Ping{5});
  EXPECT_FALSE(link_.WasClosed(3));
  EXPECT_EQ(link_.To<Pong>(3).size(), 1u);
}

TEST_F(PeerManagerTest, AGetblocksFloodDropsThePeer) {
  options_.getblocks_rate = 2;
  options_.getblocks_burst = 3;
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work), "10.0.0.9");
  GetBlocks ask;
  ask.locator = {chain_.GenesisHash()};
  ask.limit = 10;
  for (int i = 0; i < 3; ++i) Deliver(1, ask);
  clock_.now += 500;  // one more
  Deliver(1, ask);
  EXPECT_FALSE(link_.WasClosed(1));
  EXPECT_EQ(link_.To<Blocks>(1).size(), 4u);
  // Pings do not spend getblocks tokens.
  for (int i = 0; i < 10; ++i) Deliver(1, Ping{9});
  EXPECT_FALSE(link_.WasClosed(1));
  Deliver(1, ask);
  EXPECT_TRUE(link_.WasClosed(1));
  EXPECT_EQ(link_.To<Blocks>(1).size(), 4u);
  ASSERT_EQ(link_.To<ErrorMsg>(1).size(), 1u);
  EXPECT_NE(link_.To<ErrorMsg>(1)[0].reason.find("getblocks flood"), std::string::npos);
}

TEST_F(PeerManagerTest, HelloTwiceIsAViolation) {
  StartManager();
  const Hello h = PeerHello(MakeGenesis(params_), chain_.Tip().work);
  Connect(1, h);
  EXPECT_FALSE(link_.WasClosed(1));
  Deliver(1, h);
  EXPECT_TRUE(link_.WasClosed(1));
}

TEST_F(PeerManagerTest, FetchesFromAPeerWithMoreWorkInBatches) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 10; ++i) theirs.AddSlow("{\"i\":" + std::to_string(i) + "}");
  Connect(1, PeerHello(theirs.tip(), Work(1000)));
  std::vector<GetBlocks> asks = link_.To<GetBlocks>(1);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].limit, 4u);
  EXPECT_EQ(asks[0].locator, chain_.Locator());
  // Answer in batches of four, as asked, until the peer has nothing more.
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  std::size_t served = 0;
  while (true) {
    asks = link_.To<GetBlocks>(1);
    const std::vector<Hash32> after = chain_.Locator();
    ASSERT_EQ(asks.back().locator, after);
    Blocks answer;
    for (std::size_t i = served; i < blocks.size() && answer.blocks.size() < 4; ++i) {
      answer.blocks.push_back(blocks[i]);
    }
    served += answer.blocks.size();
    const std::size_t before = asks.size();
    Deliver(1, answer);
    if (answer.blocks.size() < 4) {
      EXPECT_EQ(link_.To<GetBlocks>(1).size(), before);  // a short batch ends the fetch
      break;
    }
    ASSERT_EQ(link_.To<GetBlocks>(1).size(), before + 1);
  }
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
  EXPECT_FALSE(link_.WasClosed(1));
}

// The next getblocks goes out before a full batch is committed (here the
// commit fails, and the request was sent all the same), with the locator
// the chain will have once the batch is in.
TEST_F(PeerManagerTest, AsksForTheNextBatchBeforeCommittingAFullOne) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 12; ++i) theirs.AddSlow("{\"i\":" + std::to_string(i) + "}");
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), Work(1000)));
  ASSERT_EQ(link_.To<GetBlocks>(1).size(), 1u);
  const std::vector<Block> first(blocks.begin(), blocks.begin() + 4);
  Deliver(1, Blocks{first});
  ASSERT_EQ(link_.To<GetBlocks>(1).size(), 2u);
  EXPECT_EQ(link_.To<GetBlocks>(1).back().locator, chain_.Locator());

  const std::vector<Block> second(blocks.begin() + 4, blocks.begin() + 8);
  std::vector<Hash32> hashes;
  for (const Block& b : second) hashes.push_back(b.hash);
  const auto expected = chain_.LocatorWith(first.back().hash, hashes);
  ASSERT_TRUE(expected.has_value());
  store_.FailNextCommits(1);
  Deliver(1, Blocks{second});
  const std::vector<GetBlocks> asks = link_.To<GetBlocks>(1);
  ASSERT_EQ(asks.size(), 3u);
  EXPECT_EQ(asks.back().locator, *expected);
  EXPECT_EQ(asks.back().limit, 4u);
  EXPECT_EQ(chain_.Tip().hash(), first.back().hash);  // the commit failed
  EXPECT_FALSE(link_.WasClosed(1));                   // not the peer's fault
}

// A full batch that moves nothing on (blocks too far in the future: refused,
// not punished) is not followed by an early request for the next one.
TEST_F(PeerManagerTest, NoEarlyRequestAfterABatchThatBroughtNothing) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 12; ++i) theirs.AddSlow("{\"i\":" + std::to_string(i) + "}");
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), Work(1000)));
  const std::vector<Block> first(blocks.begin(), blocks.begin() + 4);
  const std::uint64_t now = clock_.now;
  clock_.now = first.front().header.timestamp - params_.max_future_drift_ms - 1;
  Deliver(1, Blocks{first});  // asked early for the next, then refused them all
  ASSERT_EQ(link_.To<GetBlocks>(1).size(), 2u);
  EXPECT_EQ(chain_.Tip().height(), 0u);
  clock_.now = now;
  // The answer to that request comes (here: the same blocks again, now in
  // time); they are taken, and only then is the next batch asked for.
  Deliver(1, Blocks{first});
  EXPECT_EQ(chain_.Tip().hash(), first.back().hash);
  ASSERT_EQ(link_.To<GetBlocks>(1).size(), 3u);
  EXPECT_EQ(link_.To<GetBlocks>(1).back().locator, chain_.Locator());
  EXPECT_FALSE(link_.WasClosed(1));
}

TEST_F(PeerManagerTest, ServesBlocksAfterTheLocator) {
  test::ChainBuilder ours(params_);
  for (int i = 0; i < 10; ++i) ours.AddSlow();
  for (const Block& b : ours.WithoutGenesis()) ASSERT_TRUE(chain_.AcceptBlock(b, clock_.now).ok());
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), 2));
  Deliver(1, GetBlocks{{ours.blocks()[3].hash, ours.blocks()[0].hash}, 5});
  std::vector<Blocks> answers = link_.To<Blocks>(1);
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_EQ(answers[0].blocks.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(answers[0].blocks[i], ours.blocks()[4 + i]);
  // The answer is capped by max_blocks_per_answer whatever the peer asks.
  Deliver(1, GetBlocks{{ours.blocks()[0].hash}, 4000000000u});
  answers = link_.To<Blocks>(1);
  EXPECT_EQ(answers.back().blocks.size(), 10u);
  // A peer at our tip gets an empty answer.
  Deliver(1, GetBlocks{{ours.tip().hash}, 10});
  EXPECT_TRUE(link_.To<Blocks>(1).back().blocks.empty());
}

TEST_F(PeerManagerTest, InvalidBlockIsPunishedFarFutureIsNot) {
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work), "10.0.0.2");
  test::ChainBuilder b(params_);
  Block future = b.AddSlow();
  // Too far ahead of our clock: refused, not punished.
  clock_.now = future.header.timestamp - params_.max_future_drift_ms - 1;
  Deliver(1, BlockMsg{future});
  EXPECT_FALSE(link_.WasClosed(1));
  EXPECT_FALSE(chain_.Contains(future.hash));
  // Broken proof of work: punished.
  Block bad = future;
  bad.data = "\"changed\"";
  Deliver(1, BlockMsg{bad});
  EXPECT_TRUE(link_.WasClosed(1));
  ASSERT_FALSE(link_.To<ErrorMsg>(1).empty());
  EXPECT_NE(link_.To<ErrorMsg>(1)[0].reason.find("bad-data-hash"), std::string::npos);
}

TEST_F(PeerManagerTest, BlockWithUnknownParentFetchesTheGap) {
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work));
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 3; ++i) theirs.AddSlow();
  Deliver(1, BlockMsg{theirs.tip()});
  EXPECT_EQ(chain_.OrphanCount(), 1u);
  ASSERT_EQ(link_.To<GetBlocks>(1).size(), 1u);
  Deliver(1, Blocks{{theirs.blocks()[1], theirs.blocks()[2]}});
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);  // the orphan connected behind them
}

TEST_F(PeerManagerTest, RelaysNewTipsToEveryPeerButTheSource) {
  StartManager();
  const Work work = chain_.Tip().work;
  Connect(1, PeerHello(MakeGenesis(params_), work, "0000000000000001"));
  Connect(2, PeerHello(MakeGenesis(params_), work, "0000000000000002"));
  Connect(3, PeerHello(MakeGenesis(params_), work, "0000000000000003"));
  test::ChainBuilder b(params_);
  const Block from_peer = b.AddSlow("\"from peer 1\"");
  Deliver(1, BlockMsg{from_peer});
  RunRelays();
  EXPECT_TRUE(link_.To<BlockMsg>(1).empty());
  ASSERT_EQ(link_.To<BlockMsg>(2).size(), 1u);
  EXPECT_EQ(link_.To<BlockMsg>(2)[0].block, from_peer);
  EXPECT_EQ(link_.To<BlockMsg>(3).size(), 1u);
  // A block from elsewhere (mined here) goes to all, once.
  const Block mined = b.AddSlow("\"mined\"");
  ASSERT_TRUE(chain_.AcceptBlock(mined, clock_.now, BlockOrigin::kMined).ok());
  RunRelays();
  EXPECT_EQ(link_.To<BlockMsg>(1).size(), 1u);
  EXPECT_EQ(link_.To<BlockMsg>(2).size(), 2u);
  // A peer that echoes it back causes no second relay.
  Deliver(2, BlockMsg{mined});
  RunRelays();
  EXPECT_EQ(link_.To<BlockMsg>(1).size(), 1u);
  EXPECT_EQ(link_.To<BlockMsg>(3).size(), 2u);
}

TEST_F(PeerManagerTest, DropsAConnectionToItself) {
  const PeerUrl self{"127.0.0.1", 5001};
  StartManager({self});
  ASSERT_EQ(link_.dialed, std::vector<std::string>{"ws://127.0.0.1:5001"});
  manager_->OnOpen(1, Direction::kOutbound, "127.0.0.1", 5001, self);
  Deliver(1, PeerHello(MakeGenesis(params_), chain_.Tip().work, manager_->node_id()));
  EXPECT_EQ(link_.CloseReason(1), "connected to self");
  manager_->OnClose(1, "connected to self");
  clock_.now += 3'600'000;
  manager_->Tick();
  EXPECT_EQ(link_.dialed.size(), 1u);  // never dialled again
}

TEST_F(PeerManagerTest, KeepsOneConnectionPerPair) {
  StartManager();
  // Our id vs the peer's: the connection dialled by the smaller id stays.
  const std::string peer_id = manager_->node_id() < "8" ? "ffffffffffffffff" : "0000000000000000";
  const bool we_are_smaller = manager_->node_id() < peer_id;
  const Hello h = PeerHello(MakeGenesis(params_), chain_.Tip().work, peer_id);
  Connect(1, h, "127.0.0.1", Direction::kInbound);   // dialled by the peer
  Connect(2, h, "127.0.0.1", Direction::kOutbound);  // dialled by us
  const PeerId dropped = we_are_smaller ? 1 : 2;
  const PeerId kept = we_are_smaller ? 2 : 1;
  EXPECT_EQ(link_.CloseReason(dropped), "duplicate connection");
  EXPECT_FALSE(link_.WasClosed(kept));
}

TEST_F(PeerManagerTest, TimesOutHandshakesAndPings) {
  StartManager();
  manager_->OnOpen(1, Direction::kInbound, "127.0.0.1", 40000, std::nullopt);  // never says hello
  Connect(2, PeerHello(MakeGenesis(params_), chain_.Tip().work));
  clock_.now += static_cast<std::uint64_t>(options_.handshake_timeout.count());
  manager_->Tick();
  EXPECT_EQ(link_.CloseReason(1), "handshake timeout");
  EXPECT_FALSE(link_.WasClosed(2));
  clock_.now += static_cast<std::uint64_t>(options_.ping_interval.count());
  manager_->Tick();
  const std::vector<Ping> pings = link_.To<Ping>(2);
  ASSERT_EQ(pings.size(), 1u);
  Deliver(2, Pong{pings[0].nonce});
  clock_.now += static_cast<std::uint64_t>(options_.ping_timeout.count());
  manager_->Tick();
  EXPECT_FALSE(link_.WasClosed(2));  // answered
  ASSERT_EQ(link_.To<Ping>(2).size(), 2u);
  clock_.now += static_cast<std::uint64_t>(options_.ping_timeout.count());
  manager_->Tick();
  EXPECT_EQ(link_.CloseReason(2), "ping timeout");
  // Pings from the peer are answered.
  Connect(3, PeerHello(MakeGenesis(params_), chain_.Tip().work, "0000000000000009"));
  Deliver(3, Ping{42});
  ASSERT_EQ(link_.To<Pong>(3).size(), 1u);
  EXPECT_EQ(link_.To<Pong>(3)[0].nonce, 42u);
}

TEST_F(PeerManagerTest, AStalledFetchMovesToAnotherPeer) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 3; ++i) theirs.AddSlow();
  Connect(1, PeerHello(theirs.tip(), Work(1000), "0000000000000001"));
  Connect(2, PeerHello(theirs.tip(), Work(900), "0000000000000002"));
  ASSERT_EQ(link_.To<GetBlocks>(1).size(), 1u);  // the one with the most work
  EXPECT_TRUE(link_.To<GetBlocks>(2).empty());   // one fetch at a time
  clock_.now += static_cast<std::uint64_t>(options_.sync_stall_timeout.count());
  manager_->Tick();
  EXPECT_EQ(link_.CloseReason(1), "sync stalled");
  manager_->OnClose(1, "sync stalled");
  ASSERT_EQ(link_.To<GetBlocks>(2).size(), 1u);  // the next peer that is ahead
  Deliver(2, Blocks{theirs.WithoutGenesis()});
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
}

TEST_F(PeerManagerTest, RedialsWithBackoff) {
  const PeerUrl peer{"127.0.0.1", 6001};
  StartManager({peer});
  ASSERT_EQ(link_.dialed.size(), 1u);
  for (unsigned failures = 1; failures <= 5; ++failures) {
    manager_->OnDialFailed(peer, "connection refused");
    manager_->Tick();
    EXPECT_EQ(link_.dialed.size(), failures) << "redialled at once after failure " << failures;
    // Backoff: at most min * 2^failures (with jitter below it).
    clock_.now += static_cast<std::uint64_t>(options_.dial_backoff_min.count()) << failures;
    manager_->Tick();
    EXPECT_EQ(link_.dialed.size(), failures + 1) << failures;
  }
}

TEST_F(PeerManagerTest, ExchangesPeerAddresses) {
  StartManager();
  const Work work = chain_.Tip().work;
  Connect(1, PeerHello(MakeGenesis(params_), work, "0000000000000001"));
  Connect(2, PeerHello(MakeGenesis(params_), work, "0000000000000002"), "127.0.0.2");
  Deliver(1, GetPeers{});
  const std::vector<p2p::Peers> replies = link_.To<p2p::Peers>(1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].peers, std::vector<std::string>{"ws://127.0.0.2:5002"});
  // Addresses learned from a peer get dialled.
  Deliver(1, p2p::Peers{{"ws://127.0.0.3:7000", "ws://127.0.0.4:7000"}});
  manager_->Tick();
  EXPECT_EQ(link_.dialed, (std::vector<std::string>{"ws://127.0.0.3:7000", "ws://127.0.0.4:7000"}));
}

}  // namespace
}  // namespace powchain::p2p
