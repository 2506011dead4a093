#include "testutil/fault_injecting_store.h"

#include <utility>

namespace powchain {

void FaultInjectingStore::FailNextCommits(std::size_t n, std::string message) {
  MutexLock lock(mutex_);
  fail_ = n;
  message_ = std::move(message);
}

Status FaultInjectingStore::Commit(const WriteBatch& batch) {
  {
    MutexLock lock(mutex_);
    if (fail_ > 0) {
      --fail_;
      return Error{message_};
    }
  }
  return inner().Commit(batch);
}

}  // namespace powchain
