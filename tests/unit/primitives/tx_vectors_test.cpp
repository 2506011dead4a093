// Known-answer vectors for txids, signature hashes, addresses, the Merkle
// tree and dataHash, computed by tests/vectors/tx_vectors.py (Python hashlib
// and json, written from docs/consensus.md, not from this code). The file's
// format is described in tests/vectors/README.md ("tx_vectors.txt").
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sha256.h"
#include "primitives/address.h"
#include "primitives/block.h"
#include "primitives/merkle.h"
#include "primitives/transaction.h"
#include "util/hex.h"

namespace powchain {
namespace {

using Fields = std::vector<std::string>;

// How many lines of each kind tx_vectors.py writes; the tests check at least
// this many, so a truncated or misread file fails.
const std::map<std::string, std::size_t> kExpectedCounts = {
    {"address", 6}, {"tx", 7},     {"unsigned", 5}, {"sighash", 16},
    {"leaf", 9},    {"merkle", 9}, {"proof", 17},   {"datahash", 3},
};

std::vector<Fields> ReadAllVectors() {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "../../vectors/tx_vectors.txt";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::vector<Fields> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Fields fields;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    lines.push_back(std::move(fields));
  }
  return lines;
}

// The lines of one kind, without the kind column.
std::vector<Fields> ReadVectors(std::string_view kind) {
  std::vector<Fields> out;
  for (Fields& f : ReadAllVectors()) {
    if (f[0] == kind) out.emplace_back(f.begin() + 1, f.end());
  }
  return out;
}

Hash32 H(std::string_view hex) {
  const std::optional<Hash32> h = HexToHash32(hex);
  EXPECT_TRUE(h.has_value()) << hex;
  return h.value_or(Hash32{});
}

std::vector<Hash32> HashList(const std::string& comma_separated) {
  std::vector<Hash32> out;
  std::stringstream in(comma_separated);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(H(item));
  return out;
}

Transaction ParseTx(std::string_view text) {
  Result<Transaction> tx = TxFromJsonText(text);
  EXPECT_TRUE(tx.ok()) << text << ": " << (tx.ok() ? "" : tx.error());
  return tx.ok() ? *tx : Transaction{};
}

Hash32 Sha256Of(std::string_view s) {
  return Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

// Leaves 0..8: SHA-256 of "leaf0", "leaf1", ... (the leaf lines).
std::vector<Hash32> Leaves() {
  std::vector<Hash32> leaves;
  for (const Fields& f : ReadVectors("leaf")) {
    EXPECT_EQ(std::stoul(f.at(0)), leaves.size());
    leaves.push_back(H(f.at(1)));
  }
  return leaves;
}

TEST(TxVectorsTest, FileHasEveryKindAndNoOther) {
  std::map<std::string, std::size_t> counts;
  for (const Fields& f : ReadAllVectors()) ++counts[f[0]];
  for (const auto& [kind, count] : counts) {
    EXPECT_TRUE(kExpectedCounts.contains(kind)) << "unknown kind " << kind;
  }
  for (const auto& [kind, count] : kExpectedCounts) EXPECT_GE(counts[kind], count) << kind;
}

TEST(TxVectorsTest, Addresses) {
  std::size_t checked = 0;
  for (const Fields& f : ReadVectors("address")) {
    ASSERT_EQ(f.size(), 3u);
    const std::string& hrp = f[0];
    const XOnlyPubKey key = H(f[1]);
    const std::string& address = f[2];
    EXPECT_EQ(EncodeAddress(hrp, key), address);
    const Result<DecodedAddress> decoded = DecodeAddress(address);
    ASSERT_TRUE(decoded.ok()) << address << ": " << decoded.error();
    EXPECT_EQ(decoded->hrp, hrp);
    EXPECT_EQ(HexEncode(decoded->key), f[1]);
    const Result<XOnlyPubKey> for_network = DecodeAddressFor(address, hrp);
    ASSERT_TRUE(for_network.ok()) << address;
    EXPECT_EQ(*for_network, key);
    ++checked;
  }
  EXPECT_GE(checked, kExpectedCounts.at("address"));
}

TEST(TxVectorsTest, CanonicalBytesAndTxids) {
  std::size_t checked = 0;
  for (const Fields& f : ReadVectors("tx")) {
    ASSERT_EQ(f.size(), 3u);
    const std::string& name = f[0];
    const std::string& canonical = f[1];
    const Transaction tx = ParseTx(canonical);
    EXPECT_EQ(CanonicalTxBytes(tx), canonical) << name;
    EXPECT_EQ(CanonicalTxSize(tx), canonical.size()) << name;
    EXPECT_EQ(HexEncode(ComputeTxid(tx)), f[2]) << name;
    EXPECT_EQ(tx.IsCoinbase(), canonical.starts_with("{\"coinbase\":")) << name;
    ++checked;
  }
  EXPECT_GE(checked, kExpectedCounts.at("tx"));
}

TEST(TxVectorsTest, UnsignedBytes) {
  std::size_t checked = 0;
  for (const Fields& f : ReadVectors("unsigned")) {
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(UnsignedTxBytes(ParseTx(f[0])), f[1]);
    ++checked;
  }
  EXPECT_GE(checked, kExpectedCounts.at("unsigned"));
}

TEST(TxVectorsTest, SignatureHashes) {
  std::size_t checked = 0;
  std::set<std::string> networks;
  for (const Fields& f : ReadVectors("sighash")) {
    ASSERT_EQ(f.size(), 5u);
    const Hash32 genesis = H(f[1]);
    const Transaction tx = ParseTx(f[2]);
    const auto index = static_cast<std::uint32_t>(std::stoul(f[3]));
    ASSERT_LT(index, tx.inputs.size()) << f[2];
    EXPECT_EQ(HexEncode(SignatureHash(tx, index, genesis)), f[4]) << f[0] << " input " << index;
    EXPECT_EQ(HexEncode(SighashContext(tx, genesis).ForInput(index)), f[4]);
    networks.insert(f[0]);
    ++checked;
  }
  EXPECT_GE(checked, kExpectedCounts.at("sighash"));
  EXPECT_EQ(networks, (std::set<std::string>{"main", "regtest"}));
}

TEST(TxVectorsTest, MerkleRoots) {
  const std::vector<Hash32> leaves = Leaves();
  ASSERT_EQ(leaves.size(), 9u);
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(Sha256Of("leaf" + std::to_string(i)), leaves[i]) << i;
  }
  std::size_t checked = 0;
  for (const Fields& f : ReadVectors("merkle")) {
    ASSERT_EQ(f.size(), 2u);
    const std::size_t n = std::stoul(f[0]);
    ASSERT_LE(n, leaves.size());
    EXPECT_EQ(HexEncode(MerkleRoot(std::span(leaves).first(n))), f[1]) << n << " leaves";
    ++checked;
  }
  EXPECT_GE(checked, kExpectedCounts.at("merkle"));
}

TEST(TxVectorsTest, MerkleProofs) {
  const std::vector<Hash32> leaves = Leaves();
  std::map<std::size_t, Hash32> roots;
  for (const Fields& f : ReadVectors("merkle")) roots[std::stoul(f.at(0))] = H(f.at(1));
  std::size_t checked = 0;
  for (const Fields& f : ReadVectors("proof")) {
    ASSERT_EQ(f.size(), 3u);
    const std::size_t n = std::stoul(f[0]);
    const std::size_t index = std::stoul(f[1]);
    ASSERT_LT(index, n);
    ASSERT_TRUE(roots.contains(n));
    const std::span<const Hash32> tree = std::span(leaves).first(n);
    const std::vector<Hash32> proof = HashList(f[2]);
    EXPECT_EQ(MerkleProof(tree, index), proof) << n << " leaves, leaf " << index;
    EXPECT_EQ(MerkleRootFromProof(leaves[index], index, n, proof), roots[n])
        << n << " leaves, leaf " << index;
    // A proof of the wrong length for the position is refused.
    ASSERT_FALSE(proof.empty());
    EXPECT_FALSE(
        MerkleRootFromProof(leaves[index], index, n, std::span(proof).first(proof.size() - 1)));
    std::vector<Hash32> longer = proof;
    longer.push_back(leaves[0]);
    EXPECT_FALSE(MerkleRootFromProof(leaves[index], index, n, longer));
    // Any changed sibling leads elsewhere.
    for (std::size_t s = 0; s < proof.size(); ++s) {
      std::vector<Hash32> bad = proof;
      bad[s][0] ^= 1;
      EXPECT_NE(MerkleRootFromProof(leaves[index], index, n, bad), roots[n]);
    }
    ++checked;
  }
  EXPECT_GE(checked, kExpectedCounts.at("proof"));
}

TEST(TxVectorsTest, DataHashes) {
  std::size_t checked = 0;
  for (const Fields& f : ReadVectors("datahash")) {
    ASSERT_GE(f.size(), 2u);
    Block block;
    block.data = f[0];
    for (std::size_t i = 2; i < f.size(); ++i) block.txs.push_back(ParseTx(f[i]));
    EXPECT_EQ(HexEncode(ComputeDataHash(block)), f[1]) << f[0] << " with " << block.txs.size();
    EXPECT_EQ(HexEncode(ComputeDataHash(block, ComputeTxids(block))), f[1]);
    if (block.txs.empty()) {
      EXPECT_EQ(ComputeDataHash(block), Sha256Of(block.data));
    }
    ++checked;
  }
  EXPECT_GE(checked, kExpectedCounts.at("datahash"));
}

// The canonical text and txid of the vector named `name`.
Fields NamedTx(std::string_view name) {
  for (Fields& f : ReadVectors("tx")) {
    if (f.at(0) == name) return f;
  }
  ADD_FAILURE() << "no tx vector " << name;
  return {"", "", ""};
}

// Members in another order and whitespace between tokens: the transaction
// is the same, and its txid is that of its canonical form, not of the text.
TEST(TxVectorsTest, NonCanonicalTextGetsTheCanonicalTxid) {
  const std::string one_one =
      "{\n  \"version\" : 1,\n  \"outputs\" : [ { \"amount\" : 4999990000 ,\n"
      "    \"address\" : \"powrt1pmlcawle2vuw97dscxundkg6phev0atsa5t0vakzrys8hk5pt5evssfegyp\" } "
      "],\n\t\"inputs\": [ {\"vout\": 0,\r\n \"txid\": "
      "\"9c21b02981cdc19c0dacf77de6e6d6c8d6f6b3d9356f59139ade76a6f6a101ce\", \"sig\": "
      "\"645761ef0cb669e4c9879bb2dbb64c5fdd8de10211f307fd0d0366b6b96ceee5f9e6d62a38d8aba7ebc6c375d2"
      "cf86ab0b4d433d0d3be7f6ee5009289b06ef79\"}]\n}\n";
  const std::string coinbase =
      " { \"version\":1, \"outputs\":[{\"amount\":5000000000, \"address\":"
      "\"powrt1plycg5qvjtrp3qjf5f7zl382j9x6nrjz9sdhenvyxq8c3808qxmus668l3x\"}], \"inputs\" : [ ], "
      "\"coinbase\" : 1 } ";
  for (const auto& [name, text] :
       {std::pair{"one_one", one_one}, std::pair{"coinbase", coinbase}}) {
    const Fields expected = NamedTx(name);
    const Transaction tx = ParseTx(text);
    EXPECT_EQ(CanonicalTxBytes(tx), expected[1]) << name;
    EXPECT_EQ(HexEncode(ComputeTxid(tx)), expected[2]) << name;
    EXPECT_NE(Sha256Of(text), ComputeTxid(tx)) << name;
    EXPECT_EQ(tx, ParseTx(expected[1])) << name;
  }
}

}  // namespace
}  // namespace powchain
