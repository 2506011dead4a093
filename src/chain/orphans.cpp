#include "chain/orphans.h"

#include <algorithm>

namespace powchain {

bool OrphanPool::Add(Block block) {
  const std::size_t size = block.SerializedSize();
  if (size > max_bytes_ || max_blocks_ == 0 || blocks_.contains(block.hash)) return false;
  while (!blocks_.empty() && (blocks_.size() >= max_blocks_ || bytes_ + size > max_bytes_)) {
    EvictHighest();
  }
  const Hash32 hash = block.hash;
  by_parent_.emplace(block.header.last_hash, hash);
  bytes_ += size;
  blocks_.emplace(hash, std::move(block));
  return true;
}

std::vector<Block> OrphanPool::TakeChildren(const Hash32& parent) {
  std::vector<Block> out;
  auto [first, last] = by_parent_.equal_range(parent);
  for (auto it = first; it != last; ++it) {
    auto node = blocks_.extract(it->second);
    if (node.empty()) continue;
    bytes_ -= node.mapped().SerializedSize();
    out.push_back(std::move(node.mapped()));
  }
  by_parent_.erase(parent);
  return out;
}

void OrphanPool::EvictHighest() {
  auto it = std::max_element(blocks_.begin(), blocks_.end(), [](const auto& a, const auto& b) {
    return a.second.header.height < b.second.header.height;
  });
  if (it == blocks_.end()) return;
  const Hash32 hash = it->first;
  const Hash32 parent = it->second.header.last_hash;
  bytes_ -= it->second.SerializedSize();
  blocks_.erase(it);
  auto [first, last] = by_parent_.equal_range(parent);
  for (auto p = first; p != last; ++p) {
    if (p->second == hash) {
      by_parent_.erase(p);
      break;
    }
  }
}

}  // namespace powchain
