#include "spec_tx.h"

#include <openssl/evp.h>

#include <array>
#include <cassert>
#include <cstring>
#include <stdexcept>

#include "util/bech32.h"
#include "util/hex.h"

namespace powchain::itest {
namespace {

std::array<std::uint8_t, 32> Sha256Of(const void* data, std::size_t size) {
  std::array<std::uint8_t, 32> out{};
  unsigned int length = 0;
  if (EVP_Digest(data, size, out.data(), &length, EVP_sha256(), nullptr) != 1 || length != 32) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return out;
}

std::array<std::uint8_t, 32> Sha256Of(const std::string& text) {
  return Sha256Of(text.data(), text.size());
}

}  // namespace

SpecWallet MakeSpecWallet(std::uint8_t seed, const std::string& hrp) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[0] = 0x5e;
  bytes[31] = seed;
  auto key = SecretKey::FromBytes(bytes);
  assert(key.has_value());
  const XOnlyPubKey pub = PublicKeyOf(*key);
  std::vector<std::uint8_t> quintets = {1};
  const bool converted = ConvertBits(quintets, pub, 8, 5, true);
  assert(converted);
  (void)converted;
  return SpecWallet{std::move(*key), Bech32Encode(Bech32Encoding::kBech32m, hrp, quintets)};
}

std::string SpecTxJson(const std::vector<SpecInput>& inputs, const std::vector<std::string>& sigs,
                       const std::vector<SpecOutput>& outputs,
                       std::optional<std::uint64_t> coinbase) {
  // Member names in byte order: coinbase, inputs, outputs, version;
  // sig, txid, vout; address, amount.
  std::string json = "{";
  if (coinbase.has_value()) json += "\"coinbase\":" + std::to_string(*coinbase) + ",";
  json += "\"inputs\":[";
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (i > 0) json += ",";
    json += "{";
    if (!sigs.empty()) json += "\"sig\":\"" + sigs.at(i) + "\",";
    json += "\"txid\":\"" + inputs[i].txid + "\",\"vout\":" + std::to_string(inputs[i].vout) + "}";
  }
  json += "],\"outputs\":[";
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (i > 0) json += ",";
    json += "{\"address\":\"" + outputs[i].address +
            "\",\"amount\":" + std::to_string(outputs[i].amount) + "}";
  }
  return json + "],\"version\":1}";
}

std::string SpecTxid(const std::string& canonical) { return HexEncode(Sha256Of(canonical)); }

std::string SpecSignedTx(const std::vector<SpecInput>& inputs,
                         const std::vector<SpecOutput>& outputs, const SecretKey& key,
                         const std::string& genesis_hex) {
  const auto genesis = HexToHash32(genesis_hex);
  if (!genesis) throw std::runtime_error("bad genesis hash: " + genesis_hex);
  const auto tag = Sha256Of(std::string("powchain/sighash"));
  const auto unsigned_hash = Sha256Of(SpecTxJson(inputs, {}, outputs));
  std::vector<std::string> sigs;
  for (std::uint32_t i = 0; i < inputs.size(); ++i) {
    // tag || tag || genesis || SHA-256(unsigned) || u32le(i)
    std::array<std::uint8_t, 32 * 4 + 4> message{};
    std::memcpy(message.data(), tag.data(), 32);
    std::memcpy(message.data() + 32, tag.data(), 32);
    std::memcpy(message.data() + 64, genesis->data(), 32);
    std::memcpy(message.data() + 96, unsigned_hash.data(), 32);
    for (int b = 0; b < 4; ++b) message[128 + b] = static_cast<std::uint8_t>(i >> (8 * b));
    const Hash32 sighash = Sha256Of(message.data(), message.size());
    sigs.push_back(HexEncode(ByteSpan(SignSchnorr(key, sighash))));
  }
  return SpecTxJson(inputs, sigs, outputs);
}

}  // namespace powchain::itest
