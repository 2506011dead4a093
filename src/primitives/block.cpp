#include "primitives/block.h"

#include <cstring>

#include "crypto/sha256.h"

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

Block MakeBlock(const BlockHeader& header, std::string canonical_data) {
  Block b;
  b.header = header;
  b.hash = header.ComputeHash();
  b.data = std::move(canonical_data);
  return b;
}

}  // namespace powchain
