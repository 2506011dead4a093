#include "node/verify.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "consensus/coins.h"
#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "primitives/block_json.h"
#include "storage/sqlite_store.h"
#include "util/hash_map.h"
#include "util/hex.h"

namespace powchain {
namespace {

std::string OutPointText(const OutPoint& o) {
  return HexEncode(o.txid) + ":" + std::to_string(o.vout);
}

// Replays one active block's transactions onto `view`: every rule 7 check,
// signatures included, and the stored undo data must be what the replay
// spent. Returns the problem, or an empty string.
Result<std::string> ReplayBlock(const SqliteBlockStore& store, const Block& b, const Params& params,
                                const Hash32& genesis, MapCoinView& view) {
  const std::vector<Hash32> txids = ComputeTxids(b);
  CoinsOverlay overlay(view);
  BlockUndo undo;
  ConnectResult c = ConnectBlockCoins(b, txids, overlay, genesis, params, &undo);
  if (!c.validation.ok()) return "bad-transaction: " + c.validation.message;
  if (auto bad = FirstBadSignature(c.sig_checks)) {
    return "bad-transaction: txs[" + std::to_string(c.sig_owner[*bad]) +
           "] has a signature that does not verify";
  }
  auto stored = store.ReadUndo(b.hash);
  if (!stored) return Error{stored.error()};
  if (!stored->has_value()) return std::string("the store has no undo data for this active block");
  if (**stored != undo) return std::string("its stored undo data differs from a replay");
  view.Apply(overlay);
  return std::string();
}

// The stored coin set against the replayed one, in outpoint order.
Result<std::string> CompareCoins(const SqliteBlockStore& store, const MapCoinView& view) {
  auto next = view.coins.begin();
  std::string problem;
  Status read = store.ForEachCoin([&](const OutPoint& o, const Coin& c) {
    if (next != view.coins.end() && next->first < o) {
      problem = "coin " + OutPointText(next->first) + " is missing from the stored coin set";
    } else if (next == view.coins.end() || o < next->first) {
      problem = "stored coin " + OutPointText(o) + " is not in the replayed coin set";
    } else if (next->second != c) {
      problem = "stored coin " + OutPointText(o) + " differs from the replayed one";
    } else {
      ++next;
      return true;
    }
    return false;
  });
  if (!read) return Error{read.error()};
  if (problem.empty() && next != view.coins.end()) {
    problem = "coin " + OutPointText(next->first) + " is missing from the stored coin set";
  }
  return problem;
}

Status VerifyCoins(const SqliteBlockStore& store, const Params& params,
                   const std::unordered_map<Hash32, BlockHeader, Hash32Hasher>& headers,
                   const Hash32& tip, VerifyReport& report) {
  // The active chain, genesis first.
  std::vector<Hash32> chain;
  for (Hash32 h = tip;;) {
    chain.push_back(h);
    const BlockHeader& header = headers.at(h);
    if (header.height == 0) break;
    h = header.last_hash;
  }
  std::reverse(chain.begin(), chain.end());
  const Hash32 genesis = chain.front();
  MapCoinView view;
  for (std::size_t i = 1; i < chain.size(); ++i) {
    auto block = store.ReadBlock(chain[i]);
    if (!block) return Error{block.error()};
    if (!block->has_value()) return Error{"active block " + HexEncode(chain[i]) + " is missing"};
    auto problem = ReplayBlock(store, **block, params, genesis, view);
    if (!problem) return Error{problem.error()};
    if (!problem->empty()) {
      report.sound = false;
      report.bad_height = (*block)->header.height;
      report.bad_hash = (*block)->hash;
      report.problem = *problem;
      return {};
    }
  }
  report.coins = view.coins.size();
  auto problem = CompareCoins(store, view);
  if (!problem) return Error{problem.error()};
  if (!problem->empty()) {
    report.sound = false;
    report.bad_height = report.coins_height.value_or(report.height);
    report.bad_hash = tip;
    report.problem = "the coin set at the tip: " + *problem;
  }
  return {};
}

// Verify reads the blocks in commit order and the node reads them by hash:
// both paths must hold the same rows, which only SQLite's own check of the
// file (tables against indexes) can tell. False, with the report filled
// in, when the file is damaged.
Result<bool> StructureSound(const SqliteBlockStore& store, VerifyReport& report) {
  auto findings = store.CheckStructure();
  if (!findings) return Error{findings.error()};
  if (findings->empty()) return true;
  report.sound = false;
  report.problem = "the file's structure is damaged (SQLite integrity_check): " +
                   findings->substr(0, findings->find('\n'));
  return false;
}

// The stored tip and the block whose coin set the store holds must be
// among the blocks; then the coins (VerifyCoins) at the latter.
Status VerifyTips(const SqliteBlockStore& store, const Params& params,
                  const std::unordered_map<Hash32, BlockHeader, Hash32Hasher>& seen,
                  VerifyReport& report) {
  auto tip = store.ReadTip();
  if (!tip) return Error{tip.error()};
  if (!tip->has_value() || !seen.contains(**tip)) {
    report.sound = false;
    report.problem = "the stored tip is not among the stored blocks";
    return {};
  }
  report.height = seen.at(**tip).height;
  auto coins_tip = store.ReadCoinsTip();
  if (!coins_tip) return Error{coins_tip.error()};
  if (!coins_tip->has_value() || !seen.contains(**coins_tip)) {
    report.sound = false;
    report.problem = "the block whose coin set the store holds is not among the stored blocks";
    return {};
  }
  if (**coins_tip != **tip) report.coins_height = seen.at(**coins_tip).height;
  return VerifyCoins(store, params, seen, **coins_tip, report);
}

}  // namespace

std::filesystem::path StoreFile(const std::filesystem::path& data_dir) {
  return data_dir / "chain.sqlite";
}

Result<VerifyReport> VerifyStore(
    const std::filesystem::path& data_dir,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  const std::filesystem::path file = StoreFile(data_dir);
  if (!std::filesystem::exists(file)) {
    return Error{"no chain store in " + data_dir.string() + " (" + file.string() + " is missing)"};
  }
  auto store = SqliteBlockStore::OpenReadOnly(file);
  if (!store) return Error{store.error()};
  const auto params = Params::ForNetwork((*store)->network());
  if (!params) return Error{file.string() + ": unknown network '" + (*store)->network() + "'"};
  auto total = (*store)->BlockCount();
  if (!total) return Error{total.error()};

  VerifyReport report;
  report.network = params->network;
  auto structure = StructureSound(**store, report);
  if (!structure) return Error{structure.error()};
  if (!*structure) return report;
  const Block genesis = MakeGenesis(*params);
  const std::uint64_t now = std::numeric_limits<std::uint64_t>::max() - params->max_future_drift_ms;
  // Headers seen so far, for parents and median time past.
  std::unordered_map<Hash32, BlockHeader, Hash32Hasher> seen;
  auto fail = [&](const Block& b, std::string why) {
    report.sound = false;
    report.bad_height = b.header.height;
    report.bad_hash = b.hash;
    report.problem = std::move(why);
    return false;
  };
  report.sound = true;
  Status read = (*store)->ForEachBlock([&](const Block& b, std::string_view json) {
    if (report.blocks == 0) {
      if (b != genesis)
        return fail(b, "the first block is not the " + params->network + " genesis");
    } else {
      auto parent = seen.find(b.header.last_hash);
      if (parent == seen.end()) return fail(b, "its parent is not stored before it");
      std::vector<std::uint64_t> window;
      const BlockHeader* h = &parent->second;
      while (window.size() < params->mtp_window) {
        window.push_back(h->timestamp);
        if (h->height == 0) break;
        h = &seen.at(h->last_hash);
      }
      const ParentContext ctx{parent->second, parent->first, MedianTimePast(window)};
      const ValidationResult r = CheckBlock(b, ctx, now, *params);
      if (!r.ok()) return fail(b, std::string(BlockErrorName(r.error)) + ": " + r.message);
    }
    // The copy the node serves must be this block's own JSON form, byte for
    // byte: a damaged copy is found here rather than sent on.
    if (json != BlockToJson(b)) {
      return fail(b, "its stored JSON form (" + std::to_string(json.size()) +
                         " bytes) is not the block's own encoding");
    }
    seen.emplace(b.hash, b.header);
    ++report.blocks;
    if (progress && (report.blocks % 1000 == 0 || report.blocks == *total)) {
      progress(report.blocks, *total);
    }
    return true;
  });
  if (!read) return Error{read.error()};
  if (!report.sound) return report;
  if (report.blocks != *total) {
    report.sound = false;
    report.problem = "the store records " + std::to_string(*total) + " blocks but " +
                     std::to_string(report.blocks) + " could be read";
    return report;
  }
  if (Status s = VerifyTips(**store, *params, seen, report); !s) return Error{s.error()};
  return report;
}

}  // namespace powchain
