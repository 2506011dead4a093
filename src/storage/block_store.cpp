#include "storage/block_store.h"

#include <algorithm>

#include "primitives/block_json.h"

namespace powchain {

std::vector<std::pair<XOnlyPubKey, AddressTx>> AddressIndexRows(const ChainStep& step) {
  std::vector<std::pair<XOnlyPubKey, AddressTx>> rows;
  const Block& block = *step.block;
  std::size_t spent = 0;  // next coin of step.undo
  std::vector<XOnlyPubKey> keys;
  for (std::size_t i = 0; i < block.txs.size(); ++i) {
    const Transaction& tx = block.txs[i];
    keys.clear();
    for (std::size_t k = 0; k < tx.inputs.size() && spent < step.undo->spent.size(); ++k) {
      keys.push_back(step.undo->spent[spent++].second.key);
    }
    for (const TxOut& out : tx.outputs) keys.push_back(out.key);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const AddressTx row{(*step.txids)[i], block.header.height, static_cast<std::uint32_t>(i)};
    for (const XOnlyPubKey& key : keys) rows.emplace_back(key, row);
  }
  return rows;
}

Result<std::optional<std::string>> BlockStore::ReadBlockJson(const Hash32& hash) const {
  auto block = ReadBlock(hash);
  if (!block) return Error{block.error()};
  if (!block->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(BlockToJson(**block));
}

Result<JsonRun> BlockStore::AppendBlocksJson(std::span<const Hash32> hashes, std::string& out,
                                             std::size_t max_bytes) const {
  // The data is part of a block's JSON, so ReadBlocks' own bound on it
  // reads at least what fits.
  auto blocks = ReadBlocks(hashes, max_bytes);
  if (!blocks) return Error{blocks.error()};
  const std::size_t start = out.size();
  JsonRun run;
  for (const Block& block : *blocks) {
    const std::string json = BlockToJson(block);
    if (run.count > 0 && out.size() - start + 1 + json.size() > max_bytes) {
      run.full = true;
      break;
    }
    if (run.count > 0) out += ',';
    out += json;
    ++run.count;
  }
  // ReadBlocks itself stops once the data reaches the cap: that is the
  // cap too, not a missing block.
  if (run.count < hashes.size() && out.size() - start >= max_bytes) run.full = true;
  return run;
}

}  // namespace powchain
