// The client commands of `powchain` (docs/wallet.md): `status`, `mine`,
// `block`, `tx`, `peers` and `wallet ...`. Each talks to a node's HTTP API,
// prints its answer on `out` (JSON, indented) and returns the exit code: 0
// on success, 1 when the node or the wallet refuses or fails (the reason on
// `err`).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

namespace powchain::wallet {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct ClientOptions {
  std::string node = "http://127.0.0.1:3001";
  std::string api_token;  // for POST /mine and the peer routes
  double timeout_seconds = 30;
};

// One API call, its JSON answer printed indented. 2xx is success.
int RunApiCall(const ClientOptions& client, const std::string& method, const std::string& target,
               const std::string& body, std::ostream& out, std::ostream& err);

struct WalletOptions {
  ClientOptions client;
  std::string path = "wallet.json";
  std::string network = "main";  // for create
  bool encrypt = false;          // for create
  std::string passphrase_file;   // else WALLET_PASSPHRASE, else a prompt on a terminal
};

int RunWalletCreate(const WalletOptions& options, std::ostream& out, std::ostream& err);
int RunWalletNewAddress(const WalletOptions& options, std::ostream& out, std::ostream& err);
int RunWalletAddresses(const WalletOptions& options, std::ostream& out, std::ostream& err);
int RunWalletBalance(const WalletOptions& options, std::ostream& out, std::ostream& err);
int RunWalletSend(const WalletOptions& options, const std::string& to, const std::string& amount,
                  std::uint64_t fee_rate, std::ostream& out, std::ostream& err);
int RunWalletHistory(const WalletOptions& options, std::size_t limit, std::ostream& out,
                     std::ostream& err);

// The body of POST /mine for `data`: the text itself when it is JSON, else
// the text as a JSON string.
std::string MineBody(const std::string& data);

// Indented JSON of a compact JSON text (two spaces per level); the text as
// it is when it does not parse.
std::string PrettyJson(const std::string& compact);

}  // namespace powchain::wallet
