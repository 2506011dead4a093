// `powchain bench` as a user runs it: a short run must print every figure,
// in the table and as JSON, and refuse bad flags.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>

#include "node_process.h"
#include "primitives/json.h"

namespace powchain::itest {
namespace {

using namespace std::chrono_literals;

struct BenchRun {
  int code;
  std::string output;  // stdout and stderr together
};

BenchRun Bench(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "bench");
  NodeProcess p(args, {}, dir.path());
  const auto code = p.WaitExit(120s);
  return {code.value_or(-1), p.Log()};
}

TEST(BenchCliTest, JsonHasEveryFigure) {
  TempDir dir;
  const BenchRun r = Bench(dir, {"--seconds", "0.05", "--threads", "1,2", "--blocks", "600",
                                 "--batch", "100", "--json"});
  ASSERT_EQ(r.code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line, json;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.front() == '{') json = line;
  }
  ASSERT_FALSE(json.empty()) << r.output;
  auto parsed = ParseJson(json);
  ASSERT_TRUE(parsed.ok()) << json;
  const JsonValue& o = *parsed;
  // Every figure is a whole number; rates must be positive.
  auto count = [](const JsonValue& v, std::string_view key) -> std::uint64_t {
    const JsonValue* f = v.Find(key);
    EXPECT_TRUE(f != nullptr && f->AsU64().has_value()) << key;
    return f != nullptr ? f->AsU64().value_or(0) : 0;
  };
  ASSERT_NE(o.Find("sha256_backend"), nullptr);
  EXPECT_FALSE(o.Find("sha256_backend")->as_string().empty());
  ASSERT_NE(o.Find("mining"), nullptr);
  const auto& mining = o.Find("mining")->items();
  ASSERT_EQ(mining.size(), 2u);
  EXPECT_EQ(count(mining[0], "threads"), 1u);
  EXPECT_EQ(count(mining[1], "threads"), 2u);
  for (const JsonValue& row : mining) {
    EXPECT_GT(count(row, "search_hashes_per_s"), 0u);
    EXPECT_GT(count(row, "openssl_midstate_hashes_per_s"), 0u);
  }
  EXPECT_EQ(count(o, "blocks"), 600u);
  EXPECT_EQ(count(o, "batch"), 100u);
  EXPECT_GT(count(o, "header_validation_per_s"), 0u);
  EXPECT_GT(count(o, "block_checks_per_s"), 0u);
  EXPECT_GT(count(o, "ingest_blocks_per_s"), 0u);
}

TEST(BenchCliTest, TableNamesEachMeasurement) {
  TempDir dir;
  const BenchRun r = Bench(dir, {"--seconds", "0.05", "--threads", "1", "--blocks", "100"});
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* word : {"sha256 backend:", "1 thread(s)", "header validation",
                           "full block checks", "ingest into SQLite"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << word << "\n" << r.output;
  }
}

TEST(BenchCliTest, RefusesBadFlags) {
  TempDir dir;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--threads", "0"}, {"--seconds", "0"}, {"--blocks", "0"}, {"--nonsense"}}) {
    const BenchRun r = Bench(dir, args);
    EXPECT_EQ(r.code, 2) << args.front() << "\n" << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace powchain::itest
