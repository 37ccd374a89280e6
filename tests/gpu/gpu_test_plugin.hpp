// Test harness for the GPU plugins: loads the plugin binary directly through its one exported
// symbol (no core), and wraps the handful of ABI calls the tests make.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "plinth/abi.h"
#include "plinth/ops.h"

namespace plinth::gpu_test {

#ifdef PLINTH_TEST_PLUGIN_PATH
// The plugin under test: PLINTH_TEST_PLUGIN overrides the build-time path, so test binaries built on
// one machine can run against the plugin on another (bench/gpu-check.sh with PREBUILT).
inline const char* test_plugin_path() {
  const char* env = std::getenv("PLINTH_TEST_PLUGIN");
  return env != nullptr && *env != '\0' ? env : PLINTH_TEST_PLUGIN_PATH;
}
#endif

class LoadedPlugin {
 public:
  explicit LoadedPlugin(const char* path) {
    handle_ = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      error_ = dlerror();
      return;
    }
    init_ = reinterpret_cast<plinth_plugin_init_fn>(dlsym(handle_, PLINTH_PLUGIN_ENTRY_NAME));
    if (init_ == nullptr) error_ = "no entry symbol";
  }
  ~LoadedPlugin() {
    if (api_ != nullptr && initialized_) api_->shutdown();
    if (handle_ != nullptr) dlclose(handle_);
  }
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  plinth_status_t init(uint32_t major = PLINTH_ABI_VERSION_MAJOR) {
    host_.struct_size = sizeof host_;
    host_.abi_major = major;
    host_.abi_minor = PLINTH_ABI_VERSION_MINOR;
    const plinth_status_t status = init_(&host_, &api_);
    initialized_ = status == PLINTH_OK;
    return status;
  }

  const std::string& error() const { return error_; }
  plinth_plugin_init_fn entry() const { return init_; }
  const plinth_plugin_api_t* api() const { return api_; }

  std::vector<plinth_probe_entry_t> probe() const {
    uint32_t count = 0;
    EXPECT_EQ(api_->probe(nullptr, 0, &count), PLINTH_OK);
    std::vector<plinth_probe_entry_t> entries(count);
    for (auto& e : entries) e.struct_size = sizeof e;
    uint32_t again = 0;
    EXPECT_EQ(api_->probe(entries.data(), count, &again), PLINTH_OK);
    EXPECT_EQ(again, count);
    return entries;
  }

 private:
  void* handle_ = nullptr;
  plinth_plugin_init_fn init_ = nullptr;
  plinth_host_services_t host_{};
  const plinth_plugin_api_t* api_ = nullptr;
  bool initialized_ = false;
  std::string error_;
};

}  // namespace plinth::gpu_test
