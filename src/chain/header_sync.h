// Checks one peer's chain of headers before any of it enters the block tree
// (docs/protocol.md, "Headers-first sync").
//
// A peer shows its chain in `headers` messages. The first header connects
// to a block of our tree, the anchor; each later one follows the one before
// it. Every header is checked against every rule that needs only headers
// (proof of work, hash, height, link, difficulty, median time past, future
// drift), but nothing enters the tree until the chain's cumulative work
// exceeds a threshold, the active tip's work. A chain that never gets there
// costs memory and CPU only while the peer sends it, and never storage.
//
// A chain that proves its work within `checkpoint_interval` headers of the
// anchor is held in full and handed over at once. A longer one is checked
// without being held: only the hash of every checkpoint_interval-th header
// is kept. Once it has proved its work, it is asked for again from the
// anchor (the redownload) and handed over a checkpoint interval at a time,
// each part only after its last hash matched the one seen the first time;
// since every header commits to its parent, a matching hash proves the
// whole part is the chain that was checked. This is Bitcoin Core's headers
// presync, with exact hashes for commitments. So a chain of any length
// costs at most checkpoint_interval held headers plus one hash per
// interval.
//
// After the proof (in either way) the sync is `kProven`: each further valid
// header that continues the chain is handed over as it comes.
//
// Pure: no I/O, locks or clocks (`now_ms` is a parameter). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "consensus/params.h"
#include "consensus/validation.h"
#include "consensus/work.h"
#include "primitives/block.h"

namespace powchain {

// Where a peer's chain leaves ours: a block of the tree, with what checking
// its children needs. ChainState::AnchorFor makes one.
struct HeaderAnchor {
  ParentContext context;
  Work chain_work = 0;
  // Timestamps of the anchor and its ancestors, oldest first, at most
  // mtp_window of them (the anchor's own last): the median-time-past window
  // of its child.
  std::vector<std::uint64_t> timestamps;
  // The anchor breaks a rule that only block data shows (or descends from
  // one that does): no header may build on it.
  bool failed = false;
};

class HeaderSync {
 public:
  struct Limits {
    static constexpr std::size_t kDefaultCheckpointInterval = 2000;
    static constexpr std::uint64_t kDefaultMaxLength = 10'000'000;
    // Headers held in full before the chain is checked without holding
    // it; also the spacing of the kept hashes. At least 1.
    std::size_t checkpoint_interval = kDefaultCheckpointInterval;
    // Headers after the anchor a chain may show without proving its work.
    std::uint64_t max_length = kDefaultMaxLength;
  };

  enum class Phase {
    kIdle,        // nothing begun (or Reset)
    kPresync,     // checking a chain whose work is not yet enough
    kRedownload,  // fetching the proven chain again from the anchor
    kProven,      // the chain has proved its work; headers are handed over as they come
  };

  enum class Status {
    kOk,        // every header was valid and taken (see TakeReady)
    kInvalid,   // headers[index] breaks a rule (`validation` says which)
    kTooNew,    // headers[index] is too far in the future; may be valid later
    kMismatch,  // the redownload differs from the chain checked first
    kTooLong,   // max_length headers without proving the work
  };

  struct FeedResult {
    Status status = Status::kOk;
    ValidationResult validation;  // for kInvalid and kTooNew
    std::size_t index = 0;        // the header that failed
  };

  HeaderSync(const Params& params, Limits limits);

  // Starts checking a chain that leaves the tree at `anchor`, dropping
  // whatever was begun before.
  void Begin(HeaderAnchor anchor);
  void Reset();

  // Checks `headers`, which must continue from ResumeAfter(), against
  // every header rule, in order. `threshold` is the work the chain must
  // exceed (the active tip's). Stops at the first failure; headers before
  // it stay taken. When the chain proves its work with more than
  // checkpoint_interval headers, the sync turns to kRedownload and ignores
  // the rest of `headers`.
  FeedResult Feed(std::span<const HashedHeader> headers, std::uint64_t now_ms,
                  const Work& threshold);

  // Headers ready for the tree, in order, the first a child of a block
  // already there (the anchor, or the last header handed over); taken
  // from the sync.
  std::vector<HashedHeader> TakeReady();

  Phase phase() const { return phase_; }
  bool active() const { return phase_ != Phase::kIdle; }
  // The block the peer's next headers must follow: the last header taken,
  // or the anchor when a redownload starts.
  const Hash32& ResumeAfter() const { return tail_.hash; }
  // Cumulative work and height of the chain up to ResumeAfter().
  const Work& tail_work() const { return tail_work_; }
  std::uint64_t tail_height() const { return tail_.header.height; }
  // Once the chain has proved its work (kRedownload, kProven): the height
  // and cumulative work at which it did.
  std::uint64_t proven_height() const;
  const Work& proven_work() const { return target_work_; }
  // Headers held now (for limits and tests).
  std::size_t held() const { return held_.size() + ready_.size(); }

 private:
  // What one header did to the pass (Feed, step by step).
  enum class Step { kNext, kTooLong, kMismatch, kRewound };

  // Moves the tail back to the anchor.
  void Rewind();
  void Append(const HashedHeader& h);
  // Checks `h` as the child of the tail; on failure fills `result`.
  bool CheckNext(const HashedHeader& h, std::uint64_t now_ms, FeedResult& result) const;
  // `h`, just appended, in the first pass: held while few, checkpointed,
  // and the switch to redownload (kRewound) once its chain beats `threshold`.
  Step PresyncStep(const HashedHeader& h, const Work& threshold);
  // `h`, just appended, in the second pass: released at each checkpoint
  // that matches the first pass.
  Step RedownloadStep(const HashedHeader& h);

  const Params params_;
  const Limits limits_;
  Phase phase_ = Phase::kIdle;
  HeaderAnchor anchor_;
  // The last header taken: header, hash; its median time past is not used.
  ParentContext tail_;
  Work tail_work_ = 0;
  std::vector<std::uint64_t> window_;  // timestamps up to the tail, oldest first
  std::uint64_t length_ = 0;           // headers taken after the anchor (this pass)
  bool overflowed_ = false;            // presync: held_ was given up
  std::vector<HashedHeader> held_;     // checked, not yet ready
  std::vector<HashedHeader> ready_;    // ready for the tree
  std::vector<Hash32> checkpoints_;    // hash at length k * checkpoint_interval
  std::uint64_t target_length_ = 0;    // redownload: where the first pass proved the work
  Hash32 target_hash_{};
  Work target_work_ = 0;
};

}  // namespace powchain
