#include "node/verify.h"

#include <limits>
#include <unordered_map>
#include <vector>

#include "consensus/difficulty.h"
#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "storage/sqlite_store.h"
#include "util/hash_map.h"
#include "util/hex.h"

namespace powchain {

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
  Status read = (*store)->ForEachBlock([&](const Block& b) {
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
  auto tip = (*store)->ReadTip();
  if (!tip) return Error{tip.error()};
  if (!tip->has_value() || !seen.contains(**tip)) {
    report.sound = false;
    report.problem = "the stored tip is not among the stored blocks";
    return report;
  }
  report.height = seen.at(**tip).height;
  return report;
}

}  // namespace powchain
