// The differential of the checks against a round trip through the store: a
// block from outside (its JSON text, as in fuzz_block), checked, stored in
// a SqliteBlockStore as the node stores a block (header blob, data, the
// canonical txs array, the JSON form), read back by hash, and checked
// again.
//
// Input: a block's JSON text (fuzz_block's seeds). Blocks that decode are
// checked on the tiny network against its genesis, then, with dataHash,
// nonce and hash repaired, again, so that both failing and passing blocks
// make the round trip.
//
// Properties: the block read back equals the block stored (transactions
// included); its stored JSON form is BlockToJson of it; the context-free
// and contextual checks give the same verdict before and after; a run of
// blocks read together (ReadBlocks, AppendBlocksJson) gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "primitives/block_json.h"
#include "storage/sqlite_store.h"
#include "tiny_chain.h"
#include "util/hex.h"

namespace powchain::fuzz {
namespace {

namespace fs = std::filesystem;

// Inputs per store file: the file is made again after this many, so it
// stays small.
constexpr int kInputsPerFile = 512;

struct World {
  Params params = TinyParams();
  Block genesis = MakeGenesis(params);
  ParentContext parent{genesis.header, genesis.hash, genesis.header.timestamp};
  std::uint64_t now = NowMs(params);
  fs::path dir = ScratchDir("fuzz-block-store");
  std::unique_ptr<SqliteBlockStore> store;
  int inputs = 0;

  SqliteBlockStore& Store() {
    if (store == nullptr || ++inputs % kInputsPerFile == 0) {
      store.reset();
      const fs::path file = dir / "chain.sqlite";
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
      auto opened = SqliteBlockStore::Open(file, params.network, HexEncode(genesis.hash), 0);
      FUZZ_CHECK(opened.ok());
      store = std::move(opened).value();
    }
    return *store;
  }
};

void RoundTrip(World& w, const Block& block) {
  const ValidationResult context_free = CheckBlockContextFree(block, w.params);
  const ValidationResult full = CheckBlock(block, w.parent, w.now, w.params);

  SqliteBlockStore& store = w.Store();
  // A hash stored before (by an earlier input with the same "hash" text)
  // keeps its first block: nothing to compare.
  const auto before = store.ReadBlock(block.hash);
  FUZZ_CHECK(before.ok());
  if (before->has_value()) return;
  WriteBatch batch;
  batch.blocks.push_back(&block);
  const Status stored = store.Commit(batch);
  // A store refuses only what its columns cannot hold; the node never
  // stores a block that failed the context-free checks.
  if (!stored) {
    FUZZ_CHECK(!context_free.ok() || !stored.error().empty());
    return;
  }
  const auto read = store.ReadBlock(block.hash);
  FUZZ_CHECK(read.ok() && read->has_value());
  const Block& back = **read;
  FUZZ_CHECK(back == block);
  const auto json = store.ReadBlockJson(block.hash);
  FUZZ_CHECK(json.ok() && json->has_value() && **json == BlockToJson(block));
  const std::vector<Hash32> hashes{block.hash};
  const auto run = store.ReadBlocks(hashes);
  FUZZ_CHECK(run.ok() && run->size() == 1 && run->front() == block);
  std::string appended;
  const auto joined = store.AppendBlocksJson(hashes, appended);
  FUZZ_CHECK(joined.ok() && joined->count == 1 && appended == **json);

  FUZZ_CHECK(CheckBlockContextFree(back, w.params).error == context_free.error);
  FUZZ_CHECK(CheckBlock(back, w.parent, w.now, w.params).error == full.error);
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  static World* world = new World();  // its store stays open until exit

  const Result<Block> block = BlockFromJsonText(AsText(data, size));
  if (!block) return 0;
  RoundTrip(*world, *block);

  Block fixed = *block;
  fixed.header.data_hash = ComputeDataHash(fixed);
  Solve(fixed.header, 16);
  fixed.hash = fixed.header.ComputeHash();
  RoundTrip(*world, fixed);
  return 0;
}
