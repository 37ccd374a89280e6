#include "plinth/runtime.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "plinth/error.hpp"
#include "plugin_library.hpp"
#include "state.hpp"

namespace plinth {
namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::move(fallback);
}

bool truthy(std::string_view v) { return v == "1" || v == "true" || v == "on" || v == "yes"; }

std::optional<spdlog::level::level_enum> parse_level(std::string_view s) {
  if (s == "trace") return spdlog::level::trace;
  if (s == "debug") return spdlog::level::debug;
  if (s == "info") return spdlog::level::info;
  if (s == "warn" || s == "warning") return spdlog::level::warn;
  if (s == "error" || s == "err") return spdlog::level::err;
  if (s == "critical") return spdlog::level::critical;
  if (s == "off") return spdlog::level::off;
  return std::nullopt;
}

template <std::size_t N>
std::string fixed_string(const char (&s)[N]) {
  std::size_t n = 0;
  while (n < N && s[n] != '\0') ++n;
  return std::string(s, n);
}

// With RuntimeOptions::devices set, plugin files named after a requested device's plugin
// (libplinth-backend-<name>.so for "<name>:<index>") are tried first, in their discovery order, so
// that loading can stop once every requested device is open: `--device cpu:0` then never maps a GPU
// vendor's runtime libraries (hundreds of MiB of resident memory for some). Other files keep their
// place after them, so a device whose plugin is named differently is still found.
// Plugin files the caller named keep their place in front: they are always loaded, and a file named
// on purpose must win over an installed plugin of the same name.
void prefer_named_plugins(std::vector<PluginCandidate>& candidates, const std::vector<std::string>& devices,
                          const std::set<std::filesystem::path>& named_files) {
  std::set<std::string, std::less<>> wanted;
  for (const std::string& id : devices) wanted.insert("libplinth-backend-" + id.substr(0, id.find(':')));
  const auto rest =
      std::stable_partition(candidates.begin(), candidates.end(),
                            [&](const PluginCandidate& c) { return named_files.count(c.path) != 0; });
  std::stable_partition(rest, candidates.end(),
                        [&](const PluginCandidate& c) { return wanted.count(c.path.stem().string()) != 0; });
}

// The files among `paths` (as discovery keys them). With `require`, a path that does not exist is an
// error rather than an absent directory to skip.
std::set<std::filesystem::path> named_plugin_files(const std::vector<std::filesystem::path>& paths,
                                                   bool require) {
  namespace fs = std::filesystem;
  std::set<fs::path> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (!require) continue;
      throw Error(PLINTH_ERROR_INVALID_ARGUMENT,
                  fmt::format("plugin path '{}' does not exist", path.string()), "Runtime");
    }
    if (!fs::is_directory(path, ec)) files.insert(fs::canonical(path, ec));
  }
  return files;
}

bool all_open(const std::vector<Device*>& open, const std::vector<std::string>& ids) {
  return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
    return std::any_of(open.begin(), open.end(), [&](const Device* d) { return d->id() == id; });
  });
}

}  // namespace

struct Runtime::Impl {
  std::shared_ptr<spdlog::logger> logger;
  bool validate = false;
  std::vector<PluginInfo> plugins;
  std::vector<RejectedPlugin> rejected;
  // Usable devices that RuntimeOptions::devices left closed: named when a requested id is unknown.
  std::vector<std::string> not_opened;
  std::vector<UnusableDevice> unusable;
  std::vector<std::shared_ptr<detail::PluginLibrary>> libraries;
  std::vector<std::unique_ptr<Device>> devices;
  std::vector<Device*> device_ptrs;
  Device* fallback = nullptr;
  std::shared_ptr<std::atomic<uint64_t>> ids = std::make_shared<std::atomic<uint64_t>>(0);
  bool closed = false;

  void load(const PluginCandidate& candidate, const RuntimeOptions& options);
};

void Runtime::Impl::load(const PluginCandidate& candidate, const RuntimeOptions& options) {
  std::shared_ptr<detail::PluginLibrary> lib;
  try {
    lib = detail::PluginLibrary::load(candidate.path, logger);
  } catch (const detail::PluginRejected& r) {
    logger->warn("plugin {} rejected: {}", candidate.path.string(), r.reason);
    rejected.push_back({candidate.path, r.reason});
    return;
  }
  for (const auto& info : plugins) {
    if (info.name == lib->name()) {
      auto reason = fmt::format("plugin name '{}' is already provided by {} (found earlier in the search order)",
                                lib->name(), info.path.string());
      logger->warn("plugin {} rejected: {}", candidate.path.string(), reason);
      rejected.push_back({candidate.path, std::move(reason)});
      return;
    }
  }
  const auto& api = lib->api();
  PluginInfo info;
  info.name = lib->name();
  info.version = lib->version();
  info.path = lib->path();
  info.source = candidate.source;
  info.abi_major = api.abi_major;
  info.abi_minor = api.abi_minor;
  info.table_size = lib->table_size();
  info.native_graphs = api.graph_begin_capture != nullptr && api.graph_end_capture != nullptr &&
                       api.graph_launch != nullptr && api.graph_destroy != nullptr;

  uint32_t count = 0;
  plinth_status_t status = api.probe(nullptr, 0, &count);
  std::vector<plinth_probe_entry_t> entries;
  if (status == PLINTH_OK && count > 0) {
    entries.resize(count);
    for (auto& e : entries) {
      e = plinth_probe_entry_t{};
      e.struct_size = sizeof e;
    }
    uint32_t filled = 0;
    status = api.probe(entries.data(), count, &filled);
    entries.resize(std::min(count, filled));
  }
  if (status != PLINTH_OK) {
    auto reason = fmt::format("probe failed: {}: {}", status_name(status), lib->last_error_message());
    logger->warn("plugin {} ({}) rejected: {}", info.name, candidate.path.string(), reason);
    rejected.push_back({candidate.path, std::move(reason)});
    return;
  }
  logger->info("plugin {} {} loaded from {} ({}), {} probe entr{}", info.name, info.version, info.path.string(),
               to_string(candidate.source), entries.size(), entries.size() == 1 ? "y" : "ies");
  for (const auto& e : entries) {
    ProbeEntry pe{e.index, e.usable != 0, fixed_string(e.name), fixed_string(e.reason)};
    info.probe.push_back(pe);
    if (!pe.usable || pe.index == UINT32_MAX) {
      if (pe.reason.empty()) pe.reason = "the plugin reported it unusable without a reason";
      logger->info("plugin {}: {} unusable: {}", info.name,
                   pe.index == UINT32_MAX ? std::string("(plugin-wide)") : fmt::format("device {}", pe.index), pe.reason);
      unusable.push_back({info.name, pe.index, pe.name, pe.reason});
      continue;
    }
    const std::string id = fmt::format("{}:{}", info.name, pe.index);
    if (!options.devices.empty() &&
        std::find(options.devices.begin(), options.devices.end(), id) == options.devices.end()) {
      logger->debug("device {} not opened (not in RuntimeOptions::devices)", id);
      not_opened.push_back(id);
      continue;
    }
    plinth_device_t handle = nullptr;
    status = api.device_open(pe.index, &handle);
    if (status != PLINTH_OK) {
      auto reason = fmt::format("device_open failed: {}: {}", status_name(status), lib->last_error_message());
      logger->warn("device {} unusable: {}", id, reason);
      unusable.push_back({info.name, pe.index, pe.name, std::move(reason)});
      continue;
    }
    std::shared_ptr<detail::DeviceState> state;
    try {
      state = std::make_shared<detail::DeviceState>(lib, handle, pe.index, logger, ids, validate);
    } catch (const Error& err) {
      api.device_close(handle);
      logger->warn("device {} unusable: {}", id, err.what());
      unusable.push_back({info.name, pe.index, pe.name, err.what()});
      continue;
    }
    devices.push_back(std::make_unique<Device>(std::move(state)));
    device_ptrs.push_back(devices.back().get());
    logger->info("device {} opened: {}", id, devices.back()->properties().name);
  }
  plugins.push_back(std::move(info));
  libraries.push_back(std::move(lib));
}

Runtime::Runtime(RuntimeOptions options) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  if (options.logger) {
    m.logger = options.logger;
  } else {
    // Not registered with spdlog's global registry: each Runtime owns its logger.
    m.logger = std::make_shared<spdlog::logger>("plinth", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    const std::string level = options.log_level ? *options.log_level : env_or("PLINTH_LOG", "warn");
    if (auto l = parse_level(level)) {
      m.logger->set_level(*l);
    } else {
      m.logger->set_level(spdlog::level::warn);
      m.logger->warn("PLINTH_LOG='{}' is not one of trace|debug|info|warn|error|off; using warn", level);
    }
  }
  if (options.logger && options.log_level) {
    if (auto l = parse_level(*options.log_level)) m.logger->set_level(*l);
  }
  m.validate = options.validate ? *options.validate : truthy(env_or("PLINTH_VALIDATE", ""));
  if (m.validate) m.logger->info("validation layer enabled");

  DiscoveryOptions discovery;
  discovery.explicit_paths = options.plugin_paths;
  if (!options.use_env_plugin_path) discovery.env_path = std::string();
  discovery.search_install_dir = options.use_default_plugin_dirs;
  discovery.search_exe_dir = options.use_default_plugin_dirs;
  const auto named_files = named_plugin_files(options.plugin_paths, options.require_plugin_paths);
  std::vector<PluginCandidate> candidates = discover_plugins(discovery);
  if (!options.devices.empty()) prefer_named_plugins(candidates, options.devices, named_files);
  for (const auto& candidate : candidates) {
    const bool named = named_files.count(candidate.path) != 0;
    if (!named && !options.devices.empty() && all_open(m.device_ptrs, options.devices)) {
      m.logger->debug("plugin {} not loaded: every device in RuntimeOptions::devices is open",
                      candidate.path.string());
      continue;
    }
    const std::size_t rejected_before = m.rejected.size();
    m.load(candidate, options);
    if (named && options.require_plugin_paths && m.rejected.size() > rejected_before) {
      throw Error(PLINTH_ERROR_INVALID_ARGUMENT,
                  fmt::format("plugin '{}' could not be loaded: {}", candidate.path.string(),
                              m.rejected.back().reason),
                  "Runtime");
    }
  }
  if (m.devices.empty() && m.not_opened.empty()) {
    m.logger->warn("no usable device found ({} plugin(s) loaded)", m.plugins.size());
  }

  const std::string faults = options.faults ? *options.faults : env_or("PLINTH_FAULT", "");
  for (const auto& fault : parse_faults(faults)) {
    // A fault for a device this machine lacks is not an error: the same PLINTH_FAULT serves many hosts.
    if (!fault.device.empty() && find_device(fault.device) == nullptr) {
      m.logger->warn("fault {} names no open device; ignored", to_string(fault));
      continue;
    }
    inject_fault(fault);
  }

  if (!options.fallback_device.empty()) {
    m.fallback = find_device(options.fallback_device);
    if (m.fallback == nullptr) {
      throw Error(PLINTH_ERROR_INVALID_ARGUMENT,
                  fmt::format("fallback device '{}' does not exist", options.fallback_device), "Runtime");
    }
    for (auto* d : m.device_ptrs) d->state()->default_fallback = m.fallback;
  }
}

Runtime::~Runtime() {
  try {
    close();
  } catch (...) {
    // close() logs what went wrong; a destructor cannot report more.
  }
}

LeakReport Runtime::close() {
  auto& m = *impl_;
  LeakReport total;
  if (m.closed) return total;
  m.closed = true;
  // Reverse order of opening, like destruction.
  for (auto it = m.devices.rbegin(); it != m.devices.rend(); ++it) {
    const auto r = (*it)->state()->close();
    total.buffers += r.buffers;
    total.streams += r.streams;
    total.events += r.events;
    total.graphs += r.graphs;
  }
  if (total.total() > 0) {
    m.logger->warn("runtime closed with {} leaked object(s){}", total.total(),
                   m.validate ? "" : " (set PLINTH_VALIDATE=1 for one line per object)");
  }
  m.device_ptrs.clear();
  m.devices.clear();
  m.libraries.clear();
  return total;
}

std::span<Device* const> Runtime::devices() const noexcept { return impl_->device_ptrs; }

Device* Runtime::find_device(std::string_view id) const noexcept {
  for (auto* d : impl_->device_ptrs) {
    if (d->id() == id) return d;
  }
  return nullptr;
}

Device& Runtime::device(std::string_view id) const {
  if (auto* d = find_device(id)) return *d;
  std::vector<std::string> open;
  for (auto* d : impl_->device_ptrs) open.push_back(d->id());
  const auto list = [](const std::vector<std::string>& ids) {
    return ids.empty() ? std::string("none") : fmt::format("{}", fmt::join(ids, ", "));
  };
  std::string message = fmt::format("no device '{}' (open: {}", id, list(open));
  if (!impl_->not_opened.empty()) {
    message += fmt::format("; also usable here but not opened: {}", list(impl_->not_opened));
  }
  if (!impl_->unusable.empty()) message += fmt::format("; {} unusable", impl_->unusable.size());
  message += ")";
  throw Error(PLINTH_ERROR_INVALID_ARGUMENT, std::move(message), "Runtime::device");
}

Device* Runtime::fallback_device() const noexcept { return impl_->fallback; }
const std::vector<PluginInfo>& Runtime::plugins() const noexcept { return impl_->plugins; }
const std::vector<RejectedPlugin>& Runtime::rejected_plugins() const noexcept { return impl_->rejected; }
const std::vector<UnusableDevice>& Runtime::unusable_devices() const noexcept { return impl_->unusable; }
bool Runtime::validation_enabled() const noexcept { return impl_->validate; }
std::shared_ptr<spdlog::logger> Runtime::logger() const noexcept { return impl_->logger; }

void Runtime::inject_fault(const Fault& fault) {
  if (fault.device.empty()) {
    for (auto* d : impl_->device_ptrs) d->inject_fault(fault);
    return;
  }
  device(fault.device).inject_fault(fault);
}

}  // namespace plinth
