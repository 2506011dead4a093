#include "storage/block_store.h"

#include <algorithm>

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

}  // namespace powchain
