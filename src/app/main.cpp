// powchain: the command line. Parses flags (falling back to environment
// variables) into options and hands them to the node; nothing else.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "node/node.h"
#include "node/options.h"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsage = 2;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "ws://a:1,ws://b:2" -> PeerUrls; an error names the first bad entry.
powchain::Result<std::vector<powchain::PeerUrl>> ParsePeerList(std::string_view text) {
  std::vector<powchain::PeerUrl> out;
  while (!Trim(text).empty()) {
    const auto comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    auto url = powchain::ParsePeerUrl(item);
    if (!url) return powchain::Error{url.error()};
    out.push_back(*url);
  }
  return out;
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "powchain: error: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"powchain: a proof-of-work blockchain node"};
  app.set_version_flag("--version", std::string("powchain ") + POWCHAIN_VERSION);
  app.require_subcommand(0, 1);
  app.footer("Run `powchain node --help` for the node's options.");

  powchain::NodeOptions options;
  std::string peers_text;
  CLI::App* node = app.add_subcommand("node", "Run a node: HTTP API, mining, peers");
  node->set_version_flag("--version", std::string("powchain ") + POWCHAIN_VERSION);
  node->add_option("--http-port", options.http_port, "HTTP API port")
      ->envname("HTTP_PORT")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  node->add_option("--p2p-port", options.p2p_port, "WebSocket port for peers")
      ->envname("P2P_PORT")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  node->add_option("--p2p-bind", options.p2p_bind, "Address the P2P listener binds")
      ->envname("P2P_BIND")
      ->capture_default_str();
  node->add_option("--peers", peers_text, "Comma-separated peers to dial, ws://host:port")
      ->envname("PEERS");
  node->add_option("--data-dir", options.data_dir,
                   "Where the chain is stored [default: ./data/<network>/<p2p-port>]")
      ->envname("DATA_DIR");
  node->add_option("--network", options.network, "Parameter set: main or regtest")
      ->envname("NETWORK")
      ->check(CLI::IsMember({"main", "regtest"}))
      ->capture_default_str();
  node->add_option("--http-bind", options.http_bind, "Address the HTTP API listens on")
      ->envname("HTTP_BIND")
      ->capture_default_str();
  node->add_flag("--mine", options.mine, "Mine continuously")->envname("MINE");
  node->add_option("--threads", options.miner_threads, "Miner threads")
      ->envname("MINER_THREADS")
      ->check(CLI::Range(1u, powchain::NodeOptions::kMaxMinerThreads))
      ->capture_default_str();
  node->add_option("--ban-seconds", options.ban_seconds,
                   "How long a misbehaving peer's address is refused (loopback never is)")
      ->envname("BAN_SECONDS")
      ->check(CLI::Range(0u, 7u * 24 * 3600))
      ->capture_default_str();
  node->add_option("--log-level", options.log_level,
                   "trace, debug, info, warn, error, critical or off")
      ->envname("LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  node->footer(
      "Flags win over environment variables, which win over defaults.\n"
      "Example: HTTP_PORT=3002 P2P_PORT=5002 PEERS=ws://localhost:5001 powchain node\n");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(kExitUsage, std::string(e.what()) + " (see powchain --help)");
  }

  if (!node->parsed()) {
    std::cout << app.help();
    return 0;
  }

  auto peers = ParsePeerList(peers_text);
  if (!peers) return Fail(kExitUsage, peers.error());
  options.peers = std::move(peers).value();
  if (powchain::Status s = powchain::ValidateOptions(options); !s) {
    return Fail(kExitUsage, s.error());
  }
  spdlog::set_level(spdlog::level::from_str(options.log_level));

  powchain::NodeContext context(options);
  if (powchain::Status s = context.Start(); !s) return Fail(kExitRuntimeError, s.error());
  context.RunUntilStopped();
  return 0;
}
