// Drives the Vulkan plugin through the plugin ABI exactly as a host would: dlopen, init, probe, open
// the first usable device. Tests skip (with the probe's reason) when no usable device exists.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "plinth/ops.h"
#include "plinth/sdk/dtype.hpp"

namespace plinth::vulkan_test {

// Sets an environment variable for its lifetime and restores what was there before (a GPU machine
// may need VK_DRIVER_FILES to find its driver, so later tests must see it again).
class EnvOverride {
 public:
  EnvOverride(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    setenv(name, value, 1);
  }
  ~EnvOverride() {
    if (saved_)
      setenv(name_, saved_->c_str(), 1);
    else
      unsetenv(name_);
  }
  EnvOverride(const EnvOverride&) = delete;
  EnvOverride& operator=(const EnvOverride&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

struct Loaded {
  void* handle = nullptr;
  const plinth_plugin_api_t* api = nullptr;
  plinth_host_services_t host{};

  Loaded() {
    // PLINTH_TEST_PLUGIN overrides the build-time path, so these tests built on one machine can run
    // against the plugin on a GPU machine (bench/gpu-check.sh with PREBUILT).
    const char* env = std::getenv("PLINTH_TEST_PLUGIN");
    handle = dlopen(env != nullptr && *env != '\0' ? env : PLINTH_VULKAN_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) return;
    auto init = reinterpret_cast<plinth_plugin_init_fn>(dlsym(handle, PLINTH_PLUGIN_ENTRY_NAME));
    if (init == nullptr) return;
    host.struct_size = sizeof host;
    host.abi_major = PLINTH_ABI_VERSION_MAJOR;
    host.abi_minor = PLINTH_ABI_VERSION_MINOR;
    if (init(&host, &api) != PLINTH_OK) api = nullptr;
  }
  ~Loaded() {
    if (api != nullptr) api->shutdown();
    if (handle != nullptr) dlclose(handle);
  }
  Loaded(const Loaded&) = delete;
  Loaded& operator=(const Loaded&) = delete;

  std::vector<plinth_probe_entry_t> probe() const {
    uint32_t count = 0;
    EXPECT_EQ(api->probe(nullptr, 0, &count), PLINTH_OK);
    std::vector<plinth_probe_entry_t> entries(count);
    for (auto& e : entries) e.struct_size = sizeof e;
    EXPECT_EQ(api->probe(entries.data(), count, &count), PLINTH_OK);
    return entries;
  }
};

inline std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& dims, int64_t elem) {
  std::vector<int64_t> s(dims.size());
  int64_t acc = elem;
  for (size_t k = dims.size(); k-- > 0;) {
    s[k] = acc;
    acc *= dims[k];
  }
  return s;
}

inline plinth_tensor_t tensor(plinth_buffer_t buffer, plinth_dtype_t dtype, std::vector<int64_t> dims,
                              std::vector<int64_t> strides = {}, uint64_t offset = 0) {
  plinth_tensor_t t{};
  t.struct_size = sizeof t;
  t.dtype = dtype;
  t.buffer = buffer;
  t.offset = offset;
  t.ndim = static_cast<uint32_t>(dims.size());
  int64_t elem = dtype == PLINTH_DTYPE_F16 || dtype == PLINTH_DTYPE_BF16 ? 2 : 4;
  if (sdk::is_quantized(dtype)) {
    // Rows of blocks back to back.
    const auto layout = sdk::dtype_layout(dtype);
    const int64_t row = dims.back() / 32 * layout.block_bytes;
    if (strides.empty()) {
      strides = contiguous_strides(std::vector<int64_t>(dims.begin(), dims.end() - 1), row);
      strides.push_back(0);
    }
  } else if (strides.empty()) {
    strides = contiguous_strides(dims, elem);
  }
  for (size_t k = 0; k < dims.size(); ++k) {
    t.dims[k] = dims[k];
    t.strides[k] = strides[k];
  }
  return t;
}

class VulkanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(loaded_.api, nullptr) << "plugin failed to load or init: " << dlerror();
    api_ = loaded_.api;
    int usable = -1;
    std::string reasons;
    for (const auto& e : loaded_.probe()) {
      if (e.usable && usable < 0) usable = static_cast<int>(e.index);
      if (!e.usable) reasons += std::string(" ") + e.reason;
    }
    if (usable < 0) GTEST_SKIP() << "no usable Vulkan device:" << reasons;
    ASSERT_EQ(api_->device_open(static_cast<uint32_t>(usable), &device_), PLINTH_OK)
        << api_->last_error_message();
    ASSERT_EQ(api_->stream_create(device_, 0, &stream_), PLINTH_OK) << api_->last_error_message();
  }

  void TearDown() override {
    if (api_ == nullptr || device_ == nullptr) return;
    if (stream_ != nullptr) {
      EXPECT_EQ(api_->stream_destroy(stream_), PLINTH_OK);
    }
    for (auto b : buffers_) {
      EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);
    }
    EXPECT_EQ(api_->device_close(device_), PLINTH_OK);
  }

  plinth_buffer_t alloc(uint64_t bytes, uint32_t kind = PLINTH_MEMORY_DEVICE) {
    plinth_buffer_desc_t d{};
    d.struct_size = sizeof d;
    d.memory_kind = kind;
    d.size = bytes;
    plinth_buffer_t b = nullptr;
    EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_OK) << api_->last_error_message();
    if (b != nullptr) buffers_.push_back(b);
    return b;
  }

  template <class T>
  plinth_buffer_t upload(const std::vector<T>& data) {
    plinth_buffer_t b = alloc(std::max<uint64_t>(1, data.size() * sizeof(T)));
    EXPECT_EQ(api_->copy_host_to_buffer(stream_, data.data(), b, 0, data.size() * sizeof(T)), PLINTH_OK)
        << api_->last_error_message();
    return b;
  }

  template <class T>
  std::vector<T> download(plinth_buffer_t b, size_t n, uint64_t offset = 0) {
    std::vector<T> out(n);
    EXPECT_EQ(api_->copy_buffer_to_host(stream_, b, offset, out.data(), n * sizeof(T)), PLINTH_OK)
        << api_->last_error_message();
    return out;
  }

  plinth_status_t launch(plinth_op_t op, std::vector<const plinth_tensor_t*> in,
                         std::vector<const plinth_tensor_t*> out, const void* params = nullptr) {
    plinth_op_call_t c{};
    c.struct_size = sizeof c;
    c.op = op;
    c.inputs = in.data();
    c.outputs = out.data();
    c.num_inputs = static_cast<uint32_t>(in.size());
    c.num_outputs = static_cast<uint32_t>(out.size());
    c.params = params;
    return api_->op_launch(stream_, &c);
  }

  // Launches and checks the status, printing the plugin's message on failure.
  void run(plinth_op_t op, std::vector<const plinth_tensor_t*> in, std::vector<const plinth_tensor_t*> out,
           const void* params = nullptr) {
    ASSERT_EQ(launch(op, std::move(in), std::move(out), params), PLINTH_OK) << api_->last_error_message();
  }

  Loaded loaded_;
  const plinth_plugin_api_t* api_ = nullptr;
  plinth_device_t device_ = nullptr;
  plinth_stream_t stream_ = nullptr;
  std::vector<plinth_buffer_t> buffers_;
};

// Deterministic pseudo-random floats in [-1, 1).
// One opened device (by probe index) with a stream and the buffers allocated through it, released
// in reverse order. For tests that open devices themselves (several devices, or an environment
// switch read at device open).
class Session {
 public:
  Session(const plinth_plugin_api_t* api, uint32_t index) : api_(api) {
    EXPECT_EQ(api_->device_open(index, &device_), PLINTH_OK) << api_->last_error_message();
    if (device_ != nullptr) {
      EXPECT_EQ(api_->stream_create(device_, 0, &stream_), PLINTH_OK) << api_->last_error_message();
    }
  }
  ~Session() {
    if (stream_ != nullptr) {
      EXPECT_EQ(api_->stream_destroy(stream_), PLINTH_OK);
    }
    for (auto b : buffers_) EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);
    if (device_ != nullptr) {
      EXPECT_EQ(api_->device_close(device_), PLINTH_OK);
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  bool ok() const { return stream_ != nullptr; }
  const char* last_error() const { return api_->last_error_message(); }
  plinth_status_t synchronize() { return api_->stream_synchronize(stream_); }
  plinth_stream_t stream() const { return stream_; }

  plinth_device_properties_t properties() const {
    plinth_device_properties_t p{};
    p.struct_size = sizeof p;
    EXPECT_EQ(api_->device_get_properties(device_, &p), PLINTH_OK) << api_->last_error_message();
    return p;
  }

  plinth_buffer_t alloc(uint64_t bytes) {
    plinth_buffer_desc_t d{};
    d.struct_size = sizeof d;
    d.memory_kind = PLINTH_MEMORY_DEVICE;
    d.size = std::max<uint64_t>(bytes, 1);
    plinth_buffer_t b = nullptr;
    EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_OK) << api_->last_error_message();
    if (b != nullptr) buffers_.push_back(b);
    return b;
  }

  // Uploads `bytes` at byte `offset` of a fresh buffer.
  plinth_buffer_t upload(const void* data, uint64_t bytes, uint64_t offset = 0) {
    plinth_buffer_t b = alloc(bytes + offset);
    EXPECT_EQ(api_->copy_host_to_buffer(stream_, data, b, offset, bytes), PLINTH_OK) << api_->last_error_message();
    return b;
  }

  template <class T>
  std::vector<T> download(plinth_buffer_t b, size_t n) {
    std::vector<T> out(n);
    EXPECT_EQ(api_->copy_buffer_to_host(stream_, b, 0, out.data(), n * sizeof(T)), PLINTH_OK)
        << api_->last_error_message();
    return out;
  }

  plinth_status_t matmul(const plinth_tensor_t& a, const plinth_tensor_t& b, const plinth_tensor_t& c,
                         const plinth_matmul_params_t& p) {
    const plinth_tensor_t* in[] = {&a, &b};
    const plinth_tensor_t* out[] = {&c};
    plinth_op_call_t call{};
    call.struct_size = sizeof call;
    call.op = PLINTH_OP_MATMUL;
    call.inputs = in;
    call.outputs = out;
    call.num_inputs = 2;
    call.num_outputs = 1;
    call.params = &p;
    return api_->op_launch(stream_, &call);
  }

 private:
  const plinth_plugin_api_t* api_;
  plinth_device_t device_ = nullptr;
  plinth_stream_t stream_ = nullptr;
  std::vector<plinth_buffer_t> buffers_;
};

inline std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 8388608.0f - 1.0f;
  }
  return v;
}

inline void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0f, std::abs(want[i]))) << "at element " << i;
  }
}

}  // namespace plinth::vulkan_test
