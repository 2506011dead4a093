#include "node/http_api.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "util/hex.h"
#include "util/memory.h"

namespace powchain {

http::NodeStatus NodeApiImpl::Status() {
  const ChainTip tip = chain_.Tip();
  const Miner::Stats mining = miner_.GetStats();
  http::NodeStatus s;
  s.params = chain_.params();
  s.genesis = chain_.GenesisHash();
  s.height = tip.height();
  s.tip = tip.hash();
  s.difficulty = tip.context.header.difficulty;
  s.work = tip.work;
  s.headers = chain_.BestHeader().height;
  s.peers = peers_.ConnectedCount();
  s.mining.continuous = mining.continuous;
  s.mining.threads = mining.threads;
  s.mining.active = mining.active;
  s.mining.hash_rate = mining.hash_rate;
  s.mining.queued = mining.queued;
  s.mempool = PoolSummary();
  s.agent = agent_;
  return s;
}

std::vector<http::TipEntry> NodeApiImpl::Tips(std::size_t limit) {
  std::vector<http::TipEntry> out;
  for (const ChainTipInfo& t : chain_.Tips(limit)) {
    http::TipEntry e;
    e.hash = t.hash;
    e.height = t.height;
    e.work = t.chain_work;
    e.fork = t.fork;
    e.fork_height = t.fork_height;
    e.status = std::string(ChainTipKindName(t.kind));
    out.push_back(std::move(e));
  }
  return out;
}

http::HealthInfo NodeApiImpl::Health() {
  http::HealthInfo h;
  h.store_ok = !chain_.Failed();
  h.height = chain_.Tip().height();
  h.headers = chain_.BestHeader().height;
  h.synced = h.headers <= h.height;
  h.peers = peers_.ConnectedCount();
  return h;
}

namespace {

http::PoolTx ToPoolTx(const MempoolEntryInfo& e) {
  http::PoolTx p;
  p.tx = *e.tx;
  p.txid = e.txid;
  p.size = e.size;
  p.fee = e.fee;
  p.time_ms = e.time_ms;
  p.ancestor_count = e.ancestor_count;
  p.ancestor_size = e.ancestor_size;
  p.ancestor_fee = e.ancestor_fee;
  p.parents = e.parents;
  return p;
}

}  // namespace

http::SubmitResult NodeApiImpl::SubmitTransaction(Transaction tx) {
  const MempoolResult r = mempool_.Accept(std::move(tx));
  http::SubmitResult out;
  out.txid = r.txid;
  out.reason = std::string(r.reason());
  out.message = r.message;
  out.duplicate = r.status == MempoolResult::Status::kDuplicate;
  if (r.ok()) {
    out.outcome = http::SubmitResult::Outcome::kAccepted;
  } else if (r.error == MempoolError::kConflict || r.error == MempoolError::kAlreadyConfirmed) {
    out.outcome = http::SubmitResult::Outcome::kConflict;
  } else {
    out.outcome = http::SubmitResult::Outcome::kInvalid;
  }
  return out;
}

std::optional<http::PoolTx> NodeApiImpl::PoolTransaction(const Hash32& txid) {
  const auto entry = mempool_.Get(txid);
  if (!entry.has_value()) return std::nullopt;
  return ToPoolTx(*entry);
}

std::vector<http::PoolTx> NodeApiImpl::PoolByFeeRate(std::size_t limit) {
  std::vector<http::PoolTx> out;
  for (const MempoolEntryInfo& e : mempool_.ByFeeRate(limit)) out.push_back(ToPoolTx(e));
  return out;
}

http::MempoolSummary NodeApiImpl::PoolSummary() {
  const MempoolStats stats = mempool_.Stats();
  http::MempoolSummary s;
  s.count = stats.count;
  s.bytes = stats.bytes;
  s.fees = stats.fees;
  s.fee_floor = stats.fee_floor;
  s.max_bytes = stats.max_bytes;
  s.orphans = stats.orphans;
  return s;
}

std::pair<Hash32, std::uint64_t> NodeApiImpl::ActiveTip() {
  const ChainTip tip = chain_.Tip();
  return {tip.hash(), tip.height()};
}

Result<http::BlockRun> NodeApiImpl::BlockRunInChain(const Hash32& tip, std::uint64_t from,
                                                    std::size_t limit, std::size_t max_bytes) {
  const auto hashes = chain_.HashesInChain(tip, from, limit);
  if (!hashes) return Error{"unknown chain tip"};
  http::BlockRun run;
  if (hashes->empty()) return run;
  // The same run (first height, last hash) always holds the same bytes.
  if (auto cached = runs_.Get(from, hashes->back())) {
    run.count = hashes->size();
    run.json = std::move(cached);
    return run;
  }
  // Read into a buffer this thread keeps, then copied once into a string of
  // the run's exact size whose pages are mapped in one call. A run's own
  // string grown from empty took fresh pages at each doubling, and their
  // page faults were most of the time of a stream whose runs are not cached
  // and a fifth of one whose runs are (docs/performance.md, "A small
  // answer's cost, and runs read without page faults").
  thread_local std::string scratch;
  scratch.clear();
  auto read = chain_.AppendBlocksJson(*hashes, scratch, max_bytes);
  if (!read) return Error{read.error()};
  if (read->count < hashes->size() && !read->full) return Error{"block missing from the store"};
  run.count = read->count;
  auto json = std::make_shared<std::string>();
  json->reserve(scratch.size());
  PrefaultForWrite(json->data(), scratch.size());
  json->append(scratch);
  run.json = std::move(json);
  // A run past twice the cap (one large block) leaves no buffer that size.
  if (scratch.capacity() > 2 * max_bytes) std::string().swap(scratch);
  // A run cut by the byte cap is not what a lookup of the whole range
  // would find: only whole ones are kept.
  if (run.count == hashes->size()) runs_.Put(from, hashes->back(), run.json);
  return run;
}

Result<std::optional<Block>> NodeApiImpl::BlockAtHeight(std::uint64_t height) {
  return chain_.BlockAtHeight(height);
}

Result<std::optional<Block>> NodeApiImpl::BlockByHash(const Hash32& hash) {
  return chain_.BlockByHash(hash);
}

Result<std::optional<std::string>> NodeApiImpl::BlockJsonAtHeight(std::uint64_t height) {
  return chain_.BlockJsonAtHeight(height);
}

Result<std::optional<std::string>> NodeApiImpl::BlockJsonByHash(const Hash32& hash) {
  return chain_.BlockJsonByHash(hash);
}

void NodeApiImpl::Mine(http::MineRequest request, MineCallback done) {
  miner_.Submit(
      BlockContents{std::move(request.canonical_data), std::move(request.txs), request.fees},
      std::move(done));
}

Result<std::uint64_t> NodeApiImpl::CheckBlockTxs(const std::vector<Transaction>& txs) {
  std::uint64_t fees = 0;
  const ValidationResult v = chain_.CheckTxsOnTip(txs, &fees);
  if (!v.ok()) return Error{v.message};
  return fees;
}

std::vector<http::PeerInfo> NodeApiImpl::Peers() {
  std::vector<http::PeerInfo> out;
  for (const p2p::PeerSnapshot& p : peers_.Peers()) {
    http::PeerInfo info;
    info.url = p.url;
    info.direction = p.direction == p2p::Direction::kInbound ? "inbound" : "outbound";
    info.height = p.height;
    info.agent = p.agent;
    info.connected_since_ms = p.connected_since_ms;
    info.state = p.state;
    info.last_error = p.last_error;
    info.next_attempt_ms = p.next_attempt_ms;
    out.push_back(std::move(info));
  }
  return out;
}

powchain::Status NodeApiImpl::AddPeer(const std::string& url) {
  auto parsed = ParsePeerUrl(url);
  if (!parsed) return Error{parsed.error()};
  return peers_.AddPeer(*parsed);
}

powchain::Status NodeApiImpl::RemovePeer(const std::string& url) {
  auto parsed = ParsePeerUrl(url);
  if (!parsed) return Error{parsed.error()};
  return peers_.RemovePeer(*parsed);
}

Result<std::optional<http::ConfirmedTx>> NodeApiImpl::FindTransaction(const Hash32& txid) {
  using Found = std::optional<http::ConfirmedTx>;
  const auto location = store_.FindTx(txid);
  if (!location) return Error{location.error()};
  if (!location->has_value()) return Found();
  const TxLocation loc = **location;
  auto block = store_.ReadBlock(loc.block);
  if (!block) return Error{block.error()};
  if (!block->has_value()) {
    return Error{"block " + HexEncode(loc.block) + " of transaction " + HexEncode(txid) +
                 " is not stored"};
  }
  http::ConfirmedTx out;
  out.block = std::move(**block);
  out.height = loc.height;
  out.index = loc.index;
  if (loc.index >= out.block.txs.size() || ComputeTxid(out.block.txs[loc.index]) != txid) {
    return Error{"the transaction index places " + HexEncode(txid) + " wrongly in block " +
                 HexEncode(loc.block)};
  }
  if (!out.block.txs[loc.index].IsCoinbase()) {
    auto spent = SpentCoins(out.block, loc.block, loc.index);
    if (!spent) return Error{spent.error()};
    if (!spent->has_value()) {
      // Undo data is kept for active blocks only: the block left the active
      // chain after FindTx, unless the store still places the transaction
      // there (then its undo data is missing).
      const auto again = store_.FindTx(txid);
      if (!again) return Error{again.error()};
      if (again->has_value() && **again == loc) {
        return Error{"undo data of active block " + HexEncode(loc.block) + " is missing"};
      }
      return Found();
    }
    out.spent = std::move(**spent);
  }
  out.tip_height = std::max(chain_.Tip().height(), loc.height);
  return Found(std::move(out));
}

Result<std::optional<std::vector<Coin>>> NodeApiImpl::SpentCoins(const Block& block,
                                                                 const Hash32& hash,
                                                                 std::uint32_t index) {
  auto undo = store_.ReadUndo(hash);
  if (!undo) return Error{undo.error()};
  if (!undo->has_value()) return std::optional<std::vector<Coin>>();
  // The undo data lists the coins spent by every input of the block's
  // transactions, in order: this transaction's come after those before it.
  std::size_t first = 0;
  for (std::uint32_t i = 0; i < index; ++i) first += block.txs[i].inputs.size();
  const std::vector<TxIn>& inputs = block.txs[index].inputs;
  const auto& spent = (*undo)->spent;
  if (first > spent.size() || spent.size() - first < inputs.size()) {
    return Error{"undo data of block " + HexEncode(hash) + " is shorter than its inputs"};
  }
  std::vector<Coin> coins;
  coins.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (spent[first + i].first != inputs[i].prevout) {
      return Error{"undo data of block " + HexEncode(hash) + " does not match its inputs"};
    }
    coins.push_back(spent[first + i].second);
  }
  return std::optional<std::vector<Coin>>(std::move(coins));
}

Result<http::AddressTotals> NodeApiImpl::AddressSummary(const XOnlyPubKey& key) {
  const auto summary = store_.ReadAddressSummary(key);
  if (!summary) return Error{summary.error()};
  return http::AddressTotals{summary->balance, summary->coin_count, summary->tx_count};
}

Result<std::vector<http::AddressTxEntry>> NodeApiImpl::AddressTxs(const XOnlyPubKey& key,
                                                                  std::uint64_t offset,
                                                                  std::size_t limit) {
  const auto rows = store_.ReadAddressTxs(key, static_cast<std::size_t>(offset), limit);
  if (!rows) return Error{rows.error()};
  std::vector<http::AddressTxEntry> out;
  out.reserve(rows->size());
  for (const AddressTx& row : *rows) {
    // The block's hash, from the same source as the index (the chain's own
    // view may lag the store by a commit).
    const auto location = store_.FindTx(row.txid);
    if (!location) return Error{location.error()};
    if (!location->has_value()) continue;  // left the active chain meanwhile
    out.push_back({row.txid, (*location)->height, (*location)->index, (*location)->block});
  }
  return out;
}

Result<http::AddressCoinPage> NodeApiImpl::AddressCoins(const XOnlyPubKey& key,
                                                        std::uint64_t offset, std::size_t limit) {
  const auto rows = store_.ReadAddressCoins(key, static_cast<std::size_t>(offset), limit);
  if (!rows) return Error{rows.error()};
  http::AddressCoinPage page;
  // The chain's tip moves after the store commits: the tip is read after
  // the coins and is at least as high as each of them.
  page.tip_height = chain_.Tip().height();
  page.coins.reserve(rows->size());
  for (const AddressCoin& row : *rows) {
    page.tip_height = std::max(page.tip_height, row.coin.height);
    page.coins.push_back({row.outpoint, row.coin});
  }
  return page;
}

}  // namespace powchain
