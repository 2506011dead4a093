// The network plumbing shared by p2p and http: endpoint text, the handler
// guard, the connection deadline, and the listener.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/deadline.h"
#include "net/endpoint.h"
#include "net/guard.h"
#include "net/listener.h"
#include "testutil/wait.h"

namespace powchain::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

TEST(EndpointTextTest, BracketsIpv6) {
  EXPECT_EQ(EndpointText("127.0.0.1", 5001), "127.0.0.1:5001");
  EXPECT_EQ(EndpointText("localhost", 3001), "localhost:3001");
  EXPECT_EQ(EndpointText("::1", 5001), "[::1]:5001");
}

TEST(EndpointTextTest, ShowsMappedIpv4AsIpv4) {
  EXPECT_EQ(AddressText(asio::ip::make_address("::ffff:10.1.2.3")), "10.1.2.3");
  EXPECT_EQ(AddressText(asio::ip::make_address("::1")), "::1");
  EXPECT_EQ(AddressText(asio::ip::make_address("192.168.0.1")), "192.168.0.1");
}

TEST(RunGuardedTest, TurnsExceptionsIntoACall) {
  std::string seen;
  RunGuarded([] { throw std::runtime_error("boom"); }, [&](std::string_view what) { seen = what; });
  EXPECT_EQ(seen, "boom");
  seen.clear();
  RunGuarded([] { throw 42; }, [&](std::string_view what) { seen = what; });
  EXPECT_EQ(seen, "an exception of unknown type");
  bool ran = false;
  seen.clear();
  RunGuarded([&] { ran = true; }, [&](std::string_view what) { seen = what; });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(seen.empty());
}

// Runs `io` on a thread of its own for the life of the object.
class IoThread {
 public:
  IoThread() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// What a connection gives its deadline: an owner for the waits to hold, a
// count of expiries, and the strand both live on.
struct DeadlineOwner {
  explicit DeadlineOwner(asio::io_context& io)
      : strand(asio::make_strand(io)), deadline(strand, [this] {
          fired_at = Deadline::Clock::now();
          ++fired;
        }) {}
  // Runs `f` on the strand and waits until it has run.
  template <typename F>
  void OnStrand(F f) {
    std::atomic<bool> done{false};
    asio::post(strand, [&] {
      f();
      done = true;
    });
    ASSERT_TRUE(testutil::WaitUntil([&] { return done.load(); }));
  }
  asio::any_io_executor strand;
  Deadline deadline;
  Deadline::Clock::time_point fired_at{};  // written on the strand before `fired`
  std::atomic<int> fired{0};
};

TEST(DeadlineTest, FiresOnceAtTheLastArmedTime) {
  IoThread io;
  DeadlineOwner owner(io.io());
  const auto token = std::make_shared<int>(0);
  Deadline::Clock::time_point armed{};
  owner.OnStrand([&] {
    armed = Deadline::Clock::now();
    owner.deadline.Arm(10ms, token);
    owner.deadline.Arm(60ms, token);  // later: the pending wait stays
  });
  // The first wait ends at 10 ms and must wait again, not fire.
  ASSERT_TRUE(testutil::WaitUntil([&] { return owner.fired.load() == 1; }));
  EXPECT_GE(owner.fired_at - armed, 60ms);
  // Re-arming to a later time started no new wait; the re-wait did.
  owner.OnStrand([&] { EXPECT_EQ(owner.deadline.waits_started(), 2u); });
  // Nothing fires twice, and the wait released the owner's token.
  ASSERT_TRUE(testutil::WaitUntil([&] { return token.use_count() == 1; }));
  EXPECT_EQ(owner.fired.load(), 1);
}

TEST(DeadlineTest, AnEarlierArmMovesTheTimer) {
  IoThread io;
  DeadlineOwner owner(io.io());
  const auto token = std::make_shared<int>(0);
  const auto armed = Deadline::Clock::now();
  owner.OnStrand([&] {
    owner.deadline.Arm(std::chrono::hours(1), token);
    owner.deadline.Arm(5ms, token);  // earlier: a new wait
    EXPECT_EQ(owner.deadline.waits_started(), 2u);
  });
  ASSERT_TRUE(testutil::WaitUntil([&] { return owner.fired.load() == 1; }));
  EXPECT_LT(Deadline::Clock::now() - armed, std::chrono::minutes(1));
  // The replaced wait was cancelled: nothing holds the token.
  ASSERT_TRUE(testutil::WaitUntil([&] { return token.use_count() == 1; }));
}

TEST(DeadlineTest, ManyLaterArmsStartOneWait) {
  IoThread io;
  DeadlineOwner owner(io.io());
  const auto token = std::make_shared<int>(0);
  owner.OnStrand([&] {
    // A keep-alive connection's cycle: idle, header, body, write, idle...
    owner.deadline.Arm(std::chrono::seconds(10), token);
    for (int i = 0; i < 1000; ++i) {
      owner.deadline.Arm(std::chrono::seconds(60), token);
      owner.deadline.Arm(std::chrono::seconds(10), token);
      owner.deadline.Disarm();
      owner.deadline.Arm(std::chrono::seconds(30), token);
    }
    EXPECT_EQ(owner.deadline.waits_started(), 1u);
    owner.deadline.Cancel();
  });
  ASSERT_TRUE(testutil::WaitUntil([&] { return token.use_count() == 1; }));
  EXPECT_EQ(owner.fired.load(), 0);
}

TEST(DeadlineTest, DisarmStopsTheExpiryAndCancelReleasesTheOwner) {
  IoThread io;
  DeadlineOwner owner(io.io());
  auto token = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = token;
  owner.OnStrand([&] {
    owner.deadline.Arm(20ms, token);
    owner.deadline.Disarm();
  });
  // The disarmed wait ends at its time without firing, then lets go.
  ASSERT_TRUE(testutil::WaitUntil([&] { return token.use_count() == 1; }));
  EXPECT_EQ(owner.fired.load(), 0);
  // Armed again, it fires.
  owner.OnStrand([&] { owner.deadline.Arm(1ms, token); });
  ASSERT_TRUE(testutil::WaitUntil([&] { return owner.fired.load() == 1; }));
  // Cancel ends a long wait at once and releases what it held.
  owner.OnStrand([&] { owner.deadline.Arm(std::chrono::hours(1), token); });
  token.reset();
  EXPECT_FALSE(watch.expired());  // the pending wait holds it
  owner.OnStrand([&] { owner.deadline.Cancel(); });
  ASSERT_TRUE(testutil::WaitUntil([&] { return watch.expired(); }));
  EXPECT_EQ(owner.fired.load(), 1);
}

TEST(ListenerTest, ErrorsNameTheServiceAndAddress) {
  asio::io_context io;
  auto bad = Listener::Open(io, "HTTP", "not-an-ip", 3001, [](Listener::Socket) {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(),
            "cannot listen for HTTP on not-an-ip:3001: 'not-an-ip' is not an IP address");

  auto first = Listener::Open(io, "P2P", "127.0.0.1", 0, [](Listener::Socket) {});
  ASSERT_TRUE(first) << first.error();
  const std::uint16_t port = (*first)->port();
  EXPECT_NE(port, 0);
  auto taken = Listener::Open(io, "P2P", "127.0.0.1", port, [](Listener::Socket) {});
  ASSERT_FALSE(taken);
  EXPECT_EQ(
      taken.error().rfind("cannot listen for P2P on 127.0.0.1:" + std::to_string(port) + ": ", 0),
      0u)
      << taken.error();
}

TEST(ListenerTest, HandsOverEachConnectionUntilClosed) {
  IoThread io;
  std::atomic<int> accepted{0};
  std::atomic<bool> throw_next{true};
  auto listener = Listener::Open(io.io(), "P2P", "127.0.0.1", 0, [&](Listener::Socket socket) {
    EXPECT_TRUE(socket.is_open());
    ++accepted;
    // A handler that throws loses that connection only; accepting goes on.
    if (throw_next.exchange(false)) throw std::runtime_error("admission failed");
  });
  ASSERT_TRUE(listener) << listener.error();
  (*listener)->Start();
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), (*listener)->port());
  asio::io_context client_io;
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back(client_io);
    clients.back().connect(at);
  }
  ASSERT_TRUE(testutil::WaitUntil([&] { return accepted.load() == 3; }));

  (*listener)->Close();
  // Once closed, connecting is refused.
  ASSERT_TRUE(testutil::WaitUntil([&] {
    tcp::socket probe(client_io);
    boost::system::error_code ec;
    probe.connect(at, ec);
    return ec == asio::error::connection_refused;
  }));
  EXPECT_EQ(accepted.load(), 3);
}

}  // namespace
}  // namespace powchain::net
