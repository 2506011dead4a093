#include "node/bench.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <random>
#include <thread>

#include "chain/chainstate.h"
#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/pow.h"
#include "crypto/sha256.h"
#include "mining/search.h"
#include "primitives/canonical_json.h"
#include "storage/sqlite_store.h"
#include "util/hex.h"
#include "util/system_clock.h"

namespace powchain {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Runs `loop(thread_index, stop)` on `threads` threads for `seconds`; each
// returns how many hashes it did. The rate is the sum of each thread's
// hashes over its own running time.
template <typename Loop>
double MeasureRate(unsigned threads, double seconds, Loop loop) {
  std::atomic<bool> stop{false};
  std::vector<double> rates(threads, 0.0);
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      const auto start = SteadyClock::now();
      const std::uint64_t hashes = loop(i, stop);
      rates[i] = static_cast<double>(hashes) / SecondsSince(start);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : workers) t.join();
  double total = 0;
  for (const double r : rates) total += r;
  return total;
}

// A header that never meets the difficulty asked below.
constexpr std::uint32_t kImpossibleBits = 250;

double MeasureSearch(unsigned threads, double seconds) {
  Params params = Params::Regtest();
  params.min_difficulty = params.initial_difficulty = kImpossibleBits;
  const Block genesis = MakeGenesis(params);
  const ParentContext parent{genesis.header, genesis.hash, genesis.header.timestamp};
  const SystemClock clock;
  return MeasureRate(threads, seconds, [&](unsigned i, const std::atomic<bool>& stop) {
    SearchOptions options;
    options.nonce_start = i;
    options.nonce_stride = threads;
    return SearchBlock(parent, "null", params, clock, stop, options).attempts;
  });
}

double MeasurePlainLoop(unsigned threads, double seconds, Sha256Backend backend) {
  std::array<std::uint8_t, 96> header{};
  for (std::size_t i = 0; i < header.size(); ++i) header[i] = static_cast<std::uint8_t>(i * 7);
  const Sha256Midstate mid(std::span<const std::uint8_t, 64>(header.data(), 64));
  const std::span<const std::uint8_t, 32> tail(header.data() + 64, 32);
  return MeasureRate(threads, seconds, [&](unsigned i, const std::atomic<bool>& stop) {
    constexpr std::uint64_t kChunk = 1 << 14;
    std::uint64_t hashes = 0;
    std::uint64_t start = i;
    while (!stop.load(std::memory_order_relaxed)) {
      (void)ScanCounterSingleStream(mid, tail, start, threads, kChunk, kImpossibleBits, backend);
      start += kChunk * threads;
      hashes += kChunk;
    }
    return hashes;
  });
}

struct BuiltChain {
  Params params;
  std::vector<Block> blocks;           // heights 1..n
  std::vector<ParentContext> parents;  // parents[i] is the parent of blocks[i]
  std::uint64_t now_ms = 0;            // a time at which every block is valid
};

// A chain on the regtest rules, one block per mine rate (so the difficulty
// falls to the floor and stays there), each carrying a JSON string of about
// `data_bytes` bytes.
BuiltChain BuildChain(std::uint64_t n, std::size_t data_bytes) {
  BuiltChain out;
  out.params = Params::Regtest();
  const Block genesis = MakeGenesis(out.params);
  std::deque<std::uint64_t> window{genesis.header.timestamp};
  ParentContext parent{genesis.header, genesis.hash, genesis.header.timestamp};
  const std::atomic<bool> never{false};
  out.blocks.reserve(n);
  out.parents.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string memo = "block " + std::to_string(i + 1) + " ";
    while (memo.size() + 2 < data_bytes) memo += static_cast<char>('a' + memo.size() % 26);
    const FixedClock clock(parent.header.timestamp + out.params.mine_rate_ms + 1);
    SearchResult r =
        SearchBlock(parent, *CanonicalizeJsonText("\"" + memo + "\""), out.params, clock, never);
    Block block = std::move(*r.block);
    out.parents.push_back(parent);
    window.push_back(block.header.timestamp);
    if (window.size() > out.params.mtp_window) window.pop_front();
    const std::vector<std::uint64_t> times(window.begin(), window.end());
    parent = ParentContext{block.header, block.hash, MedianTimePast(times)};
    out.blocks.push_back(std::move(block));
  }
  out.now_ms = parent.header.timestamp;
  return out;
}

// Runs `pass()` (which checks every block once and returns the failures)
// until at least `seconds` have passed; returns blocks per second.
template <typename Pass>
Result<double> MeasurePasses(std::size_t blocks_per_pass, double seconds, Pass pass) {
  const auto start = SteadyClock::now();
  std::uint64_t done = 0;
  do {
    if (const std::size_t failures = pass(); failures != 0) {
      return Error{std::to_string(failures) +
                   " block(s) of the benchmark chain failed their checks"};
    }
    done += blocks_per_pass;
  } while (SecondsSince(start) < seconds);
  return static_cast<double>(done) / SecondsSince(start);
}

Result<double> MeasureIngest(const BuiltChain& chain, std::size_t batch, double* seconds_out) {
  namespace fs = std::filesystem;
  std::random_device random;
  const fs::path dir = fs::temp_directory_path() / ("powchain-bench-" + std::to_string(::getpid()) +
                                                    "-" + std::to_string(random()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir.string() + ": " + ec.message()};
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{dir};

  const Block genesis = MakeGenesis(chain.params);
  auto store =
      SqliteBlockStore::Open(dir / "blocks.sqlite", chain.params.network, HexEncode(genesis.hash));
  if (!store) return Error{store.error()};
  ChainState state(chain.params, **store);
  if (Status s = state.Load(); !s) return Error{s.error()};

  const auto start = SteadyClock::now();
  for (std::size_t first = 0; first < chain.blocks.size(); first += batch) {
    const std::size_t last = std::min(chain.blocks.size(), first + batch);
    std::vector<Block> blocks(chain.blocks.begin() + static_cast<std::ptrdiff_t>(first),
                              chain.blocks.begin() + static_cast<std::ptrdiff_t>(last));
    for (const AcceptResult& r : state.AcceptBlocks(std::move(blocks), chain.now_ms)) {
      if (r.status != AcceptStatus::kNewTip) {
        return Error{"ingest refused a block: " +
                     (r.store_error.empty() ? r.validation.message : r.store_error)};
      }
    }
  }
  const double seconds = SecondsSince(start);
  if (state.Tip().height() != chain.blocks.size()) return Error{"ingest ended at the wrong height"};
  *seconds_out = seconds;
  return static_cast<double>(chain.blocks.size()) / seconds;
}

std::string Rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2f M/s", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f k/s", per_second / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f /s", per_second);
  }
  return buf;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

Status ValidateBenchOptions(const BenchOptions& options) {
  if (!(options.seconds > 0 && options.seconds <= BenchOptions::kMaxSeconds)) {
    return Error{"--seconds must be in (0, 60]"};
  }
  if (options.threads.empty()) return Error{"--threads needs at least one thread count"};
  for (const unsigned t : options.threads) {
    if (t < 1 || t > 256) return Error{"--threads: each count must be 1..256"};
  }
  if (options.blocks < 1 || options.blocks > BenchOptions::kMaxBlocks) {
    return Error{"--blocks must be 1..1000000"};
  }
  if (options.data_bytes < 2 || options.data_bytes > 64 * 1024) {
    return Error{"--data-bytes must be 2..65536"};
  }
  if (options.batch < 1 || options.batch > 10'000) return Error{"--batch must be 1..10000"};
  return {};
}

Result<BenchReport> RunBench(const BenchOptions& options,
                             const std::function<void(const std::string&)>& progress) {
  if (Status s = ValidateBenchOptions(options); !s) return Error{s.error()};
  auto say = [&](const std::string& what) {
    if (progress) progress(what);
  };
  BenchReport report;
  report.backend = DescribeSha256Backend();
  const bool shani = Sha256BackendAvailable(Sha256Backend::kShaNi);
  for (const unsigned threads : options.threads) {
    BenchReport::MiningRow row;
    row.threads = threads;
    say("mining, " + std::to_string(threads) + " thread(s)");
    row.search_rate = MeasureSearch(threads, options.seconds);
    if (shani)
      row.single_stream_rate = MeasurePlainLoop(threads, options.seconds, Sha256Backend::kShaNi);
    row.openssl_rate = MeasurePlainLoop(threads, options.seconds, Sha256Backend::kOpenSsl);
    report.mining.push_back(row);
  }

  say("building " + std::to_string(options.blocks) + " blocks");
  const BuiltChain chain = BuildChain(options.blocks, options.data_bytes);
  report.blocks = options.blocks;
  report.data_bytes = chain.blocks.front().data.size();
  report.batch = options.batch;

  say("header validation");
  auto headers = MeasurePasses(chain.blocks.size(), options.seconds, [&] {
    std::size_t failures = 0;
    for (std::size_t i = 0; i < chain.blocks.size(); ++i) {
      const Block& b = chain.blocks[i];
      const Hash32 hash = b.header.ComputeHash();
      const bool ok =
          hash == b.hash && CheckProofOfWork(hash, b.header.difficulty) &&
          CheckBlockContextual(b.header, chain.parents[i], chain.now_ms, chain.params).ok();
      failures += ok ? 0 : 1;
    }
    return failures;
  });
  if (!headers) return Error{headers.error()};
  report.header_validation_rate = *headers;

  say("block checks");
  auto checks = MeasurePasses(chain.blocks.size(), options.seconds, [&] {
    std::size_t failures = 0;
    for (std::size_t i = 0; i < chain.blocks.size(); ++i) {
      failures +=
          CheckBlock(chain.blocks[i], chain.parents[i], chain.now_ms, chain.params).ok() ? 0 : 1;
    }
    return failures;
  });
  if (!checks) return Error{checks.error()};
  report.block_check_rate = *checks;

  say("ingest into SQLite");
  auto ingest = MeasureIngest(chain, options.batch, &report.ingest_seconds);
  if (!ingest) return Error{ingest.error()};
  report.ingest_rate = *ingest;
  return report;
}

std::string FormatBenchTable(const BenchReport& r) {
  std::string out = "sha256 backend: " + r.backend + "\n\n";
  out += "mining (hashes/s)  search loop   vs 1 thread   plain SHA-NI loop   OpenSSL midstate\n";
  const double one = r.mining.empty() ? 0 : r.mining.front().search_rate;
  for (const auto& row : r.mining) {
    char line[160];
    std::snprintf(
        line, sizeof line, "  %2u thread(s)      %-13s %-13s %-19s %s\n", row.threads,
        Rate(row.search_rate).c_str(),
        (one > 0 ? std::to_string(row.search_rate / one).substr(0, 4) + "x" : "-").c_str(),
        row.single_stream_rate > 0 ? Rate(row.single_stream_rate).c_str() : "n/a",
        Rate(row.openssl_rate).c_str());
    out += line;
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "\nchain of %llu blocks, %zu data bytes each, regtest rules, one thread:\n",
                static_cast<unsigned long long>(r.blocks), r.data_bytes);
  out += line;
  out += "  header validation   " + Rate(r.header_validation_rate) + " headers\n";
  out += "  full block checks   " + Rate(r.block_check_rate) + " blocks\n";
  std::snprintf(line, sizeof line,
                "  ingest into SQLite  %s blocks (%.2f s, commits of %zu blocks)\n",
                Rate(r.ingest_rate).c_str(), r.ingest_seconds, r.batch);
  out += line;
  return out;
}

std::string FormatBenchJson(const BenchReport& r) {
  std::string out = "{\"sha256_backend\":\"" + r.backend + "\",\"mining\":[";
  for (std::size_t i = 0; i < r.mining.size(); ++i) {
    const auto& row = r.mining[i];
    if (i > 0) out += ',';
    out += "{\"threads\":" + std::to_string(row.threads) +
           ",\"search_hashes_per_s\":" + Number(row.search_rate) +
           ",\"plain_shani_hashes_per_s\":" + Number(row.single_stream_rate) +
           ",\"openssl_midstate_hashes_per_s\":" + Number(row.openssl_rate) + "}";
  }
  out += "],\"blocks\":" + std::to_string(r.blocks) +
         ",\"data_bytes\":" + std::to_string(r.data_bytes) +
         ",\"batch\":" + std::to_string(r.batch) +
         ",\"header_validation_per_s\":" + Number(r.header_validation_rate) +
         ",\"block_checks_per_s\":" + Number(r.block_check_rate) +
         ",\"ingest_blocks_per_s\":" + Number(r.ingest_rate) + "}\n";
  return out;
}

}  // namespace powchain
