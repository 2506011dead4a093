// A block as JSON text from outside (every "block" and "blocks" peer message
// carries some): BlockFromJsonText, then the context-free and contextual
// checks against the genesis of the tiny network (fuzz_common.h).
//
// Properties: a block that decodes re-encodes (BlockToJson) to a text that
// decodes to the same block and encodes to the same text; CheckBlock agrees
// with CheckBlockContextFree and with CheckChain over [genesis, block]; a
// block that passes has the hash of its header and meets its difficulty.
// The checks run a second time on a copy with dataHash and hash recomputed
// (and a few nonces tried), so the fuzzer reaches the proof-of-work, data
// hash and contextual rules without having to compute SHA-256 itself.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "consensus/genesis.h"
#include "consensus/validation.h"
#include "primitives/block_json.h"
#include "tiny_chain.h"

namespace powchain::fuzz {
namespace {

struct World {
  Params params = TinyParams();
  Block genesis = MakeGenesis(params);
  ParentContext parent{genesis.header, genesis.hash, genesis.header.timestamp};
  std::uint64_t now = NowMs(params);
};

void CheckRules(const World& w, const Block& block) {
  const ValidationResult context_free = CheckBlockContextFree(block, w.params);
  const ValidationResult full = CheckBlock(block, w.parent, w.now, w.params);
  FUZZ_CHECK(!BlockErrorName(full.error).empty());
  if (!context_free.ok()) FUZZ_CHECK(full.error == context_free.error);

  const std::vector<Block> chain{w.genesis, block};
  std::uint64_t error_height = 0;
  const ValidationResult as_chain = CheckChain(chain, w.now, w.params, &error_height);
  FUZZ_CHECK(as_chain.error == full.error);
  if (!as_chain.ok()) FUZZ_CHECK(error_height == 1);

  if (full.ok()) {
    FUZZ_CHECK(block.hash == block.header.ComputeHash());
    FUZZ_CHECK(CheckProofOfWork(block.hash, block.header.difficulty));
    FUZZ_CHECK(block.header.height == 1 && block.header.last_hash == w.genesis.hash);
    FUZZ_CHECK(block.header.data_hash == DataHash(block.data));
  }
  // A chain of the block alone is valid exactly when it is the genesis.
  const std::vector<Block> alone{block};
  FUZZ_CHECK(CheckChain(alone, w.now, w.params).ok() == (block == w.genesis));
}

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain;
  using namespace powchain::fuzz;
  static const World world;

  const Result<Block> block = BlockFromJsonText(AsText(data, size));
  if (!block) return 0;

  const std::string json = BlockToJson(*block);
  const Result<Block> again = BlockFromJsonText(json);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *block);
  FUZZ_CHECK(BlockToJson(*again) == json);

  CheckRules(world, *block);

  Block fixed = *block;
  fixed.header.data_hash = DataHash(fixed.data);
  Solve(fixed.header, 16);
  fixed.hash = fixed.header.ComputeHash();
  CheckRules(world, fixed);
  return 0;
}
