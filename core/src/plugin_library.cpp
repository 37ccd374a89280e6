#include "plugin_library.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <spdlog/logger.h>

#include <boost/dll/shared_library.hpp>
#include <boost/dll/shared_library_load_mode.hpp>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "plinth/abi_lists.h"
#include "plinth/error.hpp"
#include "plinth/op_call.hpp"
#include "plinth/ops.h"

namespace plinth::detail {
namespace {

// A plugin keeps one state object behind its entry point and a second plinth_plugin_init while it
// is initialized does not give a second, independent plugin; its shutdown would pull the state from
// under the first user. So the process loads each real file once and shares it between Runtimes:
// this registry is the one piece of process-wide state in the core, and it only holds weak
// references, so it never keeps a plugin alive by itself.
struct Registry {
  std::mutex mutex;
  std::map<std::filesystem::path, std::weak_ptr<PluginLibrary>> libraries;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

// The REQUIRED entries, from the one list in plinth/abi_lists.h (optional ones are skipped).
#define PLINTH_REQUIRED(field, requirement, group, since) \
  {offsetof(plinth_plugin_api_t, field), #field, (requirement) == PLINTH_ENTRY_REQUIRED, group},
struct ListedEntry {
  std::size_t offset;
  const char* name;
  bool required;
  int group;  // PLINTH_ENTRY_GROUP_*: entries set together or not at all
};
constexpr ListedEntry kEntries[] = {PLINTH_API_ENTRIES(PLINTH_REQUIRED)};
#undef PLINTH_REQUIRED

// The v1.0 table is the first version; anything smaller cannot be a v1 table.
constexpr std::size_t kTableV1Size = PLINTH_STRUCT_SIZE_THROUGH(plinth_plugin_api_t, op_launch);

bool entry_is_null(const plinth_plugin_api_t& table, std::size_t offset) {
  void (*fn)() = nullptr;
  std::memcpy(&fn, reinterpret_cast<const char*>(&table) + offset, sizeof fn);
  return fn == nullptr;
}

// The entries of the first group that is only partly set ("buffer_map, buffer_unmap"), if any.
std::optional<std::string> partial_group(const plinth_plugin_api_t& table) {
  for (int group : {PLINTH_ENTRY_GROUP_MAP, PLINTH_ENTRY_GROUP_GRAPH}) {
    std::string names;
    int set = 0, total = 0;
    for (const auto& entry : kEntries) {
      if (entry.group != group) continue;
      names += (total++ == 0 ? "" : ", ") + std::string(entry.name);
      set += entry_is_null(table, entry.offset) ? 0 : 1;
    }
    if (set != 0 && set != total) return names;
  }
  return std::nullopt;
}

}  // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::filesystem::path& path,
                                                   const std::shared_ptr<spdlog::logger>& logger) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw PluginRejected{"file not found"};
  if (!std::filesystem::is_regular_file(path, ec)) throw PluginRejected{"not a regular file"};
  const auto key = std::filesystem::canonical(path, ec);

  auto& reg = registry();
  std::lock_guard lock(reg.mutex);
  if (auto it = reg.libraries.find(key); it != reg.libraries.end()) {
    if (auto existing = it->second.lock()) {
      existing->attach_logger(logger);
      return existing;
    }
  }

  std::shared_ptr<PluginLibrary> lib(new PluginLibrary());
  lib->path_ = key;
  lib->attach_logger(logger);
  // The error_code overload: the throwing one appends the text of an error code Boost.DLL sets to
  // "bad file descriptor" for every failure, whatever the real reason. The reason is the loader's
  // own message, which Boost leaves in dlerror() (its throwing overload reads it the same way).
  boost::dll::fs::error_code load_error;
  lib->library_ = std::make_unique<boost::dll::shared_library>();
  lib->library_->load(key, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_error);
  if (load_error) {
    const char* why = dlerror();
    std::string_view reason = why != nullptr ? why : "the dynamic loader gave no reason";
    // The loader names the file first; the rejection names it already.
    const std::string prefix = key.string() + ": ";
    if (reason.starts_with(prefix)) reason.remove_prefix(prefix.size());
    throw PluginRejected{fmt::format("not loadable: {}", reason)};
  }
  if (!lib->library_->has(PLINTH_PLUGIN_ENTRY_NAME)) {
    throw PluginRejected{fmt::format("not a Plinth plugin: no exported symbol '{}'", PLINTH_PLUGIN_ENTRY_NAME)};
  }
  auto init = lib->library_->get<plinth_status_t(const plinth_host_services_t*, const plinth_plugin_api_t**)>(
      PLINTH_PLUGIN_ENTRY_NAME);

  lib->host_.struct_size = sizeof(plinth_host_services_t);
  lib->host_.abi_major = PLINTH_ABI_VERSION_MAJOR;
  lib->host_.abi_minor = PLINTH_ABI_VERSION_MINOR;
  lib->host_.log = &PluginLibrary::log_callback;
  lib->host_.log_user_data = lib.get();

  const plinth_plugin_api_t* api = nullptr;
  const plinth_status_t status = init(&lib->host_, &api);
  auto plugin_label = [&]() -> std::string {
    // Only the first fields are read here: they exist in every table version.
    if (api == nullptr || api->struct_size < PLINTH_STRUCT_SIZE_THROUGH(plinth_plugin_api_t, version)) return {};
    return fmt::format("plugin '{}' {} ", api->name ? api->name : "?", api->version ? api->version : "?");
  };
  if (status == PLINTH_ERROR_INCOMPATIBLE_VERSION) {
    std::string theirs = "unknown";
    if (api != nullptr && api->struct_size >= PLINTH_STRUCT_SIZE_THROUGH(plinth_plugin_api_t, abi_minor)) {
      theirs = fmt::format("{}.{}", api->abi_major, api->abi_minor);
    }
    throw PluginRejected{fmt::format("incompatible ABI version: {}has ABI {}, this host has ABI {}.{}",
                                     plugin_label(), theirs, PLINTH_ABI_VERSION_MAJOR, PLINTH_ABI_VERSION_MINOR)};
  }
  if (status != PLINTH_OK) {
    std::string message;
    if (api != nullptr && api->struct_size >= PLINTH_STRUCT_SIZE_THROUGH(plinth_plugin_api_t, last_error_message) &&
        api->last_error_message != nullptr) {
      const char* m = api->last_error_message();
      if (m != nullptr) message = m;
    }
    throw PluginRejected{fmt::format("{} failed: {}{}{}", PLINTH_PLUGIN_ENTRY_NAME, status_name(status),
                                     message.empty() ? "" : ": ", message)};
  }
  if (api == nullptr) throw PluginRejected{fmt::format("{} returned no function table", PLINTH_PLUGIN_ENTRY_NAME)};
  if (api->struct_size < kTableV1Size) {
    throw PluginRejected{fmt::format("bad function table: struct_size {} is smaller than the v1 table ({} bytes)",
                                     api->struct_size, kTableV1Size)};
  }
  if (api->abi_major != PLINTH_ABI_VERSION_MAJOR) {
    throw PluginRejected{fmt::format("incompatible ABI version: {}has ABI {}.{}, this host has ABI {}.{}", plugin_label(),
                                     api->abi_major, api->abi_minor, PLINTH_ABI_VERSION_MAJOR,
                                     PLINTH_ABI_VERSION_MINOR)};
  }
  lib->table_size_ = api->struct_size;
  lib->abi_minor_ = api->abi_minor;
  std::memcpy(static_cast<void*>(&lib->table_), api, std::min<std::size_t>(api->struct_size, sizeof(plinth_plugin_api_t)));
  lib->table_.struct_size = sizeof(plinth_plugin_api_t);
  const auto& t = lib->table_;
  for (const auto& entry : kEntries) {
    if (!entry.required) continue;
    if (entry_is_null(t, entry.offset)) {
      // The table is unusable, but shutdown (if present) still releases what init took.
      if (t.shutdown != nullptr) t.shutdown();
      throw PluginRejected{fmt::format("bad function table: required entry '{}' is NULL", entry.name)};
    }
  }
  if (auto partial = partial_group(t)) {
    t.shutdown();
    throw PluginRejected{fmt::format("bad function table: {} must all be set or all be NULL", *partial)};
  }
  if (t.name == nullptr || t.name[0] == '\0') {
    t.shutdown();
    throw PluginRejected{"bad function table: empty plugin name"};
  }
  for (const char* c = t.name; *c != '\0'; ++c) {
    // The name is the first half of device ids ("cpu:0"): a ':' or space would make ids ambiguous.
    if (*c == ':' || *c == ' ' || *c == '@' || *c == ',') {
      t.shutdown();
      throw PluginRejected{fmt::format("bad function table: plugin name '{}' contains '{}'", t.name, *c)};
    }
  }
  lib->name_ = t.name;
  lib->version_ = t.version ? t.version : "";
  lib->initialized_ = true;
  reg.libraries[key] = lib;
  return lib;
}

PluginLibrary::~PluginLibrary() {
  if (initialized_) table_.shutdown();
  // Keep the table's function pointers from being used after unload by accident.
  initialized_ = false;
}

std::string PluginLibrary::last_error_message() const {
  const char* m = table_.last_error_message();
  return m != nullptr ? std::string(m) : std::string();
}

int64_t PluginLibrary::last_error_vendor_code() const {
  return table_.last_error_vendor_code != nullptr ? table_.last_error_vendor_code() : 0;
}

void PluginLibrary::attach_logger(const std::shared_ptr<spdlog::logger>& logger) {
  std::lock_guard lock(loggers_mutex_);
  std::erase_if(loggers_, [](const auto& w) { return w.expired(); });
  for (const auto& w : loggers_) {
    if (w.lock() == logger) return;
  }
  loggers_.push_back(logger);
}

void PluginLibrary::log_callback(void* user_data, int32_t level, const char* message) noexcept {
  auto* self = static_cast<PluginLibrary*>(user_data);
  if (self == nullptr || message == nullptr) return;
  spdlog::level::level_enum lvl = spdlog::level::info;
  switch (level) {
    case PLINTH_LOG_TRACE: lvl = spdlog::level::trace; break;
    case PLINTH_LOG_DEBUG: lvl = spdlog::level::debug; break;
    case PLINTH_LOG_INFO: lvl = spdlog::level::info; break;
    case PLINTH_LOG_WARN: lvl = spdlog::level::warn; break;
    default: lvl = spdlog::level::err; break;
  }
  try {
    std::vector<std::shared_ptr<spdlog::logger>> targets;
    {
      std::lock_guard lock(self->loggers_mutex_);
      for (const auto& w : self->loggers_) {
        if (auto l = w.lock()) targets.push_back(std::move(l));
      }
    }
    // During init the name is not known yet; the file name identifies the plugin then.
    const std::string who = self->name_.empty() ? self->path_.filename().string() : self->name_;
    for (const auto& l : targets) l->log(lvl, "[{}] {}", who, message);
  } catch (...) {
    // Logging must never throw into plugin code.
  }
}

std::string PluginLibrary::op_unknown_reason(plinth_op_t op) const {
  if (op < 0 || op >= PLINTH_OP_COUNT || op < static_cast<plinth_op_t>(PLINTH_OP_COUNT_OF_MINOR(abi_minor_)))
    return {};
  uint32_t since = abi_minor_ + 1;
  while (op >= static_cast<plinth_op_t>(PLINTH_OP_COUNT_OF_MINOR(since))) ++since;
  return fmt::format("plugin '{}' implements ABI {}.{}, and op {} needs ABI {}.{}", name_,
                     PLINTH_ABI_VERSION_MAJOR, abi_minor_, op_name(op), PLINTH_ABI_VERSION_MAJOR, since);
}

}  // namespace plinth::detail
