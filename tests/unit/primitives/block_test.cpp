#include "primitives/block.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "crypto/sha256.h"
#include "primitives/block_json.h"
#include "primitives/canonical_json.h"
#include "util/hex.h"

namespace powchain {
namespace {

BlockHeader SampleHeader() {
  BlockHeader h;
  h.version = 1;
  h.height = 0x0102030405060708ull;
  for (int i = 0; i < 32; ++i) {
    h.last_hash[i] = static_cast<std::uint8_t>(i);
    h.data_hash[i] = static_cast<std::uint8_t>(0xa0 + i);
  }
  h.timestamp = 0x1122334455667788ull;
  h.difficulty = 0xdeadbeef;
  h.nonce = 0x99aabbccddeeff00ull;
  return h;
}

TEST(BlockHeaderTest, SerializesFieldsInSpecOrderLittleEndian) {
  const BlockHeader h = SampleHeader();
  const auto b = h.Serialize();
  ASSERT_EQ(b.size(), 96u);
  EXPECT_EQ(ReadLE32(&b[0]), 1u);
  EXPECT_EQ(ReadLE64(&b[4]), h.height);
  EXPECT_EQ(b[4], 0x08);  // least significant byte first
  EXPECT_TRUE(std::equal(h.last_hash.begin(), h.last_hash.end(), b.begin() + 12));
  EXPECT_TRUE(std::equal(h.data_hash.begin(), h.data_hash.end(), b.begin() + 44));
  EXPECT_EQ(ReadLE64(&b[kTimestampOffset]), h.timestamp);
  EXPECT_EQ(ReadLE32(&b[kDifficultyOffset]), h.difficulty);
  EXPECT_EQ(ReadLE64(&b[kNonceOffset]), h.nonce);
  // Everything a miner varies sits after the first 64 bytes.
  EXPECT_GE(kTimestampOffset, kHeaderMidstateBytes);
}

// Vectors computed by tests/vectors/header_vectors.py (Python struct + hashlib).
TEST(BlockHeaderTest, KnownAnswerVectors) {
  const auto path =
      std::filesystem::path(__FILE__).parent_path() / "../../vectors/header_hashes.txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    BlockHeader h;
    std::string last, data_hash, serialized, hash;
    fields >> h.version >> h.height >> last >> data_hash >> h.timestamp >> h.difficulty >>
        h.nonce >> serialized >> hash;
    ASSERT_TRUE(fields) << line;
    h.last_hash = *HexToHash32(last);
    h.data_hash = *HexToHash32(data_hash);
    EXPECT_EQ(HexEncode(h.Serialize()), serialized);
    EXPECT_EQ(HexEncode(h.ComputeHash()), hash);
    ++count;
  }
  EXPECT_EQ(count, 4);
}

RC_GTEST_PROP(BlockHeaderTest, SerializationRoundTrips,
              (std::uint32_t version, std::uint64_t height, std::uint64_t ts, std::uint32_t diff,
               std::uint64_t nonce, std::uint8_t fill)) {
  BlockHeader h;
  h.version = version;
  h.height = height;
  h.last_hash.fill(fill);
  h.data_hash.fill(static_cast<std::uint8_t>(~fill));
  h.timestamp = ts;
  h.difficulty = diff;
  h.nonce = nonce;
  const auto bytes = h.Serialize();
  RC_ASSERT(BlockHeader::Deserialize(bytes) == h);
  RC_ASSERT(h.ComputeHash() == Sha256(bytes));
}

Block SampleBlock(const std::string& data_json) {
  BlockHeader h = SampleHeader();
  std::string data = *CanonicalizeJsonText(data_json);
  h.data_hash = Sha256(ByteSpan(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  return MakeBlock(h, data);
}

TEST(BlockJsonTest, RoundTrips) {
  for (const char* data : {"null", "\"tx\"", "{\"b\":[1,2],\"a\":{\"c\":\"\\u00e9\"}}", "1e21"}) {
    const Block b = SampleBlock(data);
    const std::string json = BlockToJson(b);
    auto back = BlockFromJsonText(json);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(*back, b);
    EXPECT_EQ(BlockToJson(*back), json);
  }
}

TEST(BlockJsonTest, WritesSpecFieldNames) {
  const Block b = SampleBlock("\"x\"");
  const std::string json = BlockToJson(b);
  for (const char* field :
       {"\"version\":1,", "\"height\":", "\"lastHash\":\"0001", "\"dataHash\":\"",
        "\"timestamp\":", "\"difficulty\":3735928559,", "\"nonce\":11072869122414935808,",
        "\"hash\":\"", "\"data\":\"x\",", "\"txs\":[]}"}) {
    EXPECT_NE(json.find(field), std::string::npos) << field << " in " << json;
  }
}

TEST(BlockJsonTest, RefusesMalformedFields) {
  const std::string good = BlockToJson(SampleBlock("1"));
  auto with = [&](const std::string& field, const std::string& value) {
    const std::string key = "\"" + field + "\":";
    std::string s = good;
    const auto start = s.find(key) + key.size();
    auto end = s.find_first_of(",}", start);
    s.replace(start, end - start, value);
    return s;
  };
  auto without = [&](const std::string& field) {
    std::string s = good;
    const auto start = s.find("\"" + field + "\":");
    const auto end = s.find_first_of(",}", start);
    s.erase(start, end - start + (s[end] == ',' ? 1 : 0));
    if (s[s.size() - 2] == ',') s.erase(s.size() - 2, 1);
    return s;
  };
  const std::vector<std::string> bad = {
      "[]",
      "null",
      "\"block\"",
      "{}",
      with("version", "4294967296"),
      with("version", "-1"),
      with("version", "1.0"),
      with("version", "\"1\""),
      with("height", "18446744073709551616"),
      with("height", "1e3"),
      with("timestamp", "true"),
      with("difficulty", "4294967296"),
      with("nonce", "-0"),
      with("lastHash", "\"00\""),
      with("lastHash", "\"" + std::string(64, 'g') + "\""),
      with("dataHash", "null"),
      with("hash", "12"),
      with("data", "9007199254740993"),
      without("version"),
      without("height"),
      without("lastHash"),
      without("dataHash"),
      without("timestamp"),
      without("difficulty"),
      without("nonce"),
      without("hash"),
      without("data"),
  };
  for (const std::string& text : bad) {
    auto r = BlockFromJsonText(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_FALSE(r.error().empty());
    }
  }
}

}  // namespace
}  // namespace powchain
