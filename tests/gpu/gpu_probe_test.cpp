// Load-and-probe tests: run on every machine. Without a GPU or driver the plugin must still load,
// initialize, and report one plugin-wide reason instead of failing.
#include "gpu_test_plugin.hpp"

namespace plinth::gpu_test {
namespace {

TEST(GpuPluginProbe, LoadsAndExportsACompleteTable) {
  LoadedPlugin plugin(test_plugin_path());
  ASSERT_TRUE(plugin.error().empty()) << plugin.error();
  ASSERT_EQ(plugin.init(), PLINTH_OK);
  const plinth_plugin_api_t* api = plugin.api();
  EXPECT_EQ(api->abi_major, PLINTH_ABI_VERSION_MAJOR);
  EXPECT_STREQ(api->name, PLINTH_TEST_PLUGIN_NAME);
  EXPECT_GE(api->struct_size, sizeof(plinth_plugin_api_t));
  // Every entry is implemented, graphs included (the feature bit promises them).
  const auto* first = reinterpret_cast<const char*>(&api->last_error_message);
  const auto* last = reinterpret_cast<const char*>(&api->op_launch);
  for (const char* p = first; p <= last; p += sizeof(void*)) {
    void* entry = nullptr;
    std::memcpy(&entry, p, sizeof entry);
    EXPECT_NE(entry, nullptr) << "NULL entry at table offset " << (p - reinterpret_cast<const char*>(api));
  }
}

TEST(GpuPluginProbe, RejectsAnotherMajorVersionButNamesItself) {
  LoadedPlugin plugin(test_plugin_path());
  ASSERT_TRUE(plugin.error().empty()) << plugin.error();
  EXPECT_EQ(plugin.init(PLINTH_ABI_VERSION_MAJOR + 1), PLINTH_ERROR_INCOMPATIBLE_VERSION);
  ASSERT_NE(plugin.api(), nullptr);
  EXPECT_STREQ(plugin.api()->name, PLINTH_TEST_PLUGIN_NAME);
}

TEST(GpuPluginProbe, ReportsDevicesOrAPluginWideReason) {
  LoadedPlugin plugin(test_plugin_path());
  ASSERT_EQ(plugin.init(), PLINTH_OK);
  const auto entries = plugin.probe();
  ASSERT_FALSE(entries.empty());
  if (entries[0].index == UINT32_MAX) {
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].usable, 0u);
    const std::string reason = entries[0].reason;
    EXPECT_TRUE(reason.find("driver") != std::string::npos || reason.find("no ") == 0) << reason;
    // Opening anything then is an error with a message, not a crash.
    plinth_device_t device = nullptr;
    EXPECT_EQ(plugin.api()->device_open(0, &device), PLINTH_ERROR_OUT_OF_RANGE);
    EXPECT_STRNE(plugin.api()->last_error_message(), "");
    std::printf("plugin-wide reason: %s\n", reason.c_str());
  } else {
    for (uint32_t i = 0; i < entries.size(); ++i) {
      EXPECT_EQ(entries[i].index, i);
      EXPECT_STRNE(entries[i].name, "");
      EXPECT_EQ(entries[i].usable != 0, entries[i].reason[0] == '\0') << entries[i].reason;
    }
  }
}

TEST(GpuPluginProbe, ValidatesProbeArguments) {
  LoadedPlugin plugin(test_plugin_path());
  ASSERT_EQ(plugin.init(), PLINTH_OK);
  EXPECT_EQ(plugin.api()->probe(nullptr, 0, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_STRNE(plugin.api()->last_error_message(), "");
  uint32_t count = 0;
  EXPECT_EQ(plugin.api()->probe(nullptr, 3, &count), PLINTH_ERROR_INVALID_ARGUMENT);
  // A struct_size smaller than v1 is rejected rather than overrun.
  plinth_probe_entry_t small{};
  small.struct_size = 8;
  EXPECT_EQ(plugin.api()->probe(&small, 1, &count), PLINTH_ERROR_INVALID_ARGUMENT);
}

TEST(GpuPluginProbe, StaleHandlesAreErrors) {
  LoadedPlugin plugin(test_plugin_path());
  ASSERT_EQ(plugin.init(), PLINTH_OK);
  int not_a_handle = 0;
  plinth_stream_t stream = nullptr;
  EXPECT_EQ(plugin.api()->stream_create(reinterpret_cast<plinth_device_t>(&not_a_handle), 0, &stream),
            PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(plugin.api()->buffer_free(nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
}

TEST(GpuPluginProbe, ReinitializesAfterShutdown) {
  LoadedPlugin plugin(test_plugin_path());
  ASSERT_EQ(plugin.init(), PLINTH_OK);
  ASSERT_EQ(plugin.api()->shutdown(), PLINTH_OK);
  ASSERT_EQ(plugin.init(), PLINTH_OK);
  EXPECT_FALSE(plugin.probe().empty());
}

}  // namespace
}  // namespace plinth::gpu_test
