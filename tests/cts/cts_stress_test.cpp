// The randomized stream/event stress suite with --repeat, against the template changed to run each
// stream's work on a worker thread (tests/cts/async): correct, and with each ordering defect that
// PLINTH_MUTANT selects in it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "cts_test_util.hpp"

namespace plinth::cts::test {
namespace {

// PLINTH_MUTANT for the plugin loaded in this scope (the CTS forks its children from this process).
class Mutant {
 public:
  explicit Mutant(const char* id) { ::setenv("PLINTH_MUTANT", id, 1); }
  Mutant(const Mutant&) = delete;
  Mutant& operator=(const Mutant&) = delete;
  ~Mutant() { ::unsetenv("PLINTH_MUTANT"); }
};

// The stress suite passes a correct plugin that really runs work asynchronously, repeatedly.
TEST(CtsStress, AsynchronousPluginPasses) {
  const Mutant none("");  // empty: no defect, also when the caller's environment names one
  auto options = options_for(PLINTH_ASYNC_PLUGIN, Level::kCore, "st*");  // streams.* and stress.*
  options.repeat = 3;
  const auto report = run_cts(options);
  EXPECT_TRUE(report.passed) << failures(report);
  EXPECT_EQ(report.repetition, 3u);
  const auto* r = find_result(report, "stress.interleaved");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, TestStatus::kPassed);
  EXPECT_NE(r->message.find("seed 3: 240 steps on 4 streams"), std::string::npos) << r->message;
}

// Runs `filter` with --repeat 20 on the async plugin with `mutant`: the run must fail, in bounded time
// (20 repetitions of the stress suite take a few seconds at most).
CtsReport run_mutant(const char* mutant, const std::string& filter) {
  const Mutant selected(mutant);
  auto options = options_for(PLINTH_ASYNC_PLUGIN, Level::kCore, filter);
  options.repeat = 20;
  const auto t0 = std::chrono::steady_clock::now();
  const auto report = run_cts(options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(report.passed) << mutant << " was not caught in 20 repetitions of " << filter;
  EXPECT_LT(seconds, 60.0);
  EXPECT_EQ(report.seed, options.seed + report.repetition - 1);
  std::cout << mutant << ": " << filter << " caught it in repetition " << report.repetition << " of 20, "
            << seconds << " s\n";
  return report;
}

// The stress suite catches each ordering mutant within --repeat 20 (each run with a high probability:
// docs/cts.md gives the measured rate), and the report names the first failing repetition and its seed.
void expect_caught(const char* mutant, const std::string& symptom) {
  const auto report = run_mutant(mutant, "stress.*");
  ASSERT_EQ(report.tests.size(), 1u);
  EXPECT_EQ(report.tests[0].status, TestStatus::kFailed);
  EXPECT_NE(report.tests[0].message.find("seed " + std::to_string(report.seed) + ", step "),
            std::string::npos)
      << report.tests[0].message;
  EXPECT_NE(report.tests[0].message.find(symptom), std::string::npos) << report.tests[0].message;
  std::ostringstream console;
  print_summary(report, console, false);
  EXPECT_NE(console.str().find("Failed in repetition " + std::to_string(report.repetition) + " of 20 (seed "),
            std::string::npos)
      << console.str();
}

TEST(CtsStress, StreamWaitThatDoesNotWaitIsCaught) { expect_caught("async.wait_ignored", "differ"); }

TEST(CtsStress, EventThatCompletesEarlyIsCaught) { expect_caught("async.record_early", "differ"); }

// A stream_synchronize that returns while the stream's last work still runs: the streams suite
// catches it (the host reads or times what it waited for), in practice in every run. The stress suite
// rarely does, and then by a crash: the host frees what the late work still writes.
TEST(CtsStress, SynchronizeThatReturnsEarlyIsCaught) {
  const auto report = run_mutant("async.sync_early", "streams.*");
  const bool precise = std::any_of(report.tests.begin(), report.tests.end(), [](const TestResult& t) {
    return t.status == TestStatus::kFailed && t.message.find("crashed") == std::string::npos;
  });
  EXPECT_TRUE(precise) << failures(report);
}

TEST(CtsStress, QueryThatAnswersEarlyIsCaught) {
  expect_caught("async.query_early", "the event completed early");
}

TEST(CtsStress, DownloadOutOfStreamOrderIsCaught) {
  expect_caught("async.copy_to_host_early", "stale bytes");
}

// A mutant id the plugin does not know fails its init: a typo must not pass as a correct run.
TEST(CtsStress, UnknownMutantFailsTheLoad) {
  const Mutant selected("async.no_such_defect");
  const auto report = run_cts(options_for(PLINTH_ASYNC_PLUGIN, Level::kCore, "stress.*"));
  EXPECT_FALSE(report.passed);
  EXPECT_NE(failures(report).find("plinth_plugin_init failed: PLINTH_ERROR_INVALID_ARGUMENT"),
            std::string::npos)
      << report.load_error << failures(report);
}

}  // namespace
}  // namespace plinth::cts::test
