// Loads the C11 test plugin with dlopen and checks version negotiation and the probe.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "plinth/abi.h"

namespace {

class CPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(PLINTH_C_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    init_ = reinterpret_cast<plinth_plugin_init_fn>(dlsym(handle_, PLINTH_PLUGIN_ENTRY_NAME));
    ASSERT_NE(init_, nullptr) << "no " << PLINTH_PLUGIN_ENTRY_NAME << " in " << PLINTH_C_PLUGIN_PATH;
  }
  void TearDown() override {
    if (handle_ != nullptr) dlclose(handle_);
  }

  static plinth_host_services_t host(uint32_t major, uint32_t minor) {
    plinth_host_services_t h{};
    h.struct_size = sizeof h;
    h.abi_major = major;
    h.abi_minor = minor;
    return h;
  }

  const plinth_plugin_api_t* init_ok() {
    const plinth_host_services_t h = host(PLINTH_ABI_VERSION_MAJOR, PLINTH_ABI_VERSION_MINOR);
    const plinth_plugin_api_t* api = nullptr;
    EXPECT_EQ(init_(&h, &api), PLINTH_OK);
    return api;
  }

  void* handle_ = nullptr;
  plinth_plugin_init_fn init_ = nullptr;
};

TEST_F(CPlugin, SameMajorNegotiates) {
  const plinth_plugin_api_t* api = init_ok();
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->abi_major, static_cast<uint32_t>(PLINTH_ABI_VERSION_MAJOR));
  EXPECT_EQ(api->struct_size, sizeof(plinth_plugin_api_t));
  EXPECT_STREQ(api->name, "ctest");
  // Every REQUIRED entry is present.
  EXPECT_NE(api->last_error_message, nullptr);
  EXPECT_NE(api->shutdown, nullptr);
  EXPECT_NE(api->probe, nullptr);
  EXPECT_NE(api->device_open, nullptr);
  EXPECT_NE(api->op_supports, nullptr);
  EXPECT_NE(api->op_launch, nullptr);
  EXPECT_EQ(api->graph_begin_capture, nullptr);  // optional, left to the core
  EXPECT_EQ(api->shutdown(), PLINTH_OK);

  // A newer minor of the same major is compatible too.
  const plinth_host_services_t newer = host(PLINTH_ABI_VERSION_MAJOR, PLINTH_ABI_VERSION_MINOR + 3);
  const plinth_plugin_api_t* again = nullptr;
  EXPECT_EQ(init_(&newer, &again), PLINTH_OK);
  EXPECT_EQ(again, api);
  EXPECT_EQ(again->shutdown(), PLINTH_OK);
}

TEST_F(CPlugin, OtherMajorIsIncompatibleButNamesItself) {
  const plinth_host_services_t h = host(2, 0);
  const plinth_plugin_api_t* api = nullptr;
  EXPECT_EQ(init_(&h, &api), PLINTH_ERROR_INCOMPATIBLE_VERSION);
  ASSERT_NE(api, nullptr) << "out_api must be set so the host can name the plugin";
  EXPECT_STREQ(api->name, "ctest");
  EXPECT_STREQ(api->version, "0.1.0");
  EXPECT_EQ(api->abi_major, 1u);
}

TEST_F(CPlugin, MalformedHostServices) {
  const plinth_plugin_api_t* api = nullptr;
  EXPECT_EQ(init_(nullptr, &api), PLINTH_ERROR_INVALID_ARGUMENT);
  plinth_host_services_t h = host(PLINTH_ABI_VERSION_MAJOR, 0);
  h.struct_size = 8;
  EXPECT_EQ(init_(&h, &api), PLINTH_ERROR_INVALID_ARGUMENT);
  h.struct_size = sizeof h;
  EXPECT_EQ(init_(&h, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
}

TEST_F(CPlugin, ProbeReportsUnusableDeviceWithReason) {
  const plinth_plugin_api_t* api = init_ok();
  ASSERT_NE(api, nullptr);
  uint32_t count = 0;
  ASSERT_EQ(api->probe(nullptr, 0, &count), PLINTH_OK);
  EXPECT_EQ(count, 1u);

  plinth_probe_entry_t entry;
  std::memset(&entry, 0xff, sizeof entry);
  entry.struct_size = sizeof entry;
  entry.next = nullptr;
  ASSERT_EQ(api->probe(&entry, 1, &count), PLINTH_OK);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(entry.struct_size, sizeof entry);
  EXPECT_EQ(entry.index, 0u);
  EXPECT_EQ(entry.usable, 0u);
  EXPECT_STREQ(entry.name, "ctest virtual device");
  EXPECT_STREQ(entry.reason, "no ctest hardware present (this plugin exists only for tests)");

  // A newer host's larger entry: the plugin writes the v1 part and leaves the rest alone.
  struct NewerEntry {
    plinth_probe_entry_t v1;
    uint64_t future;
  } newer{};
  newer.v1.struct_size = sizeof newer;
  newer.future = 0x1234;
  ASSERT_EQ(api->probe(&newer.v1, 1, &count), PLINTH_OK);
  EXPECT_EQ(newer.v1.struct_size, sizeof newer);
  EXPECT_EQ(newer.future, 0x1234u);
  EXPECT_EQ(newer.v1.usable, 0u);

  EXPECT_EQ(api->probe(nullptr, 0, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(api->last_error_message(), "probe: out_count is NULL");
  EXPECT_EQ(api->probe(nullptr, 2, &count), PLINTH_ERROR_INVALID_ARGUMENT);

  // Opening the unusable device fails with the probe's reason; other indices do not exist.
  plinth_device_t device = nullptr;
  EXPECT_EQ(api->device_open(0, &device), PLINTH_ERROR_UNSUPPORTED);
  EXPECT_EQ(std::string(api->last_error_message()), entry.reason);
  EXPECT_EQ(api->device_open(1, &device), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api->shutdown(), PLINTH_OK);
}

}  // namespace
