// The Plinth conformance test suite (CTS): loads a backend plugin binary through the C ABI alone and
// certifies it at a level. See docs/cts.md for levels, suites, expectation lists and reports.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::cts {

enum class Level {
  kCore,        // ABI negotiation, device queries, memory, streams and events, copy/fill
  kInference1,  // core + every v1 catalogue op in f32, plus the f16/bf16/quantized variants supported
};
std::optional<Level> parse_level(std::string_view text);  // "core", "inference-1"
const char* level_name(Level level) noexcept;

struct CtsOptions {
  std::filesystem::path plugin;             // the plugin binary (libplinth-backend-<name>.so)
  std::optional<uint32_t> device;           // device index from probe; default: first usable one
  Level level = Level::kInference1;
  std::filesystem::path json_path;          // write a JSON report here when set
  std::filesystem::path junit_path;         // write JUnit XML here when set
  std::filesystem::path expect_path;        // expectation list; default: lists/<plugin name>.txt
  std::vector<std::filesystem::path> list_dirs;  // where lists/<plugin name>.txt is looked up
  std::string filter = "*";                 // glob over test ids
  uint64_t seed = 1;
  bool verbose = false;
  double test_timeout_s = 30.0;             // a test running longer fails and stops the run
  bool isolate = true;                      // run each suite in a forked child (survives crashes)
};

enum class TestStatus {
  kPassed,
  kFailed,
  kUnsupported,           // op_supports said no (optional variant) or declared in the list
  kExpectedFailure,       // failed, and the list declares it xfail
  kStaleExpectedFailure,  // passed although the list declares it xfail: fails the run
  kSkipped,               // not applicable here, or not run because the run stopped
};
const char* status_name(TestStatus status) noexcept;  // "passed", "failed", ...
bool is_failure(TestStatus status) noexcept;           // kFailed or kStaleExpectedFailure

struct TestResult {
  std::string id;       // "ops.add.f32", "memory.out_of_range"
  std::string suite;    // "ops"
  std::string group;    // the op for op tests ("add"), else the suite
  TestStatus status = TestStatus::kSkipped;
  std::string message;  // the failure (or unsupported reason, or informational note)
  double duration_ms = 0.0;
};

struct PerfMetric {
  std::string name;  // "matmul_f32_512", "copy_buffer_64MiB", "launch_latency_fill"
  double value = 0.0;
  std::string unit;  // "GFLOP/s", "GB/s", "us"
};

struct CtsReport {
  std::string plugin_path;
  std::string plugin_name;
  std::string plugin_version;
  std::string device_name;
  Level level = Level::kInference1;
  uint64_t seed = 0;
  std::string expect_path;   // the list applied, or ""
  std::string stop_reason;   // why the run stopped early, or ""
  std::string load_error;    // the plugin file cannot be loaded (no test ran; passed is false), or ""
  std::vector<TestResult> tests;
  std::vector<PerfMetric> perf;
  double duration_s = 0.0;
  bool passed = false;       // the level passes: no failure, no stale expected failure

  std::size_t count(TestStatus status) const noexcept;
};

// Called after each test finishes (from the calling thread), for progress output.
using ProgressFn = std::function<void(const TestResult& result, std::size_t done, std::size_t total)>;

// Runs the CTS. Never throws for plugin defects (they become failed tests; a file that cannot be
// loaded as a plugin at all sets load_error and runs nothing); throws std::runtime_error for unusable
// options (unreadable expectation list, unwritable report path).
CtsReport run_cts(const CtsOptions& options, const ProgressFn& progress = {});

// Console summary: per suite and per op counts, then each failure with its message.
void print_summary(const CtsReport& report, std::ostream& out, bool verbose);
std::string report_json(const CtsReport& report);
std::string report_junit(const CtsReport& report);

// Resolves `name_or_path`: an existing path is returned as is; a bare name ("cpu") is looked up as
// libplinth-backend-<name>.so in PLINTH_PLUGIN_PATH (colon-separated) and then in `search_dirs`.
// Returns nullopt when nothing is found.
std::optional<std::filesystem::path> resolve_plugin(std::string_view name_or_path,
                                                    const std::vector<std::filesystem::path>& search_dirs);

}  // namespace plinth::cts
