// NodeMetrics over a real chain in memory: what a scrape reads from it.
#include "node/metrics.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "chain/chainstate.h"
#include "consensus/work.h"
#include "storage/memory_store.h"
#include "testutil/chain_builder.h"

namespace powchain {
namespace {

constexpr std::uint64_t kFarFuture = 1ull << 62;

// The value of the sample line "<series> <value>", or -1.
double Sample(const std::string& scrape, const std::string& series) {
  const auto at = ("\n" + scrape).find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(scrape.c_str() + at + series.size() + 1, nullptr);
}

TEST(NodeMetricsTest, ChainGaugesAndTheNetworkHashRate) {
  const Params params = test::TinyParams();
  MemoryBlockStore store;
  ChainState chain(params, store);
  ASSERT_TRUE(chain.Load().ok());
  NodeMetrics metrics;
  NodeMetrics::Sources sources;
  sources.chain = &chain;
  metrics.SetSources(sources);
  // Too few blocks for an estimate: 0.
  EXPECT_EQ(Sample(metrics.Scrape(), "powchain_network_hashes_per_second"), 0.0);

  test::ChainBuilder builder(params);
  for (int i = 0; i < 14; ++i) builder.Add(1500 + 100 * i, std::to_string(i));
  for (const Block& b : builder.WithoutGenesis()) {
    ASSERT_TRUE(chain.AcceptBlock(b, kFarFuture).ok());
  }
  const std::string scrape = metrics.Scrape();
  EXPECT_EQ(Sample(scrape, "powchain_chain_height"), 14.0);
  EXPECT_EQ(Sample(scrape, "powchain_chain_difficulty"), builder.tip().header.difficulty);
  EXPECT_EQ(Sample(scrape, "powchain_blocks_total{status=\"new-tip\"}"), 14.0);
  // The last ten blocks' work over the time from block 4 to block 14.
  const auto& blocks = builder.blocks();
  Work work = 0;
  for (int h = 5; h <= 14; ++h) work += BlockWork(blocks[h].header.difficulty);
  const double seconds =
      static_cast<double>(blocks[14].header.timestamp - blocks[4].header.timestamp) / 1000.0;
  const double expected = work.convert_to<double>() / seconds;
  EXPECT_NEAR(Sample(scrape, "powchain_network_hashes_per_second"), expected, expected * 1e-6);
}

TEST(NodeMetricsTest, RequestsAreCountedByRouteAndStatus) {
  NodeMetrics metrics;
  for (int i = 0; i < 5; ++i) metrics.RecordRequest("/blocks/{id}", 200, 0.0002);
  metrics.RecordRequest("/blocks/{id}", 404, 0.0002);
  metrics.RecordRequest("/status", 200, 3.0);
  const std::string scrape = metrics.Scrape();
  EXPECT_EQ(Sample(scrape, "powchain_http_requests_total{route=\"/blocks/{id}\",status=\"200\"}"),
            5.0);
  EXPECT_EQ(Sample(scrape, "powchain_http_requests_total{route=\"/blocks/{id}\",status=\"404\"}"),
            1.0);
  EXPECT_EQ(Sample(scrape, "powchain_http_requests_total{route=\"/status\",status=\"200\"}"), 1.0);
  EXPECT_EQ(Sample(scrape, "powchain_http_request_duration_seconds_count{route=\"/blocks/{id}\"}"),
            6.0);
  EXPECT_EQ(
      Sample(
          scrape,
          "powchain_http_request_duration_seconds_bucket{route=\"/blocks/{id}\",le=\"0.00025\"}"),
      6.0);
  EXPECT_EQ(
      Sample(scrape, "powchain_http_request_duration_seconds_bucket{route=\"/status\",le=\"2.5\"}"),
      0.0);
  EXPECT_EQ(
      Sample(scrape, "powchain_http_request_duration_seconds_bucket{route=\"/status\",le=\"5\"}"),
      1.0);
}

}  // namespace
}  // namespace powchain
