// Hostile HTTP input against the real node (docs/security.md: no request,
// however malformed, oversized, slow or hostile, may crash the node, make it
// accept an invalid block, lose a block or stall it for other clients).
//
// Every case asserts the precise answer: the status code and, for errors,
// the part of the JSON error message that names the problem (or that the
// node closes the connection, where that is the answer). After each case the
// node is alive and its chain unchanged; at the end of each test a valid
// block is still mined and accepted. No test asserts a time; the latency
// figures under attack come from bench/http_slowloris.py.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node_process.h"
#include "primitives/block_json.h"
#include "primitives/json.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

const Params kRegtest = Params::Regtest();

// The node's defaults (src/http/server.h), which these tests rely on.
constexpr std::size_t kBodyLimit = 1048576;
constexpr std::size_t kMaxConnections = 128;

std::string ErrorOf(const HttpResponse& r) {
  auto v = ParseJson(r.body);
  if (!v.ok() || !v->is_object()) return "<not a JSON object: " + r.body.substr(0, 200) + ">";
  const JsonValue* e = v->Find("error");
  if (e == nullptr || !e->is_string()) return "<no error member: " + r.body.substr(0, 200) + ">";
  return e->as_string();
}

// A response header (lower-case name), or "" when absent.
std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

// A request with its body, Content-Length and Connection: close, as raw
// bytes (the body may be anything, invalid UTF-8 included).
std::string RawPost(const std::string& target, const std::string& body,
                    const std::string& extra_headers = "") {
  return "POST " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class HostileHttpTest : public ::testing::Test {
 protected:
  void SetUp() override { StartNode({}); }

  void TearDown() override {
    if (HasFailure() && node_) std::printf("--- node log ---\n%s\n", node_->Log().c_str());
  }

  // Starts the node, mines one block (so that "unchanged" means more than
  // genesis) and records the tip.
  void StartNode(std::vector<std::string> extra_args) {
    node_ = NodeProcess::StartNode(dir_.path(), std::move(extra_args));
    ASSERT_TRUE(node_->Running()) << node_->Log();
    port_ = node_->http_port();
    const HttpResponse mined = Post("/mine", R"({"data":"before the hostile input"})");
    ASSERT_EQ(mined.status, 201) << mined.body;
    tip_ = Tip();
    ASSERT_EQ(tip_.height, "1");
  }

  struct TipInfo {
    std::string hash;
    std::string height;
  };
  TipInfo Tip() {
    const HttpResponse r = node_->Get("/status");
    EXPECT_EQ(r.status, 200) << r.body;
    auto v = ParseJson(r.body);
    if (!v.ok() || v->Find("tip") == nullptr || v->Find("height") == nullptr) return {};
    return {v->Find("tip")->as_string(), v->Find("height")->number_text()};
  }

  // The node still runs, answers, and has the same active tip.
  void ExpectAliveAndUnchanged(const std::string& after) {
    ASSERT_TRUE(node_->Running()) << "node died after " << after << "\n" << node_->Log();
    const TipInfo now = Tip();
    EXPECT_EQ(now.hash, tip_.hash) << "tip changed after " << after;
    EXPECT_EQ(now.height, tip_.height) << "height changed after " << after;
  }

  // A valid block is still mined on the unchanged tip and accepted, and
  // the whole chain still checks.
  void ExpectStillMines() {
    const HttpResponse r = Post("/mine", R"({"data":"after the hostile input"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const Block block = ParseBlock(r.body);
    EXPECT_EQ(HexEncode(block.header.last_hash), tip_.hash);
    const TipInfo now = Tip();
    EXPECT_EQ(now.hash, HexEncode(block.hash));
    EXPECT_EQ(now.height, "2");
    const HttpResponse chain = node_->Get("/blocks");
    ASSERT_EQ(chain.status, 200);
    EXPECT_EQ(ParseAndCheckChain(chain.body, kRegtest).size(), 3u);
  }

  HttpResponse Post(const std::string& target, const std::string& body,
                    const std::string& content_type = "application/json",
                    const std::map<std::string, std::string>& headers = {}) {
    return HttpRequest(port_, "POST", target, body, content_type, 30s, headers);
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::uint16_t port_ = 0;
  TipInfo tip_;
};

// One request on its own connection and the answer it must get.
struct Case {
  const char* what;
  std::string method;
  std::string target;
  std::string body;
  int status;
  std::string error;  // part of the error message; empty for a success
  std::string content_type = "application/json";
};

// --- POST /mine bodies --------------------------------------------------------

TEST_F(HostileHttpTest, MineBodiesAreRefusedWithTheReason) {
  const std::string big_data = std::string(kBodyLimit - 12, 'x');  // fits the body, not a block
  const std::vector<Case> cases = {
      {"malformed JSON", "POST", "/mine", R"({"data":1,})", 400,
       "invalid JSON at byte 10: expected '\"' to start an object key"},
      {"truncated JSON", "POST", "/mine", R"({"data":[1,2)", 400, "invalid JSON at byte 12"},
      {"truncated string", "POST", "/mine", R"({"data":"ab)", 400, "unterminated string"},
      {"empty body", "POST", "/mine", "", 400, "request body is missing"},
      {"array body", "POST", "/mine", "[1,2]", 400, "request body must be a JSON object"},
      {"number body", "POST", "/mine", "42", 400, "request body must be a JSON object"},
      {"string body", "POST", "/mine", R"("data")", 400, "request body must be a JSON object"},
      {"null body", "POST", "/mine", "null", 400, "request body must be a JSON object"},
      {"no data member", "POST", "/mine", R"({"dat":1})", 400,
       "request body must have a \"data\" member"},
      {"100000 nested arrays", "POST", "/mine", std::string(100000, '['), 400,
       "nesting deeper than the limit of 64"},
      {"deep data", "POST", "/mine", R"({"data":)" + std::string(100000, '['), 400,
       "nesting deeper than the limit of 64"},
      {"1e999", "POST", "/mine", R"({"data":1e999})", 400,
       "number 1e999 is outside the range of canonical JSON numbers"},
      {"2^64", "POST", "/mine", R"({"data":18446744073709551616})", 400,
       "cannot be represented exactly in canonical JSON"},
      {"2^53+1", "POST", "/mine", R"({"data":[9007199254740993]})", 400,
       "it would become 9007199254740992"},
      {"NaN", "POST", "/mine", R"({"data":NaN})", 400, "unexpected 'N', expected a value"},
      {"leading zero", "POST", "/mine", R"({"data":007})", 400,
       "leading zeros are not allowed in numbers"},
      {"invalid UTF-8", "POST", "/mine", "{\"data\":\"\xff\xfe\"}", 400, "invalid UTF-8 in string"},
      {"overlong UTF-8", "POST", "/mine", "{\"data\":\"\xc0\xaf\"}", 400,
       "invalid UTF-8 in string"},
      {"lone high surrogate", "POST", "/mine", R"({"data":"\ud800"})", 400,
       "high surrogate escape not followed by a low surrogate escape"},
      {"lone low surrogate", "POST", "/mine", R"({"data":"\udc00"})", 400,
       "low surrogate escape without a preceding high surrogate"},
      {"duplicate keys", "POST", "/mine", R"({"data":1,"data":2})", 400, "duplicate object key"},
      {"control character", "POST", "/mine", std::string("{\"data\":\"a\0b\"}", 14), 400,
       "unescaped control character in string"},
      {"bad escape", "POST", "/mine", R"({"data":"\x41"})", 400, "invalid escape"},
      {"trailing garbage", "POST", "/mine", R"({"data":1} x)", 400, "after the JSON value"},
      {"byte order mark", "POST", "/mine", "\xef\xbb\xbf{\"data\":1}", 400, "unexpected byte 0xef"},
      {"wrong Content-Type", "POST", "/mine", R"({"data":1})", 415,
       "Content-Type must be application/json", "text/plain"},
      {"no Content-Type", "POST", "/mine", R"({"data":1})", 415,
       "Content-Type must be application/json", ""},
      {"data larger than a block", "POST", "/mine", R"({"data":")" + big_data + "\"}", 413,
       "\"data\" is 1048566 bytes in canonical JSON; a block has room for 1048305"},
      {"body over the limit", "POST", "/mine", R"({"data":")" + big_data + "xx\"}", 413,
       "request body is larger than the limit of 1048576 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const HttpResponse r = HttpRequest(port_, c.method, c.target, c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(HeaderOf(r, "content-type"), "application/json");
    EXPECT_NE(ErrorOf(r).find(c.error), std::string::npos) << ErrorOf(r);
    ExpectAliveAndUnchanged(c.what);
  }
  // Nothing reached the miner: nothing is queued.
  auto status = ParseJson(node_->Get("/status").body);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->Find("mining")->Find("queued")->number_text(), "0");
  ExpectStillMines();
}

// --- Queries and paths ----------------------------------------------------------

TEST_F(HostileHttpTest, QueriesAndPathsAreCheckedStrictly) {
  const std::string max_u64 = "18446744073709551615";
  const std::vector<Case> cases = {
      {"from=abc", "GET", "/blocks?from=abc", "", 400,
       "query parameter 'from' must be a decimal integer"},
      {"from=-1", "GET", "/blocks?from=-1", "", 400, "'from' must be a decimal integer"},
      {"from past u64", "GET", "/blocks?from=99999999999999999999", "", 400,
       "'from' must be a decimal integer from 0 to " + max_u64},
      {"from=%31", "GET", "/blocks?from=%31", "", 400, "'from' must be a decimal integer"},
      {"from empty", "GET", "/blocks?from=", "", 400, "'from' must be a decimal integer"},
      {"limit=1.5", "GET", "/blocks?limit=1.5", "", 400, "'limit' must be a decimal integer"},
      {"limit=1e3", "GET", "/blocks?limit=1e3", "", 400, "'limit' must be a decimal integer"},
      {"repeated from", "GET", "/blocks?from=1&from=2", "", 400,
       "query parameter 'from' is given more than once"},
      {"repeated limit", "GET", "/blocks?limit=1&limit=1", "", 400,
       "query parameter 'limit' is given more than once"},
      {"id abc", "GET", "/blocks/abc", "", 400,
       "block id must be a height, a 64-digit hex hash or \"tip\""},
      {"id 0x1", "GET", "/blocks/0x1", "", 400, "block id must be"},
      {"id -1", "GET", "/blocks/-1", "", 400, "block id must be"},
      {"id past u64", "GET", "/blocks/18446744073709551616", "", 400, "block id must be"},
      {"id 63 hex digits", "GET", "/blocks/" + std::string(63, 'a'), "", 400, "block id must be"},
      {"id 65 hex digits", "GET", "/blocks/" + std::string(65, 'a'), "", 400, "block id must be"},
      {"id 64 non-hex", "GET", "/blocks/" + std::string(64, 'g'), "", 400, "block id must be"},
      {"id with a slash", "GET", "/blocks/1/2", "", 404, "no such endpoint: /blocks/1/2"},
      {"bad id before txids", "GET", "/blocks/x/txids", "", 400, "block id must be"},
      {"unknown hash", "GET", "/blocks/" + std::string(64, '0'), "", 404, "block not found"},
      {"max height", "GET", "/blocks/" + max_u64, "", 404, "block not found"},
      {"unknown path", "GET", "/nope", "", 404, "no such endpoint: /nope"},
      {"percent-encoded path", "GET", "/%73tatus", "", 404, "no such endpoint: /%73tatus"},
      {"long path", "GET", "/" + std::string(5000, 'a'), "", 404,
       "no such endpoint: /" + std::string(199, 'a') + "..."},
      {"DELETE /blocks", "DELETE", "/blocks", "", 405,
       "method DELETE is not allowed on /blocks (allowed: GET)"},
      {"GET /mine", "GET", "/mine", "", 405, "(allowed: POST)"},
      {"PUT /peers", "PUT", "/peers", "", 405, "(allowed: GET, POST, DELETE)"},
      {"POST /status", "POST", "/status", "{}", 405, "(allowed: GET)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const HttpResponse r = HttpRequest(port_, c.method, c.target, c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_NE(ErrorOf(r).find(c.error), std::string::npos) << ErrorOf(r);
    if (r.status == 405) {
      EXPECT_FALSE(HeaderOf(r, "allow").empty());
    }
    ExpectAliveAndUnchanged(c.what);
  }
  // Values at the edges are answered, not refused.
  auto page = [&](const std::string& query) {
    const HttpResponse r = node_->Get("/blocks?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return ParseAndCheckChain(r.body, kRegtest).size();
  };
  EXPECT_EQ(node_->Get("/blocks?limit=0").body, "[]");
  EXPECT_EQ(node_->Get("/blocks?from=" + max_u64 + "&limit=" + max_u64).body, "[]");
  EXPECT_EQ(page("limit=" + max_u64), 2u);
  EXPECT_EQ(page("foo=bar&&=&x&limit=5"), 2u);  // unknown parameters are ignored
  ExpectAliveAndUnchanged("edge queries");
  ExpectStillMines();
}

// --- POST /peers -----------------------------------------------------------------

TEST_F(HostileHttpTest, PeerUrlsAreCheckedBeforeDialling) {
  const std::vector<Case> cases = {
      {"ws:// alone", "POST", "/peers", R"({"url":"ws://"})", 400,
       "invalid peer URL 'ws://': missing :port"},
      {"missing port", "POST", "/peers", R"({"url":"ws://localhost"})", 400,
       "invalid peer URL 'ws://localhost': missing :port (expected ws://host:port)"},
      {"http scheme", "POST", "/peers", R"({"url":"http://localhost:1"})", 400,
       "scheme must be ws://"},
      {"wss scheme", "POST", "/peers", R"({"url":"wss://localhost:1"})", 400,
       "scheme must be ws://"},
      {"port 0", "POST", "/peers", R"({"url":"ws://127.0.0.1:0"})", 400,
       "port must be a number from 1 to 65535, not '0'"},
      {"port 70000", "POST", "/peers", R"({"url":"ws://127.0.0.1:70000"})", 400,
       "port must be a number from 1 to 65535, not '70000'"},
      {"huge URL", "POST", "/peers", R"({"url":"ws://)" + std::string(100000, 'a') + R"(:1"})", 400,
       "too long (expected ws://host:port)"},
      {"url not a string", "POST", "/peers", R"({"url":5})", 400,
       "\"url\" must be a string like ws://host:port"},
      {"no url", "POST", "/peers", "{}", 400, "request body must have a \"url\" member"},
      {"peers body not JSON", "POST", "/peers", "ws://localhost:1", 400, "invalid JSON at byte 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const HttpResponse r = HttpRequest(port_, c.method, c.target, c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_NE(ErrorOf(r).find(c.error), std::string::npos) << ErrorOf(r);
    ExpectAliveAndUnchanged(c.what);
  }
  // None of them was taken up.
  EXPECT_EQ(node_->Get("/peers").body, "[]");
  ExpectStillMines();
}

// --- Malformed HTTP ----------------------------------------------------------------

// Raw bytes on one connection, the answer, and whether the node then closes.
struct RawCase {
  const char* what;
  std::string bytes;
  int status;
  std::string error;
  bool closes = true;
};

TEST_F(HostileHttpTest, MalformedHttpIsAnsweredAndClosed) {
  std::string junk;
  for (int i = 0; i < 256; ++i) junk += static_cast<char>(i);
  const std::string chunk = "1000\r\n" + std::string(4096, ' ') + "\r\n";
  std::string chunks;
  for (std::size_t i = 0; i < kBodyLimit / 4096 + 2; ++i) chunks += chunk;
  const std::vector<RawCase> cases = {
      {"request line garbage", "HELLO WORLD\r\n\r\n", 400, "malformed HTTP request"},
      {"HTTP/0.9 request", "GET /status\r\n\r\n", 400, "malformed HTTP request"},
      {"binary junk", junk, 400, "malformed HTTP request: bad method"},
      {"unknown version", "GET /status HTTP/9.9\r\n\r\n", 400, "malformed HTTP request"},
      {"bare LF line ends", "GET /status HTTP/1.1\nHost: x\n\n", 400, "malformed HTTP request"},
      {"field without colon", "GET /status HTTP/1.1\r\nNo colon here\r\n\r\n", 400,
       "malformed HTTP request"},
      {"space before colon", "GET /status HTTP/1.1\r\nHost : x\r\n\r\n", 400,
       "malformed HTTP request: bad field"},
      {"NUL in target", std::string("GET /sta\0tus HTTP/1.1\r\n\r\n", 25), 400,
       "malformed HTTP request"},
      {"Content-Length not a number", "POST /mine HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400,
       "malformed HTTP request: bad Content-Length"},
      {"negative Content-Length", "POST /mine HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400,
       "bad Content-Length"},
      {"Content-Length past u64",
       "POST /mine HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
       "bad Content-Length"},
      {"two Content-Lengths",
       "POST /mine HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}", 400,
       "malformed HTTP request"},
      {"Content-Length and chunked",
       "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400, "bad Transfer-Encoding"},
      {"coding without chunked (smuggling)",
       "POST /peers HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n" +
           RawPost("/peers", R"({"url":"ws://127.0.0.1:1"})"),
       400, "Transfer-Encoding must end with chunked"},
      {"coding before chunked",
       "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\n"
       "Transfer-Encoding: gzip, chunked\r\n\r\n",
       501, "only the chunked transfer coding is supported"},
      {"bad chunk size",
       "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
       "zz\r\n{}\r\n0\r\n\r\n",
       400, "malformed HTTP request: bad chunk"},
      {"chunk size past u64",
       "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
       "fffffffffffffffffff\r\n",
       400, "bad chunk"},
      {"chunked body over the limit",
       "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: "
       "chunked\r\n\r\n" +
           chunks + "0\r\n\r\n",
       413, "request body is larger than the limit of 1048576 bytes"},
      {"header over the limit",
       "GET /status HTTP/1.1\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n", 431,
       "request header is larger than the limit of 8192 bytes"},
      {"many small fields",
       "GET /status HTTP/1.1\r\n" +
           [] {
             std::string fields;
             for (int i = 0; i < 3000; ++i) fields += "X: y\r\n";
             return fields;
           }() +
           "\r\n",
       431, "request header is larger than the limit"},
      {"target over the limit", "GET /" + std::string(10000, 'a') + " HTTP/1.1\r\n\r\n", 431,
       "request header is larger than the limit"},
      {"unknown method", "FOO /status HTTP/1.1\r\nHost: x\r\n\r\n", 405,
       "method FOO is not allowed on /status", false},
  };
  for (const RawCase& c : cases) {
    SCOPED_TRACE(c.what);
    RawConnection conn(port_);
    ASSERT_TRUE(conn.Send(c.bytes));
    const auto r = conn.Read();
    ASSERT_TRUE(r.has_value()) << "no answer";
    EXPECT_EQ(r->status, c.status) << r->body;
    EXPECT_NE(ErrorOf(*r).find(c.error), std::string::npos) << ErrorOf(*r);
    if (c.closes) {
      EXPECT_EQ(HeaderOf(*r, "connection"), "close");
      // Nothing more is answered (a smuggled request is not); the node closes.
      EXPECT_TRUE(conn.WaitClosed());
    } else {
      EXPECT_TRUE(conn.Send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));
      const auto next = conn.Read();
      ASSERT_TRUE(next.has_value());
      EXPECT_EQ(next->status, 200);
    }
    ExpectAliveAndUnchanged(c.what);
  }
  EXPECT_EQ(node_->Get("/peers").body, "[]");  // the smuggled POST /peers was not run

  // HEAD is not served, and its 405 has no body to be taken for the next
  // response.
  RawConnection head(port_);
  ASSERT_TRUE(head.Send("HEAD /status HTTP/1.1\r\nHost: x\r\n\r\nGET /blocks/0 HTTP/1.1\r\n\r\n"));
  const auto refused = head.Read(30s, true);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 405);
  EXPECT_EQ(HeaderOf(*refused, "allow"), "GET");
  EXPECT_TRUE(refused->body.empty());
  const auto next = head.Read();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(ParseBlock(next->body).header.height, 0u);
  ExpectAliveAndUnchanged("HEAD");

  // A HEAD request refused for its transfer coding is answered with a
  // header alone too: no body follows before the close (found by
  // fuzz_http_wire).
  RawConnection head_coding(port_);
  ASSERT_TRUE(
      head_coding.Send("HEAD /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"));
  const auto coding = head_coding.Read(30s, true);
  ASSERT_TRUE(coding.has_value());
  EXPECT_EQ(coding->status, 400);
  EXPECT_NE(HeaderOf(*coding, "content-length"), "0");       // the length the body would have had
  EXPECT_FALSE(head_coding.ReadUntil("{", 5s).has_value());  // no body came
  EXPECT_TRUE(head_coding.ClosedByServer());
  ExpectAliveAndUnchanged("HEAD with a transfer coding");
  ExpectStillMines();
}

TEST_F(HostileHttpTest, OversizedBodyIsRefusedBeforeItIsSent) {
  // 413 comes from the header alone: the client never sends the 100 MB.
  RawConnection conn(port_);
  ASSERT_TRUE(
      conn.Send("POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: "
                "100000000\r\n\r\n"));
  auto r = conn.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(ErrorOf(*r).find("larger than the limit of 1048576 bytes"), std::string::npos);
  EXPECT_TRUE(conn.WaitClosed());
  ExpectAliveAndUnchanged("oversized Content-Length");

  // With Expect: 100-continue the client is told before it sends anything.
  RawConnection polite(port_);
  ASSERT_TRUE(polite.Send(
      "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
      "Content-Length: 5000000\r\n\r\n"));
  r = polite.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413) << "no 100 Continue for a body that would be refused";
  EXPECT_TRUE(polite.WaitClosed());
  ExpectAliveAndUnchanged("oversized Content-Length with Expect: 100-continue");
  ExpectStillMines();
}

// --- Connections ----------------------------------------------------------------

TEST_F(HostileHttpTest, PipelinedAndKeptAliveRequestsAreAnsweredInOrder) {
  RawConnection conn(port_);
  ASSERT_TRUE(
      conn.Send("GET /blocks/0 HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" +
                RawPost("/mine", "[1]") +  // an error, and Connection: close
                "GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto a = conn.Read();
  auto b = conn.Read();
  auto c = conn.Read();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(ParseBlock(a->body).header.height, 0u);
  EXPECT_EQ(b->status, 404);
  EXPECT_EQ(ErrorOf(*b), "no such endpoint: /nope");
  EXPECT_EQ(c->status, 400);
  EXPECT_EQ(ErrorOf(*c), "request body must be a JSON object");
  // That POST asked to close: the GET after it is not answered.
  EXPECT_TRUE(conn.WaitClosed());
  ExpectAliveAndUnchanged("pipelined requests");

  // 500 requests on one keep-alive connection, in batches of 50 pipelined.
  RawConnection kept(port_);
  for (int batch = 0; batch < 10; ++batch) {
    std::string requests;
    for (int i = 0; i < 50; ++i) requests += "GET /blocks/1 HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(kept.Send(requests));
    for (int i = 0; i < 50; ++i) {
      const auto r = kept.Read();
      ASSERT_TRUE(r.has_value()) << "batch " << batch << " request " << i;
      ASSERT_EQ(r->status, 200);
      ASSERT_EQ(HexEncode(ParseBlock(r->body).hash), tip_.hash);
    }
  }
  EXPECT_FALSE(kept.ClosedByServer());
  ExpectAliveAndUnchanged("500 keep-alive requests");

  // A client that half-closes after its request still gets the answer.
  RawConnection half(port_);
  ASSERT_TRUE(half.Send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));
  half.ShutdownSend();
  const auto r = half.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(half.WaitClosed());
  ExpectAliveAndUnchanged("half-closed client");
  ExpectStillMines();
}

TEST_F(HostileHttpTest, HalfOpenConnectionsDoNotLockOutClients) {
  // 200 connections that never finish their header: more than the cap.
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (int i = 0; i < 200; ++i) {
    stalled.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(stalled.back()->Send("GET /status HTTP/1.1\r\nHost: x\r\n"));
  }
  // A normal client is served meanwhile, again and again.
  for (int i = 0; i < 20; ++i) {
    const HttpResponse r = node_->Get("/status");
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
  }
  ExpectAliveAndUnchanged("200 half-open connections");
  // The oldest were closed to make room: beyond the cap, at least one each.
  auto closed = [&] {
    std::size_t n = 0;
    for (auto& c : stalled) n += c->ClosedByServer() ? 1 : 0;
    return n;
  };
  EXPECT_TRUE(WaitUntil([&] { return closed() >= stalled.size() - kMaxConnections; }))
      << closed() << " closed";
  EXPECT_TRUE(stalled.front()->ClosedByServer());
  EXPECT_FALSE(stalled.back()->ClosedByServer());
  // One that is still open is served once its header is whole.
  ASSERT_TRUE(stalled.back()->Send("\r\n"));
  const auto late = stalled.back()->Read();
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status, 200);
  ExpectStillMines();
}

TEST_F(HostileHttpTest, ConnectionFloodsDoNotLockOutClients) {
  // 1000 connections that send nothing at all.
  {
    std::vector<std::unique_ptr<RawConnection>> silent;
    for (int i = 0; i < 1000; ++i) silent.push_back(std::make_unique<RawConnection>(port_));
    const HttpResponse r = node_->Get("/status");
    EXPECT_EQ(r.status, 200) << r.body;
    ExpectAliveAndUnchanged("1000 silent connections");
  }
  // 500 connections reset as soon as they are open, some mid-request.
  for (int i = 0; i < 500; ++i) {
    RawConnection c(port_);
    if (i % 2 == 1) c.Send(RawPost("/mine", R"({"data":"never sent in full"})").substr(0, 90));
    c.Reset();
  }
  ExpectAliveAndUnchanged("500 reset connections");
  ExpectStillMines();
}

TEST_F(HostileHttpTest, CapAnswers503WhenEverySlotHasARequest) {
  // Every slot held by a request whose header is whole and whose body stalls:
  // these are never closed to make room, so a newcomer is refused.
  std::vector<std::unique_ptr<RawConnection>> bodies;
  for (std::size_t i = 0; i < kMaxConnections; ++i) {
    bodies.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(bodies.back()->Send(
        "POST /mine HTTP/1.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
        "Content-Length: 10\r\n\r\n"));
    const auto go = bodies.back()->Read();  // the header has been read
    ASSERT_TRUE(go.has_value()) << i;
    ASSERT_EQ(go->status, 100) << i;
    ASSERT_TRUE(bodies.back()->Send("{\"da"));
  }
  RawConnection refused(port_);
  ASSERT_TRUE(refused.Send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto r = refused.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(ErrorOf(*r), "too many connections");
  EXPECT_TRUE(refused.WaitClosed());
  ASSERT_TRUE(node_->Running());
  // Their bodies never come; once they leave, everyone is served again.
  bodies.clear();
  EXPECT_TRUE(WaitUntil([&] {
    try {
      return node_->Get("/status").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
  ExpectAliveAndUnchanged("every slot busy");
  ExpectStillMines();
}

TEST_F(HostileHttpTest, StalledRequestsAreClosedByTheTimeouts) {
  // The node's timeouts are not flags: 10 s for a header once it has begun,
  // 30 s for a body once the header is in. Both run at once here.
  RawConnection slow_header(port_);
  ASSERT_TRUE(slow_header.Send("GET /status HTTP/1.1\r\nHost: x\r\n"));
  RawConnection lying_length(port_);
  ASSERT_TRUE(
      lying_length.Send("POST /mine HTTP/1.1\r\nContent-Type: application/json\r\n"
                        "Content-Length: 500\r\n\r\n{\"data\":\"short\"}"));
  // Meanwhile others are served.
  EXPECT_EQ(node_->Get("/status").status, 200);
  // Closed without an answer.
  EXPECT_FALSE(slow_header.Read(40s).has_value());
  EXPECT_TRUE(slow_header.WaitClosed(1s));
  EXPECT_FALSE(lying_length.Read(40s).has_value());
  EXPECT_TRUE(lying_length.WaitClosed(1s));
  ExpectAliveAndUnchanged("stalled requests");
  ExpectStillMines();
}

// --- Access control beyond loopback ----------------------------------------------

TEST(HostileHttpTokenTest, WritesNeedExactlyTheToken) {
  TempDir dir;
  const std::filesystem::path data = dir.path() / "data";
  auto node =
      NodeProcess::StartNode(dir.path(), {"--http-bind", "0.0.0.0", "--data-dir", data.string()});
  ASSERT_TRUE(node->Running()) << node->Log();
  std::string token;
  std::getline(std::ifstream(data / "api.token"), token);
  ASSERT_EQ(token.size(), 64u);
  const std::uint16_t port = node->http_port();
  const std::string tip = [&] {
    auto v = ParseJson(node->Get("/status").body);
    return v.ok() ? v->Find("tip")->as_string() : "";
  }();

  struct TokenCase {
    const char* what;
    std::string authorization;  // empty: no header
    std::string error;
  };
  const std::vector<TokenCase> cases = {
      {"no header", "", "this node needs a bearer token"},
      {"wrong token", "Bearer " + std::string(64, '0'), "wrong bearer token"},
      {"scheme only", "Bearer", "wrong bearer token"},
      {"empty token", "Bearer ", "wrong bearer token"},
      {"other scheme", "Basic " + token, "wrong bearer token"},
      {"token with a suffix", "Bearer " + token + "x", "wrong bearer token"},
      {"token cut short", "Bearer " + token.substr(0, 63), "wrong bearer token"},
      {"token with a space", "Bearer  " + token, "wrong bearer token"},
      {"not UTF-8", "Bearer \xff\xfe", "wrong bearer token"},
  };
  for (const std::string target : {"/mine", "/peers"}) {
    for (const TokenCase& c : cases) {
      SCOPED_TRACE(target + " " + c.what);
      std::map<std::string, std::string> headers;
      if (!c.authorization.empty()) headers["Authorization"] = c.authorization;
      // A body the route would refuse: the token is checked first.
      const HttpResponse r =
          HttpRequest(port, "POST", target, "{not json", "application/json", 30s, headers);
      EXPECT_EQ(r.status, 401) << r.body;
      EXPECT_EQ(r.headers.at("www-authenticate"), "Bearer realm=\"powchain\"");
      EXPECT_NE(ErrorOf(r).find(c.error), std::string::npos) << ErrorOf(r);
    }
  }
  // An Authorization header past the header limit is 431, not a crash.
  RawConnection big(port);
  ASSERT_TRUE(big.Send(RawPost("/mine", R"({"data":1})",
                               "Authorization: Bearer " + std::string(20000, 'a') + "\r\n")));
  const auto r = big.Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);
  EXPECT_TRUE(big.WaitClosed());

  ASSERT_TRUE(node->Running());
  auto status = ParseJson(node->Get("/status").body);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->Find("tip")->as_string(), tip);
  EXPECT_EQ(node->Get("/peers").body, "[]");
  // The right token still works.
  const HttpResponse mined =
      HttpRequest(port, "POST", "/mine", R"({"data":"with the token"})", "application/json", 30s,
                  {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(mined.status, 201) << mined.body;
  EXPECT_EQ(HexEncode(ParseBlock(mined.body).header.last_hash), tip);
}

}  // namespace
}  // namespace powchain::itest
