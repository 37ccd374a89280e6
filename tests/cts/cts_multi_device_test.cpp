// The CTS against plugins built for these checks: usage errors, waived required ops, the multi-device
// misuse suite and probe strides (the template with two devices, and broken variants of it).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cts_test_util.hpp"

namespace plinth::cts::test {
namespace {

std::string usage_error_of(const CtsOptions& options) {
  try {
    run_cts(options);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

// --device N where N is no probed index is one usage error before anything runs (not a failure of
// every test, as it was).
TEST(CtsUsage, DeviceNotProbedIsOneUsageError) {
  auto options = options_for(PLINTH_TWO_DEVICES, Level::kCore, "*");
  options.device = 5;
  EXPECT_EQ(usage_error_of(options),
            "--device 5: the plugin's probe lists devices 0 and 1 (`plinth devices -v` shows them)");
  options = options_for(PLINTH_TEMPLATE_PLUGIN, Level::kCore, "*");
  options.device = 1;
  EXPECT_EQ(usage_error_of(options),
            "--device 1: the plugin's probe lists only device 0 (`plinth devices -v` shows them)");
}

TEST(CtsUsage, ProbedSecondDeviceRuns) {
  auto options = options_for(PLINTH_TWO_DEVICES, Level::kCore, "device.*");
  options.device = 1;
  const auto report = run_cts(options);
  EXPECT_TRUE(report.passed) << failures(report);
}

TEST(CtsUsage, UnwritableReportIsAUsageError) {
  auto options = options_for(PLINTH_TEMPLATE_PLUGIN, Level::kCore, "abi.table");
  options.json_path = "/nonexistent-dir/report.json";
  EXPECT_NE(usage_error_of(options).find("cannot write report /nonexistent-dir/report.json"),
            std::string::npos);
}

// The multi-device suite: the template (one device, opened twice) and the two-device plugin pass.
TEST(CtsMultiDevice, CorrectPluginsPass) {
  for (const char* plugin : {PLINTH_TEMPLATE_PLUGIN, PLINTH_TWO_DEVICES}) {
    const auto report = run_cts(options_for(plugin, Level::kCore, "multi_device.*"));
    EXPECT_TRUE(report.passed) << plugin << "\n" << failures(report);
    EXPECT_EQ(report.tests.size(), 8u);
    const auto* r = find_result(report, "multi_device.copy_buffer");
    ASSERT_NE(r, nullptr);
    EXPECT_NE(r->message.find("a second open of device 0"), std::string::npos) << r->message;
    if (std::string(plugin) == PLINTH_TWO_DEVICES) {
      EXPECT_NE(r->message.find("and device 1"), std::string::npos) << r->message;
    }
  }
}

// A copy_host_to_buffer that accepts a buffer of another device is caught, and only there.
TEST(CtsMultiDevice, MissingSameDeviceCheckIsCaught) {
  const auto report = run_cts(options_for(PLINTH_BROKEN_CROSS_DEVICE, Level::kCore, "multi_device.*"));
  EXPECT_FALSE(report.passed);
  for (const auto& t : report.tests) {
    if (t.id == "multi_device.copy_host_to_buffer") {
      EXPECT_EQ(t.status, TestStatus::kFailed);
      EXPECT_NE(
          t.message.find("got PLINTH_OK, want PLINTH_ERROR_INVALID_ARGUMENT (handles of different devices"),
          std::string::npos)
          << t.message;
    } else {
      EXPECT_FALSE(is_failure(t.status)) << t.id << ": " << t.message;
    }
  }
}

// Probe into an array of entries larger than the plugin's: entry i at i * struct_size.
TEST(CtsAbi, ProbeStrideIsChecked) {
  auto report = run_cts(options_for(PLINTH_TWO_DEVICES, Level::kCore, "abi.*"));
  EXPECT_TRUE(report.passed) << failures(report);
  report = run_cts(options_for(PLINTH_BROKEN_PROBE_STRIDE, Level::kCore, "abi.probe_entry_sizes"));
  ASSERT_EQ(report.tests.size(), 1u);
  EXPECT_EQ(report.tests[0].status, TestStatus::kFailed);
  EXPECT_NE(report.tests[0].message.find("must step by entries[0].struct_size"), std::string::npos)
      << report.tests[0].message;
}

// abi.h is exact: a struct_size below v1.0 is INVALID_ARGUMENT (probe, device_get_properties), an
// unknown memory kind UNSUPPORTED. A plugin lenient there passed these three tests before.
TEST(CtsStrictness, LenientStatusesFail) {
  const std::pair<std::string, std::string> cases[] = {
      {"abi.probe_entry_sizes", "probe with an entry smaller than v1.0: got PLINTH_OK"},
      {"device.properties_struct_sizes", "(smaller than v1.0): got PLINTH_OK"},
      {"memory.invalid_requests",
       "buffer_alloc with memory_kind 77: got PLINTH_ERROR_INVALID_ARGUMENT, want PLINTH_ERROR_UNSUPPORTED"},
  };
  for (const auto& [id, want] : cases) {
    const auto lenient = run_cts(options_for(PLINTH_BROKEN_LENIENT_SIZES, Level::kCore, id));
    ASSERT_EQ(lenient.tests.size(), 1u) << id;
    EXPECT_EQ(lenient.tests[0].status, TestStatus::kFailed) << id << ": " << lenient.tests[0].message;
    EXPECT_NE(lenient.tests[0].message.find(want), std::string::npos) << lenient.tests[0].message;
    const auto exact = run_cts(options_for(PLINTH_TEMPLATE_PLUGIN, Level::kCore, id));
    EXPECT_TRUE(exact.passed) << failures(exact);
  }
}

// The template's list waives every inference-1 op but copy, fill, add and scale: a pass, but not a
// certified one, in the console, JSON and JUnit alike. At core nothing required is waived.
TEST(CtsWaivers, RequiredOpsWaivedAreNotCertified) {
  TempDir dir;
  auto options = options_for(PLINTH_TEMPLATE_PLUGIN, Level::kInference1, "ops.*");
  options.json_path = dir.file("report.json");
  options.junit_path = dir.file("report.xml");
  const auto report = run_cts(options);
  ASSERT_TRUE(report.passed) << failures(report);
  EXPECT_FALSE(report.certified());
  EXPECT_EQ(report.waived_required.size(), 15u);
  EXPECT_EQ(report.verdict(), "PASSED with 15 required ops waived (not certified)");
  std::ostringstream console;
  print_summary(report, console, false);
  const std::string text = console.str();
  EXPECT_NE(text.find("Result: level inference-1 PASSED with 15 required ops waived (not certified) ("),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Required ops waived by the expectation list: ops.mul.f32, "), std::string::npos)
      << text;
  // Every list entry is printed, not only in verbose mode.
  EXPECT_NE(
      text.find(
          "line 4: unsupported ops.mul.* (3 tests): the template implements COPY, FILL, ADD and SCALE only"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("unsupported perf.matmul_throughput (0 tests)"), std::string::npos) << text;
  const auto json = nlohmann::json::parse(slurp(options.json_path));
  EXPECT_EQ(json["passed"], true);
  EXPECT_EQ(json["certified"], false);
  EXPECT_EQ(json["verdict"], "PASSED with 15 required ops waived (not certified)");
  EXPECT_EQ(json["waived_required"].size(), 15u);
  EXPECT_EQ(json["expectation_entries"][0]["glob"], "ops.mul.*");
  const std::string xml = slurp(options.junit_path);
  EXPECT_NE(
      xml.find("<testcase classname=\"cts.certification\" name=\"certification.inference-1\" time=\"0\">\n"
               "      <skipped message=\"PASSED with 15 required ops waived (not certified): ops.mul.f32"),
      std::string::npos)
      << xml;

  const auto core = run_cts(options_for(PLINTH_TEMPLATE_PLUGIN, Level::kCore, "ops.*"));
  EXPECT_TRUE(core.certified()) << failures(core);
  EXPECT_EQ(core.verdict(), "PASSED");
}

// An expected failure of a required op is a waiver too.
TEST(CtsWaivers, XfailOfARequiredOpIsAWaiver) {
  TempDir dir;
  auto options = options_for(PLINTH_BROKEN_ADD_WRONG, Level::kInference1, "ops.add.f32");
  options.expect_path = dir.file("list.txt", "xfail ops.add.f32 rounding bug ACME-1\n");
  const auto report = run_cts(options);
  EXPECT_TRUE(report.passed) << failures(report);
  EXPECT_EQ(report.waived_required, std::vector<std::string>{"ops.add.f32"});
  EXPECT_EQ(report.verdict(), "PASSED with 1 required op waived (not certified)");
}

}  // namespace
}  // namespace plinth::cts::test
