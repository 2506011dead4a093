// Must fail to compile under -Wthread-safety -Werror: Get() reads count_
// without mutex_. The test that compiles it expects clang's diagnostic, so
// it fails if the annotations ever stop being checked.
#include "counter.h"

namespace powchain::tsa_trial {

void Counter::Bump() {
  MutexLock lock(mutex_);
  ++count_;
}

int Counter::Get() const { return count_; }

}  // namespace powchain::tsa_trial
