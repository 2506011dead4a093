// Block header and block (docs/consensus.md, "Block format").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "util/bytes.h"

namespace powchain {

inline constexpr std::size_t kHeaderSize = 96;
// The first 64 serialized bytes depend only on the parent and the data; a
// miner hashes them once per job (see Sha256Midstate).
inline constexpr std::size_t kHeaderMidstateBytes = 64;
inline constexpr std::uint32_t kBlockVersion = 1;

struct BlockHeader {
  std::uint32_t version = kBlockVersion;
  std::uint64_t height = 0;
  Hash32 last_hash{};
  Hash32 data_hash{};
  std::uint64_t timestamp = 0;   // ms since the Unix epoch
  std::uint32_t difficulty = 0;  // required leading zero bits of the hash
  std::uint64_t nonce = 0;

  using Bytes = std::array<std::uint8_t, kHeaderSize>;

  // version(4) height(8) lastHash(32) dataHash(32) timestamp(8)
  // difficulty(4) nonce(8), integers little-endian.
  Bytes Serialize() const;
  static BlockHeader Deserialize(std::span<const std::uint8_t, kHeaderSize> bytes);

  // SHA-256 of Serialize().
  Hash32 ComputeHash() const;

  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

// Byte offsets of the fields a miner varies, inside the serialized header.
inline constexpr std::size_t kTimestampOffset = 4 + 8 + 32 + 32;
inline constexpr std::size_t kDifficultyOffset = kTimestampOffset + 8;
inline constexpr std::size_t kNonceOffset = kDifficultyOffset + 4;

struct Block {
  BlockHeader header;
  // The hash as received or as computed by whoever built the block. Checks
  // never trust it: CheckBlock recomputes it from the header.
  Hash32 hash{};
  // The payload in canonical JSON bytes (see canonical_json.h).
  std::string data;

  // Serialized size for the block size limit: the header plus the data bytes.
  std::size_t SerializedSize() const { return kHeaderSize + data.size(); }

  friend bool operator==(const Block&, const Block&) = default;
};

// A header as peers exchange it (the `headers` message): the header and the
// hash its sender gives for it. As with Block::hash, checks never trust the
// hash: CheckHeader recomputes it.
struct HashedHeader {
  BlockHeader header;
  Hash32 hash{};

  friend bool operator==(const HashedHeader&, const HashedHeader&) = default;
};

// Builds a block from a header and canonical data, setting hash from the header.
Block MakeBlock(const BlockHeader& header, std::string canonical_data);

}  // namespace powchain
