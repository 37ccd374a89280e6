// PLINTH_CPU_DEVICES: the CPU plugin offers several identical devices, so multi-device logic (engine
// replicas, failover) runs on any machine. Read when the plugin is initialized, i.e. per Runtime.
#include <gtest/gtest.h>

#include <cstdlib>

#include "plinth/plinth.hpp"

namespace {

#ifdef PLINTH_TEST_CPU_PLUGIN
std::unique_ptr<plinth::Runtime> load_cpu(const char* devices) {
  if (devices == nullptr) {
    unsetenv("PLINTH_CPU_DEVICES");
  } else {
    setenv("PLINTH_CPU_DEVICES", devices, 1);
  }
  plinth::RuntimeOptions o;
  o.plugin_paths = {PLINTH_TEST_CPU_PLUGIN};
  o.use_env_plugin_path = false;
  o.use_default_plugin_dirs = false;
  o.faults = "";
  auto rt = std::make_unique<plinth::Runtime>(o);
  unsetenv("PLINTH_CPU_DEVICES");
  return rt;
}

TEST(CpuDevices, OneByDefault) { EXPECT_EQ(load_cpu(nullptr)->devices().size(), 1u); }

TEST(CpuDevices, SeveralIndependentDevicesOnRequest) {
  auto rt = load_cpu("3");
  ASSERT_EQ(rt->devices().size(), 3u);
  plinth::Device& d2 = rt->device("cpu:2");
  auto buffer = d2.allocate(16);
  buffer.write_values<float>(std::vector<float>{1, 2, 3, 4});
  EXPECT_EQ(buffer.read_values<float>(4), (std::vector<float>{1, 2, 3, 4}));
  // A fault injected on one device leaves the others working.
  d2.inject_fault({.kind = plinth::FaultKind::device_lost, .n = 0});
  EXPECT_THROW(d2.allocate(16), plinth::Error);
  EXPECT_NO_THROW(rt->device("cpu:1").allocate(16));
}

TEST(CpuDevices, BadCountsFallBackToOne) {
  for (const char* bad : {"0", "65", "two", "-1"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(load_cpu(bad)->devices().size(), 1u);
  }
}
#endif

}  // namespace
