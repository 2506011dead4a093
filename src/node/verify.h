// `powchain verify`: re-checks every block of a data directory's store
// against the consensus rules, reading the store read-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "util/bytes.h"
#include "util/result.h"

namespace powchain {

struct VerifyReport {
  std::string network;
  std::uint64_t blocks = 0;  // blocks checked
  std::uint64_t height = 0;  // of the stored tip
  std::uint64_t coins = 0;   // unspent outputs at the coins tip, as replayed
  // The height whose coin set and indexes the store holds, when they lag
  // behind the tip (a node stopped without writing them; its next start
  // replays the blocks since). Coins and undo data are checked there.
  std::optional<std::uint64_t> coins_height;
  bool sound = false;
  // When not sound: why, and the first bad block in commit order (a zero
  // hash when the fault is the file's structure, not a block).
  std::uint64_t bad_height = 0;
  Hash32 bad_hash{};
  std::string problem;
};

// The store file of a data directory.
std::filesystem::path StoreFile(const std::filesystem::path& data_dir);

// Checks SQLite's structure of the file (tables against their indexes),
// then, in commit order: the first block is this network's genesis; every
// other block passes every consensus rule against its stored parent
// (future drift excepted: that is a rule of arrival); the stored tip is
// among the blocks. Then the coins: the chain of the block whose coin set
// the store holds (the tip, unless they lag) is replayed from genesis (rule
// 7, signatures included), each block's stored undo data must equal the
// replay's, and the stored coin set must equal the replayed one; the first
// disagreement is named. `progress(done, total)` is called now
// and then. An error (not a report) when the store cannot be opened or
// read at all.
Result<VerifyReport> VerifyStore(
    const std::filesystem::path& data_dir,
    const std::function<void(std::uint64_t done, std::uint64_t total)>& progress);

}  // namespace powchain
