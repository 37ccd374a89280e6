#include "plinth/server/access_config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

#include "plinth/server/api_keys.hpp"

namespace plinth::server {

scheduler::TenantPolicy TenantSettings::policy() const {
  scheduler::TenantPolicy p;
  p.weight = weight;
  p.max_queued = max_queued;
  p.max_running = max_running;
  return p;
}

bool TenantSettings::allows_model(std::string_view model) const {
  return models.empty() || std::find(models.begin(), models.end(), model) != models.end();
}

double TenantSettings::effective_request_burst() const {
  if (request_burst > 0) return request_burst;
  return std::max(1.0, std::ceil(requests_per_minute / 60.0 * kDefaultBurstSeconds));
}

const TenantSettings* AccessConfig::find_tenant(std::string_view name) const {
  for (const TenantSettings& t : tenants) {
    if (t.name == name) return &t;
  }
  return name == kDefaultTenantName ? &default_tenant : nullptr;
}

bool is_valid_tenant_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

namespace {

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace

std::string format_key_record(const KeyRecord& record) {
  std::string out = "[[key]]\ntenant = " + toml_quoted(record.tenant) + "\nsha256 = \"" +
                    format_key_hash(record.sha256) + "\"\n";
  if (!record.label.empty()) out += "label = " + toml_quoted(record.label) + "\n";
  return out;
}

namespace {

constexpr std::string_view kSettingKeys =
    "weight, requests_per_minute, request_burst, tokens_per_minute, max_queued, max_running, models";

// Reads one configuration, failing at the first mistake with its position.
class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  AccessConfig read(const toml::table& root) const;

 private:
  [[noreturn]] void fail(const toml::source_region& where, std::string_view what) const {
    std::ostringstream out;
    out << source_ << ":" << where.begin.line << ":" << where.begin.column << ": " << what;
    throw ConfigError(out.str());
  }

  static std::string type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::table: return "a table";
      case toml::node_type::array: return "an array";
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::date: return "a date";
      case toml::node_type::time: return "a time";
      case toml::node_type::date_time: return "a date-time";
      default: return "nothing";
    }
  }

  static std::string number_text(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
  }

  double number(const toml::node& node, std::string_view context, std::string_view key) const {
    const std::string where = std::string(context) + ": '" + std::string(key) + "'";
    if (!node.is_number()) fail(node.source(), where + " must be a number, not " + type_name(node));
    const double value = node.value<double>().value_or(0);
    if (!std::isfinite(value))
      fail(node.source(), where + " must be a finite number, got " + number_text(value));
    if (value < 0) fail(node.source(), where + " must not be negative, got " + number_text(value));
    return value;
  }

  std::size_t count(const toml::node& node, std::string_view context, std::string_view key) const {
    const std::string where = std::string(context) + ": '" + std::string(key) + "'";
    if (!node.is_integer()) fail(node.source(), where + " must be an integer, not " + type_name(node));
    const int64_t value = node.as_integer()->get();
    if (value < 1) fail(node.source(), where + " must be at least 1, got " + std::to_string(value));
    return static_cast<std::size_t>(value);
  }

  std::string string_value(const toml::node& node, std::string_view context, std::string_view key) const {
    if (!node.is_string()) {
      fail(node.source(),
           std::string(context) + ": '" + std::string(key) + "' must be a string, not " + type_name(node));
    }
    return node.as_string()->get();
  }

  // The fields of [[tenant]] (besides name) and [default_tenant].
  void read_settings(const toml::table& table, std::string_view context, bool is_default,
                     TenantSettings& settings) const;
  TenantSettings read_tenant(const toml::node& node, std::size_t index) const;
  KeyRecord read_key(const toml::node& node, std::size_t index, const AccessConfig& config) const;
  const toml::array& array_of_tables(const toml::node& node, std::string_view key) const;

  std::string_view source_;
};

void ConfigReader::read_settings(const toml::table& table, std::string_view context, bool is_default,
                                 TenantSettings& s) const {
  for (const auto& [key, node] : table) {
    const std::string_view k = key.str();
    if (k == "name" && !is_default) continue;  // read by the caller
    if (k == "weight") {
      s.weight = number(node, context, k);
      if (!(s.weight > 0))
        fail(node.source(), std::string(context) + ": 'weight' must be greater than 0, got 0");
    } else if (k == "requests_per_minute") {
      s.requests_per_minute = number(node, context, k);
    } else if (k == "request_burst") {
      s.request_burst = number(node, context, k);
      if (s.request_burst > 0 && s.request_burst < 1) {
        fail(node.source(), std::string(context) +
                                ": 'request_burst' must be 0 (derived from the rate) or at least 1, got " +
                                number_text(s.request_burst));
      }
    } else if (k == "tokens_per_minute") {
      s.tokens_per_minute = number(node, context, k);
    } else if (k == "max_queued") {
      s.max_queued = count(node, context, k);
    } else if (k == "max_running") {
      s.max_running = count(node, context, k);
    } else if (k == "models") {
      const toml::array* models = node.as_array();
      if (models == nullptr) {
        fail(node.source(),
             std::string(context) + ": 'models' must be an array of model names, not " + type_name(node));
      }
      s.models.clear();
      for (const toml::node& model : *models) {
        std::string name = string_value(model, context, "models");
        if (name.empty()) fail(model.source(), std::string(context) + ": 'models' holds an empty model name");
        s.models.push_back(std::move(name));
      }
    } else if (k == "name") {
      fail(key.source(), std::string(context) +
                             ": unknown key 'name': the default tenant is always called \"" +
                             std::string(kDefaultTenantName) + "\"");
    } else {
      fail(key.source(), std::string(context) + ": unknown key '" + std::string(k) + "'; a tenant has " +
                             (is_default ? "" : "name, ") + std::string(kSettingKeys));
    }
  }
}

TenantSettings ConfigReader::read_tenant(const toml::node& node, std::size_t index) const {
  const std::string numbered = "[[tenant]] #" + std::to_string(index + 1);
  const toml::table* table = node.as_table();
  if (table == nullptr) fail(node.source(), numbered + " must be a table, not " + type_name(node));
  const toml::node* name_node = table->get("name");
  if (name_node == nullptr) fail(table->source(), numbered + ": 'name' is missing");
  TenantSettings settings;
  settings.name = string_value(*name_node, numbered, "name");
  if (settings.name == kDefaultTenantName) {
    fail(name_node->source(), numbered + ": 'name': \"" + settings.name +
                                  "\" is reserved; configure the default tenant with [default_tenant]");
  }
  if (!is_valid_tenant_name(settings.name)) {
    fail(name_node->source(),
         numbered + ": 'name' \"" + settings.name + "\" must be 1-64 characters from A-Z a-z 0-9 . _ -");
  }
  read_settings(*table, "tenant \"" + settings.name + "\"", /*is_default=*/false, settings);
  return settings;
}

KeyRecord ConfigReader::read_key(const toml::node& node, std::size_t index,
                                 const AccessConfig& config) const {
  const std::string context = "[[key]] #" + std::to_string(index + 1);
  const toml::table* table = node.as_table();
  if (table == nullptr) fail(node.source(), context + " must be a table, not " + type_name(node));
  KeyRecord record;
  bool has_tenant = false;
  bool has_hash = false;
  for (const auto& [key, value] : *table) {
    const std::string_view k = key.str();
    if (k == "tenant") {
      record.tenant = string_value(value, context, k);
      if (config.find_tenant(record.tenant) == nullptr) {
        fail(value.source(), context + ": 'tenant' \"" + record.tenant +
                                 R"(" is not declared by a [[tenant]] table (nor "default"))");
      }
      has_tenant = true;
    } else if (k == "sha256") {
      const std::string text = string_value(value, context, k);
      const std::optional<KeyHash> hash = parse_key_hash(text);
      if (!hash) {
        fail(value.source(), context +
                                 ": 'sha256' must be \"sha256:\" followed by 64 lowercase hex digits "
                                 "(the output of `plinth keys hash`)");
      }
      record.sha256 = *hash;
      has_hash = true;
    } else if (k == "label") {
      record.label = string_value(value, context, k);
    } else {
      fail(key.source(), context + ": unknown key '" + std::string(k) + "'; a key has tenant, sha256, label");
    }
  }
  if (!has_tenant) fail(table->source(), context + ": 'tenant' is missing");
  if (!has_hash) fail(table->source(), context + ": 'sha256' is missing");
  return record;
}

const toml::array& ConfigReader::array_of_tables(const toml::node& node, std::string_view key) const {
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    fail(node.source(), "'" + std::string(key) + "' must be an array of tables, written [[" +
                            std::string(key) + "]], not " + type_name(node));
  }
  return *array;
}

AccessConfig ConfigReader::read(const toml::table& root) const {
  AccessConfig config;
  const toml::node* default_node = nullptr;
  const toml::node* tenant_node = nullptr;
  const toml::node* key_node = nullptr;
  for (const auto& [key, node] : root) {
    const std::string_view k = key.str();
    if (k == "default_tenant") {
      default_node = &node;
    } else if (k == "tenant") {
      tenant_node = &node;
    } else if (k == "key") {
      key_node = &node;
    } else {
      fail(key.source(),
           "unknown key '" + std::string(k) + "'; the file holds [[tenant]], [[key]] and [default_tenant]");
    }
  }

  if (default_node != nullptr) {
    const toml::table* table = default_node->as_table();
    if (table == nullptr)
      fail(default_node->source(), "'default_tenant' must be a table, not " + type_name(*default_node));
    read_settings(*table, "[default_tenant]", /*is_default=*/true, config.default_tenant);
  }

  if (tenant_node != nullptr) {
    std::map<std::string, uint32_t, std::less<>> first_line;
    const toml::array& tenants = array_of_tables(*tenant_node, "tenant");
    for (std::size_t i = 0; i < tenants.size(); ++i) {
      TenantSettings settings = read_tenant(tenants[i], i);
      const toml::node* name_node = tenants[i].as_table()->get("name");
      const auto [it, fresh] = first_line.emplace(settings.name, name_node->source().begin.line);
      if (!fresh) {
        fail(name_node->source(), "[[tenant]] #" + std::to_string(i + 1) + ": 'name': tenant \"" +
                                      settings.name + "\" is declared twice (first at line " +
                                      std::to_string(it->second) + ")");
      }
      config.tenants.push_back(std::move(settings));
    }
  }

  if (key_node != nullptr) {
    std::map<KeyHash, std::size_t> first_index;
    const toml::array& keys = array_of_tables(*key_node, "key");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      KeyRecord record = read_key(keys[i], i, config);
      const auto [it, fresh] = first_index.emplace(record.sha256, i);
      if (!fresh) {
        const toml::node* hash_node = keys[i].as_table()->get("sha256");
        fail(hash_node->source(), "[[key]] #" + std::to_string(i + 1) +
                                      ": 'sha256' is the same as [[key]] #" + std::to_string(it->second + 1) +
                                      "'s (line " + std::to_string(keys[it->second].source().begin.line) +
                                      "): each key must be listed once");
      }
      config.keys.push_back(std::move(record));
    }
  }
  return config;
}

}  // namespace

AccessConfig parse_access_config(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column
        << ": syntax error: " << e.description();
    throw ConfigError(out.str());
  }
  return ConfigReader(source_name).read(root);
}

AccessConfig load_access_config(const std::filesystem::path& path) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const std::string name = path.string();
  errno = 0;
  std::unique_ptr<std::FILE, Closer> file(std::fopen(name.c_str(), "rb"));
  if (!file) throw ConfigError(name + ": cannot read: " + std::strerror(errno));
  std::string text;
  char buf[65536];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, file.get());
    text.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(file.get())) throw ConfigError(name + ": cannot read: " + std::strerror(errno));
  return parse_access_config(text, name);
}

}  // namespace plinth::server
