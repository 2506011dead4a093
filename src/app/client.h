// The client commands' command line: `powchain status|mine|block|tx|peers|
// mempool` and `powchain wallet ...` (wallet/commands.h does the work).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wallet/commands.h"

namespace powchain::app {

struct ClientCommands {
  wallet::WalletOptions options;    // options.client: --node, --api-token, --timeout
  std::string id;                   // block height or hash, txid
  std::string data = "null";        // mine: the block's data
  std::string to;                   // wallet send
  std::string amount;               // wallet send, in coins
  std::uint64_t fee_rate = 0;       // wallet send; 0: the node's mempool floor
  std::size_t limit = 20;           // wallet history
  std::vector<CLI::App*> commands;  // every client command and wallet subcommand
};

// Adds the commands to `app`; `commands` must outlive parsing.
void AddClientCommands(CLI::App& app, ClientCommands& commands);

// Runs the one that was parsed; nullopt when none was.
std::optional<int> RunClientCommand(const ClientCommands& commands);

}  // namespace powchain::app
