#include "wallet/wallet_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "primitives/address.h"
#include "wallet/commands.h"
#include "wallet/wallet.h"

namespace powchain::wallet {
namespace {

// Cheap scrypt parameters: the tests check the format, not the cost.
constexpr ScryptParams kFastScrypt{.n = 1024, .r = 8, .p = 1};

class WalletFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wallet_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p, std::ios::trunc) << text;
  }

  std::filesystem::path dir_;
};

TEST_F(WalletFileTest, PlainWalletRoundTripsWithMode0600) {
  const auto path = dir_ / "w.json";
  auto w = WalletFile::Create(path, Params::Regtest(), std::nullopt);
  ASSERT_TRUE(w) << w.error();
  EXPECT_FALSE(w->encrypted());
  ASSERT_EQ(w->addresses().size(), 1u);
  EXPECT_EQ(w->addresses()[0].rfind("powrt1p", 0), 0u);
  auto second = w->NewAddress();
  ASSERT_TRUE(second);
  ASSERT_TRUE(w->Save());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto again = WalletFile::Open(path);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->addresses(), w->addresses());
  ASSERT_NE(again->SecretFor(again->pubkeys()[1]), nullptr);
  EXPECT_EQ(PublicKeyOf(*again->SecretFor(again->pubkeys()[1])), w->pubkeys()[1]);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST_F(WalletFileTest, CreateRefusesAnExistingFile) {
  const auto path = dir_ / "w.json";
  Write(path, "precious");
  auto w = WalletFile::Create(path, Params::Regtest(), std::nullopt);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().find("exists already"), std::string::npos) << w.error();
  EXPECT_EQ(Read(path), "precious");
}

TEST_F(WalletFileTest, EncryptedWalletNeedsTheRightPassphrase) {
  const auto path = dir_ / "w.json";
  auto w = WalletFile::Create(path, Params::Regtest(), std::string("correct horse"), kFastScrypt);
  ASSERT_TRUE(w) << w.error();
  const std::string text = Read(path);
  EXPECT_NE(text.find("\"kdf\":\"scrypt\""), std::string::npos);
  EXPECT_NE(text.find("aes-256-gcm"), std::string::npos);

  auto locked = WalletFile::Open(path);
  ASSERT_TRUE(locked) << locked.error();
  EXPECT_TRUE(locked->encrypted());
  EXPECT_TRUE(locked->locked());
  EXPECT_EQ(locked->addresses(), w->addresses());  // readable without the passphrase
  EXPECT_EQ(locked->SecretFor(locked->pubkeys()[0]), nullptr);
  EXPECT_FALSE(locked->NewAddress());

  Status wrong = locked->Unlock("correct horsf");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().find("wrong passphrase"), std::string::npos) << wrong.error();
  EXPECT_TRUE(locked->locked());
  ASSERT_TRUE(locked->Unlock("correct horse"));
  ASSERT_NE(locked->SecretFor(locked->pubkeys()[0]), nullptr);

  // A new key is sealed again (with a fresh nonce); the old passphrase opens it.
  ASSERT_TRUE(locked->NewAddress());
  ASSERT_TRUE(locked->Save());
  EXPECT_EQ(Read(path).find(text.substr(text.find("\"nonce\""), 40)), std::string::npos);
  auto reopened = WalletFile::Open(path);
  ASSERT_TRUE(reopened);
  ASSERT_TRUE(reopened->Unlock("correct horse"));
  EXPECT_EQ(reopened->addresses().size(), 2u);
}

TEST_F(WalletFileTest, SavingWhileLockedKeepsTheSealedKeys) {
  const auto path = dir_ / "w.json";
  ASSERT_TRUE(WalletFile::Create(path, Params::Regtest(), std::string("pw"), kFastScrypt));
  auto locked = WalletFile::Open(path);
  ASSERT_TRUE(locked);
  ASSERT_TRUE(locked->Save());  // e.g. after forgetting a confirmed transaction
  auto again = WalletFile::Open(path);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->Unlock("pw"));
}

TEST_F(WalletFileTest, DamagedFilesAreClearErrors) {
  const auto path = dir_ / "w.json";
  ASSERT_TRUE(WalletFile::Create(path, Params::Regtest(), std::string("pw"), kFastScrypt));
  const std::string good = Read(path);
  auto expect_damaged = [&](const std::string& text, const std::string& what) {
    Write(path, text);
    auto w = WalletFile::Open(path);
    std::string error = w ? "" : w.error();
    if (w) {
      Status s = w->Unlock("pw");
      error = s ? "" : s.error();
    }
    EXPECT_FALSE(error.empty()) << what;
    EXPECT_TRUE(error.find("damaged") != std::string::npos ||
                error.find("wrong passphrase") != std::string::npos)
        << what << ": " << error;
  };
  expect_damaged(good.substr(0, good.size() / 2), "truncated");
  expect_damaged("", "empty");
  expect_damaged("[]", "not an object");
  std::string other = good;
  other.replace(other.find("\"network\":\"regtest\""), 19, "\"network\":\"main\"");
  expect_damaged(other, "network changed");
  std::string key_flip = good;
  const auto keys = key_flip.find("\"keys\":\"") + 8;
  key_flip[keys] = key_flip[keys] == '0' ? '1' : '0';
  expect_damaged(key_flip, "sealed keys changed");
  std::string salt = good;
  salt.replace(salt.find("\"n\":1024"), 8, "\"n\":1000");
  expect_damaged(salt, "scrypt n not a power of two");
  std::string huge = good;
  huge.replace(huge.find("\"n\":1024"), 8, "\"n\":1099511627776");
  expect_damaged(huge, "scrypt n beyond the limit");

  // Another wallet's address in place of ours: the seal covers the list.
  auto other_wallet = WalletFile::Create(dir_ / "o.json", Params::Regtest(), std::nullopt);
  ASSERT_TRUE(other_wallet);
  std::string swapped = good;
  const std::string ours = good.substr(good.find("powrt1p"), other_wallet->addresses()[0].size());
  swapped.replace(swapped.find(ours), ours.size(), other_wallet->addresses()[0]);
  expect_damaged(swapped, "address swapped");
}

TEST_F(WalletFileTest, PlainKeyThatDoesNotMatchItsAddressIsRefused) {
  const auto a = dir_ / "a.json";
  const auto b = dir_ / "b.json";
  ASSERT_TRUE(WalletFile::Create(a, Params::Regtest(), std::nullopt));
  ASSERT_TRUE(WalletFile::Create(b, Params::Regtest(), std::nullopt));
  std::string text = Read(a);
  const std::string b_text = Read(b);
  const auto key_at = [](const std::string& t) { return t.find("\"keys\":[\"") + 9; };
  text.replace(key_at(text), 64, b_text.substr(key_at(b_text), 64));
  Write(a, text);
  auto w = WalletFile::Open(a);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().find("does not match"), std::string::npos) << w.error();
}

TEST(CoinsTextTest, ParsesAndFormatsAmounts) {
  EXPECT_EQ(*ParseCoins("1.5"), 150'000'000u);
  EXPECT_EQ(*ParseCoins("0.00000001"), 1u);
  EXPECT_EQ(*ParseCoins("21000000"), kMaxMoney);
  EXPECT_EQ(*ParseCoins(".5"), 50'000'000u);
  for (const char* bad :
       {"", ".", "1.", "1.000000001", "-1", "1e3", "abc", "1,5", "21000000.1", "99999999999"}) {
    EXPECT_FALSE(ParseCoins(bad)) << bad;
  }
  EXPECT_EQ(FormatCoins(150'000'000), "1.50000000");
  EXPECT_EQ(FormatCoins(-1), "-0.00000001");
  EXPECT_EQ(FormatCoins(0), "0.00000000");
}

TEST(PrettyJsonTest, IndentsAndKeepsStrings) {
  EXPECT_EQ(PrettyJson(R"({"a":[1,2],"b":{},"c":"x,{:}\"y"})"),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": \"x,{:}\\\"y\"\n}");
  EXPECT_EQ(PrettyJson("{\"unclosed\":["), "{\"unclosed\":[");
  EXPECT_EQ(MineBody("{\"k\":1}"), "{\"data\":{\"k\":1}}");
  EXPECT_EQ(MineBody("hello \"you\""), "{\"data\":\"hello \\\"you\\\"\"}");
}

}  // namespace
}  // namespace powchain::wallet
