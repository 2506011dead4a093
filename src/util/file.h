// Whole-file reads and crash-safe replacement of small files (the saved
// mempool, wallet files).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace powchain {

// Replaces `path` with `bytes`: written to a temporary file beside it with
// permissions `mode`, synced, renamed over `path`, and the directory synced.
// A crash at any moment leaves either the old file or the new one, never a
// mix; on error the old file is untouched.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view bytes, mode_t mode);

// The whole file, or nullopt when it does not exist; an error when it is
// not a regular file, cannot be read or is larger than `max_bytes`.
Result<std::optional<std::string>> ReadFileLimited(const std::filesystem::path& path,
                                                   std::size_t max_bytes);

}  // namespace powchain
