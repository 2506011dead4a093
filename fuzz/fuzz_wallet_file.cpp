// Wallet files from disk (a damaged or hand-edited file): WalletFile::Open,
// Unlock and Save, on the file's bytes exactly as the input gives them.
//
// Input: the first byte picks whether to unlock and with which passphrase
// (bit 0: the seeds' passphrase, else a wrong one); the rest is the file.
// Files whose scrypt parameters ask for more than 2^14 * 8 blocks are not
// unlocked (the wallet allows up to 2^20 * 16, seconds of work per try
// under the sanitizers; the parameter check itself is reached either way).
//
// Properties: nothing crashes; every refusal names the file; an opened
// wallet has one key per address, each address of the wallet's network and
// naming that key; an unencrypted wallet, or an encrypted one that
// unlocks, holds for each address a secret key whose public key is the
// address's; the wrong passphrase never unlocks; a wallet saved and opened
// again has the same addresses and sent transactions.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "crypto/schnorr.h"
#include "fuzz_check.h"
#include "primitives/address.h"
#include "primitives/json.h"
#include "wallet/wallet_file.h"

namespace powchain::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassphrase = "fuzz passphrase";

fs::path WalletPath() {
  static const fs::path dir = ScratchDir("fuzz-wallet");
  return dir / "wallet.json";
}

// True when the file's scrypt parameters are cheap enough to try: n * r *
// p at most 2^14 * 8 (the seeds use 2^10 * 1 * 1).
bool CheapKdf(std::string_view file) {
  const auto json = ParseJson(file);
  if (!json || !json->is_object()) return false;
  const JsonValue* e = json->Find("encryption");
  if (e == nullptr || !e->is_object()) return false;
  std::uint64_t cost = 1;
  for (const char* name : {"n", "r", "p"}) {
    const JsonValue* v = e->Find(name);
    if (v == nullptr || !v->AsU64() || *v->AsU64() == 0 || *v->AsU64() > (1u << 20)) return false;
    cost *= *v->AsU64();
  }
  return cost <= (std::uint64_t{1} << 17);
}

void CheckKeys(const wallet::WalletFile& w) {
  for (const XOnlyPubKey& key : w.pubkeys()) {
    const SecretKey* secret = w.SecretFor(key);
    FUZZ_CHECK(secret != nullptr);
    FUZZ_CHECK(PublicKeyOf(*secret) == key);
  }
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  if (size == 0) return 0;
  const fs::path path = WalletPath();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
    FUZZ_CHECK(out.good());
  }
  ::chmod(path.c_str(), 0600);
  auto opened = wallet::WalletFile::Open(path);
  if (!opened) {
    FUZZ_CHECK(opened.error().find(path.string()) != std::string::npos);
    return 0;
  }
  wallet::WalletFile& w = *opened;
  FUZZ_CHECK(w.addresses().size() == w.pubkeys().size());
  for (std::size_t i = 0; i < w.addresses().size(); ++i) {
    const auto key = DecodeAddressFor(w.addresses()[i], w.params().address_prefix);
    FUZZ_CHECK(key.ok() && *key == w.pubkeys()[i]);
  }
  if (!w.encrypted()) {
    CheckKeys(w);
  } else if (w.locked() && CheapKdf(AsText(data + 1, size - 1))) {
    // Unlock reads the parameters from the file; only cheap ones are tried.
    const bool right = (data[0] & 1) != 0;
    const Status unlocked = w.Unlock(right ? kPassphrase : "not the passphrase");
    if (unlocked) {
      FUZZ_CHECK(right);
      CheckKeys(w);
    } else {
      FUZZ_CHECK(!unlocked.error().empty());
    }
  }
  const std::vector<std::string> addresses = w.addresses();
  const std::size_t sent = w.sent().size();
  if (w.Save()) {
    auto again = wallet::WalletFile::Open(path);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->addresses() == addresses);
    FUZZ_CHECK(again->sent().size() == sent);
    FUZZ_CHECK(again->encrypted() == w.encrypted());
  }
  return 0;
}
