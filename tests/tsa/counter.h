// A counter guarded by a Mutex, for the two thread-safety trials beside it.
#pragma once

#include "util/mutex.h"

namespace powchain::tsa_trial {

class Counter {
 public:
  void Bump() EXCLUDES(mutex_);
  int Get() const EXCLUDES(mutex_);

 private:
  mutable Mutex mutex_;
  int count_ GUARDED_BY(mutex_) = 0;
};

}  // namespace powchain::tsa_trial
