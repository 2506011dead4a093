#include "consensus/pow.h"

namespace powchain {

bool CheckProofOfWork(const Hash32& hash, std::uint32_t difficulty) {
  return LeadingZeroBits(hash) >= difficulty;
}

}  // namespace powchain
