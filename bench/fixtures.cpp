#include "fixtures.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <utility>

#include "consensus/genesis.h"
#include "storage/sqlite_store.h"
#include "testutil/chain_builder.h"
#include "util/hex.h"

namespace powchain::bench {

void ReportRates(benchmark::State& state, const char* name, std::int64_t items,
                 std::int64_t bytes) {
  state.counters[name] =
      benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
  if (bytes != 0) {
    state.counters["bytes/s"] = benchmark::Counter(
        static_cast<double>(bytes), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  }
}

void ReportPairedVerifyRate(benchmark::State& state, std::int64_t items, double raw_seconds,
                            double measured_seconds) {
  if (measured_seconds > 0) state.counters["x_raw_verify"] = raw_seconds / measured_seconds;
  if (raw_seconds > 0) state.counters["raw_verify/s"] = static_cast<double>(items) / raw_seconds;
}

std::string DataOfSize(std::size_t bytes, std::uint64_t seed) {
  std::string s = "[";
  for (std::uint64_t i = seed; s.size() < bytes; ++i) {
    if (s.size() > 1) s += ',';
    s += R"({"to":"account-)" + std::to_string(i) + R"(","amount":)" + std::to_string(i * 3) +
         R"(.25,"memo":"caf\u00e9 \"quoted\""})";
  }
  return s + "]";
}

Params BenchParams() { return Params::Regtest(); }

const std::vector<Block>& CachedChain(std::size_t n, std::size_t data_bytes) {
  static std::map<std::pair<std::size_t, std::size_t>, std::vector<Block>> cache;
  auto [it, inserted] = cache.try_emplace({n, data_bytes});
  if (inserted) {
    const Params params = BenchParams();
    test::ChainBuilder builder(params);
    for (std::size_t h = 1; h <= n; ++h)
      builder.Add(params.mine_rate_ms, DataOfSize(data_bytes, h));
    it->second = builder.blocks();
  }
  return it->second;
}

std::vector<std::vector<Block>> Batches(const std::vector<Block>& chain, std::size_t batch_size) {
  std::vector<std::vector<Block>> out;
  for (std::size_t i = 1; i < chain.size(); i += batch_size) {
    const std::size_t end = std::min(chain.size(), i + batch_size);
    out.emplace_back(chain.begin() + static_cast<std::ptrdiff_t>(i),
                     chain.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

TempSqliteStore::TempSqliteStore(const Params& params) {
  std::string pattern = (std::filesystem::temp_directory_path() / "powchain-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  auto store = SqliteBlockStore::Open(dir_ / "blocks.sqlite", params.network,
                                      HexEncode(MakeGenesis(params).hash));
  if (!store) throw std::runtime_error(store.error());
  store_ = std::move(store).value();
}

TempSqliteStore::~TempSqliteStore() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

PerfControl::PerfControl() {
  const char* spec = std::getenv("POWCHAIN_PERF_CTL");
  if (spec == nullptr) return;
  const std::string text(spec);
  const std::size_t comma = text.find(',');
  if (comma == std::string::npos) {
    std::cerr << "POWCHAIN_PERF_CTL must be CTL,ACK (perf's two control FIFOs)\n";
    std::exit(2);
  }
  // Opened in perf's order: it opens CTL for reading, then ACK for writing.
  ctl_ = open(text.substr(0, comma).c_str(), O_WRONLY | O_CLOEXEC);
  ack_ = open(text.substr(comma + 1).c_str(), O_RDONLY | O_CLOEXEC);
  if (ctl_ < 0 || ack_ < 0) {
    std::cerr << "cannot open the FIFOs of POWCHAIN_PERF_CTL: " << std::strerror(errno) << "\n";
    std::exit(2);
  }
}

PerfControl::~PerfControl() {
  if (ctl_ >= 0) close(ctl_);
  if (ack_ >= 0) close(ack_);
}

void PerfControl::Send(const char* command) {
  if (ctl_ < 0) return;
  const std::string line = std::string(command) + "\n";
  if (write(ctl_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return;
  char reply[16];
  (void)read(ack_, reply, sizeof(reply));  // "ack\n"
}

}  // namespace powchain::bench
