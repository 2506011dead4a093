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
#include "testutil/forwarding_store.h"
#include "util/mutex.h"

namespace powchain {

// Wraps another store and fails its commits on demand, for tests of what the
// node does when the disk is full or fails (the store stays as it was).
class FaultInjectingStore final : public ForwardingBlockStore {
 public:
  explicit FaultInjectingStore(BlockStore& inner) : ForwardingBlockStore(inner) {}
  // The next `n` commits fail with `message` and write nothing.
  void FailNextCommits(std::size_t n, std::string message = "disk I/O error (injected)");

  Status Commit(const WriteBatch& batch) override;

 private:
  Mutex mutex_;
  std::size_t fail_ GUARDED_BY(mutex_) = 0;
  std::string message_ GUARDED_BY(mutex_);
};

}  // namespace powchain
