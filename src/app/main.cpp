// powchain: the command line. Parses flags (falling back to environment
// variables) into options and hands them to the node; nothing else.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>

#include "app/client.h"
#include "consensus/params.h"
#include "node/bench.h"
#include "node/node.h"
#include "node/options.h"
#include "node/verify.h"
#include "util/hex.h"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;

int Fail(int code, const std::string& message);

// `powchain verify`: a progress bar on stderr, a verdict on stdout.
int RunVerify(const std::string& data_dir) {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto progress = [&](std::uint64_t done, std::uint64_t total) {
    constexpr int kWidth = 40;
    const int filled = total == 0 ? kWidth : static_cast<int>(done * kWidth / total);
    std::fprintf(stderr, "%sverifying [%s%s] %llu/%llu blocks%s", tty ? "\r" : "",
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 tty ? "" : "\n");
  };
  auto report = powchain::VerifyStore(data_dir, progress);
  if (tty) std::fprintf(stderr, "\n");
  if (!report) return Fail(kExitRuntimeError, report.error());
  if (!report->sound && report->bad_hash == powchain::Hash32{}) {
    std::printf("%s: NOT sound (%s network): %s\n", data_dir.c_str(), report->network.c_str(),
                report->problem.c_str());
    return kExitRuntimeError;
  }
  if (!report->sound) {
    std::printf("%s: NOT sound (%s network): first bad block at height %llu (%s): %s\n",
                data_dir.c_str(), report->network.c_str(),
                static_cast<unsigned long long>(report->bad_height),
                powchain::HexEncode(report->bad_hash).c_str(), report->problem.c_str());
    return kExitRuntimeError;
  }
  std::printf("%s: sound: %llu blocks of the %s network, tip at height %llu, %llu coins\n",
              data_dir.c_str(), static_cast<unsigned long long>(report->blocks),
              report->network.c_str(), static_cast<unsigned long long>(report->height),
              static_cast<unsigned long long>(report->coins));
  if (report->coins_height.has_value()) {
    std::printf(
        "the coin set and indexes are those of height %llu: the node stopped without writing "
        "them, and its next start replays the blocks since\n",
        static_cast<unsigned long long>(*report->coins_height));
  }
  return 0;
}

// `powchain bench`: progress on stderr, the table or JSON on stdout.
int RunBench(const powchain::BenchOptions& options, bool json) {
  auto report = powchain::RunBench(options, [](const std::string& what) {
    std::fprintf(stderr, "bench: %s...\n", what.c_str());
  });
  if (!report) return Fail(kExitRuntimeError, report.error());
  const std::string text =
      json ? powchain::FormatBenchJson(*report) : powchain::FormatBenchTable(*report);
  std::fputs(text.c_str(), stdout);
  return 0;
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "powchain: error: %s\n", message.c_str());
  return code;
}

const std::string kVersion = std::string("powchain ") + POWCHAIN_VERSION;

// A whole number from `lo` to `hi`, saying which of the two it is not.
CLI::Validator WholeNumber(std::uint64_t lo, std::uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& value) -> std::string {
        std::uint64_t n = 0;
        const char* end = value.data() + value.size();
        const auto [at, ec] = std::from_chars(value.data(), end, n);
        if (value.empty() || ec == std::errc::invalid_argument || at != end) {
          return "'" + value + "' is not a number";
        }
        if (ec == std::errc::result_out_of_range || n < lo || n > hi) {
          return value + " is out of range (" + std::to_string(lo) + " to " + std::to_string(hi) +
                 ")";
        }
        return std::string();
      },
      "NUMBER " + std::to_string(lo) + "-" + std::to_string(hi));
}

// CLI11 names the flag in its errors even when the value came from the
// environment: name the variable instead, which is what the user set.
std::string DescribeParseError(const CLI::ParseError& e, const CLI::App& command, int argc,
                               char** argv) {
  std::string message = e.what();
  for (const CLI::Option* option : command.get_options()) {
    const std::string& env = option->get_envname();
    if (env.empty()) continue;
    const std::string flag = option->get_name();  // the first long name, e.g. --http-port
    if (message.rfind(flag + ":", 0) != 0) continue;
    bool on_command_line = false;
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      for (const std::string& name : option->get_lnames()) {
        const std::string dashed = "--" + name;
        if (arg == dashed || arg.rfind(dashed + "=", 0) == 0) on_command_line = true;
      }
    }
    if (!on_command_line) message = env + " (environment)" + message.substr(flag.size());
  }
  return message;
}

// What `powchain node` is told: the options, and the flags that need a
// step before they are options.
struct NodeFlags {
  powchain::NodeOptions options;
  std::string peers_text;  // --peers, parsed by RunNode
  unsigned ban_seconds = static_cast<unsigned>(
      std::chrono::duration_cast<std::chrono::seconds>(options.peer_policy.ban_duration).count());
  std::uint64_t mempool_mb = powchain::MempoolOptions::kDefaultMaxBytes / (1024 * 1024);
  std::uint64_t mempool_chain = powchain::MempoolOptions::kDefaultMaxAncestors;
  std::uint64_t mempool_expiry_hours = powchain::MempoolOptions::kDefaultExpiryMs / 3'600'000;
  bool no_persist_mempool = false;
};

void AddPeerPolicyOptions(CLI::App& node, NodeFlags& flags);
void AddMempoolOptions(CLI::App& node, NodeFlags& flags);

CLI::App* AddNodeCommand(CLI::App& app, NodeFlags& flags) {
  powchain::NodeOptions& options = flags.options;
  CLI::App* node = app.add_subcommand("node", "Run a node: HTTP API, mining, peers");
  node->set_version_flag("--version", kVersion);
  node->add_option("--http-port", options.http.port, "HTTP API port")
      ->envname("HTTP_PORT")
      ->check(WholeNumber(1, 65535))
      ->capture_default_str();
  node->add_option("--p2p-port", options.transport.port, "WebSocket port for peers")
      ->envname("P2P_PORT")
      ->check(WholeNumber(1, 65535))
      ->capture_default_str();
  node->add_option("--p2p-bind", options.transport.bind_address, "Address the P2P listener binds")
      ->envname("P2P_BIND")
      ->capture_default_str();
  node->add_option("--peers", flags.peers_text, "Comma-separated peers to dial, ws://host:port")
      ->envname("PEERS");
  node->add_option("--data-dir", options.data_dir,
                   "Where the chain is stored [default: ./data/<network>/<p2p-port>]")
      ->envname("DATA_DIR");
  node->add_option("--network", options.network, "Parameter set")
      ->envname("NETWORK")
      ->check(CLI::IsMember(powchain::Params::NetworkNames()))
      ->capture_default_str();
  node->add_option("--http-bind", options.http.bind_address, "Address the HTTP API listens on")
      ->envname("HTTP_BIND")
      ->capture_default_str();
  node->add_option("--http-max-connections", options.http.max_connections,
                   "HTTP connections served at once (GET /events streams included)")
      ->envname("HTTP_MAX_CONNECTIONS")
      ->check(WholeNumber(1, 100000))
      ->capture_default_str();
  node->add_option("--event-clients", options.events.max_clients,
                   "GET /events streams served at once; another is answered 503")
      ->envname("EVENT_CLIENTS")
      ->check(WholeNumber(0, 100000))
      ->capture_default_str();
  node->add_option("--stream-cache-mb", options.stream_cache_mb,
                   "Memory for the block runs GET /blocks has served, served again from it "
                   "(0: none)")
      ->envname("STREAM_CACHE_MB")
      ->check(WholeNumber(0, 65536))
      ->capture_default_str();
  node->add_option("--coins-write-mb", options.coins_write_mb,
                   "Memory for coin set and index changes written in batches rather than with "
                   "each block (0: with each block); a crash replays them from the blocks")
      ->envname("COINS_WRITE_MB")
      ->check(WholeNumber(0, 65536))
      ->capture_default_str();
  node->add_option("--api-token", options.api_token,
                   "Bearer token for POST /mine and POST/DELETE /peers [default: none on "
                   "loopback, else the one in <data-dir>/api.token, made if absent]")
      ->envname("API_TOKEN");
  node->add_flag("--mine", options.miner.continuous, "Mine continuously")->envname("MINE");
  node->add_option("--miner-address", options.miner_address,
                   "Address mined blocks pay their reward to, e.g. powrt1p... on regtest "
                   "[default: none, blocks carry no coinbase]")
      ->envname("MINER_ADDRESS");
  node->add_option("--threads", options.miner.threads, "Miner threads")
      ->envname("MINER_THREADS")
      ->check(WholeNumber(1, powchain::NodeOptions::kMaxMinerThreads))
      ->capture_default_str();
  AddPeerPolicyOptions(*node, flags);
  AddMempoolOptions(*node, flags);
  node->add_option("--log-level", options.log_level,
                   "trace, debug, info, warn, error, critical or off")
      ->envname("LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  node->footer(
      "Flags win over environment variables, which win over defaults.\n"
      "Example: HTTP_PORT=3002 P2P_PORT=5002 PEERS=ws://localhost:5001 powchain node\n");
  return node;
}

void AddPeerPolicyOptions(CLI::App& node, NodeFlags& flags) {
  powchain::p2p::PeerManagerOptions& options = flags.options.peer_policy;
  node.add_option("--ban-seconds", flags.ban_seconds,
                  "How long a misbehaving peer's address is refused")
      ->envname("BAN_SECONDS")
      ->check(WholeNumber(0, 7u * 24 * 3600))
      ->capture_default_str();
  node.add_flag("--ban-loopback", options.ban_loopback,
                "Refuse misbehaving loopback peers too (by default they are only dropped)")
      ->envname("BAN_LOOPBACK");
  node.add_option("--peer-msg-rate", options.message_rate,
                  "Messages a second one peer may send (twice that at once); a peer over "
                  "it is dropped and refused")
      ->envname("PEER_MSG_RATE")
      ->check(WholeNumber(1, 1000000))
      ->capture_default_str();
  node.add_option("--peer-request-rate,--peer-getblocks-rate", options.request_rate,
                  "getheaders, getdata and getblocks requests a second one peer may send "
                  "(twice that at once)")
      ->envname("PEER_REQUEST_RATE")
      ->check(WholeNumber(1, 1000000))
      ->capture_default_str();
  node.add_option("--peer-tx-rate", options.tx_rate,
                  "Transactions a second one peer may send (ten times that at once); more "
                  "are ignored")
      ->envname("PEER_TX_RATE")
      ->check(WholeNumber(1, 1000000))
      ->capture_default_str();
}

void AddMempoolOptions(CLI::App& node, NodeFlags& flags) {
  powchain::MempoolOptions& options = flags.options.mempool;
  node.add_option("--mempool-max-mb", flags.mempool_mb,
                  "Mempool size cap in MiB of canonical transaction bytes; beyond it the "
                  "lowest fee rates are evicted")
      ->envname("MEMPOOL_MAX_MB")
      ->check(WholeNumber(1, 64 * 1024))
      ->capture_default_str();
  node.add_option("--min-fee-rate", options.min_fee_rate,
                  "Fee floor of the mempool and relay, in units per byte")
      ->envname("MIN_FEE_RATE")
      ->check(WholeNumber(0, 1'000'000))
      ->capture_default_str();
  node.add_option("--mempool-max-chain", flags.mempool_chain,
                  "Unconfirmed transactions one chain may hold (a transaction with its "
                  "ancestors, or with its descendants)")
      ->envname("MEMPOOL_MAX_CHAIN")
      ->check(WholeNumber(1, 1000))
      ->capture_default_str();
  node.add_option("--mempool-expiry-hours", flags.mempool_expiry_hours,
                  "Hours a transaction may wait in the mempool")
      ->envname("MEMPOOL_EXPIRY_HOURS")
      ->check(WholeNumber(1, 24 * 365))
      ->capture_default_str();
  node.add_option("--max-orphan-txs", options.max_orphans,
                  "Transactions from peers held while their parent is unknown")
      ->envname("MAX_ORPHAN_TXS")
      ->check(WholeNumber(0, 100000))
      ->capture_default_str();
  node.add_flag("--no-persist-mempool", flags.no_persist_mempool,
                "Neither load the mempool at start nor save it at stop "
                "(<data-dir>/mempool.jsonl)")
      ->envname("NO_PERSIST_MEMPOOL");
}

CLI::App* AddVerifyCommand(CLI::App& app, std::string& verify_dir) {
  CLI::App* verify = app.add_subcommand(
      "verify", "Re-check every stored block of a data directory against the consensus rules");
  verify->set_version_flag("--version", kVersion);
  verify->add_option("--data-dir", verify_dir, "The node's data directory")
      ->envname("DATA_DIR")
      ->required();
  verify->footer(
      "Exit code 0: every block is sound. 1: a block is bad or the store cannot be read\n"
      "(the first bad block is named). 2: usage error.\n");
  return verify;
}

CLI::App* AddBenchCommand(CLI::App& app, powchain::BenchOptions& options, bool& json) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Measure mining, header validation and block ingest on this machine");
  bench->set_version_flag("--version", kVersion);
  bench->add_option("--seconds", options.seconds, "Time per mining and validation measurement")
      ->check(CLI::Range(0.01, powchain::BenchOptions::kMaxSeconds))
      ->capture_default_str();
  bench->add_option("--threads", options.threads, "Mining thread counts to measure, e.g. 1,2,4")
      ->delimiter(',')
      ->check(WholeNumber(1, 256))
      ->capture_default_str();
  bench->add_option("--blocks", options.blocks, "Blocks built for validation and ingest")
      ->check(WholeNumber(1, powchain::BenchOptions::kMaxBlocks))
      ->capture_default_str();
  bench->add_option("--data-bytes", options.data_bytes, "Data bytes per block")
      ->check(WholeNumber(2, 64 * 1024))
      ->capture_default_str();
  bench->add_option("--batch", options.batch, "Blocks per store commit during ingest")
      ->check(WholeNumber(1, 10000))
      ->capture_default_str();
  bench->add_flag("--json", json, "Print one JSON object instead of the table");
  bench->footer(
      "Mining runs the real search loop at a difficulty it never meets, beside the plain\n"
      "single-stream loops on SHA-NI and OpenSSL. Ingest writes to a temporary SQLite file.\n");
  return bench;
}

// `powchain node`: the checks the command line cannot make, then the node
// until a signal.
int RunNode(NodeFlags flags) {
  auto peers = powchain::ParsePeerList(flags.peers_text);
  if (!peers) return Fail(kExitUsage, peers.error());
  powchain::NodeOptions options = std::move(flags.options);
  options.peers = std::move(peers).value();
  powchain::p2p::PeerManagerOptions& policy = options.peer_policy;
  policy.ban_duration = std::chrono::seconds(flags.ban_seconds);
  policy.message_burst = 2 * policy.message_rate;
  policy.request_burst = 2 * policy.request_rate;
  policy.tx_burst = 10 * policy.tx_rate;
  options.mempool.max_bytes = static_cast<std::size_t>(flags.mempool_mb) * 1024 * 1024;
  options.mempool.max_ancestors = static_cast<std::size_t>(flags.mempool_chain);
  options.mempool.max_descendants = static_cast<std::size_t>(flags.mempool_chain);
  options.mempool.expiry_ms = flags.mempool_expiry_hours * 3'600'000;
  options.persist_mempool = !flags.no_persist_mempool;
  if (powchain::Status s = powchain::ValidateOptions(options); !s) {
    return Fail(kExitUsage, s.error());
  }
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  powchain::NodeContext context(options);
  if (powchain::Status s = context.Start(); !s) return Fail(kExitRuntimeError, s.error());
  context.RunUntilStopped();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"powchain: a proof-of-work blockchain node"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(0, 1);
  app.footer(
      "Run `powchain <command> --help` for a command's options. The client commands\n"
      "(status, mine, block, tx, peers, mempool, wallet) talk to a node's HTTP API.");

  NodeFlags node_flags;
  CLI::App* node = AddNodeCommand(app, node_flags);
  std::string verify_dir;
  CLI::App* verify = AddVerifyCommand(app, verify_dir);
  powchain::BenchOptions bench_options;
  bool bench_json = false;
  CLI::App* bench = AddBenchCommand(app, bench_options, bench_json);
  powchain::app::ClientCommands client;
  powchain::app::AddClientCommands(app, client);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Point at the help of the command that was being parsed.
    const CLI::App* command = &app;
    std::vector<const CLI::App*> commands{node, verify, bench};
    commands.insert(commands.end(), client.commands.begin(), client.commands.end());
    for (const CLI::App* sub : commands) {
      if (sub->parsed()) command = sub;
    }
    std::string path;
    for (const CLI::App* c = command; c != &app && c != nullptr; c = c->get_parent()) {
      path = " " + c->get_name() + path;
    }
    const std::string help = "powchain" + path + " --help";
    return Fail(kExitUsage, DescribeParseError(e, *command, argc, argv) + " (see " + help + ")");
  }

  if (verify->parsed()) return RunVerify(verify_dir);
  if (bench->parsed()) return RunBench(bench_options, bench_json);
  if (node->parsed()) return RunNode(std::move(node_flags));
  if (auto code = powchain::app::RunClientCommand(client)) return *code;
  std::cout << app.help();
  return 0;
}
