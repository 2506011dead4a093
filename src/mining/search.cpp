#include "mining/search.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>

#include "consensus/difficulty.h"
#include "crypto/sha256.h"

namespace powchain {

SearchResult SearchBlock(const ParentContext& parent, std::string canonical_data,
                         const Params& params, const Clock& clock, const std::atomic<bool>& cancel,
                         const SearchOptions& options) {
  BlockHeader header;
  header.version = kBlockVersion;
  header.height = parent.header.height + 1;
  header.last_hash = parent.hash;
  header.data_hash = Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(canonical_data.data()),
                                     canonical_data.size()));

  const BlockHeader::Bytes serialized = header.Serialize();
  const Sha256Midstate midstate(std::span<const std::uint8_t, 64>(serialized.data(), 64));
  // The second 32 bytes: the end of dataHash, timestamp, difficulty, nonce.
  std::array<std::uint8_t, 32> tail;
  std::memcpy(tail.data(), serialized.data() + kHeaderMidstateBytes, tail.size());
  constexpr std::size_t kTs = kTimestampOffset - kHeaderMidstateBytes;
  constexpr std::size_t kDiff = kDifficultyOffset - kHeaderMidstateBytes;
  constexpr std::size_t kNonce = kNonceOffset - kHeaderMidstateBytes;

  SearchResult result;
  std::uint64_t nonce = options.nonce_start;
  const std::uint32_t interval = std::max<std::uint32_t>(1, options.check_interval);
  while (!cancel.load(std::memory_order_relaxed)) {
    const std::uint64_t timestamp = std::max(clock.NowMs(), parent.median_time_past + 1);
    const std::uint32_t difficulty = NextDifficulty(parent.header, timestamp, params);
    WriteLE64(tail.data() + kTs, timestamp);
    WriteLE32(tail.data() + kDiff, difficulty);
    for (std::uint32_t i = 0; i < interval; ++i) {
      WriteLE64(tail.data() + kNonce, nonce);
      const Hash32 hash = midstate.Finish32(tail);
      ++result.attempts;
      if (LeadingZeroBits(hash) >= difficulty) {
        if (options.progress != nullptr) {
          options.progress->fetch_add(i + 1, std::memory_order_relaxed);
        }
        header.timestamp = timestamp;
        header.difficulty = difficulty;
        header.nonce = nonce;
        Block block;
        block.header = header;
        block.hash = hash;
        block.data = std::move(canonical_data);
        result.block = std::move(block);
        return result;
      }
      nonce += options.nonce_stride;
    }
    if (options.progress != nullptr) {
      options.progress->fetch_add(interval, std::memory_order_relaxed);
    }
  }
  return result;
}

}  // namespace powchain
