// The coin routes (docs/api.md, "Transactions and addresses") against the
// fake node: GET /transactions/{txid}[/proof] and
// GET /addresses/{address}[/utxos|/txs].
#include <gtest/gtest.h>

#include <array>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "consensus/params.h"
#include "crypto/schnorr.h"
#include "fake_node_api.h"
#include "http/routes.h"
#include "primitives/address.h"
#include "primitives/block.h"
#include "primitives/merkle.h"
#include "primitives/transaction.h"
#include "route_test_helpers.h"
#include "util/hex.h"

namespace powchain::http {
namespace {

namespace bhttp = boost::beast::http;
using testing::BodyJson;
using testing::ErrorOf;
using testing::FakeBlock;
using testing::FakeNodeApi;
using testing::Get;
using testing::MakeRequest;
using testing::ResponseOf;

constexpr std::string_view kHrp = "powrt";  // Params::Regtest()

XOnlyPubKey KeyOf(std::uint8_t seed) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[31] = seed;
  return PublicKeyOf(*SecretKey::FromBytes(bytes));
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

Transaction Coinbase(std::uint64_t height, const XOnlyPubKey& to, std::uint64_t amount) {
  Transaction tx;
  tx.coinbase = height;
  tx.outputs.push_back(MakeTxOut(kHrp, to, amount));
  return tx;
}

// A transaction spending `from` (signatures are not checked here) into
// `outputs`.
Transaction Spend(const std::vector<OutPoint>& from,
                  const std::vector<std::pair<XOnlyPubKey, std::uint64_t>>& outputs) {
  Transaction tx;
  for (const OutPoint& prevout : from) tx.inputs.push_back(TxIn{prevout, SchnorrSig{}});
  for (const auto& [key, amount] : outputs) tx.outputs.push_back(MakeTxOut(kHrp, key, amount));
  return tx;
}

// A block at `height` holding `txs`, with the dataHash they give.
Block BlockWith(std::uint64_t height, std::vector<Transaction> txs) {
  Block b = FakeBlock(height);
  b.txs = std::move(txs);
  b.header.data_hash = ComputeDataHash(b);
  b.hash = b.header.ComputeHash();
  return b;
}

OutPoint Earlier(std::uint8_t n, std::uint32_t vout = 0) {
  OutPoint o;
  o.txid.fill(n);
  o.vout = vout;
  return o;
}

class CoinRoutesTest : public ::testing::Test {
 protected:
  CoinRoutesTest() {
    api_.status_.params = Params::Regtest();
    // Block 5: a coinbase to alice; bob spends one coin of 5 into 3 for
    // alice and 1.9 back (fee 0.1); alice spends 2 + 0.5 into 2.4 for bob
    // (fee 0.1).
    block_ = BlockWith(5, {Coinbase(5, alice_, 50 * kCoin + kCoin / 5),
                           Spend({Earlier(1)}, {{alice_, 3 * kCoin}, {bob_, 19 * kCoin / 10}}),
                           Spend({Earlier(2, 1), Earlier(3)}, {{bob_, 24 * kCoin / 10}})});
    const std::vector<std::vector<Coin>> spent = {
        {},
        {Coin{5 * kCoin, bob_, 1, true}},
        {Coin{2 * kCoin, alice_, 2, false}, Coin{kCoin / 2, alice_, 3, false}}};
    for (std::uint32_t i = 0; i < block_.txs.size(); ++i) {
      txids_.push_back(ComputeTxid(block_.txs[i]));
      api_.txs_[txids_[i]] = ConfirmedTx{block_, 5, i, 7, spent[i]};
    }
  }

  Response Answer(const Request& req) { return ResponseOf(router_.Route(req)); }
  Response Tx(std::size_t i, const std::string& suffix = "") {
    return Answer(Get("/transactions/" + HexEncode(txids_[i]) + suffix));
  }

  FakeNodeApi api_{8};
  Router router_{api_, RouterOptions{}};
  XOnlyPubKey alice_ = KeyOf(1);
  XOnlyPubKey bob_ = KeyOf(2);
  std::string alice_address_ = EncodeAddress(kHrp, alice_);
  Block block_;
  std::vector<Hash32> txids_;
};

// --- GET /transactions/{txid} ------------------------------------------------

TEST_F(CoinRoutesTest, TransactionHasItsPlaceConfirmationsAndFee) {
  const Response res = Tx(1);
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res.body(),
            "{\"txid\":\"" + HexEncode(txids_[1]) + "\",\"blockHash\":\"" + HexEncode(block_.hash) +
                "\",\"height\":5,\"index\":1,\"confirmations\":3,\"fee\":10000000,"
                "\"size\":" +
                std::to_string(CanonicalTxSize(block_.txs[1])) +
                ",\"status\":{\"confirmed\":true,\"height\":5,\"blockHash\":\"" +
                HexEncode(block_.hash) +
                "\",\"confirmations\":3},\"tx\":" + CanonicalTxBytes(block_.txs[1]) + "}");
}

TEST_F(CoinRoutesTest, FeeIsInputsLessOutputsAndZeroForACoinbase) {
  EXPECT_EQ(BodyJson(Tx(0)).at("fee").as_int64(), 0);
  EXPECT_EQ(BodyJson(Tx(2)).at("fee").as_int64(), 10'000'000);
  const auto coinbase = BodyJson(Tx(0));
  EXPECT_EQ(coinbase.at("index").as_int64(), 0);
  EXPECT_EQ(coinbase.at("tx"), boost::json::parse(CanonicalTxBytes(block_.txs[0])));
}

TEST_F(CoinRoutesTest, ConfirmationsCountTheBlockItself) {
  api_.txs_[txids_[1]].tip_height = 5;
  EXPECT_EQ(BodyJson(Tx(1)).at("confirmations").as_int64(), 1);
}

TEST_F(CoinRoutesTest, TxidIsReadInEitherCase) {
  const Response res = Answer(Get("/transactions/" + Upper(HexEncode(txids_[2]))));
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(BodyJson(res).at("txid").as_string(), HexEncode(txids_[2]));
}

TEST_F(CoinRoutesTest, UnknownTransactionIs404NamingIt) {
  const std::string txid(64, 'a');
  for (const std::string& target :
       {"/transactions/" + txid, "/transactions/" + Upper(txid) + "/proof"}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::not_found) << target;
    EXPECT_EQ(ErrorOf(res), "no such transaction: " + txid) << target;
  }
}

TEST_F(CoinRoutesTest, MalformedTxidIs400) {
  for (const std::string& target :
       {std::string("/transactions/"), std::string("/transactions/abc"),
        "/transactions/" + std::string(63, 'a'), "/transactions/" + std::string(65, 'a'),
        "/transactions/" + std::string(63, 'a') + "g", "/transactions/%31" + std::string(61, 'a'),
        std::string("/transactions/abc/proof"), std::string("/transactions//proof")}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::bad_request) << target;
    EXPECT_EQ(ErrorOf(res), "txid must be 64 hex digits") << target;
  }
}

TEST_F(CoinRoutesTest, OtherPathsUnderTransactionsAre404) {
  const std::string base = "/transactions/" + HexEncode(txids_[0]);
  for (const std::string& target :
       {base + "/", base + "/proofs", base + "/proof/", base + "/x/y"}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::not_found) << target;
    EXPECT_EQ(ErrorOf(res), "no such endpoint: " + target);
  }
}

TEST_F(CoinRoutesTest, TransactionWithWrongMethodIs405) {
  for (const char* suffix : {"", "/proof"}) {
    const Response res = Answer(
        MakeRequest(bhttp::verb::post, "/transactions/" + HexEncode(txids_[0]) + suffix, "{}"));
    EXPECT_EQ(res.result(), status::method_not_allowed) << suffix;
    EXPECT_EQ(res[bhttp::field::allow], "GET");
  }
}

TEST_F(CoinRoutesTest, StoreErrorOnTransactionIs500) {
  api_.fail_coins_ = true;
  for (const char* suffix : {"", "/proof"}) {
    const Response res = Tx(0, suffix);
    EXPECT_EQ(res.result(), status::internal_server_error) << suffix;
    EXPECT_NE(ErrorOf(res).find("disk on fire"), std::string::npos);
  }
}

// Data from the node that cannot be right is a 500, never a wrong answer.
TEST_F(CoinRoutesTest, InconsistentNodeDataIs500) {
  api_.txs_[txids_[1]].spent.clear();  // one input, no spent coin
  EXPECT_EQ(Tx(1).result(), status::internal_server_error);
  EXPECT_NE(ErrorOf(Tx(1)).find("0 spent coins for 1 inputs"), std::string::npos);

  api_.txs_[txids_[2]].spent[0].amount = 0;  // outputs exceed inputs
  EXPECT_EQ(ErrorOf(Tx(2)),
            "cannot compute the fee of " + HexEncode(txids_[2]) + ": outputs exceed inputs");
  api_.txs_[txids_[2]].spent[0].amount = kMaxMoney + 1;
  EXPECT_EQ(Tx(2).result(), status::internal_server_error);

  api_.txs_[txids_[0]].index = 3;  // past the block's end
  EXPECT_EQ(Tx(0).result(), status::internal_server_error);
  EXPECT_EQ(Tx(0, "/proof").result(), status::internal_server_error);
}

// --- GET /transactions/{txid}/proof ------------------------------------------

TEST_F(CoinRoutesTest, ProofLeadsFromTheTxidToTheDataHash) {
  const Response res = Tx(1, "/proof");
  EXPECT_EQ(res.result(), status::ok);
  const auto body = BodyJson(res);
  EXPECT_EQ(body.at("txid").as_string(), HexEncode(txids_[1]));
  EXPECT_EQ(body.at("leaf").as_string(), HexEncode(txids_[1]));
  EXPECT_EQ(body.at("blockHash").as_string(), HexEncode(block_.hash));
  EXPECT_EQ(body.at("height").as_int64(), 5);
  EXPECT_EQ(body.at("dataHash").as_string(), HexEncode(block_.header.data_hash));
  EXPECT_EQ(body.at("index").as_int64(), 2);      // leaf 0 is the data's hash
  EXPECT_EQ(body.at("leafCount").as_int64(), 4);  // data + 3 transactions
  // The member order of docs/api.md.
  EXPECT_EQ(res.body().rfind("{\"txid\":\"" + HexEncode(txids_[1]) + "\",\"blockHash\":", 0), 0u);
  EXPECT_NE(res.body().find("\"leafCount\":4,\"proof\":[\""), std::string::npos);
}

// Every transaction of blocks of 1 to 9 transactions: the proof in the
// answer leads from its txid to the block's dataHash.
TEST_F(CoinRoutesTest, ProofOfEveryTransactionVerifies) {
  for (std::uint64_t count = 1; count <= 9; ++count) {
    std::vector<Transaction> txs = {Coinbase(6, alice_, 50 * kCoin)};
    for (std::uint8_t i = 1; i < count; ++i) txs.push_back(Spend({Earlier(i)}, {{bob_, i}}));
    const Block block = BlockWith(6, std::move(txs));
    api_.txs_.clear();
    for (std::uint32_t i = 0; i < block.txs.size(); ++i) {
      api_.txs_[ComputeTxid(block.txs[i])] = ConfirmedTx{block, 6, i, 6, {}};
    }
    for (std::uint32_t i = 0; i < block.txs.size(); ++i) {
      const Hash32 txid = ComputeTxid(block.txs[i]);
      const Response res = Answer(Get("/transactions/" + HexEncode(txid) + "/proof"));
      ASSERT_EQ(res.result(), status::ok) << res.body();
      const auto body = BodyJson(res);
      std::vector<Hash32> proof;
      for (const auto& sibling : body.at("proof").as_array()) {
        proof.push_back(*HexToHash32(std::string(sibling.as_string())));
      }
      const auto leaf = HexToHash32(std::string(body.at("leaf").as_string()));
      const auto index = static_cast<std::size_t>(body.at("index").as_int64());
      const auto leaf_count = static_cast<std::size_t>(body.at("leafCount").as_int64());
      EXPECT_EQ(index, i + 1u);
      EXPECT_EQ(leaf_count, count + 1);
      const auto root = MerkleRootFromProof(*leaf, index, leaf_count, proof);
      ASSERT_TRUE(root.has_value()) << count << " " << i;
      EXPECT_EQ(HexEncode(*root), std::string(body.at("dataHash").as_string()));
      EXPECT_EQ(*root, block.header.data_hash) << count << " " << i;
    }
  }
}

TEST_F(CoinRoutesTest, ProofOfABlockThatDisagreesWithItsDataHashIs500) {
  api_.txs_[txids_[1]].block.header.data_hash[0] ^= 1;
  const Response res = Tx(1, "/proof");
  EXPECT_EQ(res.result(), status::internal_server_error);
  EXPECT_EQ(ErrorOf(res), "the stored block does not match its dataHash");
}

// --- GET /addresses/{address} --------------------------------------------------

TEST_F(CoinRoutesTest, AddressHasItsTotals) {
  api_.totals_[alice_] = AddressTotals{5'340'000'000, 3, 4};
  const Response res = Answer(Get("/addresses/" + alice_address_));
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(res.body(),
            "{\"address\":\"" + alice_address_ +
                "\",\"balance\":5340000000,\"unconfirmed\":0,\"coinCount\":3,\"txCount\":4}");
}

TEST_F(CoinRoutesTest, UnusedAddressIsEmpty) {
  const Response res = Answer(Get("/addresses/" + EncodeAddress(kHrp, bob_)));
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(res.body(), "{\"address\":\"" + EncodeAddress(kHrp, bob_) +
                            "\",\"balance\":0,\"unconfirmed\":0,\"coinCount\":0,\"txCount\":0}");
}

TEST_F(CoinRoutesTest, AddressIsReadInEitherCaseAndAnsweredInLowerCase) {
  api_.totals_[alice_] = AddressTotals{1, 1, 1};
  for (const char* suffix : {"", "/utxos", "/txs"}) {
    const Response res = Answer(Get("/addresses/" + Upper(alice_address_) + suffix));
    EXPECT_EQ(res.result(), status::ok) << suffix;
    EXPECT_EQ(BodyJson(res).at("address").as_string(), alice_address_) << suffix;
  }
}

TEST_F(CoinRoutesTest, AnotherNetworksAddressIs400) {
  const std::string main_address = EncodeAddress("pow", alice_);
  const std::string expected = DecodeAddressFor(main_address, kHrp).error();
  EXPECT_NE(expected.find("\"pow\""), std::string::npos) << expected;
  EXPECT_NE(expected.find("\"powrt\""), std::string::npos) << expected;
  for (const char* suffix : {"", "/utxos", "/txs"}) {
    const Response res = Answer(Get("/addresses/" + main_address + suffix));
    EXPECT_EQ(res.result(), status::bad_request) << suffix;
    EXPECT_EQ(ErrorOf(res), expected) << suffix;
  }
}

TEST_F(CoinRoutesTest, MalformedAddressIs400WithTheDecodersMessage) {
  std::string bad_checksum = alice_address_;
  bad_checksum.back() = bad_checksum.back() == 'q' ? 'p' : 'q';
  std::string mixed_case = alice_address_;
  mixed_case[0] = 'P';
  for (const std::string& address :
       {std::string("nope"), std::string(""), bad_checksum, mixed_case, std::string(120, 'x')}) {
    for (const char* suffix : {"", "/utxos", "/txs"}) {
      const Response res = Answer(Get("/addresses/" + address + suffix));
      EXPECT_EQ(res.result(), status::bad_request) << address << suffix;
      EXPECT_EQ(ErrorOf(res), DecodeAddressFor(address, kHrp).error()) << address << suffix;
    }
  }
}

TEST_F(CoinRoutesTest, OtherPathsUnderAddressesAre404) {
  for (const std::string& target :
       {"/addresses/" + alice_address_ + "/coins", "/addresses/" + alice_address_ + "/txs/x",
        "/addresses/" + alice_address_ + "/", std::string("/addresses")}) {
    const Response res = Answer(Get(target));
    EXPECT_EQ(res.result(), status::not_found) << target;
    EXPECT_EQ(ErrorOf(res), "no such endpoint: " + target);
  }
}

TEST_F(CoinRoutesTest, AddressWithWrongMethodIs405) {
  for (const char* suffix : {"", "/utxos", "/txs"}) {
    const Response res =
        Answer(MakeRequest(bhttp::verb::delete_, "/addresses/" + alice_address_ + suffix));
    EXPECT_EQ(res.result(), status::method_not_allowed) << suffix;
    EXPECT_EQ(res[bhttp::field::allow], "GET");
  }
}

TEST_F(CoinRoutesTest, StoreErrorOnAddressIs500) {
  api_.fail_coins_ = true;
  for (const char* suffix : {"", "/utxos", "/txs"}) {
    const Response res = Answer(Get("/addresses/" + alice_address_ + suffix));
    EXPECT_EQ(res.result(), status::internal_server_error) << suffix;
    EXPECT_NE(ErrorOf(res).find("disk on fire"), std::string::npos) << suffix;
  }
}

// --- GET /addresses/{address}/utxos ----------------------------------------------

TEST_F(CoinRoutesTest, UtxosSayWhetherEachCoinIsSpendable) {
  // Tip 20, so the next block is 21; regtest coinbase maturity is 10.
  api_.coin_tip_height_ = 20;
  api_.address_coins_[alice_] = {
      {Earlier(7, 2), Coin{300, alice_, 15, false}},  // an ordinary coin: spendable
      {Earlier(8), Coin{200, alice_, 12, true}},      // 21 < 12 + 10: not yet
      {Earlier(9), Coin{100, alice_, 11, true}},      // 21 >= 11 + 10: mature
  };
  const Response res = Answer(Get("/addresses/" + alice_address_ + "/utxos"));
  EXPECT_EQ(res.result(), status::ok);
  auto coin = [](std::uint8_t n, int vout, int amount, int height, bool coinbase, int confirmations,
                 bool spendable) {
    return "{\"txid\":\"" + HexEncode(Earlier(n).txid) + "\",\"vout\":" + std::to_string(vout) +
           ",\"amount\":" + std::to_string(amount) + ",\"height\":" + std::to_string(height) +
           ",\"coinbase\":" + (coinbase ? "true" : "false") +
           ",\"confirmations\":" + std::to_string(confirmations) +
           ",\"spendable\":" + (spendable ? "true" : "false") + ",\"spentInMempool\":null}";
  };
  EXPECT_EQ(res.body(), "{\"address\":\"" + alice_address_ + "\",\"utxos\":[" +
                            coin(7, 2, 300, 15, false, 6, true) + "," +
                            coin(8, 0, 200, 12, true, 9, false) + "," +
                            coin(9, 0, 100, 11, true, 10, true) + "],\"offset\":0,\"limit\":50}");
  EXPECT_EQ(api_.page_calls(), (std::vector<FakeNodeApi::PageCall>{{0, 50}}));
}

TEST_F(CoinRoutesTest, UtxosArePaged) {
  for (std::uint8_t n = 0; n < 5; ++n) {
    api_.address_coins_[alice_].push_back({Earlier(n), Coin{n, alice_, 1, false}});
  }
  const Response res = Answer(Get("/addresses/" + alice_address_ + "/utxos?offset=3&limit=10"));
  EXPECT_EQ(res.result(), status::ok);
  const auto body = BodyJson(res);
  EXPECT_EQ(body.at("offset").as_int64(), 3);
  EXPECT_EQ(body.at("limit").as_int64(), 10);
  ASSERT_EQ(body.at("utxos").as_array().size(), 2u);
  EXPECT_EQ(body.at("utxos").as_array()[0].at("amount").as_int64(), 3);
  EXPECT_EQ(api_.page_calls(), (std::vector<FakeNodeApi::PageCall>{{3, 10}}));

  const auto past = BodyJson(Answer(Get("/addresses/" + alice_address_ + "/utxos?offset=9")));
  EXPECT_TRUE(past.at("utxos").as_array().empty());
}

// --- GET /addresses/{address}/txs ------------------------------------------------

TEST_F(CoinRoutesTest, TxsListTheAddressHistory) {
  api_.address_txs_[alice_] = {{txids_[2], 5, 2, block_.hash}, {txids_[1], 5, 1, block_.hash}};
  const Response res = Answer(Get("/addresses/" + alice_address_ + "/txs?limit=7"));
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(res.body(), "{\"address\":\"" + alice_address_ + "\",\"txs\":[{\"txid\":\"" +
                            HexEncode(txids_[2]) + "\",\"height\":5,\"index\":2,\"blockHash\":\"" +
                            HexEncode(block_.hash) + "\"},{\"txid\":\"" + HexEncode(txids_[1]) +
                            "\",\"height\":5,\"index\":1,\"blockHash\":\"" +
                            HexEncode(block_.hash) + "\"}],\"offset\":0,\"limit\":7}");
  EXPECT_EQ(api_.page_calls(), (std::vector<FakeNodeApi::PageCall>{{0, 7}}));

  const auto second =
      BodyJson(Answer(Get("/addresses/" + alice_address_ + "/txs?offset=1&limit=1")));
  ASSERT_EQ(second.at("txs").as_array().size(), 1u);
  EXPECT_EQ(second.at("txs").as_array()[0].at("index").as_int64(), 1);
}

TEST_F(CoinRoutesTest, BadPagingIs400NamingTheParameter) {
  struct Case {
    const char* query;
    const char* message;
  };
  for (const Case& c : {
           Case{"limit=501", "query parameter 'limit' must be a decimal integer from 0 to 500"},
           Case{"limit=-1", "query parameter 'limit' must be a decimal integer from 0 to 500"},
           Case{"limit=", "query parameter 'limit' must be a decimal integer from 0 to 500"},
           Case{"offset=10000001",
                "query parameter 'offset' must be a decimal integer from 0 to 10000000"},
           Case{"offset=abc",
                "query parameter 'offset' must be a decimal integer from 0 to 10000000"},
           Case{"offset=1&offset=1", "query parameter 'offset' is given more than once"},
       }) {
    for (const char* suffix : {"/utxos?", "/txs?"}) {
      const Response res = Answer(Get("/addresses/" + alice_address_ + suffix + c.query));
      EXPECT_EQ(res.result(), status::bad_request) << suffix << c.query;
      EXPECT_EQ(ErrorOf(res), c.message) << suffix << c.query;
    }
  }
  EXPECT_TRUE(api_.page_calls().empty());
}

TEST_F(CoinRoutesTest, PagingLimitsAreInclusive) {
  for (const char* suffix : {"/utxos", "/txs"}) {
    const Response res =
        Answer(Get("/addresses/" + alice_address_ + suffix + "?limit=500&offset=10000000"));
    EXPECT_EQ(res.result(), status::ok) << suffix;
    EXPECT_EQ(BodyJson(res).at("limit").as_int64(), 500);
  }
  EXPECT_EQ(api_.page_calls(),
            (std::vector<FakeNodeApi::PageCall>{{10'000'000, 500}, {10'000'000, 500}}));
}

// The summary takes no query: one given is ignored, as elsewhere.
TEST_F(CoinRoutesTest, SummaryIgnoresAQuery) {
  EXPECT_EQ(Answer(Get("/addresses/" + alice_address_ + "?limit=9999")).result(), status::ok);
}

// --- POST /mine with transactions ----------------------------------------------

std::string MineBody(const std::string& data, const std::vector<Transaction>& txs) {
  std::string body = "{\"data\":" + data + ",\"txs\":[";
  for (std::size_t i = 0; i < txs.size(); ++i) {
    if (i > 0) body += ',';
    body += CanonicalTxBytes(txs[i]);
  }
  return body + "]}";
}

TEST_F(CoinRoutesTest, MineCarriesTheTransactionsAndTheirFees) {
  const std::vector<Transaction> txs = {block_.txs[1], block_.txs[2]};
  const RouteResult r = router_.Route(testing::Post("/mine", MineBody("\"pay\"", txs)));
  ASSERT_TRUE(std::holds_alternative<MineRequest>(r)) << ResponseOf(r).body();
  const MineRequest& mine = std::get<MineRequest>(r);
  EXPECT_EQ(mine.canonical_data, "\"pay\"");
  EXPECT_EQ(mine.txs, txs);
  EXPECT_EQ(mine.fees, 2000u);  // what the fake node's check answers
  // Without "txs", or with an empty array, nothing is checked.
  for (const char* body : {R"({"data":1})", R"({"data":1,"txs":[]})"}) {
    const RouteResult plain = router_.Route(testing::Post("/mine", body));
    ASSERT_TRUE(std::holds_alternative<MineRequest>(plain)) << body;
    EXPECT_TRUE(std::get<MineRequest>(plain).txs.empty());
    EXPECT_EQ(std::get<MineRequest>(plain).fees, 0u);
  }
}

TEST_F(CoinRoutesTest, MineWithMalformedTxsIs400NamingTheIndex) {
  const std::string good = CanonicalTxBytes(block_.txs[1]);
  struct Case {
    std::string txs;
    std::string error;
  };
  for (const Case& c : {
           Case{"{}", "\"txs\" must be an array of transactions"},
           Case{"\"a string\"", "\"txs\" must be an array of transactions"},
           Case{"[" + good + ",1]", "txs[1]: "},
           Case{"[" + good + "," + good.substr(0, good.size() - 1) + ",\"x\":1}]",
                "txs[1]: transaction: unknown member 'x'"},
       }) {
    const Response res = Answer(testing::Post("/mine", "{\"data\":1,\"txs\":" + c.txs + "}"));
    EXPECT_EQ(res.result(), status::bad_request) << c.txs;
    EXPECT_NE(ErrorOf(res).find(c.error), std::string::npos) << ErrorOf(res);
  }
  EXPECT_TRUE(api_.TakeMines().empty());
}

TEST_F(CoinRoutesTest, MineWithATransactionBreakingARuleIs400) {
  Transaction bad = block_.txs[2];
  bad.version = 2;  // the fake node's check refuses it
  const Response res = Answer(testing::Post("/mine", MineBody("1", {block_.txs[1], bad})));
  EXPECT_EQ(res.result(), status::bad_request);
  EXPECT_EQ(ErrorOf(res), "txs[1] bad-version: not version 1");
}

TEST_F(CoinRoutesTest, MineLeavesRoomForTheCoinbase) {
  const std::size_t coinbase = MaxCoinbaseSize(kHrp);
  // The largest coinbase this form allows is what the room is kept for.
  Transaction largest = Coinbase(std::numeric_limits<std::uint64_t>::max(), alice_, kMaxMoney);
  EXPECT_EQ(CanonicalTxSize(largest), coinbase);
  const std::string tx = CanonicalTxBytes(block_.txs[1]);
  // Room for exactly the data and the one transaction: accepted; a byte
  // more of data: 413, naming the sizes.
  api_.status_.params.max_block_bytes = kHeaderSize + coinbase + 3 + tx.size();
  EXPECT_TRUE(std::holds_alternative<MineRequest>(
      router_.Route(testing::Post("/mine", MineBody("123", {block_.txs[1]})))));
  const Response res = Answer(testing::Post("/mine", MineBody("1234", {block_.txs[1]})));
  EXPECT_EQ(res.result(), status::payload_too_large);
  EXPECT_EQ(ErrorOf(res), "\"data\" and \"txs\" are " + std::to_string(4 + tx.size()) +
                              " bytes in canonical JSON; a block has room for " +
                              std::to_string(3 + tx.size()) + " (" +
                              std::to_string(api_.status_.params.max_block_bytes) +
                              " bytes less the 96-byte header and " + std::to_string(coinbase) +
                              " kept for a coinbase)");
}

// --- ParsePageQuery ------------------------------------------------------------

TEST(PageQueryTest, DefaultsAndValues) {
  struct Case {
    const char* query;
    std::uint64_t offset;
    std::uint64_t limit;
  };
  for (const Case& c : {
           Case{"", 0, 50}, Case{"limit=0", 0, 0}, Case{"offset=7", 7, 50},
           Case{"offset=007&limit=020", 7, 20}, Case{"limit=500&offset=10000000", 10'000'000, 500},
           Case{"from=3&x&offset=1&", 1, 50},  // other parameters are ignored
       }) {
    const auto q = ParsePageQuery(c.query);
    ASSERT_TRUE(q.ok()) << c.query << ": " << q.error();
    EXPECT_EQ(*q, (PageQuery{c.offset, c.limit})) << c.query;
  }
}

TEST(PageQueryTest, RefusesOutOfRangeAndMalformed) {
  for (const char* query : {"limit=501", "limit=18446744073709551616", "limit=1.0", "limit=+1",
                            "offset=10000001", "offset=%31", "offset", "limit=1&limit=2"}) {
    EXPECT_FALSE(ParsePageQuery(query).ok()) << query;
  }
}

}  // namespace
}  // namespace powchain::http
