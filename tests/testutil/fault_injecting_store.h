// A store for tests of what the node does when the disk fails.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/block_store.h"
#include "util/mutex.h"

namespace powchain {

// Wraps another store and fails its commits on demand, for tests of what the
// node does when the disk is full or fails (the store stays as it was).
class FaultInjectingStore final : public BlockStore {
 public:
  explicit FaultInjectingStore(BlockStore& inner) : inner_(inner) {}
  // The next `n` commits fail with `message` and write nothing.
  void FailNextCommits(std::size_t n, std::string message = "disk I/O error (injected)");

  Status Commit(const WriteBatch& batch) override;
  Result<std::optional<Block>> ReadBlock(const Hash32& hash) const override {
    return inner_.ReadBlock(hash);
  }
  Result<std::vector<Block>> ReadBlocks(
      std::span<const Hash32> hashes,
      std::size_t max_data_bytes = std::numeric_limits<std::size_t>::max()) const override {
    return inner_.ReadBlocks(hashes, max_data_bytes);
  }
  Result<std::optional<Hash32>> ReadTip() const override { return inner_.ReadTip(); }
  std::optional<std::uint64_t> AvailableBytes() const override { return inner_.AvailableBytes(); }
  Status ForEachHeader(
      const std::function<void(const Hash32&, const BlockHeader&)>& fn) const override {
    return inner_.ForEachHeader(fn);
  }

 private:
  BlockStore& inner_;  // not owned
  Mutex mutex_;
  std::size_t fail_ GUARDED_BY(mutex_) = 0;
  std::string message_ GUARDED_BY(mutex_);
};

}  // namespace powchain
