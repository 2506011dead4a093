#pragma once

#include <cstdint>

#include "util/bytes.h"

namespace powchain {

// True when `hash` has at least `difficulty` leading zero bits.
bool CheckProofOfWork(const Hash32& hash, std::uint32_t difficulty);

}  // namespace powchain
