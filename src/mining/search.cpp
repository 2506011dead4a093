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
                         const SearchOptions& options, std::vector<Transaction> txs) {
  Block block;
  block.data = std::move(canonical_data);
  block.txs = std::move(txs);
  BlockHeader header;
  header.version = kBlockVersion;
  header.height = parent.header.height + 1;
  header.last_hash = parent.hash;
  header.data_hash = ComputeDataHash(block);

  const BlockHeader::Bytes serialized = header.Serialize();
  const Sha256Midstate midstate(std::span<const std::uint8_t, 64>(serialized.data(), 64));
  // The second 32 bytes: the end of dataHash, timestamp, difficulty, nonce.
  std::array<std::uint8_t, 32> tail;
  std::memcpy(tail.data(), serialized.data() + kHeaderMidstateBytes, tail.size());
  constexpr std::size_t kTs = kTimestampOffset - kHeaderMidstateBytes;
  constexpr std::size_t kDiff = kDifficultyOffset - kHeaderMidstateBytes;
  // ScanCounter varies the tail's last 8 bytes: the nonce.
  static_assert(kNonceOffset - kHeaderMidstateBytes == 24 && kHeaderSize == 96);

  SearchResult result;
  std::uint64_t nonce = options.nonce_start;
  const std::uint32_t interval = std::max<std::uint32_t>(1, options.check_interval);
  const std::uint64_t stride = std::max<std::uint64_t>(1, options.nonce_stride);
  while (!cancel.load(std::memory_order_relaxed)) {
    const std::uint64_t timestamp = std::max(clock.NowMs(), parent.median_time_past + 1);
    const std::uint32_t difficulty = NextDifficulty(parent.header, timestamp, params);
    WriteLE64(tail.data() + kTs, timestamp);
    WriteLE32(tail.data() + kDiff, difficulty);
    const auto hit =
        ScanCounter(midstate, tail, nonce, stride, interval, difficulty, options.backend);
    if (hit) {
      const std::uint64_t tried = (hit->counter - nonce) / stride + 1;
      result.attempts += tried;
      if (options.progress != nullptr) {
        options.progress->fetch_add(tried, std::memory_order_relaxed);
      }
      header.timestamp = timestamp;
      header.difficulty = difficulty;
      header.nonce = hit->counter;
      block.header = header;
      block.hash = hit->hash;
      result.block = std::move(block);
      return result;
    }
    result.attempts += interval;
    nonce += stride * interval;
    if (options.progress != nullptr) {
      options.progress->fetch_add(interval, std::memory_order_relaxed);
    }
  }
  return result;
}

}  // namespace powchain
