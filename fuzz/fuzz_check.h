// The check that ends a fuzz run when a property breaks, and small helpers
// every target uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Aborts with the failed condition when a property does not hold; libFuzzer
// (or the replay main) then reports the input that broke it.
#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) ::powchain::fuzz::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (false)

namespace powchain::fuzz {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
  std::abort();
}

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace powchain::fuzz
