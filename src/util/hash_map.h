#pragma once

#include <algorithm>
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

// Room in a hash map (with size(), max_load() and reserve(), as Boost's
// unordered_flat_map has) for `more` entries. Without it a batch larger than
// what the map holds doubles it step by step, moving its entries each time;
// with it the map grows once, still at least doubling, so a run of batches
// stays amortized constant time per entry.
template <typename Map>
void MakeRoomFor(Map& map, std::size_t more) {
  const std::size_t need = map.size() + more;
  if (need > map.max_load()) map.reserve(std::max(need, 2 * map.size()));
}

}  // namespace powchain
