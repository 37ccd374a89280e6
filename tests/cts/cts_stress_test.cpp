// The randomized stream/event stress suite with --repeat, against the template changed to run each
// stream's work on a worker thread (tests/cts/async): correct, and with one ordering defect each.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "cts_test_util.hpp"

namespace plinth::cts::test {
namespace {

// The stress suite passes a correct plugin that really runs work asynchronously, repeatedly.
TEST(CtsStress, AsynchronousPluginPasses) {
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

// The racy plugins are caught within --repeat 20 (each run catches them with a high probability:
// docs/cts.md gives the measured rate), and the report names the first failing repetition and its
// seed. Bounded: 20 repetitions of one test take a few seconds at most.
void expect_caught(const char* plugin, const std::string& symptom) {
  auto options = options_for(plugin, Level::kCore, "stress.*");
  options.repeat = 20;
  const auto t0 = std::chrono::steady_clock::now();
  const auto report = run_cts(options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(report.passed) << plugin << " was not caught in 20 repetitions";
  EXPECT_LT(seconds, 60.0);
  ASSERT_EQ(report.tests.size(), 1u);
  EXPECT_EQ(report.tests[0].status, TestStatus::kFailed);
  EXPECT_EQ(report.seed, options.seed + report.repetition - 1);
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

TEST(CtsStress, StreamWaitThatDoesNotWaitIsCaught) { expect_caught(PLINTH_RACY_WAIT_PLUGIN, "differ"); }

TEST(CtsStress, EventThatCompletesEarlyIsCaught) { expect_caught(PLINTH_RACY_EVENT_PLUGIN, "differ"); }

}  // namespace
}  // namespace plinth::cts::test
