// What an operator's files, flags and environment hand the node: the API
// token file (LoadOrCreateApiToken, with the file's content, mode and kind
// from the input), the PEERS list (ParsePeerList), host:port URLs
// (ParseHostPortUrl, ParsePort) and the checked options (ValidateOptions,
// with network, bind addresses, thread counts, token, log level and miner
// address from the input).
//
// Input: a FuzzedDataProvider.
//
// Properties: nothing crashes or throws. A token is accepted only when
// IsValidApiToken holds, and a token file is read only when it is a
// regular file nobody else can read or write, of at most 1 KiB; what it
// reads is the file's text less its trailing line ends (\n, \r); a token it makes is
// written with mode 0600 and read back the same; every error names the
// file. A peer list parses to URLs whose text forms parse to themselves,
// and the list joined again parses to the same list. Options that pass
// ValidateOptions name a known network, IP bind addresses and different
// ports.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "consensus/params.h"
#include "fuzz_check.h"
#include "node/api_token.h"
#include "node/options.h"
#include "util/url.h"

namespace powchain::fuzz {
namespace {

namespace fs = std::filesystem;

void TokenFile(FuzzedDataProvider& in) {
  static const fs::path dir = ScratchDir("fuzz-settings");
  const fs::path file = ApiTokenFile(dir);
  fs::remove_all(file);
  const int kind = in.ConsumeIntegralInRange<int>(0, 3);
  const std::string content = in.ConsumeRandomLengthString(1200);
  static constexpr ::mode_t kModes[] = {0600, 0400, 0644, 0660, 0602, 0700};
  const ::mode_t mode = kModes[in.ConsumeIntegralInRange<std::size_t>(0, 5)];
  if (kind == 1 || kind == 2) {
    std::ofstream(file, std::ios::binary) << content;
    FUZZ_CHECK(::chmod(file.c_str(), mode) == 0);
  } else if (kind == 3) {
    fs::create_directory(file);
  }
  if (kind == 2) {  // a link to the file: followed, then judged as the file
    const fs::path target = dir / "target";
    fs::remove_all(target);
    fs::rename(file, target);
    fs::create_symlink(target, file);
  }
  const Result<std::string> token = LoadOrCreateApiToken(file);
  if (!token) {
    FUZZ_CHECK(token.error().find(file.string()) != std::string::npos);
    FUZZ_CHECK(kind != 0);
    return;
  }
  FUZZ_CHECK(IsValidApiToken(*token));
  if (kind == 0) {  // made: mode 0600, and read back the same
    struct ::stat st {};
    FUZZ_CHECK(::stat(file.c_str(), &st) == 0 && (st.st_mode & 0777) == 0600);
    const Result<std::string> again = LoadOrCreateApiToken(file);
    FUZZ_CHECK(again.ok() && *again == *token);
    return;
  }
  FUZZ_CHECK(kind != 3);
  FUZZ_CHECK((mode & 077) == 0);
  FUZZ_CHECK(content.size() <= 1024);
  std::string text = content;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  FUZZ_CHECK(*token == text);
}

void PeerList(FuzzedDataProvider& in) {
  const std::string text = in.ConsumeRandomLengthString(800);
  const Result<std::vector<PeerUrl>> list = ParsePeerList(text);
  if (!list) {
    FUZZ_CHECK(!list.error().empty());
    return;
  }
  std::string joined;
  for (const PeerUrl& url : *list) {
    const Result<PeerUrl> again = ParsePeerUrl(url.ToString());
    FUZZ_CHECK(again.ok() && *again == url);
    FUZZ_CHECK(url.port != 0);
    joined += (joined.empty() ? "" : ",") + url.ToString();
  }
  const Result<std::vector<PeerUrl>> again = ParsePeerList(joined);
  FUZZ_CHECK(again.ok() && *again == *list);

  const std::string node_url = in.ConsumeRandomLengthString(300);
  const Result<PeerUrl> http = ParseHostPortUrl(node_url, "http://", "node URL");
  if (http) FUZZ_CHECK(http->port != 0 && !http->host.empty());
  const Result<std::uint16_t> port = ParsePort(in.ConsumeRandomLengthString(12));
  if (port) FUZZ_CHECK(*port != 0);
}

void Options(FuzzedDataProvider& in) {
  NodeOptions options;
  static const char* const kNetworks[] = {"main", "regtest", "Main", "", "test"};
  options.network = in.ConsumeBool() ? std::string(kNetworks[in.ConsumeIntegralInRange(0, 4)])
                                     : in.ConsumeRandomLengthString(20);
  options.http.bind_address = in.ConsumeRandomLengthString(60);
  options.transport.bind_address = in.ConsumeRandomLengthString(60);
  options.http.port = in.ConsumeIntegral<std::uint16_t>();
  options.transport.port = in.ConsumeIntegral<std::uint16_t>();
  options.miner.threads = in.ConsumeIntegral<unsigned>();
  options.io_threads = in.ConsumeIntegralInRange<unsigned>(0, 3);
  options.http_threads = in.ConsumeIntegralInRange<unsigned>(0, 3);
  options.api_token = in.ConsumeRandomLengthString(300);
  options.log_level = in.ConsumeRandomLengthString(12);
  options.miner_address = in.ConsumeRandomLengthString(120);
  const Status valid = ValidateOptions(options);
  if (!valid) {
    FUZZ_CHECK(!valid.error().empty());
    return;
  }
  FUZZ_CHECK(Params::ForNetwork(options.network).has_value());
  boost::system::error_code ec;
  boost::asio::ip::make_address(options.http.bind_address, ec);
  FUZZ_CHECK(!ec);
  boost::asio::ip::make_address(options.transport.bind_address, ec);
  FUZZ_CHECK(!ec);
  FUZZ_CHECK(options.http.port != options.transport.port);
  FUZZ_CHECK(options.api_token.empty() || IsValidApiToken(options.api_token));
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain::fuzz;
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      TokenFile(in);
      break;
    case 1:
      PeerList(in);
      break;
    default:
      Options(in);
      break;
  }
  return 0;
}
