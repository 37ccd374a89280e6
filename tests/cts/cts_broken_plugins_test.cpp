// The CTS catches each deliberately broken plugin with a precise message, and survives crashes and
// hangs: these tests run in the CTS's own process, so reaching the assertions proves it.
#include <gtest/gtest.h>

#include "cts_test_util.hpp"

namespace plinth::cts::test {
namespace {

::testing::AssertionResult failed_with(const CtsReport& report, const std::string& id, const std::string& text) {
  const TestResult* r = find_result(report, id);
  if (r == nullptr) return ::testing::AssertionFailure() << id << " was not reported";
  if (r->status != TestStatus::kFailed) {
    return ::testing::AssertionFailure() << id << " is " << status_name(r->status) << ", want failed: " << r->message;
  }
  if (r->message.find(text) == std::string::npos) {
    return ::testing::AssertionFailure() << id << " message \"" << r->message << "\" lacks \"" << text << "\"";
  }
  return ::testing::AssertionSuccess();
}

// The injected defect is the only thing the CTS reports: it pinpoints, it does not carpet-bomb.
::testing::AssertionResult only_failure_is(const CtsReport& report, const std::string& id) {
  std::string others;
  for (const auto& t : report.tests) {
    if (is_failure(t.status) && t.id != id) others += " " + t.id + " (" + t.message + ")";
  }
  if (!others.empty()) return ::testing::AssertionFailure() << "unexpected failures besides " << id << ":" << others;
  return ::testing::AssertionSuccess();
}

constexpr const char* kAllButPerf = "[!p]*";

::testing::AssertionResult passed(const CtsReport& report, const std::string& id) {
  const TestResult* r = find_result(report, id);
  if (r == nullptr) return ::testing::AssertionFailure() << id << " was not reported";
  if (r->status != TestStatus::kPassed) return ::testing::AssertionFailure() << id << " is " << status_name(r->status) << ": " << r->message;
  return ::testing::AssertionSuccess();
}

TEST(CtsBrokenPlugins, SubtlyWrongAddIsCaught) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_ADD_WRONG, Level::kInference1, kAllButPerf));
  EXPECT_TRUE(only_failure_is(report, "ops.add.f32"));
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "ops.add.f32", "op add f32 "));
  EXPECT_TRUE(failed_with(report, "ops.add.f32", "differs: got "));
  EXPECT_TRUE(failed_with(report, "ops.add.f32", "(nmse "));
  EXPECT_TRUE(passed(report, "ops.scale.f32")) << "the defect is in add only";
  EXPECT_TRUE(passed(report, "ops.copy.f32"));
}

TEST(CtsBrokenPlugins, OutOfBoundsWriteIsCaughtByGuardBytes) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_OOB_WRITE, Level::kInference1, kAllButPerf));
  EXPECT_TRUE(only_failure_is(report, "ops.scale.f32"));
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "ops.scale.f32", "guard bytes after output overwritten at +0..+3"));
  EXPECT_TRUE(failed_with(report, "ops.scale.f32", "op scale f32 "));
  EXPECT_TRUE(passed(report, "ops.add.f32"));
}

TEST(CtsBrokenPlugins, PropertiesWrittenPastCallersStructSize) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_PROPS_SIZE, Level::kCore, kAllButPerf));
  EXPECT_TRUE(only_failure_is(report, "device.properties_struct_sizes"));
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "device.properties_struct_sizes", "wrote past the caller's struct_size: guard bytes overwritten at +0.."));
  EXPECT_TRUE(passed(report, "device.properties"));
}

TEST(CtsBrokenPlugins, TableLargerThanItsVersionIsCaught) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_TABLE_SIZE, Level::kCore, kAllButPerf));
  EXPECT_TRUE(only_failure_is(report, "abi.table"));
  EXPECT_FALSE(report.passed);
  // The plugin claims the current minor (1.2 since the paged KV-cache ops) with a larger table.
  EXPECT_TRUE(failed_with(report, "abi.table",
                          "differs from the v1." + std::to_string(PLINTH_ABI_VERSION_MINOR) + " table size"));
  EXPECT_TRUE(passed(report, "abi.init_current"));
}

TEST(CtsBrokenPlugins, AllocationReturningNullHandleIsCaught) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_ALLOC_NULL, Level::kCore, "memory.*"));
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "memory.sizes", "buffer_alloc(1 bytes) returned OK but a NULL handle"));
}

TEST(CtsBrokenPlugins, AllocationAlwaysOutOfMemoryIsCaught) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_ALLOC_OOM, Level::kCore, "memory.*"));
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "memory.sizes", "buffer_alloc(1 bytes) failed: PLINTH_ERROR_OUT_OF_MEMORY"));
}

TEST(CtsBrokenPlugins, CrashFailsOneTestAndTheRunContinues) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_CRASH, Level::kInference1, "ops.*"));
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "ops.add.f32", "crashed during this test: "));
  // The suite child is restarted after the crash: later tests still run.
  EXPECT_TRUE(passed(report, "ops.scale.f32"));
  EXPECT_TRUE(report.stop_reason.empty()) << report.stop_reason;
}

TEST(CtsBrokenPlugins, HangTimesOutAndStopsTheRun) {
  // Only the quick ops and errors suites: a 2 s limit must not catch a slow but honest test.
  auto options = options_for(PLINTH_BROKEN_HANG, Level::kInference1, "[oe]*");
  options.test_timeout_s = 2;
  const auto report = run_cts(options);
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "ops.scale.f32", "timed out after 2 s"));
  EXPECT_NE(report.stop_reason.find("ops.scale.f32 timed out"), std::string::npos) << report.stop_reason;
  EXPECT_TRUE(passed(report, "ops.add.f32")) << "tests before the hang ran normally";
  const TestResult* later = find_result(report, "errors.bad_arity");
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(later->status, TestStatus::kSkipped);
  EXPECT_NE(later->message.find("not run"), std::string::npos);
}

// A plugin that crashes while objects are destroyed after a device loss costs one test: the CTS
// reports the crash and runs the rest in a fresh child.
TEST(CtsBrokenPlugins, CrashInTeardownAfterDeviceLossIsReported) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_LOST_CRASH, Level::kCore, "lost.*"));
  EXPECT_FALSE(report.passed);
  // No exit reason: a SEGV is signal 11 normally, but under ASan its handler aborts or exits 1.
  EXPECT_TRUE(failed_with(report, "lost.destroy_in_any_order", "the test process crashed during this test: "));
  EXPECT_TRUE(passed(report, "lost.close_reclaims")) << "the tests after the crash run in a fresh child";
  // The first test crashes too, in the clean-up after its own failure (the plugin's other entries
  // keep working after its loss), and the next one still ran.
  EXPECT_TRUE(failed_with(report, "lost.calls_fail", "crashed during this test"));
  EXPECT_TRUE(report.stop_reason.empty()) << report.stop_reason;
}

// The lost suite on the first-party plugins that honour the test hook (CI: cpu, and vulkan on
// lavapipe): after the loss every use fails, and destroying in any order or closing the device with
// everything alive returns OK without a crash.
void expect_lost_suite_passes(const char* plugin) {
  auto options = options_for(plugin, Level::kCore, "lost.*");
  options.expect_path.clear();
  const auto report = run_cts(options);
  if (!report.passed && failures(report).find("no usable device") != std::string::npos) {
    GTEST_SKIP() << failures(report);
  }
  EXPECT_TRUE(report.passed) << failures(report);
  for (const char* id : {"lost.calls_fail", "lost.destroy_in_any_order", "lost.close_reclaims"}) {
    EXPECT_TRUE(passed(report, id));  // passed, not unsupported: the hook is honoured
  }
}

#ifdef PLINTH_CPU_PLUGIN
TEST(CtsLostSuite, PassesOnTheCpuPlugin) { expect_lost_suite_passes(PLINTH_CPU_PLUGIN); }
#endif

#ifdef PLINTH_VULKAN_PLUGIN
TEST(CtsLostSuite, PassesOnTheVulkanPlugin) { expect_lost_suite_passes(PLINTH_VULKAN_PLUGIN); }
#endif

#ifdef PLINTH_TEMPLATE_PLUGIN
// The template does not implement the hook: the suite says so instead of failing it.
TEST(CtsLostSuite, PluginWithoutTheHookIsUnsupported) {
  auto options = options_for(PLINTH_TEMPLATE_PLUGIN, Level::kCore, "lost.*");
  options.expect_path.clear();
  const auto report = run_cts(options);
  EXPECT_TRUE(report.passed) << failures(report);
  for (const char* id : {"lost.calls_fail", "lost.destroy_in_any_order", "lost.close_reclaims"}) {
    const TestResult* r = find_result(report, id);
    ASSERT_NE(r, nullptr) << id;
    EXPECT_EQ(r->status, TestStatus::kUnsupported) << id << ": " << r->message;
    EXPECT_NE(r->message.find("does not honour the test hook PLINTH_PLUGIN_FAULT"), std::string::npos) << r->message;
  }
}

TEST(CtsTemplatePlugin, PassesCore) {
  auto options = options_for(PLINTH_TEMPLATE_PLUGIN, Level::kCore, "*");
  options.expect_path.clear();
  const auto report = run_cts(options);
  EXPECT_TRUE(report.passed) << failures(report);
  EXPECT_EQ(report.plugin_name, "template");
  EXPECT_GT(report.count(TestStatus::kPassed), 40u);
}

TEST(CtsTemplatePlugin, PassesInference1WithItsList) {
  const auto report = run_cts(options_for(PLINTH_TEMPLATE_PLUGIN, Level::kInference1, "*"));
  EXPECT_TRUE(report.passed) << failures(report);
  EXPECT_TRUE(passed(report, "ops.add.f32"));
  EXPECT_TRUE(passed(report, "ops.scale.f32"));
  const TestResult* mm = find_result(report, "ops.matmul.f32");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->status, TestStatus::kUnsupported);
  EXPECT_NE(mm->message.find("declared unsupported"), std::string::npos) << mm->message;
}

TEST(CtsTemplatePlugin, RequiredOpMissingFailsInference1WithoutAList) {
  auto options = options_for(PLINTH_TEMPLATE_PLUGIN, Level::kInference1, "ops.matmul.*");
  options.expect_path.clear();
  const auto report = run_cts(options);
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(failed_with(report, "ops.matmul.f32", "is required at level inference-1"));
  const TestResult* f16 = find_result(report, "ops.matmul.f16");
  ASSERT_NE(f16, nullptr);
  EXPECT_EQ(f16->status, TestStatus::kUnsupported) << "an optional variant op_supports declines is unsupported";
  EXPECT_NE(f16->message.find("op_supports = 0"), std::string::npos) << f16->message;
}

TEST(CtsTemplatePlugin, InProcessModeGivesTheSameVerdict) {
  auto options = options_for(PLINTH_TEMPLATE_PLUGIN, Level::kCore, "ops.*");
  options.isolate = false;
  const auto report = run_cts(options);
  EXPECT_TRUE(report.passed) << failures(report);
  EXPECT_TRUE(passed(report, "ops.copy.f32"));
}
#endif

}  // namespace
}  // namespace plinth::cts::test
