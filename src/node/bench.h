// `powchain bench`: the node's hot paths measured on this machine, so a user
// can see what their hardware does before running a node on it.
//
//  - mining: hashes per second of the real search loop (SearchBlock) for
//    each thread count, beside the plain single-stream loop on SHA-NI and on
//    OpenSSL's midstate, run with the same threads for the same time;
//  - header validation: headers per second on one thread (hash recomputed,
//    proof of work, height, link, difficulty, median time past, drift);
//  - ingest: blocks per second validated and committed to a fresh SQLite
//    store in a temporary directory, in batches as a sync commits them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/result.h"

namespace powchain {

struct BenchOptions {
  static constexpr double kMaxSeconds = 60;
  static constexpr std::uint64_t kMaxBlocks = 1'000'000;

  // Time per mining measurement (each loop, each thread count).
  double seconds = 1.0;
  std::vector<unsigned> threads = {1, 2};
  // Blocks built for the validation and ingest measurements, and the
  // payload of each (a JSON string of about this many bytes).
  std::uint64_t blocks = 20'000;
  std::size_t data_bytes = 200;
  std::size_t batch = 500;
};

struct BenchReport {
  struct MiningRow {
    unsigned threads = 0;
    double search_rate = 0;         // SearchBlock, the active backend
    double single_stream_rate = 0;  // plain loop, one compression per nonce, SHA-NI (0: no SHA-NI)
    double openssl_rate = 0;        // plain loop on OpenSSL's midstate
  };
  std::string backend;  // DescribeSha256Backend()
  std::vector<MiningRow> mining;
  std::uint64_t blocks = 0;
  std::size_t data_bytes = 0;
  std::size_t batch = 0;
  double header_validation_rate = 0;  // headers/s, one thread
  double block_check_rate = 0;        // full CheckBlock (adds size and data hash), blocks/s
  double ingest_rate = 0;             // blocks/s into SQLite
  double ingest_seconds = 0;
};

// Checks the options (ranges, a non-empty thread list).
Status ValidateBenchOptions(const BenchOptions& options);

// Runs every measurement; `progress` (may be empty) is told what is running.
Result<BenchReport> RunBench(const BenchOptions& options,
                             const std::function<void(const std::string&)>& progress);

std::string FormatBenchTable(const BenchReport& report);
std::string FormatBenchJson(const BenchReport& report);

}  // namespace powchain
