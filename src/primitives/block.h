// Block header and block (docs/consensus.md, "Block format").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "primitives/transaction.h"
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
  // Transactions, a coinbase (if any) first; empty for a block of data only.
  std::vector<Transaction> txs;

  // Serialized size for the block size limit: the header, the data bytes
  // and the canonical bytes of every transaction.
  std::size_t SerializedSize() const;

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
Block MakeBlock(const BlockHeader& header, std::string canonical_data,
                std::vector<Transaction> txs = {});

// The leaves dataHash commits to: SHA-256 of the canonical data, then the
// txids in order (`txids` are those of block.txs, computed by the caller).
std::vector<Hash32> DataHashLeaves(const Block& block, std::span<const Hash32> txids);
// The Merkle root of DataHashLeaves (merkle.h): what dataHash must be.
Hash32 ComputeDataHash(const Block& block, std::span<const Hash32> txids);
Hash32 ComputeDataHash(const Block& block);
// The txids of block.txs, in order.
std::vector<Hash32> ComputeTxids(const Block& block);

}  // namespace powchain
