// Runtime: the root object. It discovers and loads plugins, probes them, opens every usable device,
// and owns them all; there is no global runtime. Logging goes to a spdlog logger the Runtime owns
// (level from PLINTH_LOG = trace|debug|info|warn|error|off, default warn). Destroying the Runtime
// closes its devices (reporting leaked objects) and shuts the plugins down once no object uses them.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/device.hpp"
#include "plinth/export.hpp"
#include "plinth/plugin.hpp"
#include "plinth/validation.hpp"

namespace spdlog {
class logger;
}

namespace plinth {

struct RuntimeOptions {
  // Searched first (files or directories); see plinth/plugin.hpp for the whole order.
  std::vector<std::filesystem::path> plugin_paths{};
  bool use_env_plugin_path = true;      // PLINTH_PLUGIN_PATH
  bool use_default_plugin_dirs = true;  // the install's plugin dir and next to the executable
  // A path in plugin_paths that does not exist, or a named file that cannot be loaded (not a plugin,
  // incompatible, failed to initialize or probe, or a name already taken), makes the constructor throw
  // Error(INVALID_ARGUMENT) with the reason. False: it is only listed in rejected_plugins(), as
  // anything the search finds is. Plugins found inside a named directory are never required.
  bool require_plugin_paths = true;
  // Open only devices whose id is listed (empty: all). Others are not opened, and plugin loading
  // stops once every listed device is open (files named libplinth-backend-<name> for a listed
  // "<name>:N" are tried first), so later plugins are never loaded.
  std::vector<std::string> devices{};
  std::optional<std::string> log_level{};  // default: PLINTH_LOG, else "warn"
  std::optional<bool> validate{};          // default: PLINTH_VALIDATE=1
  std::optional<std::string> faults{};     // default: PLINTH_FAULT (syntax in plinth/validation.hpp)
  // Device id that runs op calls another device does not support (see StreamOptions). Empty: none.
  std::string fallback_device{};
  // Log sink to use instead of a new stderr logger (tests capture output with it).
  std::shared_ptr<spdlog::logger> logger{};
};

class PLINTH_CORE_API Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  std::span<Device* const> devices() const noexcept;
  // Throws Error(INVALID_ARGUMENT) listing the open devices and those RuntimeOptions::devices left closed.
  Device& device(std::string_view id) const;
  Device* find_device(std::string_view id) const noexcept;
  Device* fallback_device() const noexcept;

  const std::vector<PluginInfo>& plugins() const noexcept;
  const std::vector<RejectedPlugin>& rejected_plugins() const noexcept;
  const std::vector<UnusableDevice>& unusable_devices() const noexcept;

  bool validation_enabled() const noexcept;
  void inject_fault(const Fault& fault);  // to the named device, or every device when fault.device is ""

  // Closes every device now: objects still alive are leaks (logged, counted, and made inert: using
  // them throws, destroying them is safe). Device references from this runtime become invalid and
  // devices() is empty afterwards. Idempotent; the destructor calls it.
  LeakReport close();

  std::shared_ptr<spdlog::logger> logger() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth
