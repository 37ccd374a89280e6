// A loaded plugin binary: the shared library, its checked function table, and the host services it
// was initialized with. Shared by every Runtime of the process that loads the same real file (see
// plugin_library.cpp for why), and kept alive by the devices opened through it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plinth/abi.h"

// Boost.DLL's and spdlog's headers cost every core file that sees this one seconds of compile
// time; only the files that load libraries or log include them.
namespace boost::dll {
class shared_library;
}
namespace spdlog {
class logger;
}

namespace plinth::detail {

class PluginLibrary {
 public:
  // Loads and initializes `path` or throws PluginRejected with the reason.
  static std::shared_ptr<PluginLibrary> load(const std::filesystem::path& path,
                                             const std::shared_ptr<spdlog::logger>& logger);

  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;
  ~PluginLibrary();

  // The table, copied into a full-size struct: entries beyond the plugin's struct_size read as NULL.
  const plinth_plugin_api_t& api() const noexcept { return table_; }
  uint32_t table_size() const noexcept { return table_size_; }
  const std::string& name() const noexcept { return name_; }
  const std::string& version() const noexcept { return version_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  // The ABI minor version the plugin was built against (its table's abi_minor).
  uint32_t abi_minor() const noexcept { return abi_minor_; }
  // Why a catalogue op is unknown to this plugin (its ABI minor predates the op), or empty. The host
  // never passes such an op to the plugin: a plugin is only required to know the ops of its own minor.
  std::string op_unknown_reason(plinth_op_t op) const;

  // The plugin's message and vendor code for the last failed call on this thread.
  std::string last_error_message() const;
  int64_t last_error_vendor_code() const;

  // Plugin log lines go to every attached logger that is still alive.
  void attach_logger(const std::shared_ptr<spdlog::logger>& logger);

 private:
  PluginLibrary() = default;
  static void log_callback(void* user_data, int32_t level, const char* message) noexcept;

  std::filesystem::path path_;
  std::unique_ptr<boost::dll::shared_library> library_;  // unloaded after ~PluginLibrary's shutdown
  plinth_host_services_t host_{};
  plinth_plugin_api_t table_{};
  uint32_t table_size_ = 0;
  uint32_t abi_minor_ = 0;
  bool initialized_ = false;
  std::string name_;
  std::string version_;
  std::mutex loggers_mutex_;
  std::vector<std::weak_ptr<spdlog::logger>> loggers_;
};

// Why a plugin was not loaded.
struct PluginRejected {
  std::string reason;
};

}  // namespace plinth::detail
