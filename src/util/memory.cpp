#include "util/memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace powchain {

void PrefaultForWrite(void* data, std::size_t size) {
#ifdef MADV_POPULATE_WRITE
  static const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (start + page - 1) & ~(page - 1);
  const std::uintptr_t end = (start + size) & ~(page - 1);
  if (size == 0 || end <= first) return;
  // An error (an older kernel: EINVAL) leaves the pages to fault in as usual.
  (void)madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)size;
#endif
}

}  // namespace powchain
