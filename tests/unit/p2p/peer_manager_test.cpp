// The peer manager's behaviour without sockets: a fake link records what it
// sends, and the tests play the peers' side by calling the transport events.
#include "p2p/peer_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "consensus/genesis.h"
#include "crypto/schnorr.h"
#include "primitives/transaction.h"
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
  EXPECT_TRUE(link_.To<GetHeaders>(1).empty());  // equal work: nothing to fetch
  EXPECT_TRUE(link_.To<GetData>(1).empty());
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
  future.version = kProtocolVersion + 1;
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

// Transactions to relay are gathered: a burst of 250 costs a peer three
// txs messages (two full ones at once, the rest after tx_relay_delay), not
// 250 messages that would run into its message rate; a lone transaction goes
// out as one tx message; a version-2 peer gets none.
TEST_F(PeerManagerTest, RelayedTransactionsGoOutInBatches) {
  options_.tx_relay_delay = std::chrono::milliseconds(300);
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work));
  Hello old = PeerHello(MakeGenesis(params_), chain_.Tip().work, "00000000000000cd");
  old.version = 2;
  Connect(2, old);
  ASSERT_EQ(manager_->ConnectedCount(), 2u);
  const XOnlyPubKey key = PublicKeyOf(SecretKey::Generate());
  auto make_tx = [&](std::uint32_t i) {
    auto tx = std::make_shared<Transaction>();
    tx->inputs.push_back(TxIn{OutPoint{Hash32{}, i}, {}});
    tx->outputs.push_back(MakeTxOut("powrt", key, 1000 + i));
    return TxRef(tx);
  };
  for (std::uint32_t i = 0; i < 250; ++i) {
    const TxRef tx = make_tx(i);
    manager_->OnTxAccepted(tx, ComputeTxid(*tx), 0);
  }
  RunRelays();
  ASSERT_EQ(link_.To<Txs>(1).size(), 2u) << "the full batches go at once";
  io_.restart();
  io_.run_for(std::chrono::seconds(5));
  const std::vector<Txs> batches = link_.To<Txs>(1);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].txs.size(), 100u);
  EXPECT_EQ(batches[1].txs.size(), 100u);
  EXPECT_EQ(batches[2].txs.size(), 50u);
  EXPECT_EQ(batches[0].txs[0], *make_tx(0));
  EXPECT_EQ(batches[2].txs[49], *make_tx(249));
  EXPECT_TRUE(link_.To<TxMsg>(1).empty());
  // Relayed once: the same transaction again is not sent again.
  const TxRef again = make_tx(7);
  manager_->OnTxAccepted(again, ComputeTxid(*again), 0);
  const TxRef lone = make_tx(1000);
  manager_->OnTxAccepted(lone, ComputeTxid(*lone), 0);
  io_.restart();
  io_.run_for(std::chrono::seconds(5));
  const std::vector<TxMsg> singles = link_.To<TxMsg>(1);
  ASSERT_EQ(singles.size(), 1u);
  EXPECT_EQ(singles[0].tx, *lone);
  EXPECT_TRUE(link_.To<Txs>(2).empty());
  EXPECT_TRUE(link_.To<TxMsg>(2).empty());
  EXPECT_FALSE(link_.WasClosed(1));
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

TEST_F(PeerManagerTest, ARequestFloodDropsThePeer) {
  options_.request_rate = 2;
  options_.request_burst = 3;
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work), "10.0.0.9");
  // getblocks, getheaders and getdata spend the same tokens.
  Deliver(1, GetBlocks{{chain_.GenesisHash()}, 10});
  Deliver(1, GetHeaders{{chain_.GenesisHash()}, 10});
  Deliver(1, GetData{{chain_.GenesisHash()}});
  clock_.now += 500;  // one more
  Deliver(1, GetHeaders{{chain_.GenesisHash()}, 10});
  EXPECT_FALSE(link_.WasClosed(1));
  EXPECT_EQ(link_.To<Blocks>(1).size(), 2u);
  EXPECT_EQ(link_.To<Headers>(1).size(), 2u);
  // Pings do not spend request tokens.
  for (int i = 0; i < 10; ++i) Deliver(1, Ping{9});
  EXPECT_FALSE(link_.WasClosed(1));
  Deliver(1, GetData{{chain_.GenesisHash()}});
  EXPECT_TRUE(link_.WasClosed(1));
  EXPECT_EQ(link_.To<Blocks>(1).size(), 2u);
  ASSERT_EQ(link_.To<ErrorMsg>(1).size(), 1u);
  EXPECT_EQ(link_.To<ErrorMsg>(1)[0].reason,
            "getdata flood: over 2 requests for headers or blocks a second (3 at once)");
}

TEST_F(PeerManagerTest, HelloTwiceIsAViolation) {
  StartManager();
  const Hello h = PeerHello(MakeGenesis(params_), chain_.Tip().work);
  Connect(1, h);
  EXPECT_FALSE(link_.WasClosed(1));
  Deliver(1, h);
  EXPECT_TRUE(link_.WasClosed(1));
}

std::vector<HashedHeader> HeadersOf(const std::vector<Block>& blocks) {
  std::vector<HashedHeader> out;
  for (const Block& b : blocks) out.push_back(HashedHeader{b.header, b.hash});
  return out;
}

// The blocks of `all` with these hashes, in the order asked.
std::vector<Block> Pick(const std::vector<Block>& all, const std::vector<Hash32>& hashes) {
  std::vector<Block> out;
  for (const Hash32& h : hashes) {
    for (const Block& b : all) {
      if (b.hash == h) out.push_back(b);
    }
  }
  return out;
}

Work WorkOf(const test::ChainBuilder& chain) {
  Work work = 0;
  for (const Block& b : chain.blocks()) work += BlockWork(b.header.difficulty);
  return work;
}

TEST_F(PeerManagerTest, HeadersFirstThenBlocksInBatches) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 10; ++i) theirs.AddSlow("{\"i\":" + std::to_string(i) + "}");
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)));
  // Headers first: no block is asked for before its header is checked.
  std::vector<GetHeaders> asks = link_.To<GetHeaders>(1);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].locator, chain_.Locator());
  EXPECT_EQ(asks[0].limit, options_.headers_batch);
  EXPECT_TRUE(link_.To<GetData>(1).empty());
  Deliver(1, Headers{HeadersOf(blocks)});  // fewer than asked: its whole chain
  EXPECT_EQ(chain_.BestHeader().hash, theirs.tip().hash);
  EXPECT_EQ(chain_.Tip().height(), 0u);
  // Then block data, in batches of sync_batch, two requests in flight.
  std::vector<GetData> data = link_.To<GetData>(1);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].hashes.size(), 4u);
  EXPECT_EQ(data[1].hashes.size(), 4u);
  EXPECT_EQ(data[0].hashes[0], blocks[0].hash);
  EXPECT_EQ(data[1].hashes[0], blocks[4].hash);
  std::size_t answered = 0;
  while (answered < link_.To<GetData>(1).size()) {
    Deliver(1, Blocks{Pick(blocks, link_.To<GetData>(1)[answered].hashes)});
    ++answered;
  }
  EXPECT_EQ(answered, 3u);  // 4 + 4 + 2
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
  EXPECT_FALSE(link_.WasClosed(1));
}

TEST_F(PeerManagerTest, AFullHeadersAnswerAsksForMore) {
  options_.headers_batch = 4;
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 6; ++i) theirs.AddSlow();
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)));
  Deliver(1, Headers{HeadersOf({blocks.begin(), blocks.begin() + 4})});
  std::vector<GetHeaders> asks = link_.To<GetHeaders>(1);
  ASSERT_EQ(asks.size(), 2u);
  EXPECT_EQ(asks[1].locator.front(), blocks[3].hash);  // resume after the last one
  Deliver(1, Headers{HeadersOf({blocks.begin() + 4, blocks.end()})});
  EXPECT_EQ(link_.To<GetHeaders>(1).size(), 2u);  // short: done
  EXPECT_EQ(chain_.BestHeader().hash, theirs.tip().hash);
  EXPECT_FALSE(link_.WasClosed(1));
}

// Block data is fetched from every peer that has shown the chain, each
// asked for other blocks.
TEST_F(PeerManagerTest, FetchesFromSeveralPeersAtOnce) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 24; ++i) theirs.AddSlow();
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs), "0000000000000001"));
  Connect(2, PeerHello(theirs.tip(), WorkOf(theirs), "0000000000000002"));
  Deliver(1, Headers{HeadersOf(blocks)});
  Deliver(2, Headers{HeadersOf(blocks)});
  const std::vector<GetData> one = link_.To<GetData>(1);
  const std::vector<GetData> two = link_.To<GetData>(2);
  ASSERT_EQ(one.size(), 2u);
  ASSERT_EQ(two.size(), 2u);
  std::set<Hash32> asked;
  for (const auto* list : {&one, &two}) {
    for (const GetData& g : *list) {
      for (const Hash32& h : g.hashes) EXPECT_TRUE(asked.insert(h).second) << "asked twice";
    }
  }
  EXPECT_EQ(asked.size(), 16u);
  // Peer 2 answers first: its blocks wait for their parents, then all
  // connect when peer 1's come.
  for (const GetData& g : two) Deliver(2, Blocks{Pick(blocks, g.hashes)});
  EXPECT_EQ(chain_.Tip().height(), 0u);
  EXPECT_EQ(chain_.PendingCount(), 8u);
  for (const GetData& g : one) Deliver(1, Blocks{Pick(blocks, g.hashes)});
  EXPECT_GE(chain_.Tip().height(), 16u);
  // The rest follows.
  for (int round = 0; round < 4; ++round) {
    for (PeerId id : {PeerId{1}, PeerId{2}}) {
      const std::vector<GetData> more = link_.To<GetData>(id);
      for (std::size_t i = 2; i < more.size(); ++i) {
        Deliver(id, Blocks{Pick(blocks, more[i].hashes)});
      }
    }
  }
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
}

// A peer whose headers end short of the work its hello claimed is lying.
TEST_F(PeerManagerTest, APeerWhoseHeadersEndShortOfItsClaimIsPunished) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 3; ++i) theirs.AddSlow();
  Connect(1, PeerHello(theirs.tip(), Work(1) << 200), "10.0.0.7");
  ASSERT_EQ(link_.To<GetHeaders>(1).size(), 1u);
  Deliver(1, Headers{HeadersOf(theirs.WithoutGenesis())});
  EXPECT_TRUE(link_.WasClosed(1));
  ASSERT_EQ(link_.To<ErrorMsg>(1).size(), 1u);
  EXPECT_NE(link_.To<ErrorMsg>(1)[0].reason.find("claimed work"), std::string::npos)
      << link_.To<ErrorMsg>(1)[0].reason;
  manager_->OnOpen(2, Direction::kInbound, "10.0.0.7", 40001, std::nullopt);
  EXPECT_EQ(link_.CloseReason(2), "banned address");
  // An empty answer when it claimed more than we have is the same lie.
  test::ChainBuilder unknown(params_);
  unknown.AddSlow("\"unknown\"");
  Connect(3, PeerHello(unknown.tip(), Work(1) << 200, "00000000000000cc"), "10.0.0.8");
  ASSERT_EQ(link_.To<GetHeaders>(3).size(), 1u);
  Deliver(3, Headers{});
  EXPECT_TRUE(link_.WasClosed(3));
  // A hello that names a tip we know, with more work than it has.
  Connect(4, PeerHello(MakeGenesis(params_), Work(1000), "00000000000000dd"), "10.0.0.9");
  EXPECT_TRUE(link_.WasClosed(4));
}

// A peer on a lighter chain than ours (an honest one) is not punished and
// its headers are not kept.
TEST_F(PeerManagerTest, ALighterChainIsCheckedAndDropped) {
  test::ChainBuilder ours(params_);
  for (int i = 0; i < 5; ++i) ours.AddFast();
  for (const Block& b : ours.WithoutGenesis()) ASSERT_TRUE(chain_.AcceptBlock(b, clock_.now).ok());
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 8; ++i) theirs.AddSlow("\"light\"");
  ASSERT_LT(WorkOf(theirs), chain_.Tip().work);
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)));
  EXPECT_TRUE(link_.To<GetHeaders>(1).empty());             // it claims less than we have
  Deliver(1, Headers{HeadersOf(theirs.WithoutGenesis())});  // sent anyway
  EXPECT_FALSE(link_.WasClosed(1));
  EXPECT_FALSE(chain_.HasHeader(theirs.tip().hash));
  EXPECT_EQ(chain_.HeaderCount(), chain_.BlockCount());
  EXPECT_TRUE(link_.To<GetData>(1).empty());
}

// A chain that proves more work than ours only after more headers than
// are held in full is checked once, then fetched again from the fork and
// added interval by interval as each part matches what was checked.
TEST_F(PeerManagerTest, ADeepForkIsCheckedThenFetchedAgainAndAdded) {
  options_.headers_batch = 4;
  options_.header_limits.checkpoint_interval = 3;
  test::ChainBuilder ours(params_);
  for (int i = 0; i < 8; ++i) ours.AddSlow("\"ours\"");
  for (const Block& b : ours.WithoutGenesis()) ASSERT_TRUE(chain_.AcceptBlock(b, clock_.now).ok());
  StartManager();
  test::ChainBuilder theirs(params_, {ours.blocks().begin(), ours.blocks().begin() + 2});
  for (int i = 0; i < 9; ++i) theirs.AddSlow("\"theirs\"");  // forks at height 1; 10 > 8 blocks
  const std::vector<Block> branch(theirs.blocks().begin() + 2, theirs.blocks().end());
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)));
  auto serve = [&](std::size_t from, std::size_t n) {
    const auto first = branch.begin() + static_cast<std::ptrdiff_t>(std::min(from, branch.size()));
    const auto last =
        branch.begin() + static_cast<std::ptrdiff_t>(std::min(from + n, branch.size()));
    Deliver(1, Headers{HeadersOf({first, last})});
  };
  serve(0, 4);  // heights 2-5: held, then given up (more than 3)
  serve(4, 4);  // heights 6-9: work 20 > ours 18: proved
  EXPECT_EQ(chain_.HeaderCount(), chain_.BlockCount());  // nothing added yet
  std::vector<GetHeaders> asks = link_.To<GetHeaders>(1);
  ASSERT_EQ(asks.size(), 3u);
  EXPECT_EQ(asks.back().locator.front(), ours.blocks()[1].hash);  // again from the fork
  serve(0, 4);
  EXPECT_TRUE(chain_.HasHeader(branch[2].hash));  // the first interval matched
  EXPECT_FALSE(chain_.HasHeader(branch[3].hash));
  serve(4, 4);
  serve(8, 4);
  EXPECT_EQ(chain_.BestHeader().hash, theirs.tip().hash);
  for (std::size_t i = 0; i < link_.To<GetData>(1).size(); ++i) {
    Deliver(1, Blocks{Pick(branch, link_.To<GetData>(1)[i].hashes)});
  }
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
  EXPECT_FALSE(link_.WasClosed(1));
}

TEST_F(PeerManagerTest, ARedownloadThatDiffersIsRefused) {
  options_.headers_batch = 4;
  options_.header_limits.checkpoint_interval = 3;
  options_.max_header_mismatches = 0;
  test::ChainBuilder ours(params_);
  for (int i = 0; i < 4; ++i) ours.AddSlow("\"ours\"");
  for (const Block& b : ours.WithoutGenesis()) ASSERT_TRUE(chain_.AcceptBlock(b, clock_.now).ok());
  StartManager();
  test::ChainBuilder shown(params_);
  for (int i = 0; i < 6; ++i) shown.AddSlow("\"shown\"");
  test::ChainBuilder other(params_);
  for (int i = 0; i < 6; ++i) other.AddSlow("\"other\"");
  Connect(1, PeerHello(shown.tip(), WorkOf(shown)));
  const std::vector<Block> a = shown.WithoutGenesis();
  const std::vector<Block> b = other.WithoutGenesis();
  Deliver(1, Headers{HeadersOf({a.begin(), a.begin() + 4})});
  Deliver(1, Headers{HeadersOf({a.begin() + 4, a.end()})});  // work 14 > 10: proved
  ASSERT_EQ(link_.To<GetHeaders>(1).back().locator.front(), chain_.GenesisHash());
  Deliver(1, Headers{HeadersOf({b.begin(), b.begin() + 4})});  // not what it showed
  EXPECT_EQ(link_.CloseReason(1), "headers changed during redownload");
  EXPECT_FALSE(chain_.HasHeader(b[0].hash));
  EXPECT_FALSE(chain_.HasHeader(a[0].hash));
}

// Once a header chain is the best known, another chain must beat it (not
// only our active tip) to enter the tree: cheap chains cannot pile up.
TEST_F(PeerManagerTest, AChainMustBeatTheBestHeaderToEnterTheTree) {
  StartManager();
  test::ChainBuilder best(params_);
  for (int i = 0; i < 10; ++i) best.AddSlow("\"best\"");
  Connect(1, PeerHello(best.tip(), WorkOf(best), "0000000000000001"));
  Deliver(1, Headers{HeadersOf(best.WithoutGenesis())});
  ASSERT_EQ(chain_.BestHeader().hash, best.tip().hash);
  test::ChainBuilder middle(params_);
  for (int i = 0; i < 6; ++i) middle.AddSlow("\"middle\"");  // more than the tip, less than best
  Connect(2, PeerHello(middle.tip(), WorkOf(middle), "0000000000000002"));
  ASSERT_EQ(link_.To<GetHeaders>(2).size(), 1u);
  Deliver(2, Headers{HeadersOf(middle.WithoutGenesis())});
  EXPECT_FALSE(link_.WasClosed(2));  // honest: its chain has the work it claimed
  EXPECT_FALSE(chain_.HasHeader(middle.blocks()[1].hash));
  EXPECT_TRUE(link_.To<GetData>(2).empty());
}

// Plays an honest peer `id` holding `chain` (genesis first): answers every
// getheaders and getdata sent to it, running the timers between rounds,
// until our tip is the chain's tip or `rounds` pass. Returns whether it got
// there.
bool ServeUntilSynced(PeerManager& manager, FakeLink& link, ManualClock& clock,
                      const ChainState& chain, PeerId id, const std::vector<Block>& blocks,
                      int rounds = 100) {
  std::size_t seen = 0;
  for (int round = 0; round < rounds; ++round) {
    if (chain.Tip().hash() == blocks.back().hash) return true;
    std::vector<Message> asks;
    {
      std::lock_guard lock(link.mu);
      for (; seen < link.sent.size(); ++seen) {
        if (link.sent[seen].first == id) asks.push_back(link.sent[seen].second);
      }
    }
    for (const Message& m : asks) {
      if (const auto* gh = std::get_if<GetHeaders>(&m)) {
        std::size_t start = 1;
        for (const Hash32& h : gh->locator) {
          auto it = std::find_if(blocks.begin(), blocks.end(),
                                 [&](const Block& b) { return b.hash == h; });
          if (it != blocks.end()) {
            start = static_cast<std::size_t>(it - blocks.begin()) + 1;
            break;
          }
        }
        Headers answer;
        for (std::size_t i = start; i < blocks.size() && answer.headers.size() < gh->limit; ++i) {
          answer.headers.push_back(HashedHeader{blocks[i].header, blocks[i].hash});
        }
        manager.OnMessage(id, Encode(answer));
      } else if (const auto* gd = std::get_if<GetData>(&m)) {
        manager.OnMessage(id, Encode(Blocks{Pick(blocks, gd->hashes)}));
      }
    }
    clock.now += 200;
    manager.Tick();
  }
  return chain.Tip().hash() == blocks.back().hash;
}

// Headers without data stay within max_headers_ahead (and one message) of
// their chain's last stored block; header requests wait for the blocks,
// then go on from where they stopped.
TEST_F(PeerManagerTest, HeadersWaitForBlocksWhenTooFarAhead) {
  options_.max_headers_ahead = 5;
  options_.headers_batch = 4;
  options_.sync_batch = 2;
  options_.max_requests_per_peer = 1;
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 12; ++i) theirs.AddSlow();
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)));
  Deliver(1, Headers{HeadersOf({blocks.begin(), blocks.begin() + 4})});
  ASSERT_EQ(link_.To<GetHeaders>(1).size(), 2u);
  Deliver(1, Headers{HeadersOf({blocks.begin() + 4, blocks.begin() + 8})});
  EXPECT_TRUE(chain_.HasHeader(blocks[7].hash));
  EXPECT_EQ(link_.To<GetHeaders>(1).size(), 2u);  // 8 > 0 + 5: paused
  manager_->Tick();
  EXPECT_EQ(link_.To<GetHeaders>(1).size(), 2u);  // still: no block stored yet
  // Two blocks in: header 8 is still more than 5 / 2 above them. All eight
  // in: it is not, and the requests go on.
  Deliver(1, Blocks{Pick(blocks, link_.To<GetData>(1)[0].hashes)});
  manager_->Tick();
  EXPECT_EQ(link_.To<GetHeaders>(1).size(), 2u);
  for (std::size_t i = 1; i < 4; ++i) {
    Deliver(1, Blocks{Pick(blocks, link_.To<GetData>(1)[i].hashes)});
  }
  ASSERT_EQ(chain_.Tip().hash(), blocks[7].hash);
  manager_->Tick();
  const std::vector<GetHeaders> asks = link_.To<GetHeaders>(1);
  ASSERT_EQ(asks.size(), 3u);
  EXPECT_EQ(asks[2].locator.front(), blocks[7].hash);  // from where it stopped
  EXPECT_TRUE(ServeUntilSynced(*manager_, link_, clock_, chain_, 1, theirs.blocks()));
  EXPECT_FALSE(link_.WasClosed(1));
}

// A fork deeper than max_headers_ahead: the heavier chain's headers are
// proved, then added a part at a time, and its blocks fetched although the
// part added so far has less work than our chain (the proof says the rest
// has more). It ends on the heavier chain.
TEST_F(PeerManagerTest, AForkDeeperThanTheHeadersCapHeals) {
  options_.headers_batch = 4;
  options_.header_limits.checkpoint_interval = 3;
  options_.max_headers_ahead = 3;
  options_.sync_batch = 2;
  test::ChainBuilder ours(params_);
  for (int i = 0; i < 12; ++i) ours.AddSlow("\"ours\"");
  for (const Block& b : ours.WithoutGenesis()) ASSERT_TRUE(chain_.AcceptBlock(b, clock_.now).ok());
  StartManager();
  test::ChainBuilder theirs(params_, {ours.blocks().begin(), ours.blocks().begin() + 2});
  for (int i = 0; i < 13; ++i) theirs.AddSlow("\"theirs\"");  // 14 blocks > 12
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)));
  EXPECT_TRUE(ServeUntilSynced(*manager_, link_, clock_, chain_, 1, theirs.blocks()));
  EXPECT_FALSE(link_.WasClosed(1));
  EXPECT_TRUE(chain_.Contains(ours.tip().hash));  // the old branch stays stored
}

// A header too far ahead of our clock is not blamed on the peer; its
// headers are asked for again once it may be in time.
TEST_F(PeerManagerTest, AHeaderFromTheFutureIsAskedForAgainLater) {
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 3; ++i) theirs.AddSlow();
  clock_.now = theirs.tip().header.timestamp - params_.max_future_drift_ms - 1;
  StartManager();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)), "10.0.0.5");
  Deliver(1, Headers{HeadersOf(theirs.WithoutGenesis())});
  EXPECT_FALSE(link_.WasClosed(1));
  EXPECT_FALSE(chain_.HasHeader(theirs.tip().hash));
  manager_->Tick();
  EXPECT_EQ(link_.To<GetHeaders>(1).size(), 1u);  // not yet
  clock_.now += params_.max_future_drift_ms;
  manager_->Tick();
  ASSERT_EQ(link_.To<GetHeaders>(1).size(), 2u);
  Deliver(1, Headers{HeadersOf(theirs.WithoutGenesis())});
  EXPECT_EQ(chain_.BestHeader().hash, theirs.tip().hash);
  EXPECT_FALSE(link_.WasClosed(1));
}

// While the blocks of the best header chain are fetched, its tips are not
// announced; a tip off that chain (mined here) is, at once.
TEST_F(PeerManagerTest, TipsAlongAFetchAreNotAnnouncedOthersAre) {
  StartManager();
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 6; ++i) theirs.AddSlow("\"theirs\"");
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs), "0000000000000001"));
  Connect(2, PeerHello(MakeGenesis(params_), chain_.Tip().work, "0000000000000002"));
  Deliver(1, Headers{HeadersOf(blocks)});
  Deliver(1, Blocks{Pick(blocks, link_.To<GetData>(1)[0].hashes)});
  RunRelays();
  ASSERT_GT(chain_.Tip().height(), 0u);
  EXPECT_TRUE(link_.To<BlockMsg>(2).empty());
  // The peer with the rest goes away; a block mined here on our tip is news.
  manager_->OnClose(1, "gone");
  test::ChainBuilder ours(
      params_, {theirs.blocks().begin(),
                theirs.blocks().begin() + static_cast<std::ptrdiff_t>(chain_.Tip().height() + 1)});
  const Block mined = ours.AddSlow("\"mined here\"");
  ASSERT_TRUE(chain_.AcceptBlock(mined, clock_.now, BlockOrigin::kMined).ok());
  RunRelays();
  ASSERT_EQ(link_.To<BlockMsg>(2).size(), 1u);
  EXPECT_EQ(link_.To<BlockMsg>(2)[0].block, mined);
}

// One `peers` message of 1,000 addresses that never answer: dials in
// progress count against the outbound cap, and learned addresses are
// dialled at a bounded rate.
TEST_F(PeerManagerTest, LearnedAddressesAreDialledWithinTheCapAndRate) {
  options_.max_outbound = 8;
  options_.learned_dial_rate = 1;
  options_.learned_dial_burst = 4;
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work));
  Peers many;
  for (int i = 0; i < 1000; ++i)
    many.peers.push_back("ws://10.1." + std::to_string(i / 250) + "." +
                         std::to_string(i % 250 + 1) + ":7000");
  Deliver(1, many);
  std::set<std::string> dialing;
  std::size_t most = 0;
  for (int second = 0; second < 60; ++second) {
    for (int tick = 0; tick < 5; ++tick) {
      manager_->Tick();
      clock_.now += 200;
    }
    {
      std::lock_guard lock(link_.mu);
      dialing.insert(link_.dialed.begin(), link_.dialed.end());
      link_.dialed.clear();
    }
    most = std::max(most, dialing.size());
    ASSERT_LE(dialing.size(), 8u) << "second " << second;
    // Every 10 s the dials in progress fail (a connect timeout).
    if (second % 10 == 9) {
      for (const std::string& url : dialing) {
        manager_->OnDialFailed(*ParsePeerUrl(url), "timeout");
      }
      dialing.clear();
    }
  }
  EXPECT_EQ(most, 8u);
}

TEST_F(PeerManagerTest, TheBanListIsBounded) {
  options_.max_banned = 3;
  StartManager();
  for (int i = 0; i < 5; ++i) {
    const std::string address = "10.2.0." + std::to_string(i + 1);
    manager_->OnOpen(10 + i, Direction::kInbound, address, 40000, std::nullopt);
    manager_->OnMessage(10 + i, "{not json");
    clock_.now += 1;
  }
  // The three latest are refused; the two whose refusal ended first were
  // forgotten to make room.
  for (int i = 0; i < 5; ++i) {
    const std::string address = "10.2.0." + std::to_string(i + 1);
    manager_->OnOpen(20 + i, Direction::kInbound, address, 40001, std::nullopt);
    EXPECT_EQ(link_.WasClosed(20 + i), i >= 2) << address;
  }
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

TEST_F(PeerManagerTest, ServesHeadersAndAnyStoredBlock) {
  test::ChainBuilder ours(params_);
  for (int i = 0; i < 10; ++i) ours.AddSlow();
  for (const Block& b : ours.WithoutGenesis()) ASSERT_TRUE(chain_.AcceptBlock(b, clock_.now).ok());
  test::ChainBuilder side(params_, {ours.blocks().begin(), ours.blocks().end() - 1});
  side.AddSlow("\"side\"");  // ties our tip: stored on a side branch
  ASSERT_EQ(chain_.AcceptBlock(side.tip(), clock_.now).status, AcceptStatus::kSideBranch);
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), 2));
  Deliver(1, GetHeaders{{ours.blocks()[3].hash, ours.blocks()[0].hash}, 5});
  ASSERT_EQ(link_.To<Headers>(1).size(), 1u);
  const std::vector<HashedHeader> headers = link_.To<Headers>(1)[0].headers;
  ASSERT_EQ(headers.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(headers[i].header, ours.blocks()[4 + i].header);
    EXPECT_EQ(headers[i].hash, ours.blocks()[4 + i].hash);
  }
  // getdata: any branch, in the order asked, up to the first one unknown.
  Deliver(1, GetData{{side.tip().hash, ours.blocks()[2].hash, Hash32{}, ours.blocks()[3].hash}});
  const std::vector<Blocks> answers = link_.To<Blocks>(1);
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_EQ(answers[0].blocks.size(), 2u);
  EXPECT_EQ(answers[0].blocks[0], side.tip());
  EXPECT_EQ(answers[0].blocks[1], ours.blocks()[2]);
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

TEST_F(PeerManagerTest, BlockWithUnknownParentFetchesTheGapByHeaders) {
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work));
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 3; ++i) theirs.AddSlow();
  Deliver(1, BlockMsg{theirs.tip()});
  EXPECT_FALSE(chain_.HasHeader(theirs.tip().hash));  // not kept
  ASSERT_EQ(link_.To<GetHeaders>(1).size(), 1u);
  Deliver(1, Headers{HeadersOf(theirs.WithoutGenesis())});
  ASSERT_EQ(link_.To<GetData>(1).size(), 1u);
  Deliver(1, Blocks{Pick(theirs.WithoutGenesis(), link_.To<GetData>(1)[0].hashes)});
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
}

// Unrequested blocks the chain cannot use (here: siblings far below our
// tip's work, differing only in data) cost the sender its connection once
// they outrun the junk limit; none of them is stored.
TEST_F(PeerManagerTest, UnrequestedJunkCostsTheConnection) {
  options_.junk_rate = 1;
  options_.junk_burst = 10;
  test::ChainBuilder ours(params_);
  for (int i = 0; i < 6; ++i) ours.AddFast();
  for (const Block& b : ours.WithoutGenesis()) ASSERT_TRUE(chain_.AcceptBlock(b, clock_.now).ok());
  StartManager();
  Connect(1, PeerHello(ours.tip(), chain_.Tip().work), "10.0.0.3");
  std::vector<Block> siblings;
  for (int i = 0; i < 20; ++i) {
    test::ChainBuilder b(params_);
    siblings.push_back(b.AddSlow("{\"junk\":" + std::to_string(i) + "}"));
  }
  for (std::size_t i = 0; i < 10; ++i) Deliver(1, BlockMsg{siblings[i]});
  EXPECT_FALSE(link_.WasClosed(1));
  Deliver(1, Blocks{{siblings.begin() + 10, siblings.end()}});  // unrequested too
  EXPECT_TRUE(link_.WasClosed(1));
  ASSERT_EQ(link_.To<ErrorMsg>(1).size(), 1u);
  EXPECT_NE(link_.To<ErrorMsg>(1)[0].reason.find("unrequested blocks"), std::string::npos);
  EXPECT_EQ(chain_.BlockCount(), 7u);
  EXPECT_EQ(chain_.HeaderCount(), 7u);
  EXPECT_EQ(store_.BlockCount(), 7u);
}

TEST_F(PeerManagerTest, HeadersThatNeverConnectCostTheConnection) {
  options_.max_unconnecting_headers = 3;
  StartManager();
  Connect(1, PeerHello(MakeGenesis(params_), chain_.Tip().work), "10.0.0.4");
  test::ChainBuilder theirs(params_);
  for (int i = 0; i < 5; ++i) theirs.AddSlow();
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  for (int i = 0; i < 3; ++i) {
    Deliver(1, Headers{HeadersOf({blocks.begin() + 2, blocks.end()})});
    EXPECT_FALSE(link_.WasClosed(1));
  }
  Deliver(1, Headers{HeadersOf({blocks.begin() + 2, blocks.end()})});
  EXPECT_TRUE(link_.WasClosed(1));
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
  const std::vector<Block> blocks = theirs.WithoutGenesis();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs), "0000000000000001"));
  Deliver(1, Headers{HeadersOf(blocks)});
  Connect(2, PeerHello(theirs.tip(), WorkOf(theirs), "0000000000000002"));
  ASSERT_EQ(link_.To<GetData>(1).size(), 1u);  // every block asked of peer 1
  EXPECT_TRUE(link_.To<GetData>(2).empty());   // nothing left for peer 2
  clock_.now += static_cast<std::uint64_t>(options_.sync_stall_timeout.count());
  manager_->Tick();
  EXPECT_EQ(link_.CloseReason(1), "sync stalled: getdata unanswered");
  manager_->OnClose(1, "sync stalled");
  ASSERT_EQ(link_.To<GetData>(2).size(), 1u);  // the next peer that has them
  Deliver(2, Blocks{Pick(blocks, link_.To<GetData>(2)[0].hashes)});
  EXPECT_EQ(chain_.Tip().hash(), theirs.tip().hash);
}

TEST_F(PeerManagerTest, AnUnansweredGetheadersDropsThePeer) {
  StartManager();
  test::ChainBuilder theirs(params_);
  theirs.AddSlow();
  Connect(1, PeerHello(theirs.tip(), WorkOf(theirs)));
  ASSERT_EQ(link_.To<GetHeaders>(1).size(), 1u);
  clock_.now += static_cast<std::uint64_t>(options_.sync_stall_timeout.count());
  manager_->Tick();
  EXPECT_EQ(link_.CloseReason(1), "sync stalled: getheaders unanswered");
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
