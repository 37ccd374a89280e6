#include <gtest/gtest.h>

#include "test_support.hpp"

namespace fs = std::filesystem;
using plinth::test::CapturedLog;

namespace {

const fs::path kFakes = PLINTH_TEST_FAKES_DIR;

std::string reason_for(const plinth::Runtime& rt, const std::string& file) {
  for (const auto& r : rt.rejected_plugins()) {
    if (r.path.filename() == file) return r.reason;
  }
  return "<not rejected>";
}

plinth::RuntimeOptions fakes_only(CapturedLog& log) {
  auto o = plinth::test::coretest_options(log);
  o.plugin_paths = {kFakes};
  return o;
}

TEST(Loader, LoadsCoretestAndListsItsDevices) {
  CapturedLog log;
  plinth::Runtime rt(plinth::test::coretest_options(log));
  ASSERT_EQ(rt.plugins().size(), 1u);
  const auto& p = rt.plugins()[0];
  EXPECT_EQ(p.name, "coretest");
  EXPECT_EQ(p.version, "1.0-test");
  EXPECT_EQ(p.abi_major, 1u);
  EXPECT_FALSE(p.native_graphs);
  EXPECT_EQ(p.probe.size(), 3u);
  ASSERT_EQ(rt.devices().size(), 2u);
  EXPECT_EQ(rt.devices()[0]->id(), "coretest:0");
  EXPECT_EQ(rt.devices()[1]->id(), "coretest:1");
  EXPECT_EQ(rt.device("coretest:1").properties().name, "coretest limited");
  EXPECT_EQ(rt.devices()[0]->properties().type, plinth::DeviceType::virtual_device);
  EXPECT_EQ(rt.devices()[0]->properties().min_alignment, 64u);
  ASSERT_EQ(rt.unusable_devices().size(), 1u);
  EXPECT_EQ(rt.unusable_devices()[0].index, 2u);
  EXPECT_EQ(rt.unusable_devices()[0].reason, "simulated: driver not installed");
  EXPECT_TRUE(rt.rejected_plugins().empty());
  // The plugin's own log line reaches the runtime's logger, tagged with the plugin.
  EXPECT_NE(log.text().find("coretest plugin initialized"), std::string::npos);
}

TEST(Loader, ListedDevicesStopLoadingOnceAllAreOpen) {
  // The fakes come first in discovery order; without a device list every one of them is tried.
  CapturedLog all_log;
  auto all = plinth::test::coretest_options(all_log);
  all.plugin_paths = {kFakes, PLINTH_TEST_COREPLUGIN};
  EXPECT_GE(plinth::Runtime(all).rejected_plugins().size(), 5u);

  // Asking for coretest:1 tries the file named after its plugin first, and nothing after it.
  CapturedLog log;
  auto listed = all;
  listed.logger = log.logger;
  listed.devices = {"coretest:1"};
  plinth::Runtime rt(listed);
  ASSERT_EQ(rt.devices().size(), 1u);
  EXPECT_EQ(rt.devices()[0]->id(), "coretest:1");
  EXPECT_TRUE(rt.rejected_plugins().empty()) << reason_for(rt, "libplinth-backend-badversion.so");
  ASSERT_EQ(rt.plugins().size(), 1u);

  // A device no file is named after is still searched for everywhere (and here not found).
  CapturedLog missing_log;
  auto missing = all;
  missing.logger = missing_log.logger;
  missing.devices = {"coretest:0", "other:0"};
  plinth::Runtime rt2(missing);
  EXPECT_EQ(rt2.devices().size(), 1u);
  EXPECT_GE(rt2.rejected_plugins().size(), 5u);
}

TEST(Loader, UnknownDeviceIdListsAvailableOnes) {
  CapturedLog log;
  plinth::Runtime rt(plinth::test::coretest_options(log));
  try {
    rt.device("cuda:0");
    FAIL() << "expected an Error";
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("coretest:0, coretest:1"), std::string::npos) << e.what();
  }
}

TEST(Loader, DeviceFilterOpensOnlyNamedDevices) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.devices = {"coretest:1"};
  plinth::Runtime rt(o);
  ASSERT_EQ(rt.devices().size(), 1u);
  EXPECT_EQ(rt.devices()[0]->id(), "coretest:1");
}

TEST(Loader, RejectsEveryBrokenPluginWithItsReason) {
  CapturedLog log;
  plinth::Runtime rt(fakes_only(log));
  EXPECT_TRUE(rt.plugins().empty());
  EXPECT_TRUE(rt.devices().empty());
  EXPECT_EQ(rt.rejected_plugins().size(), 7u);
  // The dynamic loader's own reason, without the file name again or an unrelated errno text.
  EXPECT_EQ(reason_for(rt, "libplinth-backend-text.so"), "not loadable: file too short");
  EXPECT_NE(reason_for(rt, "libplinth-backend-nosymbol.so").find("no exported symbol 'plinth_plugin_init'"),
            std::string::npos);
  const auto version = reason_for(rt, "libplinth-backend-badversion.so");
  EXPECT_NE(version.find("incompatible ABI version"), std::string::npos) << version;
  EXPECT_NE(version.find("ABI 2.7"), std::string::npos) << version;
  EXPECT_NE(version.find("0.0-fake"), std::string::npos) << version;
  EXPECT_NE(reason_for(rt, "libplinth-backend-badtable.so").find("required entry 'probe' is NULL"), std::string::npos)
      << reason_for(rt, "libplinth-backend-badtable.so");
  const auto init = reason_for(rt, "libplinth-backend-initfail.so");
  EXPECT_NE(init.find("PLINTH_ERROR_INTERNAL"), std::string::npos) << init;
  EXPECT_NE(init.find("simulated init failure: no widgets"), std::string::npos) << init;
  EXPECT_NE(reason_for(rt, "libplinth-backend-smalltable.so").find("smaller than the v1 table"), std::string::npos);
  EXPECT_NE(reason_for(rt, "libplinth-backend-partialgraph.so")
                .find("graph_begin_capture, graph_end_capture, graph_launch, graph_destroy must all be set or all be NULL"),
            std::string::npos)
      << reason_for(rt, "libplinth-backend-partialgraph.so");
  // Each rejection is a warning naming the file.
  const auto text = log.text();
  EXPECT_NE(text.find("warning plugin " + (kFakes / "libplinth-backend-text.so").string() + " rejected"),
            std::string::npos)
      << text;
}

TEST(Loader, MissingExplicitFileIsRejected) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.plugin_paths = {kFakes / "libplinth-backend-nonexistent.so"};
  o.require_plugin_paths = false;
  plinth::Runtime rt(o);
  ASSERT_EQ(rt.rejected_plugins().size(), 1u);
  EXPECT_EQ(rt.rejected_plugins()[0].reason, "file not found");
}

// Throws the Error a Runtime built from `o` raises, or fails the test when it builds.
std::string construction_error(const plinth::RuntimeOptions& o) {
  try {
    plinth::Runtime rt(o);
  } catch (const plinth::Error& e) {
    EXPECT_EQ(e.status(), PLINTH_ERROR_INVALID_ARGUMENT);
    return e.what();
  }
  ADD_FAILURE() << "the Runtime was built";
  return {};
}

TEST(Loader, NamedPathsThatCannotLoadAreErrors) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.plugin_paths = {"/nonexistent/libplinth-backend-x.so"};
  EXPECT_NE(construction_error(o).find("plugin path '/nonexistent/libplinth-backend-x.so' does not exist"),
            std::string::npos);
  o.plugin_paths = {"/nonexistent-dir"};
  EXPECT_NE(construction_error(o).find("'/nonexistent-dir' does not exist"), std::string::npos);
  o.plugin_paths = {kFakes / "libplinth-backend-nosymbol.so"};
  const auto bad = construction_error(o);
  EXPECT_NE(
      bad.find("libplinth-backend-nosymbol.so' could not be loaded: not a Plinth plugin: no exported symbol"),
      std::string::npos)
      << bad;
  // A named directory is searched: what it holds may be rejected without failing the runtime.
  o.plugin_paths = {kFakes, PLINTH_TEST_COREPLUGIN};
  plinth::Runtime rt(o);
  EXPECT_EQ(rt.devices().size(), 2u);
  EXPECT_GE(rt.rejected_plugins().size(), 5u);
}

TEST(Loader, NamedPluginLoadsEvenWhenTheRequestedDeviceIsOpen) {
  // The device asked for comes from the named directory; the named file after it is still loaded, and
  // one that cannot load is still an error.
  const auto dir = fs::temp_directory_path() / "plinth-loader-named";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(PLINTH_TEST_COREPLUGIN, dir / "libplinth-backend-coretest.so");
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.plugin_paths = {dir, kFakes / "libplinth-backend-initfail.so"};
  o.devices = {"coretest:0"};
  EXPECT_NE(construction_error(o).find("simulated init failure"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Loader, UnknownFilteredDeviceNamesTheDevicesThatExist) {
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.devices = {"coretest:7"};
  plinth::Runtime rt(o);
  EXPECT_TRUE(rt.devices().empty());
  // Devices exist, so "no usable device found" would be false.
  EXPECT_EQ(log.text().find("no usable device"), std::string::npos) << log.text();
  try {
    rt.device("coretest:7");
    FAIL() << "expected an Error";
  } catch (const plinth::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("no device 'coretest:7' (open: none; also usable here but not opened: "
                                   "coretest:0, coretest:1; 1 unusable)"),
        std::string::npos)
        << e.what();
  }
}

TEST(Loader, SameFileLoadedOnceAndDuplicateNamesRejected) {
  const auto dir = fs::temp_directory_path() / "plinth-loader-dup";
  fs::remove_all(dir);
  fs::create_directories(dir / "a");
  fs::create_symlink(PLINTH_TEST_COREPLUGIN, dir / "a/libplinth-backend-coretest.so");
  fs::copy_file(PLINTH_TEST_COREPLUGIN, dir / "libplinth-backend-copy.so");
  CapturedLog log;
  auto o = plinth::test::coretest_options(log);
  o.plugin_paths = {PLINTH_TEST_COREPLUGIN, dir / "a", dir / "libplinth-backend-copy.so"};
  o.require_plugin_paths = false;  // the named copy is rejected; this test reads why
  {
    plinth::Runtime rt(o);
    EXPECT_EQ(rt.plugins().size(), 1u);
    EXPECT_EQ(rt.devices().size(), 2u);
    ASSERT_EQ(rt.rejected_plugins().size(), 1u);  // the copy: a different file with the same name
    EXPECT_EQ(rt.rejected_plugins()[0].path.filename(), "libplinth-backend-copy.so");
    EXPECT_NE(rt.rejected_plugins()[0].reason.find("already provided"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(Loader, TwoRuntimesShareOnePluginSafely) {
  CapturedLog log1, log2;
  auto rt1 = std::make_unique<plinth::Runtime>(plinth::test::coretest_options(log1));
  plinth::Runtime rt2(plinth::test::coretest_options(log2));
  auto& d1 = rt1->device("coretest:0");
  auto b1 = d1.allocate(128);
  b1.reset();
  rt1.reset();  // must not shut the plugin down under rt2
  auto& d2 = rt2.device("coretest:0");
  auto b = d2.allocate(16);
  b.write_values(std::vector<float>{1, 2, 3, 4});
  EXPECT_EQ(b.read_values<float>(4), (std::vector<float>{1, 2, 3, 4}));
}

}  // namespace
