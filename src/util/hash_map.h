#pragma once

#include <cstddef>
#include <cstring>

#include "util/bytes.h"

namespace powchain {

// Hasher for Hash32 keys of unordered containers: eight bytes of the digest.
// The first bytes are skipped because proof of work makes them mostly zero.
// Not keyed: containers filled from untrusted input must be size-bounded.
struct Hash32Hasher {
  std::size_t operator()(const Hash32& h) const noexcept {
    std::size_t v;
    std::memcpy(&v, h.data() + h.size() - sizeof(v), sizeof(v));
    return v;
  }
};

}  // namespace powchain
