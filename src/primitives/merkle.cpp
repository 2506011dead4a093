#include "primitives/merkle.h"

#include <array>
#include <cassert>

#include "crypto/sha256.h"

namespace powchain {
namespace {

// The largest power of two strictly below n (n >= 2).
std::size_t Split(std::size_t n) {
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash32 Node(const Hash32& left, const Hash32& right) {
  std::array<std::uint8_t, 65> buf{};
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 33);
  return Sha256(buf);
}

}  // namespace

Hash32 MerkleRoot(std::span<const Hash32> leaves) {
  assert(!leaves.empty());
  if (leaves.size() == 1) return leaves[0];
  const std::size_t k = Split(leaves.size());
  return Node(MerkleRoot(leaves.first(k)), MerkleRoot(leaves.subspan(k)));
}

std::vector<Hash32> MerkleProof(std::span<const Hash32> leaves, std::size_t index) {
  assert(index < leaves.size());
  std::vector<Hash32> path;  // built top first, returned lowest first
  while (leaves.size() > 1) {
    const std::size_t k = Split(leaves.size());
    if (index < k) {
      path.push_back(MerkleRoot(leaves.subspan(k)));
      leaves = leaves.first(k);
    } else {
      path.push_back(MerkleRoot(leaves.first(k)));
      leaves = leaves.subspan(k);
      index -= k;
    }
  }
  return {path.rbegin(), path.rend()};
}

std::optional<Hash32> MerkleRootFromProof(const Hash32& leaf, std::size_t index, std::size_t count,
                                          std::span<const Hash32> proof) {
  if (index >= count) return std::nullopt;
  if (count == 1) {
    if (!proof.empty()) return std::nullopt;
    return leaf;
  }
  if (proof.empty()) return std::nullopt;
  // The last sibling is the top one: the other half of this split.
  const std::size_t k = Split(count);
  const Hash32& sibling = proof.back();
  const auto below = proof.first(proof.size() - 1);
  if (index < k) {
    auto left = MerkleRootFromProof(leaf, index, k, below);
    if (!left) return std::nullopt;
    return Node(*left, sibling);
  }
  auto right = MerkleRootFromProof(leaf, index - k, count - k, below);
  if (!right) return std::nullopt;
  return Node(sibling, *right);
}

}  // namespace powchain
