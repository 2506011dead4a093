// A fresh directory under the system temp dir, removed with its contents,
// for unit tests that need files.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

namespace powchain::test {

class TempDir {
 public:
  // The directory's name starts with `prefix` and is unique across
  // processes and within one.
  explicit TempDir(std::string_view prefix = "powchain-test") {
    static std::atomic<unsigned> counter{0};
    const std::string name = std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
                             std::to_string(counter++) + "-" +
                             std::to_string(std::random_device{}());
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace powchain::test
