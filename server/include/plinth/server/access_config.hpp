// The server's access configuration: which tenants exist, what each may do (fair-share weight, rate
// limits, queue bounds, models), and which API keys belong to which tenant. It is read from a TOML
// file (`plinth keys check --config FILE` checks one as the server would) and is not changed once
// parsed: KeyStore and RateLimiter are built from it.
//
// The file (docs/server-config.md has the same text with a longer example):
//
//   [[tenant]]                  # one table per tenant, any number
//   name = "acme"               # required; 1-64 characters from A-Z a-z 0-9 . _ - ; unique;
//                               # "default" is reserved for [default_tenant]
//   weight = 2.0                # > 0; share of tokens relative to other busy tenants (default 1)
//   requests_per_minute = 600   # >= 0; 0 or absent: unlimited
//   request_burst = 20          # 0 or >= 1; requests allowed at once; 0 or absent: ten seconds'
//                               # worth of the rate, at least 1 (effective_request_burst())
//   tokens_per_minute = 200000  # >= 0; prompt + generated tokens; 0 or absent: unlimited
//   max_queued = 64             # integer >= 1; waiting requests (default 256)
//   max_running = 16            # integer >= 1; requests admitted and not finished (default 64)
//   models = ["SmolLM2-135M-Instruct", "all-MiniLM-L6-v2"]  # absent or []: every model
//
//   [[key]]                     # one table per API key, any number
//   tenant = "acme"             # required; a declared [[tenant]], or "default"
//   sha256 = "sha256:<64 hex>"  # required; SHA-256 of the key, lowercase hex (`plinth keys hash`);
//                               # the key itself is never stored; unique
//   label = "acme-prod"         # optional; who holds the key, for people and logs
//
//   [default_tenant]            # optional; the same fields as [[tenant]] except name
//   requests_per_minute = 60
//
// With no [[key]] the server runs in open mode: no key is asked for and every request belongs to the
// tenant "default", whose settings are [default_tenant] (or the defaults above). Numbers may be
// written as integers or floats, except max_queued and max_running, which are integers.
//
// Every mistake is an error, never a silent default: a syntax error, an unknown key (a misspelt
// `requests_per_minte` would otherwise leave a tenant unlimited), a value of the wrong type, a
// negative, infinite or NaN number, a weight <= 0, a tenant declared twice, a key naming an
// undeclared tenant, a malformed hash, two keys with the same hash. Each throws ConfigError with
// "source:line:column: what is wrong", naming the key.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/scheduler/tenant_fairness.hpp"

namespace plinth::server {

// A mistake in an access configuration. what(): "source:line:column: what is wrong", or
// "path: cannot read: <errno text>" for a file that cannot be read.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::string_view kDefaultTenantName = "default";
// Queue bounds when a tenant sets none: generous enough for one busy client's concurrency, small
// enough that one tenant cannot hold the whole server's queue.
inline constexpr std::size_t kDefaultMaxQueued = 256;
inline constexpr std::size_t kDefaultMaxRunning = 64;
// request_burst = 0 means this many seconds' worth of requests_per_minute (at least 1).
inline constexpr double kDefaultBurstSeconds = 10;

struct TenantSettings {
  std::string name;
  double weight = 1;               // > 0
  double requests_per_minute = 0;  // 0: unlimited
  double request_burst = 0;        // 0: effective_request_burst() derives it from the rate; else >= 1
  double tokens_per_minute = 0;    // 0: unlimited; prompt + generated tokens
  std::size_t max_queued = kDefaultMaxQueued;
  std::size_t max_running = kDefaultMaxRunning;
  std::vector<std::string> models;  // empty: every model

  // The scheduler's view: weight and queue bounds.
  scheduler::TenantPolicy policy() const;
  // True when `models` is empty or holds `model` exactly.
  bool allows_model(std::string_view model) const;
  // request_burst, or when it is 0, kDefaultBurstSeconds of requests_per_minute rounded up (>= 1).
  // Meaningless while requests_per_minute is 0 (unlimited).
  double effective_request_burst() const;
};

// One API key, known only by its hash.
struct KeyRecord {
  std::string tenant;
  std::array<unsigned char, 32> sha256{};
  std::string label;  // optional: who holds the key; never the key itself
};

struct AccessConfig {
  std::vector<TenantSettings> tenants;
  std::vector<KeyRecord> keys;
  TenantSettings default_tenant = [] {  // the tenant of open mode, and of names not declared
    TenantSettings t;
    t.name = kDefaultTenantName;
    return t;
  }();

  // No keys: every request is accepted, as tenant "default".
  bool open_mode() const { return keys.empty(); }
  // The declared tenant of that name, &default_tenant for "default", else nullptr. The pointer lives
  // as long as this config is not modified.
  const TenantSettings* find_tenant(std::string_view name) const;
};

// Parses the TOML text of an access configuration. `source_name` (usually the file's path) starts
// every error message. Throws ConfigError.
AccessConfig parse_access_config(std::string_view toml_text, std::string_view source_name);

// Reads and parses a file. Throws ConfigError, also when the file cannot be read (naming the path and
// the system's reason).
AccessConfig load_access_config(const std::filesystem::path& path);

// True for 1-64 characters from A-Z a-z 0-9 . _ - : tenant names reach log lines, metric labels and
// HTTP headers, where anything else would need escaping.
bool is_valid_tenant_name(std::string_view name);

// The `[[key]]` table for `record`, ending in a newline, with its strings escaped: what `plinth keys
// new` prints to paste into a configuration (parse_access_config reads it back unchanged).
std::string format_key_record(const KeyRecord& record);

}  // namespace plinth::server
