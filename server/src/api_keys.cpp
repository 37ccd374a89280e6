#include "plinth/server/api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace plinth::server {

namespace {

constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::string_view kKeyPrefix = "sk-plinth-";
constexpr std::size_t kKeyRandomBytes = 32;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase too: one spelling per hash keeps duplicate detection a byte comparison
}

std::string base64url(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size - i == 1) {
    const unsigned v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (size - i == 2) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

KeyHash sha256_of(std::string_view data) {
  KeyHash hash{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), hash.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != hash.size()) {
    throw std::runtime_error("SHA-256 failed in libcrypto (EVP_Digest)");
  }
  return hash;
}

std::string format_key_hash(const KeyHash& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kHashPrefix);
  for (const unsigned char b : hash) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::optional<KeyHash> parse_key_hash(std::string_view text) {
  if (text.size() != kHashPrefix.size() + 64 || text.substr(0, kHashPrefix.size()) != kHashPrefix)
    return std::nullopt;
  text.remove_prefix(kHashPrefix.size());
  KeyHash hash{};
  for (std::size_t i = 0; i < hash.size(); ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    hash[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return hash;
}

std::string generate_api_key() {
  unsigned char random[kKeyRandomBytes];
  if (RAND_bytes(random, sizeof random) != 1) {
    throw std::runtime_error("cannot generate an API key: the random generator failed (RAND_bytes)");
  }
  std::string key = std::string(kKeyPrefix) + base64url(random, sizeof random);
  OPENSSL_cleanse(random, sizeof random);  // the only other copy of the key's secret
  return key;
}

KeyStore::KeyStore(std::span<const KeyRecord> records) {
  hashes_.reserve(records.size());
  tenants_.reserve(records.size());
  for (const KeyRecord& r : records) {
    hashes_.push_back(r.sha256);
    tenants_.push_back(r.tenant);
  }
}

std::optional<std::string> KeyStore::tenant_for(std::string_view presented_key) const {
  if (presented_key.empty()) return std::nullopt;
  const KeyHash presented = sha256_of(presented_key);
  // Every record is compared, and the first match is selected with masks rather than a branch, so the
  // loop takes the same time for a match at any position as for no match at all.
  std::size_t match = 0;
  std::size_t found = 0;  // all ones once a record matched
  for (std::size_t i = 0; i < hashes_.size(); ++i) {
    const std::size_t equal =
        static_cast<std::size_t>(CRYPTO_memcmp(presented.data(), hashes_[i].data(), presented.size()) == 0);
    const std::size_t take = (std::size_t{0} - equal) & ~found;
    match = (match & ~take) | (i & take);
    found |= take;
  }
  if (found == 0) return std::nullopt;
  return tenants_[match];
}

std::optional<std::string_view> KeyStore::bearer_token(std::string_view value) {
  static constexpr std::string_view kScheme = "bearer";
  value = trim_spaces(value);
  if (value.size() <= kScheme.size() || !is_space(value[kScheme.size()])) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = value[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kScheme[i]) return std::nullopt;
  }
  const std::string_view token = trim_spaces(value.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  for (const char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  return token;
}

}  // namespace plinth::server
