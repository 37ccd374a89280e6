// API keys: hashing against published SHA-256 vectors, the "sha256:" form, generated keys, lookups
// by KeyStore, and the Authorization header's Bearer token.
#include "plinth/server/api_keys.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace plinth::server {
namespace {

TEST(ApiKeys, Sha256TestVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(format_key_hash(sha256_of("abc")),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(format_key_hash(sha256_of("")),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(format_key_hash(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string with_nul("a\0b", 3);  // a key is bytes, not a C string
  EXPECT_NE(sha256_of(with_nul), sha256_of("a"));
}

TEST(ApiKeys, ParseKeyHashIsTheInverseOfFormat) {
  const KeyHash h = sha256_of("abc");
  EXPECT_EQ(parse_key_hash(format_key_hash(h)), h);
  const std::string text = format_key_hash(h);
  EXPECT_FALSE(parse_key_hash(text.substr(7)));
  EXPECT_FALSE(parse_key_hash(text.substr(0, text.size() - 1)));
  EXPECT_FALSE(parse_key_hash(text + "a"));
  EXPECT_FALSE(parse_key_hash("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  EXPECT_FALSE(parse_key_hash("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015az"));
  EXPECT_FALSE(parse_key_hash(""));
}

TEST(ApiKeys, GeneratedKeys) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string key = generate_api_key();
    ASSERT_EQ(key.rfind("sk-plinth-", 0), 0u) << key;
    ASSERT_EQ(key.size(), 10u + 43u) << key;  // 32 bytes in unpadded base64url
    for (const char c : key.substr(10)) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << key;
    }
    EXPECT_TRUE(KeyStore::bearer_token("Bearer " + key));
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), 100u);
}

std::vector<KeyRecord> records_for(const std::vector<std::pair<std::string, std::string>>& key_tenants) {
  std::vector<KeyRecord> records;
  records.reserve(key_tenants.size());
  for (const auto& [key, tenant] : key_tenants)
    records.push_back({tenant, sha256_of(key), "label of " + key});
  return records;
}

TEST(KeyStore, FindsTheTenantOfEachKey) {
  const auto records =
      records_for({{"sk-a", "alpha"}, {"sk-b", "beta"}, {"sk-c", "gamma"}, {"sk-d", "alpha"}});
  const KeyStore store(records);
  EXPECT_EQ(store.size(), 4u);
  EXPECT_EQ(store.tenant_for("sk-a"), "alpha");  // first
  EXPECT_EQ(store.tenant_for("sk-b"), "beta");
  EXPECT_EQ(store.tenant_for("sk-c"), "gamma");
  EXPECT_EQ(store.tenant_for("sk-d"), "alpha");  // last
}

TEST(KeyStore, RefusesOtherKeys) {
  const auto records = records_for({{"sk-plinth-secret", "alpha"}});
  const KeyStore store(records);
  EXPECT_FALSE(store.tenant_for("sk-plinth-secreT"));
  EXPECT_FALSE(store.tenant_for("sk-plinth-secret "));
  EXPECT_FALSE(store.tenant_for("sk-plinth-secre"));
  EXPECT_FALSE(store.tenant_for(""));
  // The hash is not the key: presenting the stored hash gets nothing.
  EXPECT_FALSE(store.tenant_for(format_key_hash(sha256_of("sk-plinth-secret"))));
}

TEST(KeyStore, NoRecords) {
  const KeyStore store(std::span<const KeyRecord>{});
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.tenant_for("sk-anything"));
  EXPECT_FALSE(store.tenant_for(""));
}

TEST(KeyStore, EmptyKeyNeverMatchesEvenIfItsHashIsListed) {
  const auto records = records_for({{"", "alpha"}});
  EXPECT_FALSE(KeyStore(records).tenant_for(""));
}

TEST(KeyStore, DuplicateHashesGiveTheFirstRecord) {
  // parse_access_config refuses duplicates; a store built by hand still answers deterministically.
  const auto records = records_for({{"sk-x", "first"}, {"sk-y", "other"}, {"sk-x", "second"}});
  EXPECT_EQ(KeyStore(records).tenant_for("sk-x"), "first");
}

TEST(KeyStore, CopiesItsRecords) {
  auto records = records_for({{"sk-a", "alpha"}});
  const KeyStore store(records);
  records.clear();
  EXPECT_EQ(store.tenant_for("sk-a"), "alpha");
}

TEST(BearerToken, Accepted) {
  using T = std::optional<std::string_view>;
  EXPECT_EQ(KeyStore::bearer_token("Bearer abc"), T("abc"));
  EXPECT_EQ(KeyStore::bearer_token("bearer abc"), T("abc"));
  EXPECT_EQ(KeyStore::bearer_token("BEARER abc"), T("abc"));
  EXPECT_EQ(KeyStore::bearer_token("bEaReR abc"), T("abc"));
  EXPECT_EQ(KeyStore::bearer_token("  Bearer   abc  "), T("abc"));
  EXPECT_EQ(KeyStore::bearer_token("\tBearer\tabc\t"), T("abc"));
  EXPECT_EQ(KeyStore::bearer_token("Bearer sk-plinth-a_b-c=="), T("sk-plinth-a_b-c=="));
  EXPECT_EQ(KeyStore::bearer_token("Bearer a/b+c.d~e"), T("a/b+c.d~e"));
}

TEST(BearerToken, Refused) {
  for (const char* value : {"", " ", "Bearer", "Bearer ", "Bearer  \t ", "Bearerabc", "Basic abc",
                            "Token abc", "Bearer a b", "Bearer a\tb", "Bearer abc\r", "Bearer a\nb",
                            "Bearer a\x7f", "Bearer: abc", "Bear abc", "abc", "Bearer\r\nabc"}) {
    EXPECT_FALSE(KeyStore::bearer_token(value)) << "'" << value << "'";
  }
  EXPECT_FALSE(KeyStore::bearer_token(std::string_view("Bearer a\0b", 10)));
}

TEST(BearerToken, PointsIntoTheArgument) {
  const std::string header = " Bearer sk-1 ";
  const auto token = KeyStore::bearer_token(header);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->data(), header.data() + 8);
  EXPECT_EQ(token->size(), 4u);
}

}  // namespace
}  // namespace plinth::server
