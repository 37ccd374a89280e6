// plinth cts: certify a backend plugin binary with the conformance test suite (conformance/).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli_support.hpp"
#include "commands.hpp"
#include "plinth/cts/cts.hpp"

namespace plinth::cli {
namespace {

std::filesystem::path executable_dir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : self.parent_path();
}

struct CtsArgs {
  std::string plugin;
  std::string device;  // parsed here, so that a bad value is one line like every other usage error
  std::string level = "inference-1";
  std::string json, junit, expect;
  std::string filter = "*";
  uint64_t seed = 1;
  std::string timeout = "30";
  std::string repeat = "1";
  std::string host_abi_minor = std::to_string(PLINTH_ABI_VERSION_MINOR);
  bool no_isolate = false;
  bool verbose = false;
};

// Usage errors are one line on stderr and exit status 2 (a failed level is 1), before any test runs.
constexpr int kUsageExit = 2;

std::optional<uint64_t> parse_count(const std::string& text, uint64_t max) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const uint64_t value = std::stoull(text);
  if (value > max) return std::nullopt;
  return value;
}

int run(const CtsArgs& args) {
  const auto exe_dir = executable_dir().lexically_normal();
  cts::CtsOptions options;
  const auto plugin =
      cts::resolve_plugin(args.plugin, {(exe_dir / ".." / "lib" / "plinth" / "plugins").lexically_normal()});
  if (!plugin && args.plugin.find('/') != std::string::npos) {
    throw cts::UsageError("no plugin file '" + args.plugin + "'");
  }
  if (!plugin) {
    throw cts::UsageError("no plugin '" + args.plugin + "': not a file, and no libplinth-backend-" +
                          args.plugin + ".so in PLINTH_PLUGIN_PATH or " +
                          ((exe_dir / ".." / "lib" / "plinth" / "plugins").lexically_normal()).string());
  }
  options.plugin = *plugin;
  if (!args.device.empty()) {
    const auto index = parse_count(args.device, UINT32_MAX - 1);
    if (!index)
      throw cts::UsageError("--device '" + args.device +
                            "': want a device index from the plugin's probe (0, 1, ...)");
    options.device = static_cast<uint32_t>(*index);
  }
  const auto level = cts::parse_level(args.level);
  if (!level)
    throw cts::UsageError("unknown level '" + args.level + "' (want core, inference-1 or inference-2)");
  options.level = *level;
  const auto repeat = parse_count(args.repeat, 1000000);
  if (!repeat || *repeat == 0)
    throw cts::UsageError("--repeat '" + args.repeat + "': want a number of repetitions >= 1");
  options.repeat = static_cast<uint32_t>(*repeat);
  const auto host_minor = parse_count(args.host_abi_minor, PLINTH_ABI_VERSION_MINOR);
  if (!host_minor) {
    throw cts::UsageError("--host-abi-minor '" + args.host_abi_minor + "': want an ABI minor from 0 to " +
                          std::to_string(PLINTH_ABI_VERSION_MINOR) + " (this CTS's)");
  }
  options.host_abi_minor = static_cast<uint32_t>(*host_minor);
  if (options.host_abi_minor < cts::level_abi_minor(options.level)) {
    throw cts::UsageError("--host-abi-minor " + args.host_abi_minor + ": level " + args.level +
                          " certifies ABI 1." + std::to_string(cts::level_abi_minor(options.level)) +
                          " ops, which a host of ABI 1." + args.host_abi_minor + " cannot call");
  }
  {
    char* end = nullptr;
    const double timeout = std::strtod(args.timeout.c_str(), &end);
    if (args.timeout.empty() || *end != '\0' || !(timeout > 0) || timeout > 86400) {
      throw cts::UsageError("--timeout '" + args.timeout + "': want seconds per test, > 0");
    }
    options.test_timeout_s = timeout;
  }
  options.json_path = args.json;
  options.junit_path = args.junit;
  options.expect_path = args.expect;
  if (const char* env = std::getenv("PLINTH_CTS_LIST_PATH")) options.list_dirs.emplace_back(env);
  options.list_dirs.push_back((exe_dir / ".." / "share" / "plinth" / "cts" / "lists").lexically_normal());
  options.filter = args.filter;
  options.seed = args.seed;
  options.isolate = !args.no_isolate;
  options.verbose = args.verbose;

  // The header waits for the first result: a file that is no plugin gets one line, not a header too.
  bool header_printed = false;
  auto print_header = [&] {
    if (header_printed) return;
    header_printed = true;
    std::printf("plinth cts: %s at level %s\n", options.plugin.string().c_str(), cts::level_name(options.level));
  };
  auto last_progress = std::chrono::steady_clock::now();
  const auto report = cts::run_cts(
      options,
      [&](const cts::TestResult& r, std::size_t done, std::size_t total) {
        print_header();
        const bool failure = cts::is_failure(r.status);
        if (args.verbose || failure) {
          std::printf("[%3zu/%3zu] %-12s %s (%.0f ms)%s%s\n", done, total, cts::status_name(r.status),
                      r.id.c_str(), r.duration_ms, r.message.empty() ? "" : ": ", r.message.c_str());
          last_progress = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(2)) {
          std::printf("[%3zu/%3zu] ... %s\n", done, total, r.id.c_str());
          last_progress = std::chrono::steady_clock::now();
        }
        std::fflush(stdout);
      },
      [&](uint32_t repetition, uint32_t repetitions, uint64_t seed) {
        print_header();
        if (args.verbose || repetition == 1 ||
            std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(2)) {
          std::printf("repetition %u of %u (seed %llu)\n", repetition, repetitions,
                      static_cast<unsigned long long>(seed));
          last_progress = std::chrono::steady_clock::now();
        }
        std::fflush(stdout);
      });
  if (!report.load_error.empty()) {
    std::fprintf(stderr, "plinth cts: %s\n", report.load_error.c_str());
    return 1;
  }
  print_header();
  std::cout << "\n";
  cts::print_summary(report, std::cout, args.verbose);
  if (!args.json.empty()) std::cout << "JSON report: " << args.json << "\n";
  if (!args.junit.empty()) std::cout << "JUnit report: " << args.junit << "\n";
  return report.passed ? 0 : 1;  // a pass with waived required ops is a pass (the verdict says so)
}

}  // namespace

void add_cts_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CtsArgs>();
  auto* cmd = app.add_subcommand(
      "cts",
      "Run the conformance test suite on a backend plugin binary.\n"
      "Loads the plugin through the C ABI alone (no rebuild, no compiler) and runs the suites of the\n"
      "level: abi, device, multi_device, memory, streams, stress (randomized stream/event ordering),\n"
      "lost, ops (against reference kernels, with guard bytes and NaN checks), errors and an\n"
      "informational perf profile. Each suite runs in a child process, so a crashing plugin fails one\n"
      "test; a test that exceeds --timeout fails and stops the run.\n"
      "Exit status: 0 when the level passes (also when the expectation list waives required ops: the\n"
      "verdict then says 'not certified'), 1 when it fails, 2 for a usage error. See docs/cts.md.");
  cmd->add_option("--plugin,-p", args->plugin,
                  "Plugin binary path, or a name like 'cpu' looked up as libplinth-backend-<name>.so in\n"
                  "PLINTH_PLUGIN_PATH and <exe dir>/../lib/plinth/plugins")
      ->required();
  cmd->add_option("--device,-d", args->device, "Device index from the plugin's probe (default: first usable)")
      ->type_name("N");
  cmd->add_option("--level,-l", args->level,
                  "Certification level: core | inference-1 | inference-2 (inference-1 plus the ABI 1.2\n"
                  "paged KV-cache ops SET_ROWS and PAGED_ATTENTION)")
      ->capture_default_str();
  cmd->add_option("--json", args->json, "Write a JSON report to FILE");
  cmd->add_option("--junit", args->junit, "Write a JUnit XML report to FILE");
  cmd->add_option("--expect", args->expect,
                  "Expectation list FILE ('unsupported <glob> <reason>' / 'xfail <glob> <reason>' lines);\n"
                  "default: lists/<plugin name>.txt from PLINTH_CTS_LIST_PATH or <exe dir>/../share/plinth/cts/lists");
  cmd->add_option("--filter,-f", args->filter, "Run only tests whose id matches GLOB (e.g. 'ops.matmul.*')")
      ->capture_default_str();
  add_seed_option(cmd, args->seed, "Seed for the random inputs and shapes")->capture_default_str();
  cmd->add_option("--timeout", args->timeout,
                  "Seconds a single test may take before it fails and stops the run")
      ->type_name("S")
      ->capture_default_str();
  cmd->add_option(
         "--repeat", args->repeat,
         "Run the selected suites N times (seed, seed+1, ...) and report the first failing repetition;\n"
         "for the probabilistic stream/event race checks (see docs/cts.md)")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--host-abi-minor", args->host_abi_minor,
                  "Announce this ABI minor as the host (e.g. 0: check that the plugin still serves every\n"
                  "ABI 1.0 call to a 1.0 host)")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_flag("--no-isolate", args->no_isolate, "Run tests in this process (for debugging; a crash ends the run)");
  cmd->add_flag("-v,--verbose", args->verbose, "Print every test as it finishes, and plugin log messages");
  cmd->callback([args, &exit_code] {
    try {
      exit_code = run(*args);
    } catch (const cts::UsageError& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "plinth cts: %s\n", e.what());
      exit_code = kUsageExit;
    }
  });
}

}  // namespace plinth::cli
