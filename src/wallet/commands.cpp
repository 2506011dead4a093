#include "wallet/commands.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <ostream>

#include "primitives/json_writer.h"
#include "util/hex.h"
#include "wallet/wallet.h"

namespace powchain::wallet {
namespace {

int Fail(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n";
  return kExitFailure;
}

Result<NodeClient> MakeClient(const ClientOptions& client) {
  auto url = net::ParseNodeUrl(client.node);
  if (!url) return Error{url.error()};
  net::HttpCallOptions options;
  options.timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(client.timeout_seconds * 1000));
  options.bearer_token = client.api_token;
  return NodeClient(std::move(url).value(), options);
}

// Reads a line from the terminal without echoing it.
std::optional<std::string> Prompt(const std::string& question) {
  if (::isatty(STDIN_FILENO) == 0) return std::nullopt;
  std::cerr << question << std::flush;
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

// The passphrase: --passphrase-file's first line, else WALLET_PASSPHRASE,
// else asked on the terminal (twice when `confirm`).
Result<std::string> GetPassphrase(const WalletOptions& options, bool confirm) {
  if (!options.passphrase_file.empty()) {
    std::ifstream in(options.passphrase_file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return Error{"cannot read a passphrase from " + options.passphrase_file};
    }
    return line;
  }
  if (const char* env = std::getenv("WALLET_PASSPHRASE"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  auto first = Prompt("passphrase: ");
  if (!first) {
    return Error{
        "this needs the wallet's passphrase: give --passphrase-file or set "
        "WALLET_PASSPHRASE (no terminal to ask on)"};
  }
  if (confirm && Prompt("passphrase again: ") != first) {
    return Error{"the two passphrases differ"};
  }
  return *first;
}

// Opens the wallet, and unlocks it when `unlock` and it is encrypted.
Result<WalletFile> OpenWallet(const WalletOptions& options, bool unlock) {
  auto wallet = WalletFile::Open(options.path);
  if (!wallet) return Error{wallet.error()};
  if (unlock && wallet->encrypted()) {
    auto passphrase = GetPassphrase(options, false);
    if (!passphrase) return Error{passphrase.error()};
    Status s = wallet->Unlock(*passphrase);
    Cleanse(*passphrase);
    if (!s) return Error{s.error()};
  }
  return wallet;
}

// The wallet opened, and a client for a node of its network.
struct Session {
  WalletFile wallet;
  NodeClient node;
};

Result<Session> Connect(const WalletOptions& options, bool unlock) {
  auto wallet = OpenWallet(options, unlock);
  if (!wallet) return Error{wallet.error()};
  auto node = MakeClient(options.client);
  if (!node) return Error{node.error()};
  if (Status s = CheckNetwork(*node, wallet->params()); !s) return Error{s.error()};
  return Session{std::move(wallet).value(), std::move(node).value()};
}

void PrintNotes(const std::vector<std::string>& notes, std::ostream& err) {
  for (const std::string& n : notes) err << "note: " << n << "\n";
}

}  // namespace

std::string PrettyJson(const std::string& compact) {
  std::string out;
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  auto newline = [&] { out += '\n' + std::string(static_cast<std::size_t>(2 * depth), ' '); };
  for (std::size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    if (in_string) {
      out += c;
      in_string = escaped || c != '"';
      escaped = !escaped && c == '\\';
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
    } else if (c == '{' || c == '[') {
      out += c;
      const char close = c == '{' ? '}' : ']';
      if (i + 1 < compact.size() && compact[i + 1] == close) {
        out += close;
        ++i;
      } else {
        ++depth;
        newline();
      }
    } else if (c == '}' || c == ']') {
      --depth;
      newline();
      out += c;
    } else if (c == ',') {
      out += c;
      newline();
    } else if (c == ':') {
      out += ": ";
    } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
      out += c;
    }
  }
  return depth == 0 && !in_string ? out : compact;
}

std::string MineBody(const std::string& data) {
  std::string body = "{\"data\":";
  if (ParseJson(data)) {
    body += data;
  } else {
    JsonWriter w(body);
    w.String(data);
  }
  return body + "}";
}

int RunApiCall(const ClientOptions& client, const std::string& method, const std::string& target,
               const std::string& body, std::ostream& out, std::ostream& err) {
  auto node = MakeClient(client);
  if (!node) {
    err << "error: " << node.error() << "\n";
    return kExitUsage;
  }
  auto reply = node->Call(method, target, body);
  if (!reply) return Fail(err, reply.error());
  if (reply->status < 200 || reply->status > 299) {
    std::string why = DescribeReply(*reply);
    if (reply->status == 401) why += " (give the node's token with --api-token or API_TOKEN)";
    return Fail(err, method + " " + target + ": " + why);
  }
  out << PrettyJson(reply->body) << "\n";
  return kExitOk;
}

int RunWalletCreate(const WalletOptions& options, std::ostream& out, std::ostream& err) {
  const std::optional<Params> params = Params::ForNetwork(options.network);
  if (!params.has_value()) return Fail(err, "no network named " + options.network);
  std::optional<std::string> passphrase;
  if (options.encrypt) {
    auto p = GetPassphrase(options, true);
    if (!p) return Fail(err, p.error());
    passphrase = std::move(p).value();
  }
  auto wallet = WalletFile::Create(options.path, *params, passphrase);
  if (passphrase.has_value()) Cleanse(*passphrase);
  if (!wallet) return Fail(err, wallet.error());
  std::string text;
  JsonWriter w(text);
  w.BeginObject().Key("wallet").String(options.path).Key("network").String(params->network);
  w.Key("encrypted").Bool(wallet->encrypted()).Key("address").String(wallet->addresses()[0]);
  w.EndObject();
  out << PrettyJson(text) << "\n";
  return kExitOk;
}

int RunWalletNewAddress(const WalletOptions& options, std::ostream& out, std::ostream& err) {
  auto wallet = OpenWallet(options, true);
  if (!wallet) return Fail(err, wallet.error());
  auto address = wallet->NewAddress();
  if (!address) return Fail(err, address.error());
  if (Status s = wallet->Save(); !s) return Fail(err, s.error());
  out << *address << "\n";
  return kExitOk;
}

int RunWalletAddresses(const WalletOptions& options, std::ostream& out, std::ostream& err) {
  auto wallet = OpenWallet(options, false);
  if (!wallet) return Fail(err, wallet.error());
  for (const std::string& a : wallet->addresses()) out << a << "\n";
  return kExitOk;
}

int RunWalletBalance(const WalletOptions& options, std::ostream& out, std::ostream& err) {
  auto session = Connect(options, false);
  if (!session) return Fail(err, session.error());
  bool changed = false;
  std::vector<std::string> notes;
  if (Status s = FollowSent(session->node, session->wallet, changed, notes); !s) {
    return Fail(err, s.error());
  }
  if (changed) {
    if (Status s = session->wallet.Save(); !s) return Fail(err, s.error());
  }
  PrintNotes(notes, err);
  auto balance = GetBalance(session->node, session->wallet);
  if (!balance) return Fail(err, balance.error());
  const std::int64_t total = static_cast<std::int64_t>(balance->confirmed) + balance->unconfirmed;
  std::string text;
  JsonWriter w(text);
  w.BeginObject();
  w.Key("confirmed").UInt(balance->confirmed).Key("unconfirmed").Int(balance->unconfirmed);
  w.Key("total").Int(total).Key("coins").String(FormatCoins(total));
  w.Key("unspentCoins").UInt(balance->coins).Key("pendingSent").UInt(session->wallet.sent().size());
  w.EndObject();
  out << PrettyJson(text) << "\n";
  return kExitOk;
}

int RunWalletSend(const WalletOptions& options, const std::string& to, const std::string& amount,
                  std::uint64_t fee_rate, std::ostream& out, std::ostream& err) {
  auto units = ParseCoins(amount);
  if (!units) {
    err << "error: " << units.error() << "\n";
    return kExitUsage;
  }
  auto session = Connect(options, true);
  if (!session) return Fail(err, session.error());
  auto sent = Send(session->node, session->wallet, SendRequest{to, *units, fee_rate});
  if (!sent) return Fail(err, sent.error());
  std::string text;
  JsonWriter w(text);
  w.BeginObject();
  w.Key("txid").Hex(sent->txid).Key("amount").UInt(*units).Key("fee").UInt(sent->fee);
  w.Key("size").UInt(sent->size).Key("inputs").UInt(sent->inputs);
  w.Key("change").UInt(sent->change);
  if (!sent->change_address.empty()) w.Key("changeAddress").String(sent->change_address);
  w.EndObject();
  out << PrettyJson(text) << "\n";
  return kExitOk;
}

int RunWalletHistory(const WalletOptions& options, std::size_t limit, std::ostream& out,
                     std::ostream& err) {
  auto session = Connect(options, false);
  if (!session) return Fail(err, session.error());
  auto history = History(session->node, session->wallet, limit);
  if (!history) return Fail(err, history.error());
  std::string text;
  JsonWriter w(text);
  w.BeginArray();
  for (const HistoryEntry& e : *history) {
    w.BeginObject().Key("txid").Hex(e.txid);
    if (e.height.has_value()) {
      w.Key("height").UInt(*e.height).Key("confirmations").UInt(e.confirmations);
    } else {
      w.Key("height").Null().Key("confirmations").UInt(0);
    }
    w.Key("amount").Int(e.amount).Key("coins").String(FormatCoins(e.amount));
    w.Key("fee").UInt(e.fee).Key("coinbase").Bool(e.coinbase);
    w.EndObject();
  }
  w.EndArray();
  out << PrettyJson(text) << "\n";
  return kExitOk;
}

}  // namespace powchain::wallet
