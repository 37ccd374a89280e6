// API keys: how they are made, hashed and checked. The server keeps only SHA-256 hashes of keys
// (KeyRecord), so a leaked configuration file leaks no key. A key is random enough (256 bits) that a
// plain hash needs no salt or slow KDF: nothing can be guessed from it.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/server/access_config.hpp"

namespace plinth::server {

using KeyHash = std::array<unsigned char, 32>;

// SHA-256 of `data` (OpenSSL libcrypto). Throws std::runtime_error if libcrypto fails.
KeyHash sha256_of(std::string_view data);

// "sha256:" followed by 64 lowercase hex digits: the form the configuration file holds.
std::string format_key_hash(const KeyHash& hash);

// The inverse of format_key_hash; nullopt unless `text` is exactly "sha256:" + 64 lowercase hex digits.
std::optional<KeyHash> parse_key_hash(std::string_view text);

// A new key: "sk-plinth-" followed by 32 bytes from RAND_bytes in unpadded base64url (43 characters).
// Throws std::runtime_error if the random generator fails (never a weaker key).
std::string generate_api_key();

// The keys of a configuration, answering which tenant a presented key belongs to.
class KeyStore {
 public:
  explicit KeyStore(std::span<const KeyRecord> records);

  // The tenant of `presented_key`, or nullopt (also for an empty key). The key is hashed once and the
  // hash compared with every record with CRYPTO_memcmp, without stopping at a match, so the time
  // taken does not reveal whether or which key matched. Thread-safe (const).
  std::optional<std::string> tenant_for(std::string_view presented_key) const;

  std::size_t size() const { return hashes_.size(); }

  // The token of an Authorization header value "Bearer <token>": the scheme in any case, spaces and
  // tabs around the value and between scheme and token tolerated. nullopt for another scheme, no
  // token, or a token holding whitespace or control characters. The view points into the argument.
  static std::optional<std::string_view> bearer_token(std::string_view authorization_header_value);

 private:
  std::vector<KeyHash> hashes_;       // contiguous: the loop in tenant_for touches nothing else
  std::vector<std::string> tenants_;  // tenants_[i] owns hashes_[i]
};

}  // namespace plinth::server
