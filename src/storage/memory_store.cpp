#include "storage/memory_store.h"

namespace powchain {

Status MemoryBlockStore::Commit(const WriteBatch& batch) {
  MutexLock lock(mutex_);
  if (fail_commits_ > 0) {
    --fail_commits_;
    return Error{"injected I/O error on commit"};
  }
  for (const Block* b : batch.blocks) {
    if (blocks_.emplace(b->hash, *b).second) order_.push_back(b->hash);
  }
  if (batch.tip) tip_ = batch.tip;
  ++commits_;
  return {};
}

Result<std::optional<Block>> MemoryBlockStore::ReadBlock(const Hash32& hash) const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  auto it = blocks_.find(hash);
  if (it == blocks_.end()) return std::optional<Block>();
  return std::optional<Block>(it->second);
}

Result<std::optional<Hash32>> MemoryBlockStore::ReadTip() const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  return tip_;
}

Status MemoryBlockStore::ForEachHeader(
    const std::function<void(const Hash32&, const BlockHeader&)>& fn) const {
  MutexLock lock(mutex_);
  if (fail_reads_) return Error{"injected I/O error on read"};
  for (const Hash32& h : order_) fn(h, blocks_.at(h).header);
  return {};
}

void MemoryBlockStore::FailNextCommits(std::size_t n) {
  MutexLock lock(mutex_);
  fail_commits_ = n;
}

void MemoryBlockStore::SetFailReads(bool fail) {
  MutexLock lock(mutex_);
  fail_reads_ = fail;
}

void MemoryBlockStore::SetAvailableBytes(std::optional<std::uint64_t> bytes) {
  MutexLock lock(mutex_);
  available_ = bytes;
}

std::optional<std::uint64_t> MemoryBlockStore::AvailableBytes() const {
  MutexLock lock(mutex_);
  return available_;
}

std::size_t MemoryBlockStore::BlockCount() const {
  MutexLock lock(mutex_);
  return blocks_.size();
}

std::size_t MemoryBlockStore::CommitCount() const {
  MutexLock lock(mutex_);
  return commits_;
}

}  // namespace powchain
