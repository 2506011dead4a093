// SHA-256 through OpenSSL.
//
// Sha256() is the one-shot digest (OpenSSL EVP). Sha256Midstate holds the
// compression state after the first 64-byte block of a message, so a miner
// that varies only the bytes after offset 64 pays for the shared prefix once
// per job and then one compression per attempt. It is a plain value: copying
// it allocates nothing.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "util/bytes.h"

namespace powchain {

Hash32 Sha256(ByteSpan data);

class Sha256Midstate {
 public:
  // State after compressing `first_block`, the first 64 bytes of a message.
  explicit Sha256Midstate(std::span<const std::uint8_t, 64> first_block);

  // SHA-256 of first_block || tail, for a tail of exactly 32 bytes (the
  // second half of a 96-byte block header). One compression; no allocation.
  Hash32 Finish32(std::span<const std::uint8_t, 32> tail) const;

 private:
  std::array<std::uint32_t, 8> state_;
};

}  // namespace powchain
