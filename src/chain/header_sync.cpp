#include "chain/header_sync.h"

#include <algorithm>
#include <utility>

#include "consensus/difficulty.h"

namespace powchain {

namespace {

HeaderSync::Limits Normalized(HeaderSync::Limits limits) {
  limits.checkpoint_interval = std::max<std::size_t>(limits.checkpoint_interval, 1);
  return limits;
}

}  // namespace

HeaderSync::HeaderSync(const Params& params, Limits limits)
    : params_(params), limits_(Normalized(limits)) {}

void HeaderSync::Begin(HeaderAnchor anchor) {
  Reset();
  anchor_ = std::move(anchor);
  phase_ = Phase::kPresync;
  Rewind();
}

void HeaderSync::Reset() {
  phase_ = Phase::kIdle;
  length_ = 0;
  overflowed_ = false;
  held_.clear();
  held_.shrink_to_fit();
  ready_.clear();
  checkpoints_.clear();
  checkpoints_.shrink_to_fit();
  target_length_ = 0;
  target_hash_ = {};
  target_work_ = 0;
}

void HeaderSync::Rewind() {
  tail_ = anchor_.context;
  tail_work_ = anchor_.chain_work;
  window_ = anchor_.timestamps;
  length_ = 0;
}

std::uint64_t HeaderSync::proven_height() const {
  return anchor_.context.header.height + target_length_;
}

void HeaderSync::Append(const HashedHeader& h) {
  tail_.header = h.header;
  tail_.hash = h.hash;
  tail_work_ =
      AddWork(tail_work_, BlockWork(std::min(h.header.difficulty, params_.max_difficulty)));
  window_.push_back(h.header.timestamp);
  if (window_.size() > params_.mtp_window) window_.erase(window_.begin());
  ++length_;
}

bool HeaderSync::CheckNext(const HashedHeader& h, std::uint64_t now_ms, FeedResult& result) const {
  if (anchor_.failed) {
    result.status = Status::kInvalid;
    result.validation =
        ValidationResult::Fail(BlockError::kBadParent, "the chain builds on a block found invalid");
    return false;
  }
  result.validation = CheckHeaderContextFree(h.header, h.hash, params_);
  if (!result.validation.ok()) {
    result.status = Status::kInvalid;
    return false;
  }
  const ParentContext parent{tail_.header, tail_.hash,
                             window_.empty() ? 0 : MedianTimePast(window_)};
  result.validation = CheckBlockContextual(h.header, parent, now_ms, params_);
  if (!result.validation.ok()) {
    result.status =
        result.validation.error == BlockError::kTimeTooNew ? Status::kTooNew : Status::kInvalid;
    return false;
  }
  return true;
}

HeaderSync::Step HeaderSync::PresyncStep(const HashedHeader& h, const Work& threshold) {
  const std::size_t interval = limits_.checkpoint_interval;
  if (length_ > limits_.max_length) return Step::kTooLong;
  if (length_ % interval == 0) checkpoints_.push_back(h.hash);
  if (!overflowed_) {
    held_.push_back(h);
    if (held_.size() > interval) {
      overflowed_ = true;
      held_.clear();
      held_.shrink_to_fit();
    }
  }
  if (tail_work_ <= threshold) return Step::kNext;
  target_length_ = length_;
  target_work_ = tail_work_;
  if (!overflowed_) {
    // Every header is still held: proven at once.
    ready_.insert(ready_.end(), held_.begin(), held_.end());
    held_.clear();
    checkpoints_.clear();
    phase_ = Phase::kProven;
    return Step::kNext;
  }
  target_hash_ = h.hash;
  phase_ = Phase::kRedownload;
  Rewind();
  return Step::kRewound;
}

HeaderSync::Step HeaderSync::RedownloadStep(const HashedHeader& h) {
  const std::size_t interval = limits_.checkpoint_interval;
  held_.push_back(h);
  if (length_ % interval != 0 && length_ != target_length_) return Step::kNext;
  const Hash32& expected =
      length_ == target_length_ ? target_hash_ : checkpoints_[length_ / interval - 1];
  if (h.hash != expected) return Step::kMismatch;
  ready_.insert(ready_.end(), held_.begin(), held_.end());
  held_.clear();
  if (length_ == target_length_) {
    checkpoints_.clear();
    checkpoints_.shrink_to_fit();
    phase_ = Phase::kProven;
  }
  return Step::kNext;
}

HeaderSync::FeedResult HeaderSync::Feed(std::span<const HashedHeader> headers, std::uint64_t now_ms,
                                        const Work& threshold) {
  FeedResult result;
  if (phase_ == Phase::kIdle) {  // Feed before Begin: nothing to check against
    result.status = Status::kMismatch;
    return result;
  }
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const HashedHeader& h = headers[i];
    result.index = i;
    if (!CheckNext(h, now_ms, result)) return result;
    Append(h);
    Step step = Step::kNext;
    if (phase_ == Phase::kPresync) {
      step = PresyncStep(h, threshold);
    } else if (phase_ == Phase::kRedownload) {
      step = RedownloadStep(h);
    } else {
      ready_.push_back(h);
    }
    switch (step) {
      case Step::kNext:
        break;
      case Step::kTooLong:
        result.status = Status::kTooLong;
        return result;
      case Step::kMismatch:
        result.status = Status::kMismatch;
        return result;
      case Step::kRewound:
        result.index = headers.size();
        return result;  // the rest comes again after the anchor
    }
  }
  result.index = headers.size();
  return result;
}

std::vector<HashedHeader> HeaderSync::TakeReady() {
  std::vector<HashedHeader> out;
  out.swap(ready_);
  return out;
}

}  // namespace powchain
