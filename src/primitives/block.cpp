#include "primitives/block.h"

#include <cstring>

#include "crypto/sha256.h"
#include "primitives/merkle.h"

namespace powchain {

BlockHeader::Bytes BlockHeader::Serialize() const {
  Bytes out{};
  std::uint8_t* p = out.data();
  WriteLE32(p, version);
  p += 4;
  WriteLE64(p, height);
  p += 8;
  std::memcpy(p, last_hash.data(), 32);
  p += 32;
  std::memcpy(p, data_hash.data(), 32);
  p += 32;
  WriteLE64(p, timestamp);
  p += 8;
  WriteLE32(p, difficulty);
  p += 4;
  WriteLE64(p, nonce);
  return out;
}

BlockHeader BlockHeader::Deserialize(std::span<const std::uint8_t, kHeaderSize> bytes) {
  BlockHeader h;
  const std::uint8_t* p = bytes.data();
  h.version = ReadLE32(p);
  p += 4;
  h.height = ReadLE64(p);
  p += 8;
  std::memcpy(h.last_hash.data(), p, 32);
  p += 32;
  std::memcpy(h.data_hash.data(), p, 32);
  p += 32;
  h.timestamp = ReadLE64(p);
  p += 8;
  h.difficulty = ReadLE32(p);
  p += 4;
  h.nonce = ReadLE64(p);
  return h;
}

Hash32 BlockHeader::ComputeHash() const {
  const Bytes bytes = Serialize();
  return Sha256(bytes);
}

Block MakeBlock(const BlockHeader& header, std::string canonical_data,
                std::vector<Transaction> txs) {
  Block b;
  b.header = header;
  b.hash = header.ComputeHash();
  b.data = std::move(canonical_data);
  b.txs = std::move(txs);
  return b;
}

std::size_t Block::SerializedSize() const {
  std::size_t n = kHeaderSize + data.size();
  for (const Transaction& tx : txs) n += CanonicalTxSize(tx);
  return n;
}

std::vector<Hash32> DataHashLeaves(const Block& block, std::span<const Hash32> txids) {
  std::vector<Hash32> leaves;
  leaves.reserve(1 + txids.size());
  leaves.push_back(Sha256(
      ByteSpan(reinterpret_cast<const std::uint8_t*>(block.data.data()), block.data.size())));
  leaves.insert(leaves.end(), txids.begin(), txids.end());
  return leaves;
}

Hash32 ComputeDataHash(const Block& block, std::span<const Hash32> txids) {
  const std::vector<Hash32> leaves = DataHashLeaves(block, txids);
  return MerkleRoot(leaves);
}

Hash32 ComputeDataHash(const Block& block) { return ComputeDataHash(block, ComputeTxids(block)); }

std::vector<Hash32> ComputeTxids(const Block& block) {
  std::vector<Hash32> txids;
  txids.reserve(block.txs.size());
  for (const Transaction& tx : block.txs) txids.push_back(ComputeTxid(tx));
  return txids;
}

}  // namespace powchain
