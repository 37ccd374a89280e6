// What plugin discovery found: loaded plugins, rejected ones (with the reason), and unusable devices.
// The search order (DESIGN.md, "The ABI"):
//   1. explicit paths given by the caller (files or directories),
//   2. PLINTH_PLUGIN_PATH (colon-separated files or directories),
//   3. the install's plugin directory: plinth/plugins beside the libplinth that is running, so a
//      relocated install finds its plugins,
//   4. next to the executable: <exe dir>/../lib/plinth/plugins, then <exe dir>.
// In a directory, files named libplinth-backend-*.so are candidates (sorted by name). The same real
// file is loaded once; a second plugin with an already loaded plugin name is rejected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plinth/export.hpp"

namespace plinth {

enum class PluginSource { explicit_path, env_path, install_dir, exe_dir };
PLINTH_CORE_API const char* to_string(PluginSource source) noexcept;  // "explicit", "PLINTH_PLUGIN_PATH", ...

struct PluginCandidate {
  std::filesystem::path path{};  // canonical when the file exists
  PluginSource source = PluginSource::explicit_path;
};

struct DiscoveryOptions {
  std::vector<std::filesystem::path> explicit_paths{};
  // Value of PLINTH_PLUGIN_PATH; nullopt reads the environment. Empty string: none.
  std::optional<std::string> env_path{};
  bool search_install_dir = true;
  bool search_exe_dir = true;
  // Overrides for tests; nullopt uses the compiled-in directory / the running executable's directory.
  std::optional<std::filesystem::path> install_dir{};
  std::optional<std::filesystem::path> exe_dir{};
};

struct RejectedPlugin {
  std::filesystem::path path{};
  std::string reason{};
};

// Lists candidate plugin files in search order, without loading any, the same real file once.
// A named path that does not exist is returned when its name contains ".so" (loading then reports
// "file not found"); otherwise it is taken for a missing directory and skipped.
PLINTH_CORE_API std::vector<PluginCandidate> discover_plugins(const DiscoveryOptions& options);

// The install's plugin directory: <the directory libplinth was loaded from>/plinth/plugins (empty if
// that location cannot be found).
PLINTH_CORE_API std::filesystem::path install_plugin_dir();

struct ProbeEntry {
  uint32_t index = 0;  // UINT32_MAX for a plugin-wide entry
  bool usable = false;
  std::string name{};
  std::string reason{};
};

struct PluginInfo {
  std::string name{};     // used in device ids: "cpu"
  std::string version{};  // the plugin's build version
  std::filesystem::path path{};
  PluginSource source = PluginSource::explicit_path;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  uint32_t table_size = 0;  // struct_size of its function table
  bool native_graphs = false;
  std::vector<ProbeEntry> probe{};  // everything the probe reported
};

// A device (or plugin-wide entry) the probe reported as unusable, or one that failed to open.
struct UnusableDevice {
  std::string plugin{};
  uint32_t index = 0;  // UINT32_MAX: plugin-wide
  std::string name{};
  std::string reason{};
};

}  // namespace plinth
