// Secrets from the operating system's random source (through OpenSSL).
#pragma once

#include <cstddef>
#include <string>

#include "util/result.h"

namespace powchain {

// `bytes` random bytes from a cryptographically secure generator, as
// lowercase hex (2 * bytes characters). Fails only if the generator does.
Result<std::string> RandomHex(std::size_t bytes);

}  // namespace powchain
