// Probe, properties, memory, copies, streams and events of the Vulkan plugin.
#include <cstdlib>
#include <string>
#include <vector>

#include "vulkan_harness.hpp"

namespace plinth::vulkan_test {
namespace {

TEST(VulkanProbe, ReportsLavapipeOrAReason) {
  Loaded loaded;
  ASSERT_NE(loaded.api, nullptr);
  EXPECT_STREQ(loaded.api->name, "vulkan");
  auto entries = loaded.probe();
  ASSERT_FALSE(entries.empty()) << "probe must report a device or a plugin-wide reason";
  int usable = 0;
  for (const auto& e : entries) {
    if (e.usable) {
      ++usable;
      EXPECT_STREQ(e.reason, "");
      EXPECT_NE(e.index, UINT32_MAX);
    } else {
      EXPECT_STRNE(e.reason, "") << "an unusable entry must say why";
    }
  }
  if (usable == 0) GTEST_SKIP() << "no usable Vulkan device: " << entries[0].reason;
}

TEST(VulkanProbe, MissingIcdIsAReasonNotACrash) {
  // Each discovered test runs in its own process, so the loader sees this before its first instance.
  const EnvOverride icd("VK_ICD_FILENAMES", "/nonexistent/plinth_no_such_icd.json");
  const EnvOverride driver("VK_DRIVER_FILES", "/nonexistent/plinth_no_such_icd.json");
  Loaded loaded;
  ASSERT_NE(loaded.api, nullptr) << "the plugin must load without a driver";
  auto entries = loaded.probe();
  ASSERT_FALSE(entries.empty());
  for (const auto& e : entries) {
    EXPECT_EQ(e.usable, 0u);
    EXPECT_STRNE(e.reason, "");
  }
  plinth_device_t device = nullptr;
  EXPECT_EQ(loaded.api->device_open(0, &device), PLINTH_ERROR_OUT_OF_RANGE) << "probe lists no index 0";
  EXPECT_STRNE(loaded.api->last_error_message(), "");
}

TEST(VulkanProbe, CountOnlyAndNullArguments) {
  Loaded loaded;
  ASSERT_NE(loaded.api, nullptr);
  EXPECT_EQ(loaded.api->probe(nullptr, 0, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  uint32_t count = 0;
  EXPECT_EQ(loaded.api->probe(nullptr, 4, &count), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(loaded.api->probe(nullptr, 0, &count), PLINTH_OK);
  EXPECT_GE(count, 1u);
}

using VulkanDevice = VulkanTest;

TEST_F(VulkanDevice, Properties) {
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api_->device_get_properties(device_, &p), PLINTH_OK);
  EXPECT_STRNE(p.name, "");
  EXPECT_STRNE(p.vendor, "");
  EXPECT_GT(p.total_memory, 0u);
  EXPECT_GE(p.max_op_range, 128ull << 20) << "tensors beyond maxStorageBufferRange must be addressable";
  EXPECT_GE(p.max_allocation, p.max_op_range);
  EXPECT_GE(p.subgroup_size, 1u);
  EXPECT_EQ(p.min_alignment & (p.min_alignment - 1), 0u);
  EXPECT_TRUE(p.features & PLINTH_FEATURE_F16);
  if (std::string(p.name).find("llvmpipe") != std::string::npos) {
    EXPECT_EQ(p.device_type, static_cast<uint32_t>(PLINTH_DEVICE_TYPE_VIRTUAL));
  }
  // An older host's smaller struct is filled only as far as it reaches.
  plinth_device_properties_t small{};
  small.struct_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, reserved0);
  EXPECT_EQ(api_->device_get_properties(device_, &small), PLINTH_OK);
  uint64_t free_bytes = 0, total = 0;
  ASSERT_EQ(api_->device_memory_info(device_, &free_bytes, &total), PLINTH_OK);
  EXPECT_EQ(total, p.total_memory);
  EXPECT_LE(free_bytes, total);
}

TEST_F(VulkanDevice, BufferAllocErrors) {
  plinth_buffer_desc_t d{};
  d.struct_size = sizeof d;
  d.size = 0;
  plinth_buffer_t b = nullptr;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_ERROR_INVALID_ARGUMENT);
  d.size = 64;
  d.alignment = 3;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_ERROR_INVALID_ARGUMENT);
  d.alignment = 4096;
  ASSERT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_OK);
  buffers_.push_back(b);
  d.size = ~0ull;
  d.alignment = 0;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_ERROR_OUT_OF_RANGE);
  d.size = 64;
  d.memory_kind = 77;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_ERROR_UNSUPPORTED);
}

TEST_F(VulkanDevice, OutOfMemoryIsAStatusAndLeavesTheDeviceUsable) {
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api_->device_get_properties(device_, &p), PLINTH_OK);
  if (p.total_memory > (8ull << 30)) GTEST_SKIP() << "device memory too large to exhaust quickly";
  plinth_buffer_desc_t d{};
  d.struct_size = sizeof d;
  d.size = std::min<uint64_t>(p.max_allocation, p.total_memory / 2 + (1ull << 20));
  std::vector<plinth_buffer_t> held;
  plinth_status_t st = PLINTH_OK;
  for (int i = 0; i < 8 && st == PLINTH_OK; ++i) {
    plinth_buffer_t b = nullptr;
    st = api_->buffer_alloc(device_, &d, &b);
    if (st == PLINTH_OK) held.push_back(b);
  }
  EXPECT_EQ(st, PLINTH_ERROR_OUT_OF_MEMORY) << api_->last_error_message();
  for (auto b : held) EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);
  std::vector<float> v(16, 1.0f);
  plinth_buffer_t small = upload(v);
  EXPECT_EQ(download<float>(small, 16), v);
}

TEST_F(VulkanDevice, MapHostPinned) {
  plinth_buffer_t b = alloc(256, PLINTH_MEMORY_HOST_PINNED);
  void* p = nullptr;
  ASSERT_EQ(api_->buffer_map(b, 16, 64, &p), PLINTH_OK);
  EXPECT_EQ(api_->buffer_map(b, 0, 4, &p), PLINTH_ERROR_INVALID_STATE);
  std::memset(p, 0x5a, 64);
  ASSERT_EQ(api_->buffer_unmap(b), PLINTH_OK);
  EXPECT_EQ(api_->buffer_unmap(b), PLINTH_ERROR_INVALID_STATE);
  EXPECT_EQ(api_->buffer_map(b, 200, 100, &p), PLINTH_ERROR_OUT_OF_RANGE);
  auto bytes = download<uint8_t>(b, 64, 16);
  for (auto v : bytes) EXPECT_EQ(v, 0x5a);
}

TEST_F(VulkanDevice, CopiesRoundTripAndRangeChecks) {
  std::vector<uint32_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint32_t>(i * 7 + 1);
  plinth_buffer_t a = upload(data);
  plinth_buffer_t b = alloc(4000);
  ASSERT_EQ(api_->copy_buffer(stream_, a, 40, b, 0, 400), PLINTH_OK);
  auto got = download<uint32_t>(b, 100);
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(got[i], data[i + 10]);
  EXPECT_EQ(api_->copy_buffer(stream_, a, 3900, b, 0, 200), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api_->copy_buffer(stream_, a, 0, a, 100, 200), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->copy_host_to_buffer(stream_, data.data(), b, 3999, 2), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api_->stream_synchronize(stream_), PLINTH_OK);
}

TEST_F(VulkanDevice, EventsOrderStreamsAndTime) {
  plinth_stream_t other = nullptr;
  ASSERT_EQ(api_->stream_create(device_, 0, &other), PLINTH_OK);
  plinth_event_t start = nullptr, done = nullptr, never = nullptr;
  ASSERT_EQ(api_->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &start), PLINTH_OK)
      << api_->last_error_message();
  ASSERT_EQ(api_->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &done), PLINTH_OK);
  ASSERT_EQ(api_->event_create(device_, 0, &never), PLINTH_OK);
  EXPECT_EQ(api_->event_query(never), PLINTH_OK) << "a never-recorded event counts as complete";
  float ms = 0;
  EXPECT_EQ(api_->event_elapsed_ms(start, done, &ms), PLINTH_ERROR_INVALID_ARGUMENT);

  const int64_t n = 64;
  auto av = random_floats(n * n, 1);
  plinth_buffer_t a = upload(av);
  plinth_buffer_t c = alloc(n * n * 4);
  plinth_buffer_t d = alloc(n * n * 4);
  auto ta = tensor(a, PLINTH_DTYPE_F32, {n, n});
  auto tc = tensor(c, PLINTH_DTYPE_F32, {n, n});
  plinth_matmul_params_t mp{};
  mp.struct_size = sizeof mp;
  mp.alpha = 1.0f;
  ASSERT_EQ(api_->event_record(start, stream_), PLINTH_OK);
  run(PLINTH_OP_MATMUL, {&ta, &ta}, {&tc}, &mp);
  ASSERT_EQ(api_->event_record(done, stream_), PLINTH_OK);
  // The other stream copies the product only after the event: cross-stream ordering.
  ASSERT_EQ(api_->stream_wait_event(other, done), PLINTH_OK);
  ASSERT_EQ(api_->copy_buffer(other, c, 0, d, 0, n * n * 4), PLINTH_OK);
  ASSERT_EQ(api_->stream_synchronize(other), PLINTH_OK);
  EXPECT_EQ(api_->event_query(done), PLINTH_OK);
  ASSERT_EQ(api_->event_synchronize(done), PLINTH_OK);
  ASSERT_EQ(api_->event_elapsed_ms(start, done, &ms), PLINTH_OK) << api_->last_error_message();
  EXPECT_GE(ms, 0.0f);
  EXPECT_LT(ms, 60000.0f);

  std::vector<float> want(n * n, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += av[i * n + k] * av[k * n + j];
      want[i * n + j] = static_cast<float>(s);
    }
  expect_near_all(download<float>(d, n * n), want, 1e-4f);
  EXPECT_EQ(api_->event_destroy(start), PLINTH_OK);
  EXPECT_EQ(api_->event_destroy(done), PLINTH_OK);
  EXPECT_EQ(api_->event_destroy(never), PLINTH_OK);
  EXPECT_EQ(api_->stream_destroy(other), PLINTH_OK);
}

TEST_F(VulkanDevice, GraphCaptureReplaysWithFreshHostData) {
  ASSERT_NE(api_->graph_begin_capture, nullptr);
  std::vector<float> host(16, 1.0f);
  plinth_buffer_t x = alloc(64), y = alloc(64);
  auto tx = tensor(x, PLINTH_DTYPE_F32, {16});
  auto ty = tensor(y, PLINTH_DTYPE_F32, {16});
  plinth_scale_params_t sp{};
  sp.struct_size = sizeof sp;
  sp.scale = 3.0f;
  sp.bias = 1.0f;
  ASSERT_EQ(api_->graph_begin_capture(stream_), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(api_->graph_begin_capture(stream_), PLINTH_ERROR_INVALID_STATE);
  ASSERT_EQ(api_->copy_host_to_buffer(stream_, host.data(), x, 0, 64), PLINTH_OK);
  run(PLINTH_OP_SCALE, {&tx}, {&ty}, &sp);
  EXPECT_EQ(api_->stream_synchronize(stream_), PLINTH_ERROR_INVALID_STATE);
  plinth_graph_t graph = nullptr;
  ASSERT_EQ(api_->graph_end_capture(stream_, &graph), PLINTH_OK) << api_->last_error_message();
  // Nothing ran during capture.
  std::vector<float> zeros(16, 0.0f);
  ASSERT_EQ(api_->copy_host_to_buffer(stream_, zeros.data(), y, 0, 64), PLINTH_OK);
  for (float v : download<float>(y, 16)) EXPECT_EQ(v, 0.0f);
  for (float input : {2.0f, 5.0f}) {
    std::fill(host.begin(), host.end(), input);
    ASSERT_EQ(api_->graph_launch(graph, stream_), PLINTH_OK) << api_->last_error_message();
    for (float v : download<float>(y, 16)) EXPECT_EQ(v, input * 3.0f + 1.0f);
  }
  // A replay on another stream, destroyed while possibly still queued.
  plinth_stream_t other = nullptr;
  ASSERT_EQ(api_->stream_create(device_, 0, &other), PLINTH_OK);
  ASSERT_EQ(api_->graph_launch(graph, other), PLINTH_OK);
  EXPECT_EQ(api_->graph_destroy(graph), PLINTH_OK);
  EXPECT_EQ(api_->stream_synchronize(other), PLINTH_OK);
  EXPECT_EQ(api_->stream_destroy(other), PLINTH_OK);
}

TEST_F(VulkanDevice, CloseReclaimsLeakedObjects) {
  plinth_device_t second = nullptr;
  ASSERT_EQ(api_->device_open(0, &second), PLINTH_OK);
  plinth_buffer_desc_t d{};
  d.struct_size = sizeof d;
  d.size = 1024;
  plinth_buffer_t b = nullptr;
  plinth_stream_t s = nullptr;
  plinth_event_t e = nullptr;
  ASSERT_EQ(api_->buffer_alloc(second, &d, &b), PLINTH_OK);
  ASSERT_EQ(api_->stream_create(second, 0, &s), PLINTH_OK);
  ASSERT_EQ(api_->event_create(second, 0, &e), PLINTH_OK);
  ASSERT_EQ(api_->event_record(e, s), PLINTH_OK);
  EXPECT_EQ(api_->device_close(second), PLINTH_OK);
  EXPECT_EQ(api_->buffer_free(b), PLINTH_ERROR_INVALID_ARGUMENT) << "handles of a closed device are gone";
}

// abi.h rule 8: a second open of the same index is another device; no call may mix the two.
TEST_F(VulkanDevice, TwoOpensOfOneIndexAreDifferentDevices) {
  uint32_t index = UINT32_MAX;
  for (const auto& e : loaded_.probe()) {
    if (e.usable) {
      index = e.index;
      break;
    }
  }
  plinth_device_t other = nullptr;
  ASSERT_EQ(api_->device_open(index, &other), PLINTH_OK) << api_->last_error_message();
  plinth_stream_t other_stream = nullptr;
  ASSERT_EQ(api_->stream_create(other, 0, &other_stream), PLINTH_OK);
  plinth_event_t mine = nullptr, theirs = nullptr;
  ASSERT_EQ(api_->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &mine), PLINTH_OK);
  ASSERT_EQ(api_->event_create(other, PLINTH_EVENT_FLAG_TIMING, &theirs), PLINTH_OK);
  std::vector<uint32_t> data(64, 7);
  plinth_buffer_t a = upload(data);
  plinth_buffer_t b = alloc(256);
  ASSERT_EQ(api_->stream_synchronize(stream_), PLINTH_OK);

  std::vector<uint32_t> host(64, 0);
  EXPECT_EQ(api_->copy_host_to_buffer(other_stream, host.data(), a, 0, 256), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(api_->last_error_message()).find("different devices"), std::string::npos);
  EXPECT_EQ(api_->copy_buffer_to_host(other_stream, a, 0, host.data(), 256), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->copy_buffer(other_stream, a, 0, b, 0, 256), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->event_record(mine, other_stream), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api_->stream_wait_event(other_stream, mine), PLINTH_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(api_->event_record(mine, stream_), PLINTH_OK);
  ASSERT_EQ(api_->event_record(theirs, other_stream), PLINTH_OK);
  ASSERT_EQ(api_->stream_synchronize(other_stream), PLINTH_OK);
  float ms = 0;
  EXPECT_EQ(api_->event_elapsed_ms(mine, theirs, &ms), PLINTH_ERROR_INVALID_ARGUMENT);
  auto ta = tensor(a, PLINTH_DTYPE_F32, {64});
  auto tb = tensor(b, PLINTH_DTYPE_F32, {64});
  plinth_op_call_t c{};
  c.struct_size = sizeof c;
  c.op = PLINTH_OP_COPY;
  const plinth_tensor_t* in[] = {&ta};
  const plinth_tensor_t* out[] = {&tb};
  c.inputs = in;
  c.outputs = out;
  c.num_inputs = 1;
  c.num_outputs = 1;
  EXPECT_EQ(api_->op_launch(other_stream, &c), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(host, std::vector<uint32_t>(64, 0)) << "a rejected copy writes nothing";
  EXPECT_EQ(download<uint32_t>(a, 64), data) << "a rejected copy changes nothing";

  EXPECT_EQ(api_->event_destroy(theirs), PLINTH_OK);
  EXPECT_EQ(api_->event_destroy(mine), PLINTH_OK);
  EXPECT_EQ(api_->stream_destroy(other_stream), PLINTH_OK);
  EXPECT_EQ(api_->device_close(other), PLINTH_OK);
}

// abi.h: plinth_plugin_init while initialized returns OK and keeps every open object valid.
TEST_F(VulkanDevice, SecondInitKeepsLiveHandles) {
  std::vector<uint32_t> data(32, 0x2a);
  plinth_buffer_t a = upload(data);
  auto init = reinterpret_cast<plinth_plugin_init_fn>(dlsym(loaded_.handle, PLINTH_PLUGIN_ENTRY_NAME));
  ASSERT_NE(init, nullptr);
  const plinth_plugin_api_t* again = nullptr;
  ASSERT_EQ(init(&loaded_.host, &again), PLINTH_OK);
  EXPECT_EQ(again, api_);
  EXPECT_EQ(download<uint32_t>(a, 32), data) << "device, stream and buffer survive the second init";
}

// Probe writes at the caller's stride: with a larger host struct the bytes past ours stay untouched.
TEST(VulkanProbe, WritesEntriesAtTheCallersStride) {
  Loaded loaded;
  ASSERT_NE(loaded.api, nullptr);
  struct Wider {
    plinth_probe_entry_t v1;
    uint64_t newer_field;
  };
  uint32_t count = 0;
  ASSERT_EQ(loaded.api->probe(nullptr, 0, &count), PLINTH_OK);
  std::vector<Wider> entries(count + 1);
  for (auto& e : entries) {
    e.v1.struct_size = sizeof(Wider);
    e.newer_field = 0x5151515151515151u;
  }
  ASSERT_EQ(loaded.api->probe(&entries[0].v1, count, &count), PLINTH_OK) << loaded.api->last_error_message();
  for (uint32_t i = 0; i < count; ++i) {
    EXPECT_EQ(entries[i].v1.struct_size, sizeof(Wider));
    EXPECT_EQ(entries[i].newer_field, 0x5151515151515151u) << "entry " << i;
    EXPECT_TRUE(entries[i].v1.usable || entries[i].v1.reason[0] != '\0')
        << "entry " << i << " was not written";
  }
  EXPECT_EQ(entries[count].v1.name[0], '\0') << "the spare element stays untouched";
}

}  // namespace
}  // namespace plinth::vulkan_test
