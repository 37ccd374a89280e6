// Expectation lists (unsupported / xfail / stale xfail), filters and the JSON / JUnit reports.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cts_test_util.hpp"

namespace plinth::cts::test {
namespace {

TEST(CtsLists, ExpectedFailureKeepsTheRunGreen) {
  TempDir dir;
  auto options = options_for(PLINTH_BROKEN_ADD_WRONG, Level::kInference1, "ops.add.*");
  options.expect_path = dir.file("list.txt", "xfail ops.add.f32 tail element off, fixed in 0.2\n"
                                             "unsupported ops.add.f16 no f16\nunsupported ops.add.bf16 no bf16\n");
  const auto report = run_cts(options);
  const TestResult* r = find_result(report, "ops.add.f32");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, TestStatus::kExpectedFailure) << r->message;
  EXPECT_NE(r->message.find("tail element off"), std::string::npos) << r->message;
  EXPECT_TRUE(report.passed) << failures(report);
}

TEST(CtsLists, PassingExpectedFailureIsStaleAndFailsTheRun) {
  TempDir dir;
  auto options = options_for(PLINTH_BROKEN_ADD_WRONG, Level::kCore, "ops.copy.f32");
  options.expect_path = dir.file("list.txt", "# comment\n\nxfail ops.copy.f32 believed broken\n");
  const auto report = run_cts(options);
  const TestResult* r = find_result(report, "ops.copy.f32");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, TestStatus::kStaleExpectedFailure);
  EXPECT_NE(r->message.find("stale expected failure"), std::string::npos) << r->message;
  EXPECT_FALSE(report.passed);
}

TEST(CtsLists, UnsupportedEntriesAreNotRunButReported) {
  TempDir dir;
  auto options = options_for(PLINTH_BROKEN_CRASH, Level::kInference1, "ops.add.*");
  options.expect_path = dir.file("list.txt", "unsupported ops.add.* no adder on this chip\n");
  const auto report = run_cts(options);
  ASSERT_EQ(report.tests.size(), 3u);
  for (const auto& t : report.tests) {
    EXPECT_EQ(t.status, TestStatus::kUnsupported) << t.id;
    EXPECT_NE(t.message.find("no adder on this chip"), std::string::npos);
  }
  EXPECT_TRUE(report.passed) << "the crashing op was never run";
}

TEST(CtsLists, MalformedListIsAnError) {
  TempDir dir;
  auto options = options_for(PLINTH_BROKEN_CRASH, Level::kCore, "abi.*");
  options.expect_path = dir.file("list.txt", "xfail ops.add.f32\n");
  EXPECT_THROW(run_cts(options), std::runtime_error);
  options.expect_path = dir.file("list2.txt", "maybe ops.add.f32 why\n");
  EXPECT_THROW(run_cts(options), std::runtime_error);
  options.expect_path = dir.file("missing.txt");
  EXPECT_THROW(run_cts(options), UsageError);
}

TEST(CtsReports, JsonAndJunitDescribeTheRun) {
  TempDir dir;
  auto options = options_for(PLINTH_BROKEN_OOB_WRITE, Level::kInference1, "ops.scale.f32");
  options.json_path = dir.file("report.json");
  options.junit_path = dir.file("report.xml");
  const auto report = run_cts(options);
  ASSERT_FALSE(report.passed);
  const auto json = nlohmann::json::parse(slurp(options.json_path));
  EXPECT_EQ(json["level"], "inference-1");
  EXPECT_EQ(json["passed"], false);
  ASSERT_EQ(json["tests"].size(), 1u);
  EXPECT_EQ(json["tests"][0]["id"], "ops.scale.f32");
  EXPECT_EQ(json["tests"][0]["status"], "failed");
  EXPECT_NE(json["tests"][0]["message"].get<std::string>().find("guard bytes after output"), std::string::npos);
  const std::string xml = slurp(options.junit_path);
  EXPECT_NE(xml.find("<testcase classname=\"cts.ops\" name=\"ops.scale.f32\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"op scale f32 "), std::string::npos) << xml;
  std::ostringstream console;
  print_summary(report, console, false);
  EXPECT_NE(console.str().find("Result: level inference-1 FAILED"), std::string::npos) << console.str();
  EXPECT_NE(console.str().find("[failed] ops.scale.f32: op scale f32"), std::string::npos) << console.str();
}

TEST(CtsReports, FilterMatchingNothingIsAUsageError) {
  auto options = options_for(PLINTH_BROKEN_OOB_WRITE, Level::kCore, "no.such.test*");
  try {
    run_cts(options);
    FAIL() << "a filter that matches nothing must be a usage error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--filter 'no.such.test*' matches no test"), std::string::npos)
        << e.what();
  }
}

// A file that is no plugin is one load error naming the file and the loader's reason, not the same
// failure repeated for every test; nothing runs and the level fails.
TEST(CtsLoading, LibraryWithoutTheEntryPointIsOneLoadError) {
  TempDir dir;
  auto options = options_for(PLINTH_NOT_A_PLUGIN, Level::kInference1, "*");
  options.json_path = dir.file("report.json");
  options.junit_path = dir.file("report.xml");
  const auto report = run_cts(options);
  EXPECT_EQ(report.load_error, std::string("cannot load plugin ") + PLINTH_NOT_A_PLUGIN +
                                   ": not a Plinth plugin: no exported symbol 'plinth_plugin_init'");
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(report.tests.empty());
  const auto json = nlohmann::json::parse(slurp(options.json_path));
  EXPECT_EQ(json["load_error"], report.load_error);
  EXPECT_EQ(json["passed"], false);
  const std::string xml = slurp(options.junit_path);
  EXPECT_NE(xml.find("name=\"plugin.load\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"cannot load plugin "), std::string::npos) << xml;
  std::ostringstream console;
  print_summary(report, console, false);
  EXPECT_NE(console.str().find("Nothing ran: " + report.load_error), std::string::npos) << console.str();
  EXPECT_NE(console.str().find("Result: level inference-1 FAILED"), std::string::npos) << console.str();
}

// The reason is the dynamic loader's own, without the file name twice or an unrelated errno text,
// whether the CTS loads it in a child or in its own process.
TEST(CtsLoading, FileThatIsNoLibraryGivesTheLoadersReason) {
  const std::string want = std::string("cannot load plugin ") + PLINTH_TEXT_PLUGIN + ": file too short";
  auto options = options_for(PLINTH_TEXT_PLUGIN, Level::kCore, "*");
  EXPECT_EQ(run_cts(options).load_error, want);
  options.isolate = false;
  EXPECT_EQ(run_cts(options).load_error, want);
}

TEST(CtsPluginResolution, NamesAndPaths) {
  const std::filesystem::path broken(PLINTH_BROKEN_OOB_WRITE);
  EXPECT_EQ(resolve_plugin(broken.string(), {}), broken);
  EXPECT_EQ(resolve_plugin("broken-oob-write", {broken.parent_path()}), broken.parent_path() / broken.filename());
  EXPECT_FALSE(resolve_plugin("no-such-plugin", {broken.parent_path()}).has_value());
  EXPECT_FALSE(resolve_plugin("/no/such/file.so", {}).has_value());
}

TEST(CtsLevels, ParseAndName) {
  EXPECT_EQ(parse_level("core"), Level::kCore);
  EXPECT_EQ(parse_level("inference-1"), Level::kInference1);
  EXPECT_EQ(parse_level("inference-2"), Level::kInference2);
  EXPECT_FALSE(parse_level("inference-3").has_value());
  EXPECT_STREQ(level_name(Level::kInference2), "inference-2");
  EXPECT_STREQ(level_name(Level::kInference1), "inference-1");
}

}  // namespace
}  // namespace plinth::cts::test
