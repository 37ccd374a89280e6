// The Plinth conformance test suite (CTS): loads a backend plugin binary through the C ABI alone and
// certifies it at a level. See docs/cts.md for levels, suites, expectation lists and reports.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/abi.h"

namespace plinth::cts {

enum class Level {
  kCore,        // ABI negotiation, device queries, memory, streams and events, copy/fill
  kInference1,  // core + every v1 catalogue op in f32, plus the f16/bf16/quantized variants supported
  kInference2,  // inference-1 + the ABI 1.2 ops (SET_ROWS, PAGED_ATTENTION) in f32; needs ABI >= 1.2
};
std::optional<Level> parse_level(std::string_view text);  // "core", "inference-1", "inference-2"
const char* level_name(Level level) noexcept;
// True when `level` includes every test of `base` (levels are nested: core < inference-1 < inference-2).
constexpr bool level_includes(Level level, Level base) noexcept {
  return static_cast<int>(level) >= static_cast<int>(base);
}
// The ABI minor version a plugin must implement to be certified at `level`.
constexpr uint32_t level_abi_minor(Level level) noexcept { return level == Level::kInference2 ? 2u : 0u; }

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
  double test_timeout_s = 30.0;  // a test running longer fails and stops the run
  bool isolate = true;           // run each suite in a forked child (survives crashes)
  uint32_t repeat = 1;           // run the plan this many times (seeds seed, seed+1, ...)
  // The ABI minor the CTS announces as a host (plinth_host_services_t::abi_minor) in every session:
  // an older one checks that a newer plugin still serves every call of that version. The CTS then
  // also leaves alone the entries that minor does not have (extension_op_get before 1.1).
  uint32_t host_abi_minor = PLINTH_ABI_VERSION_MINOR;
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
  bool required = false;  // a required op variant of the level (the f32 variant of every op)
};

// One entry of the expectation list and the tests of the reported run it matched.
struct AppliedExpectation {
  std::string kind;  // "unsupported" or "xfail"
  std::string glob;
  std::string reason;
  int line = 0;
  std::vector<std::string> tests;
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
  uint64_t seed = 0;        // the seed of the reported repetition (reproduces its shapes)
  uint32_t repeat = 1;      // repetitions asked for (--repeat)
  uint32_t repetition = 1;  // the reported one: the first that failed, else the last
  std::string expect_path;  // the list applied, or ""
  std::vector<AppliedExpectation> expectations;  // every entry of the list, with what it matched
  std::vector<std::string> extension_ops;        // vendor extension ops the device lists (never certified)
  std::vector<std::string> waived_required;      // required op tests the list declares unsupported/xfail
  std::string stop_reason;                       // why the run stopped early, or ""
  std::string load_error;  // the plugin file cannot be loaded (no test ran; passed is false), or ""
  std::vector<TestResult> tests;
  std::vector<PerfMetric> perf;
  double duration_s = 0.0;
  bool passed = false;       // the level passes: no failure, no stale expected failure

  std::size_t count(TestStatus status) const noexcept;
  // Passed with no required op waived by the expectation list: only then is the level certified.
  bool certified() const noexcept { return passed && waived_required.empty(); }
  // "PASSED", "PASSED with N required ops waived (not certified)" or "FAILED".
  std::string verdict() const;
};

// Called after each test finishes (from the calling thread), for progress output.
using ProgressFn = std::function<void(const TestResult& result, std::size_t done, std::size_t total)>;
// Called as each repetition starts when --repeat is above 1.
using RepetitionFn = std::function<void(uint32_t repetition, uint32_t repeat, uint64_t seed)>;

// Options that cannot work with this plugin or this machine: a --device index the probe does not
// list, an unreadable or malformed expectation list, an unwritable report path, a filter that
// matches no test. Thrown before any test runs; the message is one line.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs the CTS. Never throws for plugin defects (they become failed tests; a file that cannot be
// loaded as a plugin at all sets load_error and runs nothing); throws UsageError for unusable
// options, before any test runs.
CtsReport run_cts(const CtsOptions& options, const ProgressFn& progress = {},
                  const RepetitionFn& repetition = {});

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
