#include "crypto/random.h"

#include <openssl/rand.h>

#include <vector>

#include "util/hex.h"

namespace powchain {

Result<std::string> RandomHex(std::size_t bytes) {
  std::vector<std::uint8_t> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return Error{"the random number generator failed"};
  }
  return HexEncode(buf);
}

}  // namespace powchain
