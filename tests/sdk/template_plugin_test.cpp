// The vendor template plugin loaded as the host loads any plugin (dlopen + the one entry symbol):
// negotiation, probe, properties, every memory kind, copies, events and its four ops.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "plinth/abi.h"
#include "plinth/ops.h"
#include "test_structs.hpp"

namespace {

class TemplatePlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    lib_ = dlopen(PLINTH_TEMPLATE_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(lib_, nullptr) << dlerror();
    init_ = reinterpret_cast<plinth_plugin_init_fn>(dlsym(lib_, PLINTH_PLUGIN_ENTRY_NAME));
    ASSERT_NE(init_, nullptr);
    plinth_host_services_t host{};
    host.struct_size = sizeof host;
    host.abi_major = PLINTH_ABI_VERSION_MAJOR;
    host.abi_minor = PLINTH_ABI_VERSION_MINOR;
    ASSERT_EQ(init_(&host, &api_), PLINTH_OK);
    ASSERT_EQ(api_->device_open(0, &device_), PLINTH_OK) << api_->last_error_message();
    ASSERT_EQ(api_->stream_create(device_, 0, &stream_), PLINTH_OK);
  }
  void TearDown() override {
    if (api_ != nullptr) {
      if (device_ != nullptr) {
        EXPECT_EQ(api_->device_close(device_), PLINTH_OK);
      }
      EXPECT_EQ(api_->shutdown(), PLINTH_OK);
    }
    if (lib_ != nullptr) dlclose(lib_);
  }

  plinth_buffer_t alloc(uint64_t size, uint32_t kind = PLINTH_MEMORY_DEVICE, uint64_t alignment = 0) {
    plinth_buffer_desc_t desc{};
    desc.struct_size = sizeof desc;
    desc.memory_kind = kind;
    desc.size = size;
    desc.alignment = alignment;
    plinth_buffer_t b = nullptr;
    EXPECT_EQ(api_->buffer_alloc(device_, &desc, &b), PLINTH_OK) << api_->last_error_message();
    return b;
  }
  plinth_status_t try_alloc(uint64_t size, uint32_t kind, uint64_t alignment, plinth_buffer_t* out) {
    plinth_buffer_desc_t desc{};
    desc.struct_size = sizeof desc;
    desc.memory_kind = kind;
    desc.size = size;
    desc.alignment = alignment;
    return api_->buffer_alloc(device_, &desc, out);
  }
  void upload(plinth_buffer_t b, const std::vector<float>& v, uint64_t offset = 0) {
    ASSERT_EQ(api_->copy_host_to_buffer(stream_, v.data(), b, offset, v.size() * 4), PLINTH_OK);
  }
  std::vector<float> download(plinth_buffer_t b, std::size_t n, uint64_t offset = 0) {
    std::vector<float> v(n);
    EXPECT_EQ(api_->copy_buffer_to_host(stream_, b, offset, v.data(), n * 4), PLINTH_OK);
    EXPECT_EQ(api_->stream_synchronize(stream_), PLINTH_OK);
    return v;
  }

  plinth_device_properties_t properties() {
    plinth_device_properties_t props{};
    props.struct_size = sizeof props;
    EXPECT_EQ(api_->device_get_properties(device_, &props), PLINTH_OK);
    return props;
  }
  // Allocates max_allocation-sized buffers until one fails (64 at most); *status is the last result.
  std::vector<plinth_buffer_t> exhaust(const plinth_device_properties_t& props, plinth_status_t* status) {
    std::vector<plinth_buffer_t> held;
    *status = PLINTH_OK;
    while (held.size() < 64 && *status == PLINTH_OK) {
      plinth_buffer_t b = nullptr;
      *status = try_alloc(props.max_allocation, PLINTH_MEMORY_DEVICE, 0, &b);
      if (*status == PLINTH_OK) held.push_back(b);
    }
    return held;
  }

  void* lib_ = nullptr;
  plinth_plugin_init_fn init_ = nullptr;
  const plinth_plugin_api_t* api_ = nullptr;
  plinth_device_t device_ = nullptr;
  plinth_stream_t stream_ = nullptr;
};

using plinth::sdk::test::f32;
using plinth::sdk::test::make_call;

TEST_F(TemplatePlugin, NegotiationAndProbe) {
  plinth_host_services_t v2{};
  v2.struct_size = sizeof v2;
  v2.abi_major = 2;
  const plinth_plugin_api_t* api = nullptr;
  EXPECT_EQ(init_(&v2, &api), PLINTH_ERROR_INCOMPATIBLE_VERSION);
  ASSERT_NE(api, nullptr);
  EXPECT_STREQ(api->name, "template");
  EXPECT_NE(std::string(api->last_error_message()).find("ABI 2.0"), std::string::npos);

  uint32_t count = 0;
  ASSERT_EQ(api_->probe(nullptr, 0, &count), PLINTH_OK);
  ASSERT_EQ(count, 1u);
  plinth_probe_entry_t e{};
  e.struct_size = sizeof e;
  ASSERT_EQ(api_->probe(&e, 1, &count), PLINTH_OK);
  EXPECT_EQ(e.usable, 1u);
  EXPECT_STREQ(e.name, "template host device");
  EXPECT_STREQ(e.reason, "");
  plinth_device_t other = nullptr;
  EXPECT_EQ(api_->device_open(1, &other), PLINTH_ERROR_OUT_OF_RANGE);
}

TEST_F(TemplatePlugin, Properties) {
  struct Newer {
    plinth_device_properties_t v1;
    uint64_t future;
  } props{};
  props.v1.struct_size = sizeof props;
  props.future = 77;
  ASSERT_EQ(api_->device_get_properties(device_, &props.v1), PLINTH_OK);
  EXPECT_STREQ(props.v1.name, "template host device");
  EXPECT_EQ(props.v1.device_type, static_cast<uint32_t>(PLINTH_DEVICE_TYPE_VIRTUAL));
  EXPECT_TRUE(props.v1.features & PLINTH_FEATURE_UNIFIED_MEMORY);
  EXPECT_TRUE(props.v1.features & PLINTH_FEATURE_TIMESTAMPS);
  EXPECT_EQ(props.v1.min_alignment, 64u);
  EXPECT_EQ(props.v1.struct_size, sizeof props);
  EXPECT_EQ(props.future, 77u);
  plinth_device_properties_t tiny{};
  tiny.struct_size = 8;
  EXPECT_EQ(api_->device_get_properties(device_, &tiny), PLINTH_ERROR_INVALID_ARGUMENT);
}

TEST_F(TemplatePlugin, BuffersOfEveryKindMapAndAccount) {
  uint64_t free0 = 0, total = 0;
  ASSERT_EQ(api_->device_memory_info(device_, &free0, &total), PLINTH_OK);
  for (uint32_t kind : {PLINTH_MEMORY_DEVICE, PLINTH_MEMORY_HOST_PINNED, PLINTH_MEMORY_SHARED}) {
    plinth_buffer_t b = alloc(1000, kind, 4096);
    uint64_t free1 = 0;
    ASSERT_EQ(api_->device_memory_info(device_, &free1, &total), PLINTH_OK);
    EXPECT_EQ(free0 - free1, 1000u);
    void* p = nullptr;
    ASSERT_EQ(api_->buffer_map(b, 0, 1000, &p), PLINTH_OK);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, 0u);
    void* q = nullptr;
    EXPECT_EQ(api_->buffer_map(b, 0, 1, &q), PLINTH_ERROR_INVALID_STATE);
    EXPECT_EQ(api_->buffer_unmap(b), PLINTH_OK);
    EXPECT_EQ(api_->buffer_unmap(b), PLINTH_ERROR_INVALID_STATE);
    EXPECT_EQ(api_->buffer_map(b, 999, 2, &q), PLINTH_ERROR_OUT_OF_RANGE);
    ASSERT_EQ(api_->buffer_map(b, 10, 5, &q), PLINTH_OK);
    EXPECT_EQ(static_cast<char*>(q) - static_cast<char*>(p), 10);
    EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);  // freeing a mapped buffer unmaps it
    EXPECT_EQ(api_->buffer_free(b), PLINTH_ERROR_INVALID_ARGUMENT);
  }
  plinth_buffer_t b = nullptr;
  EXPECT_EQ(try_alloc(0, PLINTH_MEMORY_DEVICE, 0, &b), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(try_alloc(16, PLINTH_MEMORY_DEVICE, 3, &b), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(try_alloc(16, 9, 0, &b), PLINTH_ERROR_UNSUPPORTED);
  EXPECT_EQ(try_alloc(uint64_t{1} << 40, PLINTH_MEMORY_DEVICE, 0, &b), PLINTH_ERROR_OUT_OF_RANGE);
}

TEST_F(TemplatePlugin, OutOfMemoryLeavesDeviceUsable) {
  const plinth_device_properties_t props = properties();
  plinth_status_t status = PLINTH_OK;
  const std::vector<plinth_buffer_t> held = exhaust(props, &status);
  EXPECT_EQ(status, PLINTH_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(held.size(), props.total_memory / props.max_allocation);
  for (plinth_buffer_t b : held) EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);
  plinth_buffer_t b = alloc(props.max_allocation);
  EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);
}

// Each opened device has its own budget: filling one leaves a second open of index 0 untouched.
// abi.h device_memory_info: the budget is the hardware's, shared by every open of its index.
TEST_F(TemplatePlugin, MemoryBudgetIsSharedByEveryOpenOfTheHardware) {
  const plinth_device_properties_t props = properties();
  plinth_status_t status = PLINTH_OK;
  const std::vector<plinth_buffer_t> held = exhaust(props, &status);
  ASSERT_EQ(status, PLINTH_ERROR_OUT_OF_MEMORY);
  plinth_device_t other = nullptr;
  ASSERT_EQ(api_->device_open(0, &other), PLINTH_OK);
  uint64_t free_bytes = 0, total = 0;
  ASSERT_EQ(api_->device_memory_info(other, &free_bytes, &total), PLINTH_OK);
  EXPECT_LT(free_bytes, props.max_allocation) << "the other open sees the memory the first one holds";
  plinth_buffer_desc_t desc{};
  desc.struct_size = sizeof desc;
  desc.size = props.max_allocation;
  plinth_buffer_t b = nullptr;
  EXPECT_EQ(api_->buffer_alloc(other, &desc, &b), PLINTH_ERROR_OUT_OF_MEMORY);
  for (plinth_buffer_t h : held) EXPECT_EQ(api_->buffer_free(h), PLINTH_OK);
  ASSERT_EQ(api_->device_memory_info(other, &free_bytes, &total), PLINTH_OK);
  EXPECT_EQ(free_bytes, total) << "freed through one open, free for the other";
  EXPECT_EQ(api_->buffer_alloc(other, &desc, &b), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(api_->device_close(other), PLINTH_OK);  // reclaims b
  ASSERT_EQ(api_->device_memory_info(device_, &free_bytes, &total), PLINTH_OK);
  EXPECT_EQ(free_bytes, total) << "closing a device gives back what it held";
}

// A buffer of one device with a stream of another open of the same index is INVALID_ARGUMENT.
TEST_F(TemplatePlugin, SecondOpenOfTheSameIndexIsAnotherDevice) {
  plinth_device_t other = nullptr;
  ASSERT_EQ(api_->device_open(0, &other), PLINTH_OK);
  plinth_stream_t foreign = nullptr;
  ASSERT_EQ(api_->stream_create(other, 0, &foreign), PLINTH_OK);
  plinth_buffer_t b = alloc(64);
  std::vector<float> v(16, 1.0f);
  EXPECT_EQ(api_->copy_host_to_buffer(foreign, v.data(), b, 0, 64), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->copy_buffer_to_host(foreign, b, 0, v.data(), 64), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->device_close(other), PLINTH_OK);
  EXPECT_EQ(api_->copy_host_to_buffer(stream_, v.data(), b, 0, 64), PLINTH_OK);
}

TEST_F(TemplatePlugin, CopiesAndRanges) {
  plinth_buffer_t a = alloc(64);
  plinth_buffer_t b = alloc(64);
  upload(a, {1, 2, 3, 4});
  ASSERT_EQ(api_->copy_buffer(stream_, a, 0, b, 16, 16), PLINTH_OK);
  EXPECT_EQ(download(b, 4, 16), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(api_->copy_buffer(stream_, a, 0, a, 8, 16), PLINTH_ERROR_INVALID_ARGUMENT);  // overlap
  EXPECT_EQ(api_->copy_buffer(stream_, a, 0, a, 16, 16), PLINTH_OK);                     // adjacent is fine
  EXPECT_EQ(api_->copy_buffer(stream_, a, 60, b, 0, 8), PLINTH_ERROR_OUT_OF_RANGE);
  float x = 0;
  EXPECT_EQ(api_->copy_host_to_buffer(stream_, &x, a, 62, 4), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api_->copy_buffer_to_host(stream_, a, ~uint64_t{0}, &x, 4), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_NE(std::string(api_->last_error_message()).find("outside the buffer"), std::string::npos);
  int foreign = 0;
  EXPECT_EQ(api_->copy_host_to_buffer(stream_, &x, reinterpret_cast<plinth_buffer_t>(&foreign), 0, 4),
            PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->buffer_free(a), PLINTH_OK);
  EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);
}

TEST_F(TemplatePlugin, EventsAndTiming) {
  plinth_event_t t0 = nullptr, t1 = nullptr, plain = nullptr;
  ASSERT_EQ(api_->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &t0), PLINTH_OK);
  ASSERT_EQ(api_->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &t1), PLINTH_OK);
  ASSERT_EQ(api_->event_create(device_, 0, &plain), PLINTH_OK);
  EXPECT_EQ(api_->event_query(plain), PLINTH_OK);  // never recorded counts as complete
  float ms = -1;
  EXPECT_EQ(api_->event_elapsed_ms(t0, t1, &ms), PLINTH_ERROR_INVALID_ARGUMENT);  // never recorded
  ASSERT_EQ(api_->event_record(t0, stream_), PLINTH_OK);
  plinth_stream_t other = nullptr;
  ASSERT_EQ(api_->stream_create(device_, 0, &other), PLINTH_OK);
  ASSERT_EQ(api_->stream_wait_event(other, t0), PLINTH_OK);
  ASSERT_EQ(api_->event_record(t1, other), PLINTH_OK);
  ASSERT_EQ(api_->event_synchronize(t1), PLINTH_OK);
  ASSERT_EQ(api_->event_elapsed_ms(t0, t1, &ms), PLINTH_OK);
  EXPECT_GE(ms, 0.0f);
  ASSERT_EQ(api_->event_record(plain, stream_), PLINTH_OK);
  EXPECT_EQ(api_->event_elapsed_ms(t0, plain, &ms), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->stream_create(device_, 4, &other), PLINTH_ERROR_INVALID_ARGUMENT);
  for (plinth_event_t e : {t0, t1, plain}) EXPECT_EQ(api_->event_destroy(e), PLINTH_OK);
  EXPECT_EQ(api_->stream_destroy(other), PLINTH_OK);
}

TEST_F(TemplatePlugin, Ops) {
  plinth_buffer_t buf = alloc(4096);
  // FILL y[6] = 2.5
  plinth_tensor_t y = f32(buf, {2, 3});
  std::vector<const plinth_tensor_t*> none, outs{&y};
  plinth_fill_params_t fill{};
  fill.struct_size = sizeof fill;
  fill.value = 2.5;
  plinth_op_call_t call = make_call(PLINTH_OP_FILL, none, outs, &fill);
  ASSERT_EQ(api_->op_launch(stream_, &call), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(download(buf, 6), std::vector<float>(6, 2.5f));

  // COPY a transposed view: x [3,2] read with strides of a [2,3] matrix.
  upload(buf, {0, 1, 2, 3, 4, 5});
  plinth_tensor_t xt = f32(buf, {3, 2});
  xt.strides[0] = 4;
  xt.strides[1] = 12;
  plinth_tensor_t yt = f32(buf, {3, 2}, 256);
  std::vector<const plinth_tensor_t*> ins{&xt}, outs2{&yt};
  call = make_call(PLINTH_OP_COPY, ins, outs2);
  ASSERT_EQ(api_->op_launch(stream_, &call), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(download(buf, 6, 256), (std::vector<float>{0, 3, 1, 4, 2, 5}));

  // ADD with broadcasting: [2,3] + [3] -> [2,3], in place into a.
  upload(buf, {10, 20, 30}, 512);
  plinth_tensor_t a = f32(buf, {2, 3});
  plinth_tensor_t b = f32(buf, {3}, 512);
  std::vector<const plinth_tensor_t*> ab{&a, &b}, aout{&a};
  call = make_call(PLINTH_OP_ADD, ab, aout);
  ASSERT_EQ(api_->op_launch(stream_, &call), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(download(buf, 6), (std::vector<float>{10, 21, 32, 13, 24, 35}));

  // SCALE y = x * 2 - 1.
  plinth_scale_params_t scale{};
  scale.struct_size = sizeof scale;
  scale.scale = 2.0f;
  scale.bias = -1.0f;
  plinth_tensor_t s = f32(buf, {3}, 512);
  std::vector<const plinth_tensor_t*> sin{&s}, sout{&s};
  call = make_call(PLINTH_OP_SCALE, sin, sout, &scale);
  ASSERT_EQ(api_->op_launch(stream_, &call), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(download(buf, 3, 512), (std::vector<float>{19, 39, 59}));

  // A tensor past the end of its buffer is OUT_OF_RANGE and changes nothing.
  plinth_tensor_t far = f32(buf, {4}, 4090);
  std::vector<const plinth_tensor_t*> fout{&far};
  call = make_call(PLINTH_OP_FILL, none, fout, &fill);
  EXPECT_EQ(api_->op_launch(stream_, &call), PLINTH_ERROR_OUT_OF_RANGE);
  // A malformed call is INVALID_ARGUMENT.
  plinth_tensor_t wrong = f32(buf, {2, 4});
  std::vector<const plinth_tensor_t*> wout{&wrong};
  call = make_call(PLINTH_OP_ADD, ab, wout);
  EXPECT_EQ(api_->op_launch(stream_, &call), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(api_->last_error_message()).find("add: y has shape"), std::string::npos);
  EXPECT_EQ(api_->buffer_free(buf), PLINTH_OK);
}

TEST_F(TemplatePlugin, OpSupportsAnswersWithReasons) {
  plinth_tensor_t x = f32(nullptr, {4, 8});
  plinth_tensor_t y = f32(nullptr, {4, 8});
  std::vector<const plinth_tensor_t*> ins{&x, &x}, outs{&y};
  plinth_op_call_t call = make_call(PLINTH_OP_ADD, ins, outs);
  uint32_t supported = 7;
  ASSERT_EQ(api_->op_supports(device_, &call, &supported), PLINTH_OK);
  EXPECT_EQ(supported, 1u);

  y.dtype = PLINTH_DTYPE_F16;
  ASSERT_EQ(api_->op_supports(device_, &call, &supported), PLINTH_OK);
  EXPECT_EQ(supported, 0u);
  EXPECT_STREQ(api_->last_error_message(), "add is implemented for f32 only, not f16");
  y.dtype = PLINTH_DTYPE_F32;

  std::vector<const plinth_tensor_t*> one{&x};
  call = make_call(PLINTH_OP_SILU, one, outs);
  ASSERT_EQ(api_->op_supports(device_, &call, &supported), PLINTH_OK);
  EXPECT_EQ(supported, 0u);
  EXPECT_NE(std::string(api_->last_error_message()).find("silu is left to a real backend"),
            std::string::npos);

  call.op = 1000;  // unknown op ids are "not supported", not an error
  ASSERT_EQ(api_->op_supports(device_, &call, &supported), PLINTH_OK);
  EXPECT_EQ(supported, 0u);

  plinth_tensor_t bad = f32(nullptr, {4, 9});
  std::vector<const plinth_tensor_t*> bad_out{&bad};
  call = make_call(PLINTH_OP_SILU, one, bad_out);
  EXPECT_EQ(api_->op_supports(device_, &call, &supported), PLINTH_ERROR_INVALID_ARGUMENT);

  // op_launch of an unsupported op says UNSUPPORTED with the same reason.
  plinth_buffer_t buf = alloc(256);
  x.buffer = y.buffer = buf;
  call = make_call(PLINTH_OP_SILU, one, outs);
  EXPECT_EQ(api_->op_launch(stream_, &call), PLINTH_ERROR_UNSUPPORTED);
  EXPECT_NE(std::string(api_->last_error_message()).find("silu is left to a real backend"),
            std::string::npos);
  EXPECT_EQ(api_->buffer_free(buf), PLINTH_OK);
}

TEST_F(TemplatePlugin, CloseReclaimsLeakedObjects) {
  plinth_buffer_t leaked = alloc(128);
  plinth_event_t event = nullptr;
  ASSERT_EQ(api_->event_create(device_, 0, &event), PLINTH_OK);
  ASSERT_EQ(api_->device_close(device_), PLINTH_OK);
  device_ = nullptr;
  EXPECT_EQ(api_->buffer_free(leaked), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->event_destroy(event), PLINTH_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(api_->device_open(0, &device_), PLINTH_OK);
  uint64_t free_bytes = 0, total = 0;
  ASSERT_EQ(api_->device_memory_info(device_, &free_bytes, &total), PLINTH_OK);
  EXPECT_EQ(free_bytes, total);
}

}  // namespace
