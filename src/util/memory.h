// Memory helpers for the paths that build large buffers.
#pragma once

#include <cstddef>

namespace powchain {

// Asks the kernel to map the whole pages of [data, data + size) for writing
// now, in one call, rather than taking one page fault per page when each is
// first written (each fault is a trip into the kernel, dear on a virtual
// machine). The contents do not change. Best effort: does nothing where the
// kernel cannot (Linux before 5.14) or the range holds no whole page. The
// range must be memory the caller owns and may write.
void PrefaultForWrite(void* data, std::size_t size);

}  // namespace powchain
