#include <fstream>

#include <gtest/gtest.h>

#include "plinth/plugin.hpp"

namespace fs = std::filesystem;

namespace {

class DiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("plinth-discovery-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    for (const char* d : {"explicit", "env1", "env2", "install", "prefix/bin", "prefix/lib/plinth/plugins"}) {
      fs::create_directories(root_ / d);
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path touch(const fs::path& rel) {
    const auto p = root_ / rel;
    std::ofstream(p) << "x";
    return fs::canonical(p);
  }

  plinth::DiscoveryOptions options() {
    plinth::DiscoveryOptions o;
    o.env_path = "";
    o.install_dir = root_ / "install";
    o.exe_dir = root_ / "prefix/bin";
    return o;
  }

  fs::path root_;
};

TEST_F(DiscoveryTest, FollowsTheDocumentedOrder) {
  const auto exp = touch("explicit/libplinth-backend-e.so");
  const auto env1 = touch("env1/libplinth-backend-b.so");
  const auto env1a = touch("env1/libplinth-backend-a.so");
  const auto env2 = touch("env2/libplinth-backend-c.so");
  const auto inst = touch("install/libplinth-backend-d.so");
  const auto libdir = touch("prefix/lib/plinth/plugins/libplinth-backend-f.so");
  const auto bindir = touch("prefix/bin/libplinth-backend-g.so");
  touch("install/libsomething-else.so");          // wrong prefix: ignored
  touch("install/libplinth-backend-h.so.txt");    // wrong suffix: ignored

  auto o = options();
  o.explicit_paths = {exp};
  o.env_path = (root_ / "env1").string() + ":" + env2.string();
  const auto found = plinth::discover_plugins(o);
  ASSERT_EQ(found.size(), 7u);
  EXPECT_EQ(found[0].path, exp);
  EXPECT_EQ(found[0].source, plinth::PluginSource::explicit_path);
  EXPECT_EQ(found[1].path, env1a);  // a directory's plugins are sorted by name
  EXPECT_EQ(found[2].path, env1);
  EXPECT_EQ(found[3].path, env2);
  EXPECT_EQ(found[3].source, plinth::PluginSource::env_path);
  EXPECT_EQ(found[4].path, inst);
  EXPECT_EQ(found[4].source, plinth::PluginSource::install_dir);
  EXPECT_EQ(found[5].path, libdir);
  EXPECT_EQ(found[5].source, plinth::PluginSource::exe_dir);
  EXPECT_EQ(found[6].path, bindir);
}

TEST_F(DiscoveryTest, SameRealFileOnce) {
  const auto real = touch("install/libplinth-backend-a.so");
  fs::create_symlink(real, root_ / "env1/libplinth-backend-a.so");
  auto o = options();
  o.explicit_paths = {real, root_ / "install/../install/libplinth-backend-a.so"};
  o.env_path = (root_ / "env1").string();
  const auto found = plinth::discover_plugins(o);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, real);
  EXPECT_EQ(found[0].source, plinth::PluginSource::explicit_path);
}

TEST_F(DiscoveryTest, MissingNamedFilesAreCandidatesMissingDirsAreNot) {
  auto o = options();
  o.explicit_paths = {root_ / "explicit/libplinth-backend-missing.so"};
  o.env_path = (root_ / "no-such-dir").string() + "::";
  const auto found = plinth::discover_plugins(o);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path.filename(), "libplinth-backend-missing.so");
}

TEST_F(DiscoveryTest, DefaultDirsCanBeSwitchedOff) {
  touch("install/libplinth-backend-d.so");
  touch("prefix/bin/libplinth-backend-g.so");
  auto o = options();
  o.search_install_dir = false;
  o.search_exe_dir = false;
  EXPECT_TRUE(plinth::discover_plugins(o).empty());
  o.search_install_dir = true;
  EXPECT_EQ(plinth::discover_plugins(o).size(), 1u);
}

TEST(Discovery, InstallDirIsCompiledIn) {
  const auto dir = plinth::install_plugin_dir();
  EXPECT_TRUE(dir.is_absolute());
  EXPECT_EQ(dir.filename(), "plugins");
  EXPECT_EQ(dir.parent_path().filename(), "plinth");
}

}  // namespace
