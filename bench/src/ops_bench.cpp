#include "plinth/bench/ops_bench.hpp"

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "bench_context.hpp"
#include "plinth/runtime.hpp"
#include "result_table.hpp"
#include "run_info.hpp"
#include "timing.hpp"

namespace plinth::bench {
namespace {

double target_seconds(BenchSize size) {
  switch (size) {
    case BenchSize::full: return 0.3;
    case BenchSize::quick: return 0.1;
    case BenchSize::tiny: return 0.0;
  }
  return 0.0;
}

const char* size_name(BenchSize size) {
  switch (size) {
    case BenchSize::full: return "full";
    case BenchSize::quick: return "quick";
    case BenchSize::tiny: return "tiny";
  }
  return "?";
}

// --device when given; else the first device of a plugin named with --plugin; else cpu:0; else the
// first device.
Device& choose_device(const Runtime& runtime, const OpsBenchOptions& options) {
  if (!options.device.empty()) return runtime.device(options.device);
  const auto devices = runtime.devices();
  if (devices.empty()) {
    throw std::runtime_error("no usable device (`plinth devices -v` lists the plugins found and why each was "
                             "rejected)");
  }
  if (!options.plugins.empty()) {
    for (const PluginInfo& plugin : runtime.plugins()) {
      if (plugin.source != PluginSource::explicit_path) continue;
      for (Device* d : devices) {
        if (d->plugin_name() == plugin.name) return *d;
      }
    }
  }
  if (Device* cpu = runtime.find_device("cpu:0")) return *cpu;
  return *devices.front();
}

}  // namespace

const std::vector<std::string>& ops_bench_sections() {
  static const std::vector<std::string> kSections{"matmul", "copy", "launch"};
  return kSections;
}

void run_ops_bench(const OpsBenchOptions& options, std::ostream& out) {
  for (const std::string& s : options.sections) {
    const auto& known = ops_bench_sections();
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      throw std::invalid_argument("unknown section '" + s + "' (known: matmul, copy, launch)");
    }
  }
  auto wanted = [&](const std::string& s) {
    return options.sections.empty() ||
           std::find(options.sections.begin(), options.sections.end(), s) != options.sections.end();
  };

  RuntimeOptions runtime_options;
  runtime_options.plugin_paths = options.plugins;
  Runtime runtime(runtime_options);
  Device& device = choose_device(runtime, options);

  RunInfo info;
  describe_host(info);
  info.device_id = device.id();
  info.device_name = device.properties().name;
  info.device_type = to_string(device.properties().type);
  info.compute_units = device.properties().compute_units;
  for (const PluginInfo& p : runtime.plugins()) {
    if (p.name == device.plugin_name()) info.plugin_version = p.name + " " + p.version;
  }
  info.size = size_name(options.size);
  // Tiny runs prove that every row works; two repetitions are enough for that.
  info.repeat = options.repeat > 0 ? options.repeat : (options.size == BenchSize::tiny ? 2 : 0);
  info.target_s = target_seconds(options.size);
  print_run_info(info, out);

  const Sampler sampler(info.target_s, info.repeat);
  Stream stream = device.create_stream();
  ResultTable table(out);
  table.print_header();
  BenchContext ctx{device, stream, sampler, options.size, table};
  if (wanted("matmul")) run_matmul_bench(ctx);
  if (wanted("copy")) run_copy_bench(ctx);
  if (wanted("launch")) run_launch_bench(ctx);
  stream.synchronize();

  if (!options.json.empty()) {
    write_json_report(options.json, info, table.rows());
    out << "results written to " << options.json.string() << '\n';
  }
}

}  // namespace plinth::bench
