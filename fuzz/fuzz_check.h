// The check that ends a fuzz run when a property breaks, and small helpers
// every target uses.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
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

// A fresh, empty directory for one target's files, made once per process:
// under /dev/shm when there is one (files written per input stay in
// memory), else the temporary directory.
inline std::filesystem::path ScratchDir(const std::string& target) {
  namespace fs = std::filesystem;
  const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path dir = base / ("powchain-" + target + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace powchain::fuzz
