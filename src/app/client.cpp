#include "app/client.h"

#include <algorithm>
#include <iostream>

#include "consensus/params.h"
#include "wallet/wallet.h"

namespace powchain::app {
namespace {

void AddNodeOptions(CLI::App& command, wallet::ClientOptions& client) {
  command.add_option("--node", client.node, "The node's HTTP API, http://host:port")
      ->envname("POWCHAIN_NODE")
      ->capture_default_str();
  command
      .add_option("--api-token", client.api_token,
                  "Bearer token for POST /mine and the peer routes (the node's "
                  "<data-dir>/api.token)")
      ->envname("API_TOKEN");
  command.add_option("--timeout", client.timeout_seconds, "Seconds to wait for the node")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
}

void AddWalletOptions(CLI::App& command, wallet::WalletOptions& options) {
  command.add_option("--wallet", options.path, "The wallet file")
      ->envname("POWCHAIN_WALLET")
      ->capture_default_str();
  command.add_option("--passphrase-file", options.passphrase_file,
                     "Read an encrypted wallet's passphrase from this file's first line "
                     "[default: WALLET_PASSPHRASE, else asked on the terminal]");
}

CLI::App* Add(CLI::App& parent, ClientCommands& c, const std::string& name,
              const std::string& about, bool node = true) {
  CLI::App* command = parent.add_subcommand(name, about);
  if (node) AddNodeOptions(*command, c.options.client);
  c.commands.push_back(command);
  return command;
}

// A block id is a height or a hash; a txid is 64 hex digits: anything else
// would change the path asked for.
bool IsHexOrDigits(const std::string& s, std::size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
  });
}

void AddSendOptions(CLI::App& send, ClientCommands& c) {
  send.add_option("address", c.to, "The address to pay")->required();
  send.add_option("amount", c.amount, "Coins to pay, e.g. 1.5 (8 decimals at most)")->required();
  send.add_option("--fee-rate", c.fee_rate,
                  "Units per byte of the transaction [default: the node's mempool floor]")
      ->check(CLI::Range(std::uint64_t{1}, wallet::kMaxFeeRate));
}

void AddWalletCommands(CLI::App& app, ClientCommands& c) {
  CLI::App* wallet = app.add_subcommand(
      "wallet", "Keys, balances and payments; keys stay in the wallet file, never on the node");
  wallet->require_subcommand(1);
  c.commands.push_back(wallet);
  CLI::App* create = Add(*wallet, c, "create", "Make a new wallet file with one address", false);
  create->add_option("--network", c.options.network, "The network its addresses are for")
      ->envname("NETWORK")
      ->check(CLI::IsMember(Params::NetworkNames()))
      ->capture_default_str();
  create->add_flag("--encrypt", c.options.encrypt,
                   "Seal the keys with a passphrase (scrypt and AES-256-GCM)");
  Add(*wallet, c, "newaddress", "Add a key and print its address", false);
  Add(*wallet, c, "addresses", "Print the wallet's addresses", false);
  Add(*wallet, c, "balance", "Confirmed and unconfirmed balance of all addresses");
  AddSendOptions(*Add(*wallet, c, "send", "Pay an address: choose coins, sign, submit"), c);
  CLI::App* history = Add(*wallet, c, "history", "The newest transactions touching the wallet");
  history->add_option("--limit", c.limit, "How many")
      ->check(CLI::Range(1, 500))
      ->capture_default_str();
  for (CLI::App* sub : wallet->get_subcommands({})) AddWalletOptions(*sub, c.options);
}

}  // namespace

void AddClientCommands(CLI::App& app, ClientCommands& c) {
  Add(app, c, "status", "Show a node's GET /status");
  CLI::App* mine = Add(app, c, "mine", "Ask a node to mine a block now (POST /mine)");
  mine->add_option("data", c.data, "The block's data: JSON, or else taken as a string");
  CLI::App* block = Add(app, c, "block", "Show a block by height or hash");
  block->add_option("id", c.id, "Height or hash")->required();
  CLI::App* tx = Add(app, c, "tx", "Show a transaction, confirmed or in the mempool");
  tx->add_option("txid", c.id, "64 hex digits")->required();
  Add(app, c, "peers", "Show a node's peers");
  Add(app, c, "mempool", "Show a node's mempool, best fee rate first");
  // `powchain send` is `powchain wallet send`, the payment most users want.
  CLI::App* send = Add(app, c, "send", "Pay an address from the wallet (as `wallet send`)");
  AddSendOptions(*send, c);
  AddWalletOptions(*send, c.options);
  AddWalletCommands(app, c);
}

std::optional<int> RunClientCommand(const ClientCommands& c) {
  const auto parsed = std::find_if(c.commands.begin(), c.commands.end(), [](const CLI::App* a) {
    return a->parsed() && a->get_subcommands().empty();
  });
  if (parsed == c.commands.end()) return std::nullopt;
  const std::string name = (*parsed)->get_name();
  const bool in_wallet = (*parsed)->get_parent()->get_name() == "wallet";
  const wallet::WalletOptions& o = c.options;
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  if (in_wallet) {
    if (name == "create") return wallet::RunWalletCreate(o, out, err);
    if (name == "newaddress") return wallet::RunWalletNewAddress(o, out, err);
    if (name == "addresses") return wallet::RunWalletAddresses(o, out, err);
    if (name == "balance") return wallet::RunWalletBalance(o, out, err);
    if (name == "send") return wallet::RunWalletSend(o, c.to, c.amount, c.fee_rate, out, err);
    return wallet::RunWalletHistory(o, c.limit, out, err);
  }
  if (name == "send") return wallet::RunWalletSend(o, c.to, c.amount, c.fee_rate, out, err);
  if (name == "status") return wallet::RunApiCall(o.client, "GET", "/status", "", out, err);
  if (name == "peers") return wallet::RunApiCall(o.client, "GET", "/peers", "", out, err);
  if (name == "mempool") return wallet::RunApiCall(o.client, "GET", "/mempool", "", out, err);
  if (name == "mine") {
    return wallet::RunApiCall(o.client, "POST", "/mine", wallet::MineBody(c.data), out, err);
  }
  const bool is_block = name == "block";
  if (!IsHexOrDigits(c.id, 64)) {
    err << "error: "
        << (is_block ? "a block is named by its height or its 64-hex-digit hash"
                     : "a txid is 64 hex digits")
        << "\n";
    return wallet::kExitUsage;
  }
  return wallet::RunApiCall(o.client, "GET", (is_block ? "/blocks/" : "/transactions/") + c.id, "",
                            out, err);
}

}  // namespace powchain::app
