// plinth devices [-v] [--json] [--plugin PATH]...: what plugin discovery found. Every loaded plugin,
// every device with its properties; with -v also every rejected plugin and unusable device with the
// reason, which is where a missing driver or a version mismatch shows up.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "commands.hpp"
#include "plinth/device.hpp"
#include "plinth/runtime.hpp"

namespace plinth::cli {
namespace {

struct DevicesArgs {
  bool verbose = false;
  bool json = false;
  std::vector<std::string> plugins;
};

// Concatenates anything streamable (the CLI does not link a formatting library).
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : sep) + items[i];
  return out;
}

std::string bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0) return cat(n, " B");
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << v << " " << units[u];
  return out.str();
}

std::string index_label(uint32_t index) {
  return index == UINT32_MAX ? std::string("(plugin-wide)") : std::to_string(index);
}

nlohmann::json to_json(const Runtime& rt) {
  nlohmann::json out;
  out["plugins"] = nlohmann::json::array();
  for (const auto& p : rt.plugins()) {
    out["plugins"].push_back({{"name", p.name},
                              {"version", p.version},
                              {"path", p.path.string()},
                              {"source", to_string(p.source)},
                              {"abi", cat(p.abi_major, ".", p.abi_minor)},
                              {"native_graphs", p.native_graphs}});
  }
  out["devices"] = nlohmann::json::array();
  for (const auto* d : rt.devices()) {
    const auto& p = d->properties();
    nlohmann::json j = {{"id", d->id()},
                        {"plugin", d->plugin_name()},
                        {"index", d->index()},
                        {"name", p.name},
                        {"vendor", p.vendor},
                        {"arch", p.arch},
                        {"type", to_string(p.type)},
                        {"driver_version", p.driver_version},
                        {"total_memory", p.total_memory},
                        {"max_allocation", p.max_allocation},
                        {"max_op_range", p.max_op_range},
                        {"compute_units", p.compute_units},
                        {"subgroup_size", p.subgroup_size},
                        {"min_alignment", p.min_alignment},
                        {"vendor_id", p.vendor_id},
                        {"device_id", p.device_id},
                        {"features", feature_names(p.features)}};
    try {
      const auto mem = d->memory_info();
      j["free_memory"] = mem.free;
      j["free_memory_reported_by_plugin"] = mem.from_plugin;
    } catch (const std::exception& e) {
      j["free_memory_error"] = e.what();
    }
    out["devices"].push_back(std::move(j));
  }
  out["rejected_plugins"] = nlohmann::json::array();
  for (const auto& r : rt.rejected_plugins()) {
    out["rejected_plugins"].push_back({{"path", r.path.string()}, {"reason", r.reason}});
  }
  out["unusable_devices"] = nlohmann::json::array();
  for (const auto& u : rt.unusable_devices()) {
    nlohmann::json j = {{"plugin", u.plugin}, {"name", u.name}, {"reason", u.reason}};
    j["index"] = u.index == UINT32_MAX ? nlohmann::json(nullptr) : nlohmann::json(u.index);
    out["unusable_devices"].push_back(std::move(j));
  }
  return out;
}

void print_text(const Runtime& rt, bool verbose) {
  std::cout << "Plugins (" << rt.plugins().size() << "):\n";
  for (const auto& p : rt.plugins()) {
    std::cout << "  " << p.name << " " << p.version << " (ABI " << p.abi_major << "." << p.abi_minor
              << (p.native_graphs ? ", native graphs" : "") << ") " << p.path.string() << " [" << to_string(p.source)
              << "]\n";
  }
  std::cout << "Devices (" << rt.devices().size() << "):\n";
  for (const auto* d : rt.devices()) {
    const auto& p = d->properties();
    std::cout << "  " << d->id() << "  " << p.name << "\n";
    std::cout << "      vendor: " << p.vendor << "   arch: " << p.arch << "   type: " << to_string(p.type)
              << (p.driver_version.empty() ? "" : "   driver: " + p.driver_version) << "\n";
    std::string free;
    try {
      const auto mem = d->memory_info();
      free = cat(", ", bytes(mem.free), " free", mem.from_plugin ? "" : " (estimated)");
    } catch (const std::exception& e) {
      free = cat(" (free memory unknown: ", e.what(), ")");
    }
    std::cout << "      memory: " << bytes(p.total_memory) << " total" << free << "; max allocation "
              << bytes(p.max_allocation) << "; max op range " << bytes(p.max_op_range) << "\n";
    std::cout << "      compute units: " << p.compute_units << "   subgroup: " << p.subgroup_size
              << "   alignment: " << p.min_alignment << " B\n";
    const auto features = feature_names(p.features);
    std::cout << "      features: " << (features.empty() ? std::string("none") : join(features, " ")) << "\n";
  }
  if (verbose) {
    std::cout << "Rejected plugins (" << rt.rejected_plugins().size() << "):\n";
    for (const auto& r : rt.rejected_plugins()) std::cout << "  " << r.path.string() << "\n      " << r.reason << "\n";
    std::cout << "Unusable devices (" << rt.unusable_devices().size() << "):\n";
    for (const auto& u : rt.unusable_devices()) {
      std::cout << "  " << u.plugin << ":" << index_label(u.index) << (u.name.empty() ? "" : "  " + u.name)
                << "\n      " << u.reason << "\n";
    }
  } else if (!rt.rejected_plugins().empty() || !rt.unusable_devices().empty()) {
    std::cout << "(" << rt.rejected_plugins().size() << " rejected plugin(s), " << rt.unusable_devices().size()
              << " unusable device(s); -v shows why)\n";
  }
}

}  // namespace

void add_devices_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DevicesArgs>();
  auto* cmd = app.add_subcommand("devices", "List plugins and devices (and, with -v, what was rejected and why)");
  cmd->add_flag("-v,--verbose", args->verbose, "Also list rejected plugins and unusable devices with reasons");
  cmd->add_flag("--json", args->json, "Print JSON instead of text");
  add_plugin_option(cmd, args->plugins);
  cmd->callback([args, &exit_code] {
    RuntimeOptions options;
    for (const auto& p : args->plugins) options.plugin_paths.emplace_back(p);
    Runtime rt(options);
    if (args->json) {
      std::cout << to_json(rt).dump(2) << "\n";
    } else {
      print_text(rt, args->verbose);
    }
    exit_code = 0;
  });
}

}  // namespace plinth::cli
