#include "wallet/wallet_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

#include "primitives/address.h"
#include "primitives/json.h"
#include "primitives/json_writer.h"
#include "util/file.h"
#include "util/hex.h"

namespace powchain::wallet {
namespace {

constexpr mode_t kWalletMode = 0600;

Error Damaged(const std::filesystem::path& path, const std::string& what) {
  return Error{"wallet file " + path.string() + " is damaged: " + what};
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> HexArray(const JsonValue* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  auto bytes = HexDecode(v->as_string());
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<std::uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// The "encryption" member: scrypt's parameters, the salt and the nonce.
Result<ScryptParams> ReadScrypt(const JsonValue& e) {
  const JsonValue* kdf = e.Find("kdf");
  const JsonValue* cipher = e.Find("cipher");
  if (kdf == nullptr || !kdf->is_string() || kdf->as_string() != "scrypt" || cipher == nullptr ||
      !cipher->is_string() || cipher->as_string() != "aes-256-gcm") {
    return Error{"encryption must be scrypt with aes-256-gcm"};
  }
  const JsonValue* n = e.Find("n");
  const JsonValue* r = e.Find("r");
  const JsonValue* p = e.Find("p");
  if (n == nullptr || r == nullptr || p == nullptr || !n->AsU64() || !r->AsU64() || !p->AsU64() ||
      *r->AsU64() > ScryptParams::kMaxR || *p->AsU64() > ScryptParams::kMaxP) {
    return Error{"scrypt parameters missing or out of range"};
  }
  return ScryptParams{.n = *n->AsU64(),
                      .r = static_cast<std::uint32_t>(*r->AsU64()),
                      .p = static_cast<std::uint32_t>(*p->AsU64())};
}

Result<std::vector<SentTx>> ReadSent(const JsonValue* sent) {
  std::vector<SentTx> out;
  if (sent == nullptr) return out;
  if (!sent->is_array()) return Error{"sent must be an array"};
  for (const JsonValue& item : sent->items()) {
    const JsonValue* time = item.is_object() ? item.Find("time") : nullptr;
    const JsonValue* tx = item.is_object() ? item.Find("tx") : nullptr;
    if (time == nullptr || !time->AsU64() || tx == nullptr) {
      return Error{"a sent entry needs time and tx"};
    }
    auto parsed = TxFromJson(*tx);
    if (!parsed) return Error{"a sent transaction: " + parsed.error()};
    const Hash32 txid = ComputeTxid(*parsed);
    out.push_back(SentTx{std::move(parsed).value(), txid, *time->AsU64()});
  }
  return out;
}

// The "addresses" member: each a valid address of the wallet's network.
Result<std::vector<XOnlyPubKey>> ReadAddresses(const JsonValue* list, const Params& params,
                                               std::vector<std::string>& addresses) {
  if (list == nullptr || !list->is_array() || list->items().empty() ||
      list->items().size() > kMaxWalletKeys) {
    return Error{"addresses must be a list of 1 to " + std::to_string(kMaxWalletKeys)};
  }
  std::vector<XOnlyPubKey> keys;
  for (const JsonValue& a : list->items()) {
    if (!a.is_string()) return Error{"an address is not a string"};
    auto key = DecodeAddressFor(a.as_string(), params.address_prefix);
    if (!key) return Error{"address " + a.as_string().substr(0, 100) + ": " + key.error()};
    addresses.push_back(EncodeAddress(params.address_prefix, *key));
    keys.push_back(*key);
  }
  return keys;
}

Result<std::vector<SecretKey>> ReadPlainKeys(const JsonValue* list) {
  if (list == nullptr || !list->is_array()) return Error{"keys must be a list"};
  std::vector<SecretKey> keys;
  for (const JsonValue& k : list->items()) {
    auto bytes = HexArray<32>(&k);
    std::optional<SecretKey> key =
        bytes.has_value() ? SecretKey::FromBytes(*bytes) : std::optional<SecretKey>();
    if (bytes.has_value()) Cleanse(*bytes);
    if (!key.has_value()) return Error{"a key is not 64 hex digits of a valid secret key"};
    keys.push_back(std::move(*key));
  }
  return keys;
}

}  // namespace

Result<WalletFile> WalletFile::Open(const std::filesystem::path& path) {
  auto text = ReadFileLimited(path, kMaxWalletFileBytes);
  if (!text) return Error{text.error()};
  if (!text->has_value()) {
    return Error{"no wallet file at " + path.string() +
                 " (make one with `powchain wallet create`)"};
  }
  auto json = ParseJson(**text, JsonLimits{.max_bytes = kMaxWalletFileBytes, .max_depth = 16});
  if (!json || !json->is_object()) return Damaged(path, json ? "not a JSON object" : json.error());
  const JsonValue* format = json->Find("format");
  if (format == nullptr || !format->is_string() || format->as_string() != kWalletFormat) {
    return Damaged(path, "format is not " + std::string(kWalletFormat));
  }
  const JsonValue* network = json->Find("network");
  std::optional<Params> params = network != nullptr && network->is_string()
                                     ? Params::ForNetwork(network->as_string())
                                     : std::nullopt;
  if (!params.has_value()) return Damaged(path, "no known network");
  WalletFile w(path, *params);
  auto pubkeys = ReadAddresses(json->Find("addresses"), *params, w.addresses_);
  if (!pubkeys) return Damaged(path, pubkeys.error());
  w.pubkeys_ = std::move(pubkeys).value();
  auto sent = ReadSent(json->Find("sent"));
  if (!sent) return Damaged(path, sent.error());
  w.sent_ = std::move(sent).value();
  const JsonValue* encryption = json->Find("encryption");
  if (encryption == nullptr || encryption->is_null()) {
    auto keys = ReadPlainKeys(json->Find("keys"));
    if (!keys) return Damaged(path, keys.error());
    if (Status s = w.SetKeys(std::move(keys).value()); !s) return Error{s.error()};
    return w;
  }
  if (!encryption->is_object()) return Damaged(path, "encryption must be an object or null");
  auto scrypt = ReadScrypt(*encryption);
  const auto salt = HexArray<16>(encryption->Find("salt"));
  const auto nonce = HexArray<12>(encryption->Find("nonce"));
  const JsonValue* sealed = json->Find("keys");
  auto sealed_bytes =
      sealed != nullptr && sealed->is_string() ? HexDecode(sealed->as_string()) : std::nullopt;
  if (!scrypt) return Damaged(path, scrypt.error());
  if (!salt || !nonce || !sealed_bytes) {
    return Damaged(path, "salt, nonce or sealed keys missing or not hex of their length");
  }
  Encryption e;
  e.scrypt = *scrypt;
  e.salt = *salt;
  e.nonce = *nonce;
  e.sealed.assign(sealed_bytes->begin(), sealed_bytes->end());
  w.encryption_ = std::move(e);
  return w;
}

Result<WalletFile> WalletFile::Create(const std::filesystem::path& path, const Params& params,
                                      const std::optional<std::string>& passphrase,
                                      const ScryptParams& scrypt) {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    return Error{"wallet file " + path.string() +
                 " exists already; give another --wallet path to make a new one"};
  }
  WalletFile w(path, params);
  if (passphrase.has_value()) {
    if (passphrase->empty()) return Error{"the passphrase is empty"};
    Encryption e;
    e.scrypt = scrypt;
    RandomBytes(e.salt);
    auto key = DeriveKeyScrypt(*passphrase, e.salt, scrypt);
    if (!key) return Error{key.error()};
    e.key = *key;
    w.encryption_ = std::move(e);
  }
  if (auto a = w.NewAddress(); !a) return Error{a.error()};
  if (Status s = w.Save(); !s) return Error{s.error()};
  return w;
}

const SecretKey* WalletFile::SecretFor(const XOnlyPubKey& key) const {
  if (keys_.size() != pubkeys_.size()) return nullptr;
  const auto it = std::find(pubkeys_.begin(), pubkeys_.end(), key);
  return it == pubkeys_.end() ? nullptr : &keys_[static_cast<std::size_t>(it - pubkeys_.begin())];
}

Result<std::string> WalletFile::NewAddress() {
  if (locked()) return Error{"the wallet is locked"};
  if (addresses_.size() >= kMaxWalletKeys) {
    return Error{"the wallet holds " + std::to_string(kMaxWalletKeys) + " keys, its limit"};
  }
  SecretKey key = SecretKey::Generate();
  const XOnlyPubKey pub = PublicKeyOf(key);
  addresses_.push_back(EncodeAddress(params_.address_prefix, pub));
  pubkeys_.push_back(pub);
  keys_.push_back(std::move(key));
  keys_changed_ = true;
  return addresses_.back();
}

// What the seal authenticates besides the keys: the format, the network and
// the addresses, so that none of them can be swapped without the tag
// failing.
std::string WalletFile::AssociatedData() const {
  std::string aad = std::string(kWalletFormat) + '\n' + params_.network + '\n';
  for (const std::string& a : addresses_) aad += a + '\n';
  return aad;
}

Status WalletFile::SetKeys(std::vector<SecretKey> keys) {
  if (keys.size() != addresses_.size()) {
    return Damaged(path_, std::to_string(keys.size()) + " keys for " +
                              std::to_string(addresses_.size()) + " addresses");
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (PublicKeyOf(keys[i]) != pubkeys_[i]) {
      return Damaged(path_, "the key of " + addresses_[i] + " does not match it");
    }
  }
  keys_ = std::move(keys);
  return {};
}

Status WalletFile::Unlock(std::string_view passphrase) {
  if (!encryption_.has_value() || !locked()) return {};
  Encryption& e = *encryption_;
  auto key = DeriveKeyScrypt(passphrase, e.salt, e.scrypt);
  if (!key) return Damaged(path_, key.error());
  std::optional<std::string> plain = OpenAes256Gcm(*key, e.nonce, AssociatedData(), e.sealed);
  if (!plain.has_value()) {
    return Error{"wrong passphrase for " + path_.string() +
                 " (or the file's encrypted part was changed)"};
  }
  std::vector<SecretKey> keys;
  Status status = {};
  if (plain->size() % 32 != 0) status = Damaged(path_, "the sealed keys are not 32-byte keys");
  for (std::size_t i = 0; status && i + 32 <= plain->size(); i += 32) {
    std::array<std::uint8_t, 32> bytes{};
    std::copy_n(plain->begin() + static_cast<std::ptrdiff_t>(i), 32, bytes.begin());
    std::optional<SecretKey> k = SecretKey::FromBytes(bytes);
    Cleanse(bytes);
    if (!k.has_value()) {
      status = Damaged(path_, "a sealed key is not a valid secret key");
    } else {
      keys.push_back(std::move(*k));
    }
  }
  Cleanse(*plain);
  if (status) status = SetKeys(std::move(keys));
  if (status) e.key = *key;
  return status;
}

std::string WalletFile::Serialize() {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("format").String(kWalletFormat);
  w.Key("network").String(params_.network);
  w.Key("addresses").BeginArray();
  for (const std::string& a : addresses_) w.String(a);
  w.EndArray();
  if (encryption_.has_value()) {
    Encryption& e = *encryption_;
    if (keys_changed_ && e.key.has_value()) {
      std::string plain;
      for (const SecretKey& k : keys_) plain.append(k.bytes().begin(), k.bytes().end());
      RandomBytes(e.nonce);  // a fresh nonce for every seal under this key
      e.sealed = SealAes256Gcm(*e.key, e.nonce, AssociatedData(), plain);
      Cleanse(plain);
    }
    w.Key("encryption").BeginObject();
    w.Key("kdf").String("scrypt").Key("n").UInt(e.scrypt.n).Key("r").UInt(e.scrypt.r);
    w.Key("p").UInt(e.scrypt.p).Key("salt").String(HexEncode(e.salt));
    w.Key("cipher").String("aes-256-gcm").Key("nonce").String(HexEncode(e.nonce));
    w.EndObject();
    w.Key("keys").String(HexEncode(std::vector<std::uint8_t>(e.sealed.begin(), e.sealed.end())));
  } else {
    w.Key("encryption").Null();
    w.Key("keys").BeginArray();
    for (const SecretKey& k : keys_) w.String(HexEncode(ByteSpan(k.bytes())));
    w.EndArray();
  }
  w.Key("sent").BeginArray();
  for (const SentTx& s : sent_) {
    w.BeginObject().Key("time").UInt(s.time_ms).Key("tx");
    WriteTxJson(w, s.tx);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out += '\n';
  return out;
}

Status WalletFile::Save() {
  std::string bytes = Serialize();
  Status s = WriteFileAtomic(path_, bytes, kWalletMode);
  if (!encryption_.has_value()) Cleanse(bytes);
  if (s) keys_changed_ = false;
  return s;
}

}  // namespace powchain::wallet
