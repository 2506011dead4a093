// Must compile cleanly under -Wthread-safety -Werror: every access to
// count_ holds mutex_.
#include "counter.h"

namespace powchain::tsa_trial {

void Counter::Bump() {
  MutexLock lock(mutex_);
  ++count_;
}

int Counter::Get() const {
  MutexLock lock(mutex_);
  return count_;
}

}  // namespace powchain::tsa_trial
