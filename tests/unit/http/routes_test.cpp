// Routes as pure request -> response functions (docs/api.md), without sockets.
#include "http/routes.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "consensus/params.h"
#include "fake_node_api.h"
#include "primitives/block_json.h"
#include "primitives/transaction.h"
#include "route_test_helpers.h"
#include "util/hex.h"

namespace powchain::http {
namespace {

namespace bhttp = boost::beast::http;
using testing::BodyJson;
using testing::ErrorOf;
using testing::FakeBlock;
using testing::FakeNodeApi;
using testing::Get;
using testing::MakeRequest;
using testing::Post;
using testing::ResponseOf;

constexpr std::size_t kBodyLimit = std::size_t{1024} * 1024;

class RoutesTest : public ::testing::Test {
 protected:
  RouteResult Route(const Request& req) { return router_.Route(req); }
  Response Answer(const Request& req) { return ResponseOf(Route(req)); }

  FakeNodeApi api_{3};
  Router router_{api_, RouterOptions{kBodyLimit}};
};

// --- ParseBlocksQuery ----------------------------------------------------

TEST(BlocksQueryTest, ParsesPaging) {
  struct Case {
    const char* query;
    std::uint64_t from;
    std::optional<std::uint64_t> limit;
  };
  for (const Case& c : {
           Case{"", 0, std::nullopt},
           Case{"from=0", 0, std::nullopt},
           Case{"from=5", 5, std::nullopt},
           Case{"limit=0", 0, 0},
           Case{"limit=1", 0, 1},
           Case{"from=7&limit=2", 7, 2},
           Case{"limit=2&from=7", 7, 2},
           Case{"from=007", 7, std::nullopt},
           Case{"from=18446744073709551615&limit=18446744073709551615", 18446744073709551615ULL,
                18446744073709551615ULL},
           Case{"foo=bar&from=3&x", 3, std::nullopt},  // unknown parameters are ignored
           Case{"from=1&&limit=4&", 1, 4},
       }) {
    auto q = ParseBlocksQuery(c.query);
    ASSERT_TRUE(q.ok()) << c.query << ": " << q.error();
    EXPECT_EQ(q->from, c.from) << c.query;
    EXPECT_EQ(q->limit, c.limit) << c.query;
  }
}

TEST(BlocksQueryTest, RefusesBadValuesNamingTheParameter) {
  struct Case {
    const char* query;
    const char* name;
  };
  for (const Case& c : {
           Case{"from=-1", "'from'"},
           Case{"from=abc", "'from'"},
           Case{"from=", "'from'"},
           Case{"from", "'from'"},
           Case{"from=1.5", "'from'"},
           Case{"from=1e3", "'from'"},
           Case{"from=+1", "'from'"},
           Case{"from=%31", "'from'"},
           Case{"from=0x10", "'from'"},
           Case{"from=18446744073709551616", "'from'"},
           Case{"from=000000000000000000001", "'from'"},
           Case{"limit= 1", "'limit'"},
           Case{"limit=-0", "'limit'"},
           Case{"limit=99999999999999999999", "'limit'"},
           Case{"from=1&limit=x", "'limit'"},
       }) {
    auto q = ParseBlocksQuery(c.query);
    ASSERT_FALSE(q.ok()) << c.query;
    EXPECT_NE(q.error().find(c.name), std::string::npos) << c.query << ": " << q.error();
  }
}

TEST(BlocksQueryTest, RefusesDuplicates) {
  for (const char* query : {"from=1&from=2", "from=1&from=1", "limit=1&from=0&limit=1"}) {
    auto q = ParseBlocksQuery(query);
    ASSERT_FALSE(q.ok()) << query;
    EXPECT_NE(q.error().find("more than once"), std::string::npos) << q.error();
  }
}

// --- GET /blocks -------------------------------------------------------------

TEST_F(RoutesTest, BlocksIsHandedToTheStream) {
  auto r = Route(Get("/blocks?from=1&limit=2"));
  ASSERT_TRUE(std::holds_alternative<BlocksQuery>(r));
  EXPECT_EQ(std::get<BlocksQuery>(r), (BlocksQuery{1, 2}));
  auto all = Route(Get("/blocks"));
  ASSERT_TRUE(std::holds_alternative<BlocksQuery>(all));
  EXPECT_EQ(std::get<BlocksQuery>(all), BlocksQuery{});
}

TEST_F(RoutesTest, BlocksWithBadQueryIs400) {
  for (const char* target : {"/blocks?from=x", "/blocks?limit=-1", "/blocks?from=1&from=1"}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::bad_request) << target;
    EXPECT_FALSE(ErrorOf(res).empty());
  }
}

TEST_F(RoutesTest, BlocksWithWrongMethodIs405) {
  const Response res = Answer(Post("/blocks", "{}"));
  EXPECT_EQ(res.result(), status::method_not_allowed);
  EXPECT_EQ(res[bhttp::field::allow], "GET");
  EXPECT_FALSE(ErrorOf(res).empty());
}

// Runs a stream to its end; fails the test on an error.
std::string Drain(BlockStream& stream, std::vector<std::string>* pieces = nullptr) {
  std::string out;
  for (int guard = 0; !stream.done() && guard < 100000; ++guard) {
    auto piece = stream.Next();
    if (!piece.ok()) {
      ADD_FAILURE() << piece.error();
      return out;
    }
    EXPECT_FALSE(piece->empty());
    if (pieces) pieces->push_back(*piece);
    out += *piece;
  }
  EXPECT_TRUE(stream.done());
  return out;
}

std::string ExpectedArray(const FakeNodeApi& api, std::uint64_t from, std::uint64_t count) {
  std::string out = "[";
  for (std::uint64_t h = from; h < from + count; ++h) {
    if (h != from) out += ',';
    out += BlockToJson(api.chain_[h]);
  }
  return out + "]";
}

TEST(BlockStreamTest, PagesTheChain) {
  FakeNodeApi api(3);  // heights 0, 1, 2; the tip is 2
  struct Case {
    BlocksQuery query;
    std::uint64_t first;
    std::uint64_t count;
  };
  for (const Case& c : {
           Case{{0, std::nullopt}, 0, 3},  // everything, genesis first
           Case{{2, std::nullopt}, 2, 1},  // from = tip
           Case{{3, std::nullopt}, 0, 0},  // from beyond the tip
           Case{{18446744073709551615ULL, std::nullopt}, 0, 0},
           Case{{0, 0}, 0, 0},  // limit 0
           Case{{0, 1}, 0, 1},  // limit 1
           Case{{1, 1}, 1, 1},
           Case{{1, 100}, 1, 2},  // limit past the tip
           Case{{0, 18446744073709551615ULL}, 0, 3},
       }) {
    BlockStream stream(api, c.query, 32);
    const std::string got = Drain(stream);
    EXPECT_EQ(got, ExpectedArray(api, c.first, c.count))
        << "from=" << c.query.from << " limit=" << c.query.limit.value_or(999);
    EXPECT_TRUE(boost::json::parse(got).is_array());
  }
}

TEST(BlockStreamTest, ReadsOneBatchAtATimeFromTheSnapshot) {
  FakeNodeApi api(100);
  const Hash32 tip = api.chain_.back().hash;
  BlockStream stream(api, BlocksQuery{}, 32);
  EXPECT_EQ(stream.first_height(), 0u);
  EXPECT_EQ(stream.count(), 100u);
  // Blocks arriving after the snapshot are not part of the response.
  api.chain_.push_back(FakeBlock(100));
  std::vector<std::string> pieces;
  const std::string got = Drain(stream, &pieces);
  api.chain_.pop_back();
  EXPECT_EQ(got, ExpectedArray(api, 0, 100));
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces.front().front(), '[');
  EXPECT_EQ(pieces.back().back(), ']');
  const auto calls = api.batch_calls();
  ASSERT_EQ(calls.size(), 4u);
  const std::size_t limits[] = {32, 32, 32, 4};
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].tip, tip);
    EXPECT_EQ(calls[i].from, 32 * i);
    EXPECT_EQ(calls[i].limit, limits[i]);
  }
}

TEST(BlockStreamTest, EmptyRangeReadsNothing) {
  FakeNodeApi api(3);
  BlockStream stream(api, BlocksQuery{5, std::nullopt}, 32);
  EXPECT_EQ(Drain(stream), "[]");
  EXPECT_TRUE(api.batch_calls().empty());
}

TEST(BlockStreamTest, StoreErrorEndsTheStream) {
  FakeNodeApi api(100);
  api.fail_reads_at_ = 40;
  BlockStream stream(api, BlocksQuery{}, 32);
  auto first = stream.Next();
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(stream.done());
  auto second = stream.Next();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("disk on fire"), std::string::npos) << second.error();
  EXPECT_TRUE(stream.done());
}

TEST(BlockStreamTest, StoreErrorOnTheFirstBatch) {
  FakeNodeApi api(10);
  api.fail_reads_at_ = 0;
  BlockStream stream(api, BlocksQuery{}, 32);
  EXPECT_FALSE(stream.Next().ok());
  EXPECT_TRUE(stream.done());
}

TEST(BlockStreamTest, ShortOrWrongBatchIsAnError) {
  FakeNodeApi api(10);
  BlockStream stream(api, BlocksQuery{}, 4);
  ASSERT_TRUE(stream.Next().ok());
  api.chain_.resize(8);  // the store now lacks heights 8 and 9
  ASSERT_TRUE(stream.Next().ok());
  EXPECT_FALSE(stream.Next().ok());
  EXPECT_TRUE(stream.done());
  // (Runs come as bytes, not decoded: that they hold the right heights is
  // the store's part, shown by the storage and integration tests.)
}

RC_GTEST_PROP(BlockStreamTest, AnyPagingIsTheRightSlice, ()) {
  const auto length = *rc::gen::inRange<std::size_t>(1, 70);  // genesis always exists
  const auto from = *rc::gen::inRange<std::uint64_t>(0, 80);
  const auto maybe_limit = *rc::gen::maybe(rc::gen::inRange<std::uint64_t>(0, 80));
  const std::optional<std::uint64_t> limit =
      maybe_limit ? std::optional<std::uint64_t>(*maybe_limit) : std::nullopt;
  const auto batch = *rc::gen::inRange<std::size_t>(1, 40);
  FakeNodeApi api(length);
  BlockStream stream(api, BlocksQuery{from, limit}, batch);
  std::string got;
  std::size_t pieces = 0;
  while (!stream.done()) {
    auto piece = stream.Next();
    RC_ASSERT(piece.ok());
    RC_ASSERT(!piece->empty());
    got += *piece;
    ++pieces;
    RC_ASSERT(pieces < 1000u);
  }
  const std::uint64_t available = from < length ? length - from : 0;
  const std::uint64_t count = std::min<std::uint64_t>(available, limit.value_or(available));
  RC_ASSERT(got == ExpectedArray(api, count == 0 ? 0 : from, count));
  for (const auto& call : api.batch_calls()) RC_ASSERT(call.limit <= batch);
}

// --- GET /blocks/{id} --------------------------------------------------------

TEST_F(RoutesTest, BlockByHeightAndByHash) {
  const Response by_height = Answer(Get("/blocks/1"));
  EXPECT_EQ(by_height.result(), status::ok);
  EXPECT_EQ(by_height.body(), BlockToJson(api_.chain_[1]));
  EXPECT_EQ(by_height[bhttp::field::content_type], "application/json");

  EXPECT_EQ(Answer(Get("/blocks/0")).body(), BlockToJson(api_.chain_[0]));
  EXPECT_EQ(Answer(Get("/blocks/002")).body(), BlockToJson(api_.chain_[2]));

  const std::string hex = HexEncode(api_.chain_[2].hash);
  const Response by_hash = Answer(Get("/blocks/" + hex));
  EXPECT_EQ(by_hash.result(), status::ok);
  EXPECT_EQ(by_hash.body(), BlockToJson(api_.chain_[2]));

  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Answer(Get("/blocks/" + upper)).result(), status::ok);
}

TEST_F(RoutesTest, BlockTipIsTheActiveTip) {
  const Response tip = Answer(Get("/blocks/tip"));
  EXPECT_EQ(tip.result(), status::ok);
  EXPECT_EQ(tip.body(), BlockToJson(api_.chain_.back()));
  EXPECT_NE(ErrorOf(Answer(Get("/blocks/top"))).find("\"tip\""), std::string::npos);
}

TEST_F(RoutesTest, UnknownBlockIs404) {
  for (const std::string& target :
       {std::string("/blocks/3"), std::string("/blocks/18446744073709551615"),
        "/blocks/" + std::string(64, 'f'), "/blocks/" + std::string(64, '0')}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::not_found) << target;
    EXPECT_EQ(ErrorOf(res), "block not found");
  }
}

TEST_F(RoutesTest, BadBlockIdIs400) {
  for (const std::string& target :
       {std::string("/blocks/"), std::string("/blocks/abc"), std::string("/blocks/-1"),
        std::string("/blocks/1.0"), std::string("/blocks/+1"), std::string("/blocks/x/txids"),
        std::string("/blocks/18446744073709551616"), std::string("/blocks/") + std::string(21, '1'),
        "/blocks/" + std::string(63, 'a'), "/blocks/" + std::string(65, 'a'),
        "/blocks/" + std::string(63, 'a') + "g", std::string("/blocks/%31")}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::bad_request) << target;
    EXPECT_EQ(ErrorOf(res), "block id must be a height, a 64-digit hex hash or \"tip\"") << target;
  }
}

TEST_F(RoutesTest, BlockTxidsAreInTxsOrderAndOtherSubpathsAre404) {
  api_.chain_[1].txs.resize(2);
  api_.chain_[1].txs[0].coinbase = 1;
  api_.chain_[1].txs[1].version = 7;
  const auto v = BodyJson(Answer(Get("/blocks/1/txids")));
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.as_array().size(), 2u);
  EXPECT_EQ(v.as_array()[0].as_string(), HexEncode(ComputeTxid(api_.chain_[1].txs[0])));
  EXPECT_EQ(v.as_array()[1].as_string(), HexEncode(ComputeTxid(api_.chain_[1].txs[1])));
  EXPECT_EQ(BodyJson(Answer(Get("/blocks/0/txids"))).as_array().size(), 0u);
  EXPECT_EQ(Answer(Get("/blocks/9/txids")).result(), status::not_found);
  const Response other = Answer(Get("/blocks/1/2"));
  EXPECT_EQ(other.result(), status::not_found);
  EXPECT_EQ(ErrorOf(other), "no such endpoint: /blocks/1/2");
}

TEST_F(RoutesTest, StoreErrorOnBlockIs500) {
  api_.fail_lookups_ = true;
  for (const std::string& target : {std::string("/blocks/1"), "/blocks/" + std::string(64, 'a')}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::internal_server_error) << target;
    EXPECT_NE(ErrorOf(res).find("disk on fire"), std::string::npos);
  }
}

TEST_F(RoutesTest, BlockWithWrongMethodIs405) {
  const Response res = Answer(MakeRequest(bhttp::verb::delete_, "/blocks/1"));
  EXPECT_EQ(res.result(), status::method_not_allowed);
  EXPECT_EQ(res[bhttp::field::allow], "GET");
}

// --- The bearer token -----------------------------------------------------------

class TokenRoutesTest : public RoutesTest {
 protected:
  static constexpr const char* kToken = "0123456789abcdef0123";
  Router guarded_{api_, RouterOptions{kBodyLimit, kToken}};

  Response Send(Request req, const std::string& authorization) {
    if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
    return ResponseOf(guarded_.Route(req));
  }
};

// Without the token, or with anything but exactly "Bearer <token>", the
// routes that change the node answer 401 and change nothing.
TEST_F(TokenRoutesTest, WritesNeedTheExactToken) {
  const std::string right = std::string("Bearer ") + kToken;
  for (const std::string& auth :
       {std::string(), std::string("Bearer"), std::string("Bearer "), std::string(kToken),
        std::string("bearer ") + kToken, std::string("Basic ") + kToken, right + "x",
        right.substr(0, right.size() - 1), std::string("Bearer  ") + kToken,
        std::string("Bearer 0123456789abcdef0124")}) {
    const Response mine = Send(Post("/mine", R"({"data":1})"), auth);
    EXPECT_EQ(mine.result(), status::unauthorized) << auth;
    EXPECT_EQ(mine[bhttp::field::www_authenticate], "Bearer realm=\"powchain\"") << auth;
    EXPECT_FALSE(ErrorOf(mine).empty());
    const Response peer = Send(Post("/peers", R"({"url":"ws://localhost:5002"})"), auth);
    EXPECT_EQ(peer.result(), status::unauthorized) << auth;
    const Response removal =
        Send(MakeRequest(bhttp::verb::delete_, "/peers", R"({"url":"ws://localhost:5002"})"), auth);
    EXPECT_EQ(removal.result(), status::unauthorized) << auth;
  }
  EXPECT_TRUE(api_.added_peers().empty());
}

TEST_F(TokenRoutesTest, TheRightTokenPasses) {
  const std::string right = std::string("Bearer ") + kToken;
  Request mine = Post("/mine", R"({"data":1})");
  mine.set(bhttp::field::authorization, right);
  EXPECT_TRUE(std::holds_alternative<MineRequest>(guarded_.Route(mine)));
  EXPECT_EQ(Send(Post("/peers", R"({"url":"ws://localhost:5002"})"), right).result(),
            status::accepted);
  EXPECT_EQ(api_.added_peers(), std::vector<std::string>{"ws://localhost:5002"});
}

// Reads stay open, and without a token (the default) writes are open too.
TEST_F(TokenRoutesTest, ReadsStayOpen) {
  EXPECT_EQ(Send(Get("/status"), "").result(), status::ok);
  EXPECT_EQ(Send(Get("/blocks/1"), "").result(), status::ok);
  EXPECT_EQ(Send(Get("/peers"), "").result(), status::ok);
  EXPECT_TRUE(std::holds_alternative<BlocksQuery>(guarded_.Route(Get("/blocks"))));
  EXPECT_TRUE(std::holds_alternative<MineRequest>(Route(Post("/mine", R"({"data":1})"))));
}

// --- POST /mine ----------------------------------------------------------------

TEST_F(RoutesTest, MineCanonicalizesData) {
  struct Case {
    const char* body;
    const char* canonical;
  };
  for (const Case& c : {
           Case{R"({"data": {"b": 1, "a": [1.50, "x"]}})", R"({"a":[1.5,"x"],"b":1})"},
           Case{R"({"data":"hello"})", R"("hello")"},
           Case{R"({"data":null})", "null"},
           Case{R"({"other":1,"data":1E3})", "1000"},
       }) {
    auto r = Route(Post("/mine", c.body));
    ASSERT_TRUE(std::holds_alternative<MineRequest>(r)) << c.body;
    EXPECT_EQ(std::get<MineRequest>(r).canonical_data, c.canonical);
  }
}

TEST_F(RoutesTest, MineAcceptsJsonMediaTypeWithParameters) {
  for (const char* type : {"application/json", "application/json; charset=utf-8",
                           "Application/JSON", " application/json ;charset=UTF-8"}) {
    auto r = Route(Post("/mine", R"({"data":1})", type));
    EXPECT_TRUE(std::holds_alternative<MineRequest>(r)) << type;
  }
}

TEST_F(RoutesTest, MineWithOtherMediaTypeIs415) {
  for (const char* type :
       {"", "text/plain", "application/jsonx", "application/x-www-form-urlencoded", "json"}) {
    const Response res = Answer(Post("/mine", R"({"data":1})", type));
    EXPECT_EQ(res.result(), status::unsupported_media_type) << type;
    EXPECT_FALSE(ErrorOf(res).empty());
  }
}

TEST_F(RoutesTest, MineWithBadBodyIs400) {
  struct Case {
    std::string body;
    const char* message_part;
  };
  for (const Case& c : {
           Case{"", "missing"},
           Case{"{", "invalid JSON"},
           Case{"{\"data\":1} x", "invalid JSON"},
           Case{"{\"data\":1,\"data\":2}", "invalid JSON"},  // duplicate key
           Case{"[1]", "JSON object"},
           Case{"\"data\"", "JSON object"},
           Case{"{}", "\"data\""},
           Case{"{\"Data\":1}", "\"data\""},
           Case{"{\"data\":9007199254740993}", "9007199254740993"},
           Case{"{\"data\":1e400}", "1e400"},
           Case{std::string(100000, '['), "nesting"},
           Case{"{\"data\":" + std::string(64, '[') + std::string(64, ']') + "}", "nesting"},
           Case{"{\"data\":\"\xff\"}", "invalid JSON"},
       }) {
    const Response res = Answer(Post("/mine", c.body));
    EXPECT_EQ(res.result(), status::bad_request) << c.body.substr(0, 40);
    const std::string message = ErrorOf(res);
    EXPECT_NE(message.find(c.message_part), std::string::npos)
        << c.body.substr(0, 40) << ": " << message;
  }
  // 63 levels inside the object make 64 in all: the limit, still accepted.
  auto deep =
      Route(Post("/mine", "{\"data\":" + std::string(63, '[') + std::string(63, ']') + "}"));
  EXPECT_TRUE(std::holds_alternative<MineRequest>(deep));
}

TEST_F(RoutesTest, MineWithWrongMethodIs405) {
  const Response res = Answer(Get("/mine"));
  EXPECT_EQ(res.result(), status::method_not_allowed);
  EXPECT_EQ(res[bhttp::field::allow], "POST");
  EXPECT_FALSE(ErrorOf(res).empty());
}

TEST(MinedResponseTest, CreatedOrUnavailable) {
  const Block block = FakeBlock(7);
  const Response ok = MinedResponse(block);
  EXPECT_EQ(ok.result(), status::created);
  EXPECT_EQ(ok.body(), BlockToJson(block));
  EXPECT_EQ(ok[bhttp::field::content_type], "application/json");

  const Response failed = MinedResponse(Error{"mining queue is full"});
  EXPECT_EQ(failed.result(), status::service_unavailable);
  EXPECT_EQ(ErrorOf(failed), "mining queue is full");
}

// --- GET /status ---------------------------------------------------------------

TEST_F(RoutesTest, StatusHasEveryField) {
  NodeStatus& s = api_.status_;
  s.params = Params::Regtest();
  s.genesis[0] = 0x12;
  s.height = 42;
  s.tip[31] = 0x34;
  s.difficulty = 9;
  s.work = Work(0x10000);
  s.peers = 2;
  s.mining = MiningStatus{true, 4, true, 1234.5, 3};
  s.agent = "powchain/0.1.0";

  const Response res = Answer(Get("/status?verbose=1"));  // the query is ignored
  ASSERT_EQ(res.result(), status::ok);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  const auto v = BodyJson(res).as_object();
  EXPECT_EQ(v.at("network").as_string(), "regtest");
  EXPECT_EQ(v.at("genesis").as_string(), HexEncode(s.genesis));
  EXPECT_EQ(v.at("height").to_number<std::uint64_t>(), 42u);
  EXPECT_EQ(v.at("tip").as_string(), HexEncode(s.tip));
  EXPECT_EQ(v.at("difficulty").to_number<int>(), 9);
  EXPECT_EQ(v.at("work").as_string(), "10000");
  EXPECT_EQ(v.at("mineRate").to_number<int>(), 1000);
  EXPECT_EQ(v.at("peers").to_number<int>(), 2);
  EXPECT_EQ(v.at("agent").as_string(), "powchain/0.1.0");
  const auto params = v.at("params").as_object();
  EXPECT_EQ(params.at("mineRate").to_number<int>(), 1000);
  EXPECT_EQ(params.at("initialDifficulty").to_number<int>(), 8);
  EXPECT_EQ(params.at("minDifficulty").to_number<int>(), 1);
  EXPECT_EQ(params.at("maxDifficulty").to_number<int>(), 255);
  EXPECT_EQ(params.at("maxFutureDriftMs").to_number<int>(), 15000);
  EXPECT_EQ(params.at("mtpWindow").to_number<int>(), 11);
  EXPECT_EQ(params.at("maxBlockBytes").to_number<int>(), 1024 * 1024);
  const auto mining = v.at("mining").as_object();
  EXPECT_EQ(mining.at("on").as_bool(), true);
  EXPECT_EQ(mining.at("active").as_bool(), true);
  EXPECT_EQ(mining.at("threads").to_number<int>(), 4);
  EXPECT_EQ(mining.at("hashRate").to_number<std::uint64_t>(), 1235u);  // rounded
  EXPECT_EQ(mining.at("queued").to_number<int>(), 3);
}

TEST_F(RoutesTest, StatusHashRateIsAWholeNumber) {
  for (const auto& [rate, text] :
       std::vector<std::pair<double, std::string>>{{0.0, "0"},
                                                   {-5.0, "0"},
                                                   {std::nan(""), "0"},
                                                   {HUGE_VAL, "0"},
                                                   {2.4, "2"},
                                                   {1e30, "1000000000000000000"}}) {
    api_.status_.mining.hash_rate = rate;
    const std::string body = Answer(Get("/status")).body();
    EXPECT_NE(body.find("\"hashRate\":" + text + ","), std::string::npos) << rate << ": " << body;
  }
}

TEST_F(RoutesTest, StatusWithWrongMethodIs405) {
  const Response res = Answer(Post("/status", "{}"));
  EXPECT_EQ(res.result(), status::method_not_allowed);
  EXPECT_EQ(res[bhttp::field::allow], "GET");
}

// --- /peers --------------------------------------------------------------------

TEST_F(RoutesTest, ListsPeers) {
  api_.peers_.push_back(PeerInfo{"ws://127.0.0.1:5002", "outbound", 17, "powchain/0.1.0",
                                 1735689600123, "connected", "", 0});
  api_.peers_.push_back(PeerInfo{"ws://[::1]:5003", "inbound", 0, "", 0, "handshaking", "", 0});
  api_.peers_.push_back(PeerInfo{"ws://locahost:5001", "outbound", 0, "", 0, "waiting",
                                 "resolve failed: Host not found", 1735689700000});
  const Response res = Answer(Get("/peers"));
  ASSERT_EQ(res.result(), status::ok);
  const auto peers = BodyJson(res).as_array();
  ASSERT_EQ(peers.size(), 3u);
  const auto first = peers[0].as_object();
  EXPECT_EQ(first.at("url").as_string(), "ws://127.0.0.1:5002");
  EXPECT_EQ(first.at("direction").as_string(), "outbound");
  EXPECT_EQ(first.at("height").to_number<int>(), 17);
  EXPECT_EQ(first.at("agent").as_string(), "powchain/0.1.0");
  EXPECT_EQ(first.at("connectedSince").to_number<std::uint64_t>(), 1735689600123u);
  EXPECT_EQ(first.at("state").as_string(), "connected");
  EXPECT_EQ(peers[1].as_object().at("state").as_string(), "handshaking");
  EXPECT_FALSE(first.contains("lastError"));
  EXPECT_FALSE(first.contains("nextAttempt"));
  // A configured peer not connected says why and when it is tried again.
  const auto waiting = peers[2].as_object();
  EXPECT_EQ(waiting.at("state").as_string(), "waiting");
  EXPECT_EQ(waiting.at("lastError").as_string(), "resolve failed: Host not found");
  EXPECT_EQ(waiting.at("nextAttempt").to_number<std::uint64_t>(), 1735689700000u);

  api_.peers_.clear();
  EXPECT_EQ(Answer(Get("/peers")).body(), "[]");
}

TEST_F(RoutesTest, AddsPeerByCanonicalUrl) {
  const Response res = Answer(Post("/peers", R"({"url":"ws://[::1]:5002"})"));
  EXPECT_EQ(res.result(), status::accepted);
  EXPECT_EQ(BodyJson(res).as_object().at("url").as_string(), "ws://[::1]:5002");
  EXPECT_EQ(api_.added_peers(), std::vector<std::string>{"ws://[::1]:5002"});
}

TEST_F(RoutesTest, BadPeerUrlIs400) {
  for (const char* body : {R"({"url":"http://localhost:5001"})", R"({"url":"ws://localhost"})",
                           R"({"url":"ws://localhost:70000"})", R"({"url":5001})", R"({})",
                           R"(["ws://localhost:5001"])", "nope"}) {
    const Response res = Answer(Post("/peers", body));
    EXPECT_EQ(res.result(), status::bad_request) << body;
    EXPECT_FALSE(ErrorOf(res).empty());
  }
  const Response res = Answer(Post("/peers", R"({"url":"ws://localhost:0"})"));
  EXPECT_NE(ErrorOf(res).find("invalid peer URL"), std::string::npos) << ErrorOf(res);
  EXPECT_TRUE(api_.added_peers().empty());
}

TEST_F(RoutesTest, RefusedPeerIs409) {
  api_.refuse_peers_ = "peer limit reached";
  const Response res = Answer(Post("/peers", R"({"url":"ws://localhost:5001"})"));
  EXPECT_EQ(res.result(), status::conflict);
  EXPECT_EQ(ErrorOf(res), "peer limit reached");
}

TEST_F(RoutesTest, PeersNeedsJson) {
  const Response res = Answer(Post("/peers", R"({"url":"ws://localhost:5001"})", "text/plain"));
  EXPECT_EQ(res.result(), status::unsupported_media_type);
}

TEST_F(RoutesTest, PeersWithWrongMethodIs405) {
  const Response res = Answer(MakeRequest(bhttp::verb::put, "/peers"));
  EXPECT_EQ(res.result(), status::method_not_allowed);
  EXPECT_EQ(res[bhttp::field::allow], "GET, POST, DELETE");
}

TEST_F(RoutesTest, RemovesAConfiguredPeer) {
  ASSERT_EQ(Answer(Post("/peers", R"({"url":"ws://localhost:5002"})")).result(), status::accepted);
  const Response removed = Answer(MakeRequest(
      bhttp::verb::delete_, "/peers", R"({"url":"ws://localhost:5002"})", "application/json"));
  EXPECT_EQ(removed.result(), status::ok);
  EXPECT_EQ(BodyJson(removed).as_object().at("url").as_string(), "ws://localhost:5002");
  EXPECT_TRUE(api_.added_peers().empty());
  // Again: it is gone, and the answer says so.
  const Response again = Answer(MakeRequest(
      bhttp::verb::delete_, "/peers", R"({"url":"ws://localhost:5002"})", "application/json"));
  EXPECT_EQ(again.result(), status::not_found);
  EXPECT_NE(ErrorOf(again).find("not a configured peer"), std::string::npos);
  const Response bad = Answer(
      MakeRequest(bhttp::verb::delete_, "/peers", R"({"url":"nonsense"})", "application/json"));
  EXPECT_EQ(bad.result(), status::bad_request);
}

// --- Everything else -------------------------------------------------------------

TEST_F(RoutesTest, UnknownPathIs404NamingIt) {
  for (const char* target :
       {"/nope", "/block", "/blocksx", "/status/", "/Blocks", "/explorerx", "/index.html"}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::not_found) << target;
    EXPECT_EQ(ErrorOf(res), "no such endpoint: " + std::string(target));
  }
  const Response with_query = Answer(Get("/nope?x=1"));
  EXPECT_EQ(ErrorOf(with_query), "no such endpoint: /nope");
}

TEST_F(RoutesTest, TheExplorerIsServedAtTheRoot) {
  const Response page = Answer(Get("/"));
  ASSERT_EQ(page.result(), status::ok);
  EXPECT_EQ(page[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(page.body().find("<title>powchain explorer</title>"), std::string::npos);
  EXPECT_NE(page["Content-Security-Policy"].find("default-src 'none'"), std::string::npos);
  const Response script = Answer(Get("/explorer/app.js"));
  ASSERT_EQ(script.result(), status::ok);
  EXPECT_EQ(script[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(Answer(Get("/explorer/uPlot.min.js")).result(), status::ok);
  // Revalidation by ETag costs no body.
  Request again = Get("/explorer/app.js");
  again.set(bhttp::field::if_none_match, script[bhttp::field::etag]);
  const Response cached = Answer(again);
  EXPECT_EQ(cached.result(), status::not_modified);
  EXPECT_TRUE(cached.body().empty());
  EXPECT_EQ(Answer(Get("/explorer/nothing.js")).result(), status::not_found);
  EXPECT_EQ(Answer(Post("/", "{}")).result(), status::method_not_allowed);
}

TEST_F(RoutesTest, ErrorBodiesAreAlwaysValidJson) {
  // A path with bytes that are not UTF-8, and a very long one.
  const Response bad_utf8 = Answer(Get("/\xff\xc3(\xed\xa0\x80"));
  EXPECT_EQ(bad_utf8.result(), status::not_found);
  EXPECT_FALSE(ErrorOf(bad_utf8).empty());
  const Response long_path = Answer(Get("/" + std::string(5000, 'a')));
  EXPECT_LT(long_path.body().size(), 400u);

  const Response control = ErrorResponse(status::bad_request, "a\"b\\c\n\x01\xe2\x82");
  EXPECT_EQ(ErrorOf(control), "a\"b\\c\n\x01\xef\xbf\xbd\xef\xbf\xbd");
}

}  // namespace
}  // namespace powchain::http
