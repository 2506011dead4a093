// Moving the active tip: disconnecting and connecting blocks' coins (rule 7).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>

#include "chain/chainstate.h"
#include "chain/chainstate_internal.h"
#include "util/hex.h"

namespace powchain {

ValidationResult ChainState::SignatureVerdict(const ConnectResult& connect,
                                              std::optional<std::size_t> bad) {
  if (!bad.has_value()) return ValidationResult::Ok();
  const std::uint32_t tx = connect.sig_owner[*bad];
  std::size_t input = 0;
  for (std::size_t i = *bad; i > 0 && connect.sig_owner[i - 1] == tx; --i) ++input;
  return ValidationResult::BadTx(
      tx, TxResult::Fail(TxError::kBadSignature,
                         "the signature of input " + std::to_string(input) + " does not verify"));
}

bool ChainState::MarkInvalid(Staged& staged, const BlockIndex* entry, ValidationResult v) {
  spdlog::warn("block {} at height {} is invalid: {}", HexEncode(entry->hash), entry->height(),
               v.message);
  MutexLock lock(mutex_);
  MarkFailedLocked(const_cast<BlockIndex*>(entry));
  staged.invalid.emplace_back(entry, std::move(v));
  staged.best = staged.old_tip;
  for (const BlockIndex* e : staged.entries) {
    if (!e->failed() && IsBetterEntry(*e, *staged.best)) staged.best = e;
  }
  return false;
}

Result<bool> ChainState::ConnectJoining(Staged& staged, TipMove& move,
                                        std::span<const BlockIndex* const> join,
                                        const StepLoader& load) {
  // A block's signatures are checked on the queue's threads while this
  // thread connects the next block's coins; its verdict is taken before
  // the next block's checks start, so a failure names the first bad block.
  struct Checking {
    std::unique_ptr<TipMove::Step> step;
    ConnectResult connect;
  };
  std::optional<Checking> checking;
  // However this returns, an exception included, the queue's threads let
  // go of the checks before `checking` is destroyed.
  struct ReleaseChecks {
    CheckQueue& queue;
    const std::optional<Checking>& checking;
    ~ReleaseChecks() {
      if (checking.has_value()) (void)queue.Finish();
    }
  } release{checks_, checking};
  // The verdict on `checking`, which it empties; on success its step joins.
  const auto finish = [&]() -> ValidationResult {
    if (!checking.has_value()) return ValidationResult::Ok();
    ValidationResult v = SignatureVerdict(checking->connect, checks_.Finish());
    const BlockIndex* entry = checking->step->entry;
    if (v.ok()) move.connect.push_back(std::move(checking->step));
    checking.reset();
    if (!v.ok()) MarkInvalid(staged, entry, v);
    return v;
  };
  for (const BlockIndex* entry : join) {
    auto step = load(entry);
    if (!step) return Error{step.error()};
    TipMove::Step& st = **step;
    // Transactions the mempool verified need no second check.
    std::vector<std::uint8_t> verified(st.txids.size(), 0);
    for (std::size_t i = 0; i < st.txids.size(); ++i) verified[i] = verified_.Contains(st.txids[i]);
    ConnectResult connect = ConnectBlockCoins(*st.block, st.txids, *move.coins, genesis_hash_,
                                              params_, &st.undo, verified);
    if (!finish().ok()) return false;
    if (move.base->error()) return Error{*move.base->error()};
    if (!connect.validation.ok()) return MarkInvalid(staged, entry, connect.validation);
    checking.emplace(Checking{std::move(*step), std::move(connect)});
    checks_.Start(checking->connect.sig_checks);
  }
  return finish().ok();
}

Result<bool> ChainState::TryTipMove(Staged& staged, TipMove& move) {
  move = TipMove{};
  std::vector<const BlockIndex*> leave;  // tip first
  std::vector<const BlockIndex*> join;   // fork side first
  {
    MutexLock lock(mutex_);
    const BlockIndex* fork = ActiveAncestorLocked(*staged.best);
    for (std::size_t h = active_.size() - 1; h > fork->height(); --h) leave.push_back(active_[h]);
    for (const BlockIndex* e = staged.best; e != fork; e = e->parent) join.push_back(e);
    std::reverse(join.begin(), join.end());
  }
  move.base = std::make_unique<CacheView>(coins_);
  move.coins = std::make_unique<CoinsOverlay>(*move.base);
  // Which staged block an entry has, found in constant time: a batch of n
  // blocks must not cost n * n.
  std::unordered_map<const BlockIndex*, const Block*> staged_block;
  staged_block.reserve(staged.entries.size());
  for (std::size_t i = 0; i < staged.entries.size(); ++i) {
    staged_block.emplace(staged.entries[i], &staged.blocks[i]);
  }
  const auto step_for = [&](const BlockIndex* entry) -> Result<std::unique_ptr<TipMove::Step>> {
    auto it = staged_block.find(entry);
    if (it == staged_block.end()) return ReadMoveStep(entry);
    auto step = std::make_unique<TipMove::Step>();
    step->entry = entry;
    step->block = it->second;
    // Copied, not moved: a retried plan may ask for the same block again.
    auto known = staged.txids.find(entry);
    step->txids = known != staged.txids.end() ? known->second : ComputeTxids(*step->block);
    return step;
  };

  for (const BlockIndex* entry : leave) {
    auto step = step_for(entry);
    if (!step) return Error{step.error()};
    if (Status s = DisconnectStep(std::move(*step), move); !s) return Error{s.error()};
  }
  return ConnectJoining(staged, move, join, step_for);
}

Status ChainState::DisconnectStep(std::unique_ptr<MoveStep> step, TipMove& move) const {
  auto undo = store_.ReadUndo(step->entry->hash);
  if (!undo) return Error{undo.error()};
  if (!undo->has_value()) {
    return Error{"no undo data for active block " + HexEncode(step->entry->hash) +
                 "; run powchain verify"};
  }
  step->undo = std::move(**undo);
  Status s = DisconnectBlockCoins(*step->block, step->txids, step->undo, *move.coins);
  if (move.base->error()) return Error{*move.base->error()};
  if (!s) return Error{s.error() + "; run powchain verify"};
  move.disconnect.push_back(std::move(step));
  return {};
}

ValidationResult ChainState::CheckTxsOnTip(std::span<const Transaction> txs,
                                           std::uint64_t* fees) const {
  Block block;
  block.header.height = Tip().height() + 1;
  block.txs.assign(txs.begin(), txs.end());
  for (std::size_t i = 0; i < txs.size(); ++i) {
    if (txs[i].IsCoinbase()) {
      return ValidationResult::BadTx(
          i, TxResult::Fail(TxError::kMisplacedCoinbase, "the miner adds the coinbase"));
    }
  }
  if (ValidationResult v = CheckBlockTransactions(block, params_); !v.ok()) return v;
  CacheView base(coins_);
  CoinsOverlay overlay(base);
  BlockUndo undo;
  const std::vector<Hash32> txids = ComputeTxids(block);
  ConnectResult connect = ConnectBlockCoins(block, txids, overlay, genesis_hash_, params_, &undo);
  if (base.error()) {
    return ValidationResult::Fail(BlockError::kBadTransaction,
                                  "cannot read the coins: " + *base.error());
  }
  if (!connect.validation.ok()) return connect.validation;
  if (auto bad = FirstBadSignature(connect.sig_checks)) {
    return ValidationResult::BadTx(
        connect.sig_owner[*bad],
        TxResult::Fail(TxError::kBadSignature, "a signature does not verify"));
  }
  if (fees != nullptr) *fees = connect.fees;
  return ValidationResult::Ok();
}

void ChainState::FillCoinWrites(const TipMove& move, WriteBatch& batch) {
  for (const auto& step : move.disconnect) {
    batch.disconnected.push_back(ChainStep{step->block, &step->txids, &step->undo});
  }
  for (const auto& step : move.connect) {
    batch.connected.push_back(ChainStep{step->block, &step->txids, &step->undo});
  }
  if (!move.coins) return;
  batch.coins.reserve(move.coins->size());
  for (const auto& [outpoint, coin] : move.coins->changes()) {
    batch.coins.push_back(CoinChange{outpoint, coin});
  }
}

Result<std::unique_ptr<ChainState::MoveStep>> ChainState::ReadMoveStep(
    const BlockIndex* entry) const {
  auto read = store_.ReadBlock(entry->hash);
  if (!read) return Error{read.error()};
  if (!read->has_value()) {
    return Error{"block " + HexEncode(entry->hash) + " is in the index but not in the store"};
  }
  auto step = std::make_unique<MoveStep>();
  step->entry = entry;
  step->owned = std::make_unique<Block>(std::move(**read));
  step->block = step->owned.get();
  step->txids = ComputeTxids(*step->block);
  return step;
}

Status ChainState::CatchUpCoinsLocked() {
  auto coins_tip = store_.ReadCoinsTip();
  if (!coins_tip) return Error{"cannot read the store's coins tip: " + coins_tip.error()};
  const BlockIndex* tip = active_.back();
  if (!coins_tip->has_value() || **coins_tip == tip->hash) return {};
  const BlockIndex* from = FindLocked(**coins_tip);
  if (from == nullptr) {
    return Error{"the store's coin set is at block " + HexEncode(**coins_tip) +
                 ", which it does not hold; run powchain verify"};
  }
  const auto started = std::chrono::steady_clock::now();
  TipMove move;
  if (Status s = PlanReplay(from, tip, move); !s) return s;
  WriteBatch batch;
  batch.tip = tip->hash;
  FillCoinWrites(move, batch);
  if (Status s = store_.Commit(batch); !s) return Error{"cannot commit the replay: " + s.error()};
  if (Status s = store_.Flush(); !s) return Error{"cannot write the replay: " + s.error()};
  coins_.Clear();
  spdlog::info(
      "the store's coin set was at height {}, behind the tip at {}: replayed {} blocks back and {} "
      "on in {} ms",
      from->height(), tip->height(), move.disconnect.size(), move.connect.size(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count());
  return {};
}

Status ChainState::PlanReplay(const BlockIndex* from, const BlockIndex* to, TipMove& move) const {
  const BlockIndex* fork = from->GetAncestor(std::min(from->height(), to->height()));
  for (const BlockIndex* t = to->GetAncestor(fork->height()); t != fork; t = t->parent) {
    fork = fork->parent;
  }
  move.base = std::make_unique<CacheView>(coins_);
  move.coins = std::make_unique<CoinsOverlay>(*move.base);
  // From `from` down to the fork, with the undo data the tables hold.
  for (const BlockIndex* e = from; e != fork; e = e->parent) {
    auto step = ReadMoveStep(e);
    if (!step) return Error{step.error()};
    if (Status s = DisconnectStep(std::move(*step), move); !s) return s;
  }
  // Up from the fork to `to`. These blocks passed every rule when they
  // were accepted, signatures included, so none is checked again; a block
  // that no longer connects means a damaged store.
  std::vector<const BlockIndex*> join;
  for (const BlockIndex* e = to; e != fork; e = e->parent) join.push_back(e);
  std::reverse(join.begin(), join.end());
  for (const BlockIndex* e : join) {
    auto step = ReadMoveStep(e);
    if (!step) return Error{step.error()};
    MoveStep& st = **step;
    const std::vector<std::uint8_t> verified(st.txids.size(), 1);
    const ConnectResult connect = ConnectBlockCoins(*st.block, st.txids, *move.coins, genesis_hash_,
                                                    params_, &st.undo, verified);
    if (move.base->error()) return Error{*move.base->error()};
    if (!connect.validation.ok()) {
      return Error{"stored active block " + HexEncode(e->hash) + " at height " +
                   std::to_string(e->height()) + " does not connect to the store's coin set: " +
                   connect.validation.message + "; run powchain verify"};
    }
    move.connect.push_back(std::move(*step));
  }
  return {};
}

Status ChainState::PlanTipMove(Staged& staged, TipMove& move) {
  while (staged.best != staged.old_tip) {
    auto done = TryTipMove(staged, move);
    if (!done) return Error{done.error()};
    if (*done) return {};
  }
  move = TipMove{};
  return {};
}

}  // namespace powchain
