// Fixed inputs shared by the benchmarks: block data of a given size and
// valid chains built from it. Everything here is deterministic, so two runs
// (and two builds being compared) measure the same bytes.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/params.h"
#include "primitives/block.h"
#include "storage/block_store.h"

namespace powchain::bench {

// Sets the rate counters of a benchmark: `items` things per second under
// `name` ("blocks/s", "headers/s"), and, when `bytes` is not zero, "bytes/s"
// in decimal units (so 93M/s reads as 93 MB/s). Counts are totals over
// every iteration.
void ReportRates(benchmark::State& state, const char* name, std::int64_t items,
                 std::int64_t bytes = 0);

// The paired reference of a signature-checking benchmark: "raw_verify/s",
// `items` signatures verified one by one in `raw_seconds` (untimed, in the
// same iterations), and "x_raw_verify", the measured rate over it (the
// same `items` in `measured_seconds`).
void ReportPairedVerifyRate(benchmark::State& state, std::int64_t items, double raw_seconds,
                            double measured_seconds);

// A JSON text of at least `bytes` bytes: an array of small objects (strings
// with escapes and non-ASCII text, decimals), different for each `seed`.
// Its canonical form is somewhat shorter (escapes become UTF-8).
std::string DataOfSize(std::size_t bytes, std::uint64_t seed = 0);

// The parameters the chain benchmarks use: regtest. With one block per
// mine rate the difficulty falls from 8 bits to the floor of 1 in seven
// blocks, so building a long chain costs about two hashes a block.
Params BenchParams();

// Genesis followed by `n` blocks one mine rate apart, each with
// DataOfSize(data_bytes, height) as data. Built once per (n, data_bytes) and
// process, then shared; the reference stays valid for the process.
const std::vector<Block>& CachedChain(std::size_t n, std::size_t data_bytes);

// `chain` (genesis first) without its genesis, cut into batches of
// `batch_size` blocks in chain order, ready to be moved into AcceptBlocks.
std::vector<std::vector<Block>> Batches(const std::vector<Block>& chain, std::size_t batch_size);

// Profiling the timed part alone. When POWCHAIN_PERF_CTL names perf's
// control FIFOs, as "CTL,ACK" (started with `perf record -D -1 --control
// fifo:CTL,ACK`), Enable() and Disable() switch sampling on and off and
// wait for perf's acknowledgement, so that a profile holds what a
// benchmark times and not its set-up. Without the variable both do
// nothing. One per process (perf keeps the FIFOs open); docs/performance.md,
// "Profiling a benchmark's timed part".
class PerfControl {
 public:
  PerfControl();
  ~PerfControl();
  PerfControl(const PerfControl&) = delete;
  PerfControl& operator=(const PerfControl&) = delete;
  void Enable() { Send("enable"); }
  void Disable() { Send("disable"); }

 private:
  void Send(const char* command);
  int ctl_ = -1;
  int ack_ = -1;
};

// A fresh SQLite database in a new directory under the system temporary
// directory; the directory and everything in it go away with the object.
class TempSqliteStore {
 public:
  explicit TempSqliteStore(const Params& params);
  ~TempSqliteStore();
  TempSqliteStore(const TempSqliteStore&) = delete;
  TempSqliteStore& operator=(const TempSqliteStore&) = delete;

  BlockStore& store() { return *store_; }
  // The directory holding the database files.
  const std::filesystem::path& dir() const { return dir_; }
  // Closes the store (SQLite folds its write-ahead log into the database);
  // store() must not be used afterwards.
  void Close() { store_.reset(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<BlockStore> store_;
};

}  // namespace powchain::bench
