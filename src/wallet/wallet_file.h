// The wallet file (docs/wallet.md): a network's keys, their addresses, and
// the transactions this wallet sent that are not yet known confirmed.
//
// The file is one JSON object, written whole with WriteFileAtomic (a crash
// leaves the old file or the new one, never half of one) and mode 0600.
// With a passphrase the secret keys are sealed with AES-256-GCM under a key
// scrypt derives from it; the addresses and sent transactions stay readable,
// so a balance needs no passphrase, while a new key or a signature does.
// Every field read back is checked: a damaged file is a clear error, never a
// crash or a key that does not match its address.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/params.h"
#include "crypto/aead.h"
#include "crypto/schnorr.h"
#include "primitives/transaction.h"
#include "util/result.h"

namespace powchain::wallet {

inline constexpr std::string_view kWalletFormat = "powchain-wallet-1";
inline constexpr std::size_t kMaxWalletFileBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMaxWalletKeys = 100'000;

// A transaction this wallet signed and submitted (or is about to), kept
// until the node reports it confirmed or gone for good.
struct SentTx {
  Transaction tx;
  Hash32 txid{};
  std::uint64_t time_ms = 0;
};

class WalletFile {
 public:
  // A new wallet of `network` with one key, encrypted when `passphrase` is
  // given, written to `path`; refuses a path that exists.
  static Result<WalletFile> Create(const std::filesystem::path& path, const Params& params,
                                   const std::optional<std::string>& passphrase,
                                   const ScryptParams& scrypt = {});
  // Reads and checks the file; an encrypted wallet opens locked.
  static Result<WalletFile> Open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  const Params& params() const { return params_; }
  bool encrypted() const { return encryption_.has_value(); }
  bool locked() const { return keys_.empty() && !addresses_.empty(); }
  // Decrypts the keys; "wrong passphrase" when the tag does not verify.
  Status Unlock(std::string_view passphrase);

  const std::vector<std::string>& addresses() const { return addresses_; }
  const std::vector<XOnlyPubKey>& pubkeys() const { return pubkeys_; }
  // The secret key of `key`, or nullptr (also when locked).
  const SecretKey* SecretFor(const XOnlyPubKey& key) const;
  // Adds a fresh key (requires unlocked); saved by the next Save().
  Result<std::string> NewAddress();

  std::vector<SentTx>& sent() { return sent_; }
  const std::vector<SentTx>& sent() const { return sent_; }

  // Writes the whole wallet atomically, mode 0600.
  Status Save();

 private:
  struct Encryption {
    ScryptParams scrypt;
    std::array<std::uint8_t, 16> salt{};
    AeadNonce nonce{};
    std::string sealed;          // the keys as last sealed (kept while locked)
    std::optional<AeadKey> key;  // derived once unlocked
  };

  WalletFile(std::filesystem::path path, Params params)
      : path_(std::move(path)), params_(std::move(params)) {}
  std::string AssociatedData() const;
  std::string Serialize();
  Status SetKeys(std::vector<SecretKey> keys);

  std::filesystem::path path_;
  Params params_;
  std::vector<std::string> addresses_;
  std::vector<XOnlyPubKey> pubkeys_;
  std::vector<SecretKey> keys_;  // parallel to addresses_ once unlocked
  bool keys_changed_ = false;
  std::optional<Encryption> encryption_;
  std::vector<SentTx> sent_;
};

}  // namespace powchain::wallet
