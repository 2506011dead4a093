// difficulty_sim: the difficulty rule (docs/consensus.md, rule 4; consensus NextDifficulty)
// run against simulated miners of known hash rate. For each configuration it
// prints the distribution of block intervals (timestamp differences) and of
// block difficulties, against mineRate. It measures the rule's behaviour, not
// the speed of code, so it is a plain program rather than a Google Benchmark
// (not run by `make bench`; docs/performance.md has its figures).
//
// The model. N miners of H hashes/s each, on one chain with no propagation
// delay, act as one Poisson process of rate N*H: at difficulty d each hash
// succeeds with probability 2^-d, so the wait for a block is exponential with
// rate N*H*2^-d (at these rates the geometric count of hashes cannot be told
// from it). The search follows SearchBlock: the candidate timestamp is
// max(now, median time past + 1) in whole milliseconds and the difficulty is
// NextDifficulty(parent, timestamp), re-derived as time passes. Under rule 4
// that difficulty changes at one instant of a search, when the timestamp
// reaches parent.timestamp + mineRate (from parent + 1 to parent - 1 bits).
// The process is memoryless, so the wait is sampled afresh from that instant
// at the new rate. Not modelled: the moment a real miner notices the change
// (its next clock read, at most 4,096 hashes later, ~0.3 ms), and the time
// from finding a block to searching on top of it (store commit, new job),
// unless --dead-ms sets one.
//
// Beside the sampled figures it prints those of the same model in closed form
// (the "model" columns): the parent difficulty is a birth-death chain, up one
// bit when the child comes within mineRate, down one otherwise; its
// stationary distribution and the piecewise-exponential wait give the mean
// and the quantiles without sampling noise (and without the millisecond
// rounding). --check compares the two, and the sampler against a fixed
// difficulty, where the mean interval must be 2^d / (N*H).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/params.h"

namespace powchain {
namespace {

struct SimConfig {
  Params params;                   // mineRate, initial difficulty, MTP window, bounds
  unsigned miners = 1;             // N
  double hash_rate = 16e6;         // H: hashes per second of each miner
  std::uint64_t blocks = 1000000;  // intervals measured, after the warm-up
  std::uint64_t warmup = 1000;     // blocks mined and not measured
  std::uint64_t seed = 1;
  double dead_ms = 0;  // time after each block before the next search starts
  // When set, every block is mined at this difficulty instead of the rule's
  // (a check of the sampler).
  std::optional<std::uint32_t> fixed_difficulty;

  double TotalRatePerMs() const { return miners * hash_rate / 1000.0; }
};

// Quantile q of sorted values by nearest rank: the smallest value with at
// least a fraction q of the values at or below it.
template <typename T>
T NearestRank(const std::vector<T>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

struct SimResult {
  double mean_ms = 0;
  double sd_ms = 0;  // standard deviation of the intervals
  std::int64_t median_ms = 0;
  std::int64_t p90_ms = 0;
  double fast_share = 0;                                // intervals below mineRate
  std::map<std::uint32_t, std::uint64_t> difficulties;  // block difficulty -> blocks
};

// Mines warmup + blocks blocks on top of the genesis of config.params and
// returns the statistics of the last `blocks` intervals.
SimResult Simulate(const SimConfig& config) {
  const Params& params = config.params;
  const double rate = config.TotalRatePerMs();
  // A fixed seed gives the same figures on every run with the same standard
  // library (the engine is fully specified; the distribution's algorithm is
  // the library's).
  std::mt19937_64 rng(config.seed);
  std::exponential_distribution<double> exp1(1.0);

  BlockHeader parent = MakeGenesis(params).header;
  const std::uint64_t origin = parent.timestamp;
  // The node starts a minute after genesis; the first block is therefore
  // slow, as on a real node started long after the genesis date.
  double now = 60000;                                  // ms since `origin`, real (continuous) time
  std::deque<std::uint64_t> window{parent.timestamp};  // last mtp_window timestamps
  std::uint64_t median_time_past = parent.timestamp;

  std::vector<std::int64_t> intervals;
  intervals.reserve(config.blocks);
  SimResult result;
  std::uint64_t fast = 0;
  const std::uint64_t total = config.warmup + config.blocks;
  for (std::uint64_t height = 1; height <= total; ++height) {
    double t = now + config.dead_ms;
    const auto stamp = [&](double at) {
      return std::max(origin + static_cast<std::uint64_t>(std::floor(at)), median_time_past + 1);
    };
    const std::uint64_t slow_from = parent.timestamp + params.mine_rate_ms;
    std::uint32_t difficulty = 0;
    for (;;) {
      const std::uint64_t timestamp = stamp(t);
      difficulty = config.fixed_difficulty ? *config.fixed_difficulty
                                           : NextDifficulty(parent, timestamp, params);
      // Rule 4 gives one difficulty to every timestamp below slow_from and
      // another to every timestamp from it on; timestamps only grow with t.
      const double change = timestamp < slow_from ? static_cast<double>(slow_from - origin)
                                                  : std::numeric_limits<double>::infinity();
      const double wait = exp1(rng) / std::ldexp(rate, -static_cast<int>(difficulty));
      if (t + wait < change) {
        t += wait;
        break;
      }
      t = change;
    }
    BlockHeader block = parent;
    block.height = height;
    block.timestamp = stamp(t);
    block.difficulty = difficulty;
    if (!config.fixed_difficulty && NextDifficulty(parent, block.timestamp, params) != difficulty) {
      std::fprintf(stderr, "internal error: difficulty changed inside a segment\n");
      std::exit(2);
    }
    if (height > config.warmup) {
      const auto dt =
          static_cast<std::int64_t>(block.timestamp) - static_cast<std::int64_t>(parent.timestamp);
      intervals.push_back(dt);
      if (dt < static_cast<std::int64_t>(params.mine_rate_ms)) ++fast;
      ++result.difficulties[difficulty];
    }
    window.push_back(block.timestamp);
    if (window.size() > params.mtp_window) window.pop_front();
    const std::vector<std::uint64_t> last(window.begin(), window.end());
    median_time_past = MedianTimePast(last);
    parent = block;
    now = t;
  }

  double sum = 0;
  for (const std::int64_t dt : intervals) sum += static_cast<double>(dt);
  result.mean_ms = sum / static_cast<double>(intervals.size());
  double squares = 0;
  for (const std::int64_t dt : intervals) {
    squares +=
        (static_cast<double>(dt) - result.mean_ms) * (static_cast<double>(dt) - result.mean_ms);
  }
  result.sd_ms = std::sqrt(squares / static_cast<double>(intervals.size()));
  std::sort(intervals.begin(), intervals.end());
  result.median_ms = NearestRank(intervals, 0.5);
  result.p90_ms = NearestRank(intervals, 0.9);
  result.fast_share = static_cast<double>(fast) / static_cast<double>(intervals.size());
  return result;
}

// The closed form of the same model (continuous time, no MTP bound, which
// never binds at these difficulties).
struct ModelResult {
  double mean_ms = 0;
  double median_ms = 0;
  double p90_ms = 0;
  double fast_share = 0;
  std::map<std::uint32_t, double> difficulties;  // stationary share, > 1e-6
};

ModelResult Model(const SimConfig& config) {
  const Params& params = config.params;
  const double rate = config.TotalRatePerMs();
  const double dead = config.dead_ms;
  if (config.fixed_difficulty) {  // one exponential wait after the dead time
    const double mean = std::ldexp(1.0, static_cast<int>(*config.fixed_difficulty)) / rate;
    ModelResult m;
    m.mean_ms = dead + mean;
    m.median_ms = dead + mean * std::log(2.0);
    m.p90_ms = dead + mean * std::log(10.0);
    m.fast_share =
        -std::expm1(-std::max(0.0, static_cast<double>(params.mine_rate_ms) - dead) / mean);
    m.difficulties[*config.fixed_difficulty] = 1;
    return m;
  }
  const double first = std::max(0.0, static_cast<double>(params.mine_rate_ms) - dead);
  const auto lambda = [&](std::uint32_t d) { return std::ldexp(rate, -static_cast<int>(d)); };
  const auto clamp = [&](std::int64_t d) {
    return static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(d, params.min_difficulty, params.max_difficulty));
  };
  // For a parent of difficulty p: the rates before and after mineRate.
  const auto fast_rate = [&](std::uint32_t p) { return lambda(clamp(std::int64_t{p} + 1)); };
  const auto slow_rate = [&](std::uint32_t p) { return lambda(clamp(std::int64_t{p} - 1)); };

  // Stationary distribution of the parent difficulty, in logs:
  // pi(p+1) / pi(p) = up(p) / down(p+1).
  const std::uint32_t lo = params.min_difficulty;
  const std::uint32_t hi = params.max_difficulty;
  std::vector<double> log_pi(hi - lo + 1, 0.0);
  for (std::uint32_t p = lo; p < hi; ++p) {
    const double log_up = std::log(-std::expm1(-fast_rate(p) * first));
    const double log_down = -fast_rate(p + 1) * first;
    log_pi[p + 1 - lo] = log_pi[p - lo] + log_up - log_down;
  }
  const double top = *std::max_element(log_pi.begin(), log_pi.end());
  struct State {
    std::uint32_t p;
    double weight;
  };
  std::vector<State> states;
  double norm = 0;
  for (std::uint32_t p = lo; p <= hi; ++p) {
    const double w = std::exp(log_pi[p - lo] - top);
    if (w > 1e-15) {
      states.push_back({p, w});
      norm += w;
    }
  }
  for (State& s : states) s.weight /= norm;

  ModelResult m;
  // P(interval <= t) for a parent of difficulty p.
  const auto cdf_given = [&](std::uint32_t p, double t) {
    if (t <= dead) return 0.0;
    const double l1 = fast_rate(p);
    if (t < dead + first) return -std::expm1(-l1 * (t - dead));
    return -std::expm1(-l1 * first - slow_rate(p) * (t - dead - first));
  };
  const auto cdf = [&](double t) {
    double f = 0;
    for (const State& s : states) f += s.weight * cdf_given(s.p, t);
    return f;
  };
  for (const State& s : states) {
    const double l1 = fast_rate(s.p);
    const double reach = std::exp(-l1 * first);  // no block before mineRate
    m.mean_ms += s.weight * (dead + (-std::expm1(-l1 * first)) / l1 + reach / slow_rate(s.p));
    m.fast_share += s.weight * (1 - reach);
    // A child's difficulty is p + 1 or p - 1; its stationary law is that of p.
    if (s.weight > 1e-6) m.difficulties[s.p] = s.weight;
  }
  const auto quantile = [&](double q) {
    double a = 0;
    double b = static_cast<double>(params.mine_rate_ms);
    while (cdf(b) < q) b *= 2;
    for (int i = 0; i < 100; ++i) {
      const double mid = (a + b) / 2;
      (cdf(mid) < q ? a : b) = mid;
    }
    return b;
  };
  m.median_ms = quantile(0.5);
  m.p90_ms = quantile(0.9);
  return m;
}

// ---- output ----

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string RateText(double hashes_per_s) { return Fmt("%.2f M/s", hashes_per_s / 1e6); }

// Sampled shares as "24: 31%, 25: 50%", leaving out those under 0.5%.
std::string DifficultyText(const std::map<std::uint32_t, std::uint64_t>& counts) {
  std::uint64_t total = 0;
  for (const auto& [d, n] : counts) total += n;
  std::string out;
  for (const auto& [d, n] : counts) {
    const double share = 100.0 * static_cast<double>(n) / static_cast<double>(total);
    if (share < 0.5) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(d) + ": " + Fmt("%.0f%%", share);
  }
  return out;
}

struct Row {
  SimConfig config;
  SimResult sim;
  ModelResult model;
};

void PrintTable(const std::vector<Row>& rows) {
  std::printf(
      "| network | miners | H/s each | total | mineRate | log2(hashes per mineRate) | mean | "
      "median "
      "| p90 | mean / mineRate | < mineRate | difficulties (bits: share of blocks) | model mean / "
      "median / p90 |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const Row& r : rows) {
    const auto mine_rate = static_cast<double>(r.config.params.mine_rate_ms);
    const double total = r.config.miners * r.config.hash_rate;
    std::printf(
        "| %s | %u | %s | %s | %.0f ms | %.2f | %.0f ms | %lld ms | %lld ms | %.3f | %.0f%% | %s | "
        "%.0f / %.0f / %.0f ms (%.3f) |\n",
        r.config.params.network.c_str(), r.config.miners, RateText(r.config.hash_rate).c_str(),
        RateText(total).c_str(), mine_rate, std::log2(total * mine_rate / 1000.0), r.sim.mean_ms,
        static_cast<long long>(r.sim.median_ms), static_cast<long long>(r.sim.p90_ms),
        r.sim.mean_ms / mine_rate, 100 * r.sim.fast_share,
        DifficultyText(r.sim.difficulties).c_str(), r.model.mean_ms, r.model.median_ms,
        r.model.p90_ms, r.model.mean_ms / mine_rate);
  }
}

void PrintJson(const std::vector<Row>& rows) {
  std::printf("[\n");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const auto mine_rate = static_cast<double>(r.config.params.mine_rate_ms);
    std::printf(
        "  {\"network\":\"%s\",\"miners\":%u,\"hashRatePerMiner\":%.0f,\"totalHashRate\":%.0f,"
        "\"mineRateMs\":%.0f,\"blocks\":%llu,\"warmup\":%llu,\"seed\":%llu,\"deadMs\":%g,",
        r.config.params.network.c_str(), r.config.miners, r.config.hash_rate,
        r.config.miners * r.config.hash_rate, mine_rate,
        static_cast<unsigned long long>(r.config.blocks),
        static_cast<unsigned long long>(r.config.warmup),
        static_cast<unsigned long long>(r.config.seed), r.config.dead_ms);
    if (r.config.fixed_difficulty)
      std::printf("\"fixedDifficulty\":%u,", *r.config.fixed_difficulty);
    std::printf(
        "\"meanMs\":%.3f,\"meanStdErrMs\":%.3f,\"sdMs\":%.3f,\"medianMs\":%lld,\"p90Ms\":%lld,"
        "\"meanRatio\":%.4f,\"fastShare\":%.4f,"
        "\"difficulties\":{",
        r.sim.mean_ms, r.sim.sd_ms / std::sqrt(static_cast<double>(r.config.blocks)), r.sim.sd_ms,
        static_cast<long long>(r.sim.median_ms), static_cast<long long>(r.sim.p90_ms),
        r.sim.mean_ms / mine_rate, r.sim.fast_share);
    bool first = true;
    for (const auto& [d, n] : r.sim.difficulties) {
      std::printf("%s\"%u\":%llu", first ? "" : ",", d, static_cast<unsigned long long>(n));
      first = false;
    }
    std::printf(
        "},\"model\":{\"meanMs\":%.3f,\"medianMs\":%.3f,\"p90Ms\":%.3f,\"meanRatio\":%.4f,"
        "\"fastShare\":%.4f,\"difficulties\":{",
        r.model.mean_ms, r.model.median_ms, r.model.p90_ms, r.model.mean_ms / mine_rate,
        r.model.fast_share);
    first = true;
    for (const auto& [d, share] : r.model.difficulties) {
      std::printf("%s\"%u\":%.6f", first ? "" : ",", d, share);
      first = false;
    }
    std::printf("}}}%s\n", i + 1 < rows.size() ? "," : "");
  }
  std::printf("]\n");
}

// ---- self-check ----

bool Near(const char* what, double got, double want, double tolerance) {
  const double err = std::abs(got - want) / want;
  const bool ok = err <= tolerance;
  std::printf("%s %-58s got %10.2f want %10.2f (%+.2f%%, limit %.1f%%)\n", ok ? "ok  " : "FAIL",
              what, got, want, 100 * (got - want) / want, 100 * tolerance);
  return ok;
}

// The sampler at a fixed difficulty: intervals are exponential with mean
// 2^d / (N*H), median ln 2 times that and p90 ln 10 times that. Then the rule:
// sampled mean and quantiles against the closed form. With 200,000 intervals
// the standard error of a mean is about 0.25%.
bool SelfCheck(SimConfig base) {
  bool ok = true;
  base.blocks = 200000;
  struct Fixed {
    unsigned miners;
    double hash_rate;
    std::uint32_t d;
  };
  for (const Fixed& f : {Fixed{1, 16e6, 24}, Fixed{2, 30e6, 26}, Fixed{4, 16e6, 28}}) {
    SimConfig c = base;
    c.miners = f.miners;
    c.hash_rate = f.hash_rate;
    c.fixed_difficulty = f.d;
    const SimResult r = Simulate(c);
    const double mean = std::ldexp(1.0, static_cast<int>(f.d)) / c.TotalRatePerMs();
    const std::string label = "fixed d=" + std::to_string(f.d) + ", " + std::to_string(f.miners) +
                              " x " + RateText(f.hash_rate) + ": ";
    ok &= Near((label + "mean").c_str(), r.mean_ms, mean, 0.01);
    ok &= Near((label + "median").c_str(), static_cast<double>(r.median_ms), mean * std::log(2.0),
               0.02);
    ok &= Near((label + "p90").c_str(), static_cast<double>(r.p90_ms), mean * std::log(10.0), 0.02);
  }
  struct Adaptive {
    Params params;
    unsigned miners;
    double hash_rate;
    double dead_ms;
  };
  for (const Adaptive& a :
       {Adaptive{Params::Main(), 1, 16e6, 0}, Adaptive{Params::Regtest(), 2, 30e6, 0},
        Adaptive{Params::Regtest(), 4, 16e6, 0}, Adaptive{Params::Regtest(), 1, 23e6, 20}}) {
    SimConfig c = base;
    c.params = a.params;
    c.miners = a.miners;
    c.hash_rate = a.hash_rate;
    c.dead_ms = a.dead_ms;
    const SimResult r = Simulate(c);
    const ModelResult m = Model(c);
    const std::string label = "rule, " + a.params.network + ", " + std::to_string(a.miners) +
                              " x " + RateText(a.hash_rate) +
                              (a.dead_ms > 0 ? ", dead " + Fmt("%.0f ms", a.dead_ms) : "") + ": ";
    ok &= Near((label + "mean vs model").c_str(), r.mean_ms, m.mean_ms, 0.015);
    ok &= Near((label + "median vs model").c_str(), static_cast<double>(r.median_ms), m.median_ms,
               0.02);
    ok &= Near((label + "p90 vs model").c_str(), static_cast<double>(r.p90_ms), m.p90_ms, 0.02);
    ok &= Near((label + "share below mineRate vs model").c_str(), r.fast_share, m.fast_share, 0.02);
  }
  std::printf(ok ? "all checks passed\n" : "SOME CHECKS FAILED\n");
  return ok;
}

// ---- command line ----

constexpr const char* kUsage = R"(Usage: difficulty_sim [options]

Runs the consensus difficulty rule against N simulated miners of H hashes/s
each and prints, per configuration, the block-interval mean, median and p90
against mineRate, the share of intervals below mineRate, the distribution of
block difficulties, and the closed-form figures of the same model.

Options (lists are comma-separated; every combination is run):
  --network LIST       main, regtest (their parameters)   [main,regtest]
  --mine-rate-ms LIST  override mineRate, ms               [the network's]
  --miners LIST        miners N                            [1,2,4]
  --hashrate LIST      hashes/s of each miner H; k, M, G suffixes allowed
                                                           [16M,30M]
  --sweep K            instead of the hash-rate list, K+1 rates from the first
                       --hashrate to twice it, evenly spaced in log2: one
                       octave covers every position of log2(N*H*mineRate)
  --blocks N           intervals measured                  [1000000]
  --warmup N           blocks mined first, not measured    [1000]
  --seed S             std::mt19937_64 seed; each configuration starts from it
                                                           [1]
  --dead-ms X          time from a block to the start of the next search [0]
  --fixed-difficulty D mine every block at D bits, ignoring the rule
  --json               JSON instead of a Markdown table
  --check              self-check the sampler and the model; exit 1 on failure
  --help
)";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "difficulty_sim: %s\n\n%s", message.c_str(), kUsage);
  std::exit(2);
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

double ParseNumber(const std::string& text, const char* flag) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) Fail(std::string("bad number for ") + flag + ": '" + text + "'");
  const std::string_view rest(end);
  if (rest == "k" || rest == "K") {
    v *= 1e3;
  } else if (rest == "M") {
    v *= 1e6;
  } else if (rest == "G") {
    v *= 1e9;
  } else if (!rest.empty()) {
    Fail(std::string("bad number for ") + flag + ": '" + text + "'");
  }
  if (!std::isfinite(v) || v < 0) Fail(std::string("bad number for ") + flag + ": '" + text + "'");
  return v;
}

std::uint64_t ParseCount(const std::string& text, const char* flag) {
  const double v = ParseNumber(text, flag);
  if (v != std::floor(v) || v > 1e15) Fail(std::string("not a whole number for ") + flag);
  return static_cast<std::uint64_t>(v);
}

int Main(int argc, char** argv) {
  std::vector<std::string> networks = {"main", "regtest"};
  std::vector<std::uint64_t> mine_rates;
  std::vector<unsigned> miners = {1, 2, 4};
  std::vector<double> hash_rates = {16e6, 30e6};
  unsigned sweep = 0;
  SimConfig base;
  bool json = false;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail("missing value for " + std::string(flag));
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (flag == "--network") {
      networks = SplitList(value());
    } else if (flag == "--mine-rate-ms") {
      mine_rates.clear();
      for (const std::string& v : SplitList(value())) {
        mine_rates.push_back(ParseCount(v, "--mine-rate-ms"));
        if (mine_rates.back() == 0) Fail("--mine-rate-ms must be positive");
      }
    } else if (flag == "--miners") {
      miners.clear();
      for (const std::string& v : SplitList(value())) {
        const std::uint64_t n = ParseCount(v, "--miners");
        if (n == 0 || n > 1000000) Fail("--miners must be 1 to 1000000");
        miners.push_back(static_cast<unsigned>(n));
      }
    } else if (flag == "--hashrate") {
      hash_rates.clear();
      for (const std::string& v : SplitList(value())) {
        hash_rates.push_back(ParseNumber(v, "--hashrate"));
        if (hash_rates.back() < 1) Fail("--hashrate must be at least 1");
      }
    } else if (flag == "--sweep") {
      sweep = static_cast<unsigned>(std::min<std::uint64_t>(ParseCount(value(), "--sweep"), 4096));
    } else if (flag == "--blocks") {
      base.blocks = ParseCount(value(), "--blocks");
      if (base.blocks == 0) Fail("--blocks must be positive");
    } else if (flag == "--warmup") {
      base.warmup = ParseCount(value(), "--warmup");
    } else if (flag == "--seed") {
      base.seed = ParseCount(value(), "--seed");
    } else if (flag == "--dead-ms") {
      base.dead_ms = ParseNumber(value(), "--dead-ms");
    } else if (flag == "--fixed-difficulty") {
      const std::uint64_t d = ParseCount(value(), "--fixed-difficulty");
      if (d < 1 || d > 255) Fail("--fixed-difficulty must be 1 to 255");
      base.fixed_difficulty = static_cast<std::uint32_t>(d);
    } else if (flag == "--json") {
      json = true;
    } else if (flag == "--check") {
      check = true;
    } else {
      Fail("unknown option " + std::string(flag));
    }
  }
  if (check) return SelfCheck(base) ? 0 : 1;

  if (sweep > 0) {
    const double from = hash_rates.front();
    hash_rates.clear();
    for (unsigned k = 0; k <= sweep; ++k)
      hash_rates.push_back(from * std::exp2(static_cast<double>(k) / sweep));
  }
  std::vector<Row> rows;
  for (const std::string& name : networks) {
    const std::optional<Params> params = Params::ForNetwork(name);
    if (!params) Fail("unknown network '" + name + "'");
    std::vector<std::uint64_t> rates = mine_rates;
    if (rates.empty()) rates.push_back(params->mine_rate_ms);
    for (const std::uint64_t mine_rate : rates) {
      for (const unsigned n : miners) {
        for (const double h : hash_rates) {
          Row row;
          row.config = base;
          row.config.params = *params;
          row.config.params.mine_rate_ms = mine_rate;
          row.config.miners = n;
          row.config.hash_rate = h;
          row.sim = Simulate(row.config);
          row.model = Model(row.config);
          rows.push_back(std::move(row));
        }
      }
    }
  }
  if (json) {
    PrintJson(rows);
  } else {
    PrintTable(rows);
  }
  return 0;
}

}  // namespace
}  // namespace powchain

int main(int argc, char** argv) { return powchain::Main(argc, argv); }
