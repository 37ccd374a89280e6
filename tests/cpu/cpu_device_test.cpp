// Device, memory, stream and event behaviour of the CPU plugin.
#include <thread>

#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {
namespace {

using CpuDeviceTest = CpuPlugin;

TEST_P(CpuDeviceTest, ProbeReportsOneUsableDevice) {
  uint32_t count = 0;
  ASSERT_EQ(api_->probe(nullptr, 0, &count), PLINTH_OK);
  ASSERT_EQ(count, 1u);
  plinth_probe_entry_t e{};
  e.struct_size = sizeof e;
  ASSERT_EQ(api_->probe(&e, 1, &count), PLINTH_OK);
  EXPECT_EQ(e.index, 0u);
  EXPECT_EQ(e.usable, 1u);
  EXPECT_STRNE(e.name, "");
  EXPECT_EQ(api_->probe(nullptr, 1, &count), PLINTH_ERROR_INVALID_ARGUMENT);
  plinth_device_t other = nullptr;
  EXPECT_EQ(api_->device_open(1, &other), PLINTH_ERROR_OUT_OF_RANGE);
}

TEST_P(CpuDeviceTest, PropertiesDescribeTheHost) {
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api_->device_get_properties(device_, &p), PLINTH_OK);
  EXPECT_EQ(p.device_type, static_cast<uint32_t>(PLINTH_DEVICE_TYPE_CPU));
  EXPECT_EQ(std::string(p.arch).rfind("x86-64", 0), 0u) << p.arch;
  const std::string isa = GetParam();
  if (isa == "generic") {
    EXPECT_STREQ(p.arch, "x86-64");
  }
  if (isa == "avx2" && __builtin_cpu_supports("avx2")) {
    EXPECT_STREQ(p.arch, "x86-64-avx2");
  }
  const uint64_t want = PLINTH_FEATURE_F16 | PLINTH_FEATURE_BF16 | PLINTH_FEATURE_INT8 |
                        PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_SHARED_MEMORY |
                        PLINTH_FEATURE_TIMESTAMPS | PLINTH_FEATURE_UNIFIED_MEMORY;
  EXPECT_EQ(p.features, want);
  EXPECT_GE(p.compute_units, 1u);
  EXPECT_EQ(p.min_alignment, 64u);
  EXPECT_GT(p.total_memory, 0u);
  EXPECT_EQ(p.max_allocation, p.total_memory);
  uint64_t free_bytes = 0;
  uint64_t total = 0;
  ASSERT_EQ(api_->device_memory_info(device_, &free_bytes, &total), PLINTH_OK);
  EXPECT_EQ(total, p.total_memory);
  EXPECT_LE(free_bytes, total);

  // A newer host's larger struct: nothing past the plugin's own size is written.
  std::vector<uint8_t> raw(sizeof(plinth_device_properties_t) + 16, 0xAB);
  auto* big = reinterpret_cast<plinth_device_properties_t*>(raw.data());
  big->struct_size = static_cast<uint32_t>(raw.size());
  big->next = nullptr;
  ASSERT_EQ(api_->device_get_properties(device_, big), PLINTH_OK);
  EXPECT_EQ(big->struct_size, raw.size());
  EXPECT_EQ(raw[sizeof(plinth_device_properties_t)], 0xAB);
  EXPECT_EQ(big->min_alignment, 64u);
  // Smaller than the v1 struct is malformed.
  plinth_device_properties_t small{};
  small.struct_size = PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, name);
  EXPECT_EQ(api_->device_get_properties(device_, &small), PLINTH_ERROR_INVALID_ARGUMENT);
}

TEST_P(CpuDeviceTest, BuffersAreAlignedMappableAndBounded) {
  for (uint32_t kind : {PLINTH_MEMORY_DEVICE, PLINTH_MEMORY_HOST_PINNED, PLINTH_MEMORY_SHARED}) {
    plinth_buffer_desc_t d{};
    d.struct_size = sizeof d;
    d.memory_kind = kind;
    d.size = 100;
    d.alignment = kind == PLINTH_MEMORY_SHARED ? 4096 : 0;
    plinth_buffer_t b = nullptr;
    ASSERT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_OK);
    void* p = nullptr;
    ASSERT_EQ(api_->buffer_map(b, 0, 100, &p), PLINTH_OK);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (kind == PLINTH_MEMORY_SHARED ? 4096 : 64), 0u);
    void* q = nullptr;
    EXPECT_EQ(api_->buffer_map(b, 0, 1, &q), PLINTH_ERROR_INVALID_STATE);
    EXPECT_EQ(api_->buffer_unmap(b), PLINTH_OK);
    EXPECT_EQ(api_->buffer_unmap(b), PLINTH_ERROR_INVALID_STATE);
    EXPECT_EQ(api_->buffer_map(b, 90, 11, &q), PLINTH_ERROR_OUT_OF_RANGE);
    EXPECT_EQ(api_->buffer_free(b), PLINTH_OK);
    EXPECT_EQ(api_->buffer_free(b), PLINTH_ERROR_INVALID_ARGUMENT);
  }
  plinth_buffer_desc_t d{};
  d.struct_size = sizeof d;
  plinth_buffer_t b = nullptr;
  d.size = 0;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_ERROR_INVALID_ARGUMENT);
  d.size = 16;
  d.alignment = 48;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_ERROR_INVALID_ARGUMENT);
  d.alignment = 0;
  d.memory_kind = 7;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &b), PLINTH_ERROR_UNSUPPORTED);
  // Larger than physical memory: a clean error, never an abort.
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api_->device_get_properties(device_, &p), PLINTH_OK);
  d.memory_kind = PLINTH_MEMORY_DEVICE;
  d.size = p.max_allocation + 1;
  const plinth_status_t s = api_->buffer_alloc(device_, &d, &b);
  EXPECT_TRUE(s == PLINTH_ERROR_OUT_OF_RANGE || s == PLINTH_ERROR_OUT_OF_MEMORY) << s;
  EXPECT_STRNE(api_->last_error_message(), "");
}

TEST_P(CpuDeviceTest, AllocationsBeyondPhysicalMemoryInTotalFail) {
  if (std::string(GetParam()).empty() == false)
    GTEST_SKIP() << "does not depend on the kernel set; runs once (native)";
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer maps shadow for a multi-GiB allocation, which takes many seconds";
#endif
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api_->device_get_properties(device_, &p), PLINTH_OK);
  plinth_buffer_desc_t d{};
  d.struct_size = sizeof d;
  d.size = p.max_allocation / 10 * 6;  // never touched, so it costs address space only
  plinth_buffer_t first = nullptr;
  const plinth_status_t s = api_->buffer_alloc(device_, &d, &first);
  if (s != PLINTH_OK) {
    EXPECT_EQ(s, PLINTH_ERROR_OUT_OF_MEMORY);
    GTEST_SKIP() << "the host refused even one large allocation: " << api_->last_error_message();
  }
  plinth_buffer_t second = nullptr;
  EXPECT_EQ(api_->buffer_alloc(device_, &d, &second), PLINTH_ERROR_OUT_OF_MEMORY);
  ASSERT_EQ(api_->buffer_free(first), PLINTH_OK);
  // The bytes were given back: the same request now fits again.
  ASSERT_EQ(api_->buffer_alloc(device_, &d, &second), PLINTH_OK);
  EXPECT_EQ(api_->buffer_free(second), PLINTH_OK);
}

TEST_P(CpuDeviceTest, CopiesCheckRangesAndOverlap) {
  const HostTensor t = make(PLINTH_DTYPE_F32, {8}, {1, 2, 3, 4, 5, 6, 7, 8});
  const plinth_tensor_t dt = upload(t);
  float out[4] = {};
  ASSERT_EQ(api_->copy_buffer_to_host(stream_, dt.buffer, 16, out, 16), PLINTH_OK);
  EXPECT_EQ(out[0], 5.0f);
  EXPECT_EQ(api_->copy_buffer_to_host(stream_, dt.buffer, 20, out, 16), PLINTH_ERROR_OUT_OF_RANGE);
  EXPECT_EQ(api_->copy_buffer(stream_, dt.buffer, 0, dt.buffer, 8, 16), PLINTH_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(api_->copy_buffer(stream_, dt.buffer, 0, dt.buffer, 16, 16), PLINTH_OK);
  ASSERT_EQ(api_->copy_buffer_to_host(stream_, dt.buffer, 16, out, 16), PLINTH_OK);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[3], 4.0f);
}

TEST_P(CpuDeviceTest, EventsTimeAndCompleteInOrder) {
  plinth_event_t a = nullptr;
  plinth_event_t b = nullptr;
  plinth_event_t plain = nullptr;
  ASSERT_EQ(api_->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &a), PLINTH_OK);
  ASSERT_EQ(api_->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &b), PLINTH_OK);
  ASSERT_EQ(api_->event_create(device_, 0, &plain), PLINTH_OK);
  EXPECT_EQ(api_->event_query(a), PLINTH_OK);  // never recorded counts as complete
  float ms = -1;
  EXPECT_EQ(api_->event_elapsed_ms(a, b, &ms), PLINTH_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(api_->event_record(a, stream_), PLINTH_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(api_->event_record(b, stream_), PLINTH_OK);
  ASSERT_EQ(api_->event_synchronize(b), PLINTH_OK);
  ASSERT_EQ(api_->event_elapsed_ms(a, b, &ms), PLINTH_OK);
  EXPECT_GE(ms, 4.0f);
  ASSERT_EQ(api_->event_record(plain, stream_), PLINTH_OK);
  EXPECT_EQ(api_->event_elapsed_ms(a, plain, &ms), PLINTH_ERROR_INVALID_ARGUMENT);
  plinth_stream_t other = nullptr;
  ASSERT_EQ(api_->stream_create(device_, 0, &other), PLINTH_OK);
  EXPECT_EQ(api_->stream_wait_event(other, b), PLINTH_OK);
  EXPECT_EQ(api_->stream_synchronize(other), PLINTH_OK);
  EXPECT_EQ(api_->stream_destroy(other), PLINTH_OK);
  for (auto e : {a, b, plain}) EXPECT_EQ(api_->event_destroy(e), PLINTH_OK);
}

TEST_P(CpuDeviceTest, ManyThreadsLaunchOnTheirOwnStreams) {
  const HostTensor x = random_tensor(PLINTH_DTYPE_F32, {64, 64}, 3);
  const plinth_tensor_t dx = upload(x);
  const double x0 = values(x)[0];
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      plinth_stream_t s = nullptr;
      if (api_->stream_create(device_, 0, &s) != PLINTH_OK) return;
      plinth_buffer_desc_t d{};
      d.struct_size = sizeof d;
      d.size = 64 * 64 * 4;
      plinth_buffer_t yb = nullptr;
      api_->buffer_alloc(device_, &d, &yb);
      plinth_tensor_t dy = dx;
      dy.buffer = yb;
      plinth_scale_params_t p{};
      p.struct_size = sizeof p;
      p.scale = static_cast<float>(t + 1);
      const plinth_tensor_t* in[] = {&dx};
      const plinth_tensor_t* out[] = {&dy};
      plinth_op_call_t call{};
      call.struct_size = sizeof call;
      call.op = PLINTH_OP_SCALE;
      call.inputs = in;
      call.num_inputs = 1;
      call.outputs = out;
      call.num_outputs = 1;
      call.params = &p;
      bool good = true;
      for (int i = 0; i < 50; ++i) good = good && api_->op_launch(s, &call) == PLINTH_OK;
      float v = 0;
      good = good && api_->copy_buffer_to_host(s, yb, 0, &v, 4) == PLINTH_OK;
      good = good && std::fabs(v - static_cast<float>(x0 * (t + 1))) < 1e-5f;
      api_->buffer_free(yb);
      api_->stream_destroy(s);
      ok[static_cast<size_t>(t)] = good ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[static_cast<size_t>(t)], 1) << "thread " << t;
}

TEST_P(CpuDeviceTest, RejectedCallsReportWithoutEffect) {
  const HostTensor x = make(PLINTH_DTYPE_F32, {4}, {1, 2, 3, 4});
  const HostTensor y = make(PLINTH_DTYPE_F32, {5}, {0, 0, 0, 0, 0});
  const plinth_tensor_t dx = upload(x);
  const plinth_tensor_t dy = upload(y);
  EXPECT_EQ(launch(PLINTH_OP_SILU, {&dx}, {&dy}, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_STRNE(api_->last_error_message(), "");
  plinth_tensor_t outside = dx;
  outside.offset = 8;
  plinth_tensor_t out2 = dx;
  EXPECT_EQ(launch(PLINTH_OP_SILU, {&outside}, {&out2}, nullptr), PLINTH_ERROR_OUT_OF_RANGE);
  // An unknown op is "not supported", not a malformed call.
  plinth_op_call_t call{};
  call.struct_size = sizeof call;
  call.op = 999;
  uint32_t supported = 7;
  EXPECT_EQ(api_->op_supports(device_, &call, &supported), PLINTH_OK);
  EXPECT_EQ(supported, 0u);
}

PLINTH_CPU_INSTANTIATE(CpuDeviceTest);

}  // namespace
}  // namespace plinth::cpu_test
