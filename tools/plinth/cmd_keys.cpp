// plinth keys new|hash|check: the API keys and access configuration of `plinth serve`
// (docs/server-config.md). The server stores only keys' SHA-256 hashes, so `new` is the one moment a
// key is visible: it prints the key and the [[key]] block holding its hash, and nothing keeps the key.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "plinth/server/access_config.hpp"
#include "plinth/server/api_keys.hpp"

namespace plinth::cli {
namespace {

struct KeysArgs {
  std::string tenant;
  std::string label;
  std::string key;
  std::string config;
};

// The whole of stdin less one line end, so that `echo KEY |` and `< file` give the key itself.
std::string keys_read_stdin() {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

std::string keys_number(double value) {
  std::ostringstream out;
  out.precision(15);
  out << value;
  return out.str();
}

void keys_new(const KeysArgs& args) {
  if (args.tenant != server::kDefaultTenantName && !server::is_valid_tenant_name(args.tenant)) {
    throw std::runtime_error("--tenant '" + args.tenant +
                             "': a tenant name is 1-64 characters from A-Z a-z 0-9 . _ -");
  }
  const std::string key = server::generate_api_key();
  const server::KeyRecord record{args.tenant, server::sha256_of(key), args.label};
  const std::string block = server::format_key_record(record);
  // The block must read back (a label that is not UTF-8 would not) before a key is shown for it.
  const std::string tenant_table =
      args.tenant == server::kDefaultTenantName ? "" : "[[tenant]]\nname = \"" + args.tenant + "\"\n";
  server::parse_access_config(tenant_table + block, "the generated [[key]] block");

  std::cout << key << "\n\n" << block << std::flush;
  std::cerr
      << "plinth: the key above is shown only this once: the configuration keeps its hash, from which it "
         "cannot be recovered. Hand it over now, and paste the [[key]] block into the access configuration"
      << (args.tenant == server::kDefaultTenantName
              ? ""
              : " (tenant '" + args.tenant + "' needs its [[tenant]] table)")
      << "; `plinth keys check --config FILE` checks the result.\n";
}

void keys_hash(const KeysArgs& args) {
  const std::string key = args.key == "-" ? keys_read_stdin() : args.key;
  if (key.empty()) throw std::runtime_error("the key is empty");
  std::cout << server::format_key_hash(server::sha256_of(key)) << "\n";
}

void keys_check(const KeysArgs& args) {
  const server::AccessConfig config = server::load_access_config(args.config);
  std::map<std::string, std::size_t, std::less<>> keys_of;
  for (const server::KeyRecord& k : config.keys) ++keys_of[k.tenant];

  std::cout << args.config << ": valid; " << config.tenants.size()
            << (config.tenants.size() == 1 ? " tenant, " : " tenants, ") << config.keys.size()
            << (config.keys.size() == 1 ? " key" : " keys") << "\n";
  if (config.open_mode()) {
    std::cout << "open mode: no [[key]], so no key is asked for and every request is tenant 'default'\n";
  }
  std::vector<const server::TenantSettings*> rows;
  for (const server::TenantSettings& t : config.tenants) rows.push_back(&t);
  rows.push_back(&config.default_tenant);
  std::size_t width = 8;
  for (const server::TenantSettings* t : rows) width = std::max(width, t->name.size() + 2);

  std::cout << std::left << std::setw(static_cast<int>(width)) << "TENANT" << std::setw(6) << "KEYS"
            << std::setw(8) << "WEIGHT" << std::setw(14) << "REQUESTS/MIN" << std::setw(7) << "BURST"
            << std::setw(12) << "TOKENS/MIN" << std::setw(8) << "QUEUED" << std::setw(9) << "RUNNING"
            << "MODELS\n";
  for (const server::TenantSettings* t : rows) {
    const auto found = keys_of.find(t->name);
    const bool limited = t->requests_per_minute > 0;
    std::string models;
    for (const std::string& m : t->models) models += (models.empty() ? "" : ", ") + m;
    std::cout << std::left << std::setw(static_cast<int>(width)) << t->name << std::setw(6)
              << (found == keys_of.end() ? 0 : found->second) << std::setw(8) << keys_number(t->weight)
              << std::setw(14) << (limited ? keys_number(t->requests_per_minute) : "unlimited")
              << std::setw(7) << (limited ? keys_number(t->effective_request_burst()) : "-") << std::setw(12)
              << (t->tokens_per_minute > 0 ? keys_number(t->tokens_per_minute) : "unlimited") << std::setw(8)
              << t->max_queued << std::setw(9) << t->max_running << (models.empty() ? "all" : models) << "\n";
  }
}

}  // namespace

void add_keys_command(CLI::App& app, int& exit_code) {
  CLI::App* keys = app.add_subcommand(
      "keys",
      "API keys and the access configuration of plinth serve (tenants, key hashes, rate limits); "
      "see docs/server-config.md");
  keys->require_subcommand(1);
  auto args = std::make_shared<KeysArgs>();  // outlives this function: CLI11 writes it at parse time

  CLI::App* make = keys->add_subcommand(
      "new",
      "Generate a key for a tenant: prints the key (once; it cannot be recovered later) and the "
      "[[key]] block with its SHA-256 to paste into the access configuration");
  make->add_option("--tenant", args->tenant, "The tenant the key belongs to (a [[tenant]] name, or default)")
      ->required();
  make->add_option("--label", args->label, "Who or what holds the key, kept in the configuration (optional)");
  make->callback([args, &exit_code] {
    keys_new(*args);
    exit_code = 0;
  });

  CLI::App* hash = keys->add_subcommand(
      "hash", "Print the sha256:... hash of an existing key, as the [[key]] table's sha256 holds it");
  hash->add_option("key", args->key,
                   "The key; - reads it from stdin, which keeps it out of the shell's history")
      ->required();
  hash->callback([args, &exit_code] {
    keys_hash(*args);
    exit_code = 0;
  });

  CLI::App* check = keys->add_subcommand(
      "check",
      "Check an access configuration file and print its tenants with their limits and key counts; "
      "on a mistake print it as FILE:LINE:COLUMN: what is wrong, and exit 1");
  check->add_option("--config", args->config, "The access configuration file (TOML)")->required();
  check->callback([args, &exit_code] {
    keys_check(*args);
    exit_code = 0;
  });
}

}  // namespace plinth::cli
