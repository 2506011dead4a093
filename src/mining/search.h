// The mining primitive: one thread's proof-of-work search for one job.
// The multi-threaded service (a job per tip, workers, cancellation on a new
// tip) builds on this.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "consensus/params.h"
#include "consensus/validation.h"
#include "crypto/sha256.h"
#include "primitives/block.h"
#include "util/clock.h"

namespace powchain {

struct SearchOptions {
  // This search tries nonce_start, nonce_start + nonce_stride, ... so that
  // N threads given starts 0..N-1 and stride N never try the same header.
  std::uint64_t nonce_start = 0;
  std::uint64_t nonce_stride = 1;
  // Attempts between looks at the clock and the cancel flag.
  std::uint32_t check_interval = 4096;
  // When set, attempts are added here as the search goes (once per check
  // interval, relaxed), so a hash rate can be read while it runs.
  std::atomic<std::uint64_t>* progress = nullptr;
  // The hashing code; the default is the best one that passed its
  // self-test. Benchmarks set it to compare backends.
  Sha256Backend backend = ActiveSha256Backend();
};

struct SearchResult {
  std::optional<Block> block;  // empty when cancelled
  std::uint64_t attempts = 0;  // headers hashed
  bool cancelled() const { return !block.has_value(); }
};

// Searches for a block with `canonical_data` and `txs` on top of `parent`.
//
// The first 64 header bytes (version, height, lastHash, most of dataHash)
// are hashed once; each attempt then costs at most one SHA-256 compression
// (less with SHA-NI, see ScanCounter) and allocates nothing. Every check_interval attempts the
// search reads the clock and re-derives the timestamp (max(now, median time past + 1)) and the
// difficulty (NextDifficulty), so a search that runs past mineRate goes on at the lowered
// difficulty; it also reads `cancel` and returns an empty result once it is set. The block returned
// passes CheckBlock against `parent` at the time it was found.
SearchResult SearchBlock(const ParentContext& parent, std::string canonical_data,
                         const Params& params, const Clock& clock, const std::atomic<bool>& cancel,
                         const SearchOptions& options = {}, std::vector<Transaction> txs = {});

}  // namespace powchain
