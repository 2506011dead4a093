#include "http/node_api.h"

#include <utility>

#include "primitives/block_json.h"

namespace powchain::http {

namespace {

Result<std::optional<std::string>> Encoded(Result<std::optional<Block>> block) {
  if (!block) return Error{block.error()};
  if (!block->has_value()) return std::optional<std::string>();
  return std::optional<std::string>(BlockToJson(**block));
}

}  // namespace

BlockRun EncodeBlockRun(std::span<const Block> blocks, std::size_t max_bytes) {
  std::string out;
  BlockRun run;
  for (const Block& block : blocks) {
    const std::string json = BlockToJson(block);
    if (run.count > 0 && out.size() + 1 + json.size() > max_bytes) break;
    if (run.count > 0) out += ',';
    out += json;
    ++run.count;
  }
  if (run.count > 0) run.json = std::make_shared<const std::string>(std::move(out));
  return run;
}

Result<std::optional<std::string>> NodeApi::BlockJsonAtHeight(std::uint64_t height) {
  return Encoded(BlockAtHeight(height));
}

Result<std::optional<std::string>> NodeApi::BlockJsonByHash(const Hash32& hash) {
  return Encoded(BlockByHash(hash));
}

}  // namespace powchain::http
