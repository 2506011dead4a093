// The Merkle tree a block's dataHash commits to (docs/consensus.md,
// "Merkle root"): leaves are 32-byte hashes; the root of one leaf is the
// leaf; the root of n > 1 leaves is SHA-256(0x01 || root(first k) ||
// root(rest)), k the largest power of two below n (the RFC 6962 split, so
// no leaf is ever duplicated and no two leaf lists share a root).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "util/bytes.h"

namespace powchain {

// The root of `leaves`; requires at least one leaf.
Hash32 MerkleRoot(std::span<const Hash32> leaves);

// The sibling hashes on the path from leaf `index` to the root, lowest
// first. Requires index < leaves.size().
std::vector<Hash32> MerkleProof(std::span<const Hash32> leaves, std::size_t index);

// The root a proof leads to from `leaf` at `index` of `count` leaves;
// nullopt when the proof has the wrong length for that position.
std::optional<Hash32> MerkleRootFromProof(const Hash32& leaf, std::size_t index, std::size_t count,
                                          std::span<const Hash32> proof);

}  // namespace powchain
