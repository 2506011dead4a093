// The mempool's accept path, with transactions from outside (a tx message,
// POST /transactions, the mempool file): Mempool::Accept over a real
// ChainState (tiny network, memory store) whose first coinbases have
// matured, and Mempool::Load on a file from the input.
//
// Input: a FuzzedDataProvider. The pool's limits first (a small byte cap,
// ancestor cap, orphan cap, fee floor), then up to 32 events:
//   spend     a transaction the harness builds and signs: inputs picked
//             from the mature coins, earlier transactions' outputs and
//             made-up outpoints; one to three outputs; a fee; sometimes a
//             spoiled signature; from a peer or local
//   again     an earlier transaction again
//   raw       a transaction's JSON text from the input
//   time      the clock moves on (expiry)
//   load      a mempool file (the pool's own, saved and changed in a few
//             bytes, or text from the input) loaded into a new pool
//
// Properties: nothing crashes; a transaction is accepted only if its
// signatures are the key's; after every event the pool is within its byte
// cap, every entry spends coins of the chain or outputs of other entries,
// no outpoint is spent twice, each entry's size is its canonical size, and
// a block template from it takes parents before children within its room.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chain/chainstate.h"
#include "consensus/genesis.h"
#include "consensus/tx_check.h"
#include "crypto/schnorr.h"
#include "fuzz_check.h"
#include "mempool/mempool.h"
#include "peer_harness.h"
#include "storage/memory_store.h"
#include "tiny_chain.h"

namespace powchain::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxEvents = 32;
constexpr std::size_t kBlocks = 14;  // coinbases 1..4 mature at the tip

struct World {
  Params params = TinyParams();
  SecretKey key = SeedKey(1);
  XOnlyPubKey pub = PublicKeyOf(key);
  Hash32 genesis{};
  std::vector<Block> blocks;        // after genesis
  std::vector<OutPoint> coinbases;  // one per block, in height order

  World() {
    std::vector<Block> chain{MakeGenesis(params)};
    genesis = chain[0].hash;
    for (std::uint64_t h = 1; h <= kBlocks; ++h) {
      Transaction coinbase;
      coinbase.coinbase = h;
      coinbase.outputs.push_back(MakeTxOut(params.address_prefix, pub, BlockSubsidy(h, params)));
      coinbases.push_back(OutPoint{ComputeTxid(coinbase), 0});
      chain.push_back(MineChild(TipContext(chain, params), "null",
                                chain.back().header.timestamp + 1500, params, {coinbase}));
    }
    blocks.assign(chain.begin() + 1, chain.end());
  }
};

const World& TheWorld() {
  static const World world;
  return world;
}

fs::path PoolFile() {
  static const fs::path dir = ScratchDir("fuzz-mempool");
  return dir / "mempool.jsonl";
}

struct Spendable {
  OutPoint outpoint;
  std::uint64_t amount = 0;
};

void CheckPool(const Mempool& pool, const ChainState& chain, const MempoolOptions& options) {
  const MempoolStats stats = pool.Stats();
  FUZZ_CHECK(stats.bytes <= options.max_bytes);
  const std::vector<MempoolEntryInfo> entries = pool.ByFeeRate(stats.count + 1);
  FUZZ_CHECK(entries.size() == stats.count);
  std::set<Hash32> txids;
  for (const MempoolEntryInfo& e : entries) txids.insert(e.txid);
  std::set<OutPoint> spent;
  std::size_t bytes = 0;
  for (const MempoolEntryInfo& e : entries) {
    FUZZ_CHECK(e.size == CanonicalTxSize(*e.tx));
    FUZZ_CHECK(ComputeTxid(*e.tx) == e.txid);
    bytes += e.size;
    for (const TxIn& in : e.tx->inputs) {
      FUZZ_CHECK(spent.insert(in.prevout).second);
      const bool in_pool = txids.count(in.prevout.txid) != 0;
      if (!in_pool) {
        const auto coin = chain.coins().Read(in.prevout);
        FUZZ_CHECK(coin.ok() && coin->has_value());
      }
      FUZZ_CHECK(pool.SpentBy(in.prevout) == e.txid);
    }
  }
  FUZZ_CHECK(bytes == stats.bytes);
  // A template: parents first, within its room.
  const std::size_t room = options.max_bytes / 2;
  const BlockTemplateTxs block = pool.SelectForBlock(chain.Tip().hash(), room);
  FUZZ_CHECK(block.bytes <= room);
  std::set<Hash32> taken;
  for (const TxRef& tx : block.txs) {
    for (const TxIn& in : tx->inputs) {
      if (txids.count(in.prevout.txid) != 0) FUZZ_CHECK(taken.count(in.prevout.txid) != 0);
    }
    taken.insert(ComputeTxid(*tx));
  }
}

class Session {
 public:
  Session(const World& world, FuzzedDataProvider& in)
      : world_(world), chain_(world.params, store_), clock_(NowMs(world.params)) {
    FUZZ_CHECK(chain_.Load().ok());
    for (const AcceptResult& r : chain_.AcceptBlocks(world.blocks, clock_.NowMs())) {
      FUZZ_CHECK(r.ok());
    }
    options_.max_bytes = in.ConsumeIntegralInRange<std::size_t>(600, 8000);
    options_.min_fee_rate = in.ConsumeIntegralInRange<std::uint64_t>(0, 3);
    options_.max_ancestors = in.ConsumeIntegralInRange<std::size_t>(1, 6);
    options_.max_descendants = in.ConsumeIntegralInRange<std::size_t>(1, 6);
    options_.max_orphans = in.ConsumeIntegralInRange<std::size_t>(0, 4);
    options_.expiry_ms = 3600 * 1000;
    options_.orphan_expiry_ms = 600 * 1000;
    pool_.emplace(chain_, clock_, options_);
    const std::uint64_t tip = chain_.Tip().height();
    for (std::size_t i = 0; i < world.coinbases.size(); ++i) {
      const std::uint64_t height = i + 1;
      if (height + world.params.coinbase_maturity <= tip + 1) {
        spendable_.push_back(Spendable{world.coinbases[i], BlockSubsidy(height, world.params)});
      }
    }
    FUZZ_CHECK(!spendable_.empty());
  }

  void Event(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        Spend(in);
        break;
      case 5:
        if (!sent_.empty()) {
          Submit(sent_[in.ConsumeIntegralInRange<std::size_t>(0, sent_.size() - 1)],
                 in.ConsumeBool());
        }
        break;
      case 6: {
        auto tx = TxFromJsonText(in.ConsumeRandomLengthString(2000));
        if (tx) Submit(*tx, in.ConsumeBool());
        break;
      }
      case 7:
        clock_.Advance(in.ConsumeIntegralInRange<std::uint64_t>(1, 7200) * 1000);
        pool_->Expire();
        break;
      case 8:
        LoadFile(in);
        break;
      default:
        break;
    }
    CheckPool(*pool_, chain_, options_);
  }

 private:
  void Spend(FuzzedDataProvider& in) {
    Transaction tx;
    std::uint64_t total = 0;
    const std::size_t inputs = in.ConsumeIntegralInRange<std::size_t>(1, 3);
    for (std::size_t i = 0; i < inputs; ++i) {
      if (in.ConsumeIntegralInRange<int>(0, 9) == 0) {  // a parent nobody has
        OutPoint made_up{Hash32{}, in.ConsumeIntegral<std::uint8_t>()};
        made_up.txid[0] = in.ConsumeIntegral<std::uint8_t>();
        tx.inputs.push_back(TxIn{made_up, {}});
        total += kCoin;
        continue;
      }
      const Spendable& s =
          spendable_[in.ConsumeIntegralInRange<std::size_t>(0, spendable_.size() - 1)];
      tx.inputs.push_back(TxIn{s.outpoint, {}});
      total += s.amount;
    }
    const std::size_t outputs = in.ConsumeIntegralInRange<std::size_t>(1, 3);
    const std::uint64_t fee = in.ConsumeIntegralInRange<std::uint64_t>(0, 20000);
    const std::uint64_t available = total > fee ? total - fee : 0;
    for (std::size_t i = 0; i < outputs; ++i) {
      const std::uint64_t amount =
          i + 1 == outputs ? available - available / outputs * (outputs - 1) : available / outputs;
      tx.outputs.push_back(MakeTxOut(world_.params.address_prefix, world_.pub, amount));
    }
    const SighashContext sighash(tx, world_.genesis);
    for (std::uint32_t i = 0; i < tx.inputs.size(); ++i) {
      tx.inputs[i].sig = SignSchnorr(world_.key, sighash.ForInput(i), Hash32{});
    }
    bool spoiled = false;
    if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
      tx.inputs[0].sig[in.ConsumeIntegralInRange<std::size_t>(0, 63)] ^= 1;
      spoiled = true;
    }
    const Hash32 txid = ComputeTxid(tx);
    for (std::uint32_t v = 0; v < tx.outputs.size(); ++v) {
      spendable_.push_back(Spendable{OutPoint{txid, v}, tx.outputs[v].amount});
    }
    sent_.push_back(tx);
    const MempoolResult r = Submit(tx, in.ConsumeBool());
    if (spoiled) FUZZ_CHECK(!r.ok());
  }

  MempoolResult Submit(const Transaction& tx, bool from_peer) {
    const MempoolResult r = pool_->Accept(tx, from_peer ? 7 : 0);
    if (r.status == MempoolResult::Status::kRejected) FUZZ_CHECK(!r.message.empty());
    if (r.ok()) {
      // Only the key's own signatures pass (any other transaction from the
      // input that is accepted must spend made-up coins it cannot: the
      // chain's coins are all the key's).
      const SighashContext sighash(tx, world_.genesis);
      for (std::uint32_t i = 0; i < tx.inputs.size(); ++i) {
        FUZZ_CHECK(VerifySchnorr(world_.pub, sighash.ForInput(i), tx.inputs[i].sig));
      }
    }
    return r;
  }

  void LoadFile(FuzzedDataProvider& in) {
    const fs::path file = PoolFile();
    std::string text;
    if (in.ConsumeBool()) {
      // The pool's own file with a few bytes changed, so that most lines
      // parse and the checks behind the parser are reached.
      FUZZ_CHECK(pool_->Save(file).ok());
      std::ifstream saved(file, std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(saved), std::istreambuf_iterator<char>());
      const int edits = in.ConsumeIntegralInRange<int>(0, 4);
      for (int i = 0; i < edits && !text.empty(); ++i) {
        text[in.ConsumeIntegralInRange<std::size_t>(0, text.size() - 1)] =
            static_cast<char>(in.ConsumeIntegral<std::uint8_t>());
      }
    } else {
      text = in.ConsumeRandomLengthString(4000);
    }
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << text;
    }
    Mempool loaded(chain_, clock_, options_);
    const auto result = loaded.Load(file);
    if (!result) {
      FUZZ_CHECK(result.error().find(file.string()) != std::string::npos);
      return;
    }
    FUZZ_CHECK(result->accepted <= result->read);
    CheckPool(loaded, chain_, options_);
    // What the pool saves reads back whole.
    FUZZ_CHECK(pool_->Save(file).ok());
    Mempool again(chain_, clock_, options_);
    const auto reread = again.Load(file);
    FUZZ_CHECK(reread.ok());
    FUZZ_CHECK(reread->accepted == pool_->Stats().count);
  }

  const World& world_;
  MemoryBlockStore store_;
  ChainState chain_;
  ManualClock clock_;
  MempoolOptions options_;
  std::optional<Mempool> pool_;
  std::vector<Spendable> spendable_;
  std::vector<Transaction> sent_;
};

}  // namespace
}  // namespace powchain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace powchain::fuzz;
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  const World& world = TheWorld();
  FuzzedDataProvider in(data, size);
  Session session(world, in);
  for (std::size_t i = 0; i < kMaxEvents && in.remaining_bytes() > 0; ++i) session.Event(in);
  return 0;
}
