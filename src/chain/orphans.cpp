#include "chain/orphans.h"

namespace powchain {

bool OrphanPool::Add(Block block) {
  const std::size_t size = block.SerializedSize();
  if (size > max_bytes_ || max_blocks_ == 0 || blocks_.contains(block.hash)) return false;
  while (!blocks_.empty() && (blocks_.size() >= max_blocks_ || bytes_ + size > max_bytes_)) {
    EvictOldest();
  }
  const Hash32 hash = block.hash;
  by_parent_.emplace(block.header.last_hash, hash);
  arrival_.push_back(hash);
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
  // Drop arrival entries of taken blocks lazily, but keep the deque from
  // growing past the pool when children are taken faster than evicted.
  while (!arrival_.empty() && !blocks_.contains(arrival_.front())) arrival_.pop_front();
  if (arrival_.size() > 2 * max_blocks_ + 16) {
    std::erase_if(arrival_, [this](const Hash32& h) { return !blocks_.contains(h); });
  }
  return out;
}

void OrphanPool::EvictOldest() {
  while (!arrival_.empty()) {
    const Hash32 hash = arrival_.front();
    arrival_.pop_front();
    auto it = blocks_.find(hash);
    if (it == blocks_.end()) continue;  // already taken
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
    return;
  }
}

}  // namespace powchain
