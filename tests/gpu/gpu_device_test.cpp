// Device tests: every numerical check of gpu_op_checks.hpp plus memory, events and error paths, on
// the first usable device. Skipped with the probe's reason where no device is usable.
#include <cstdlib>

#include "gpu_op_checks.hpp"
#include "gpu_test_plugin.hpp"

namespace plinth::gpu_test {
namespace {

class GpuDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(plugin_.error().empty()) << plugin_.error();
    ASSERT_EQ(plugin_.init(), PLINTH_OK);
    std::string reasons;
    for (const auto& e : plugin_.probe()) {
      if (e.usable != 0) {
        ASSERT_EQ(api()->device_open(e.index, &device_), PLINTH_OK) << api()->last_error_message();
        ctx_ = std::make_unique<DeviceContext>(api(), device_);
        ASSERT_TRUE(ctx_->ok()) << api()->last_error_message();
        return;
      }
      reasons += std::string(e.reason) + "; ";
    }
    GTEST_SKIP() << "no usable " << PLINTH_TEST_PLUGIN_NAME << " device: " << reasons;
  }
  void TearDown() override {
    ctx_.reset();
    if (device_ != nullptr) {
      EXPECT_EQ(api()->device_close(device_), PLINTH_OK);
    }
  }
  const plinth_plugin_api_t* api() const { return plugin_.api(); }

  LoadedPlugin plugin_{test_plugin_path()};
  plinth_device_t device_ = nullptr;
  std::unique_ptr<DeviceContext> ctx_;
};

TEST_F(GpuDevice, PropertiesDescribeAGpu) {
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api()->device_get_properties(device_, &p), PLINTH_OK);
  EXPECT_STRNE(p.name, "");
  EXPECT_GT(p.total_memory, 0u);
  EXPECT_GT(p.compute_units, 0u);
  EXPECT_TRUE(p.subgroup_size == 32 || p.subgroup_size == 64);
  EXPECT_NE(p.features & PLINTH_FEATURE_GRAPHS, 0u);
  uint64_t free_bytes = 0, total = 0;
  ASSERT_EQ(api()->device_memory_info(device_, &free_bytes, &total), PLINTH_OK);
  EXPECT_LE(free_bytes, total);
}

TEST_F(GpuDevice, CopiesMapsAndRejectsBadRanges) {
  std::vector<uint8_t> data(4096);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  plinth_buffer_t a = ctx_->upload(data);
  plinth_buffer_t b = ctx_->alloc(4096);
  ASSERT_EQ(api()->copy_buffer(ctx_->stream(), a, 100, b, 0, 3000), PLINTH_OK);
  const auto back = ctx_->download<uint8_t>(b, 3000);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin() + 100));
  EXPECT_EQ(api()->copy_buffer(ctx_->stream(), a, 0, a, 10, 100), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(api()->copy_buffer(ctx_->stream(), a, 4000, b, 0, 200), PLINTH_ERROR_OUT_OF_RANGE);
  void* p = nullptr;
  EXPECT_EQ(api()->buffer_map(a, 0, 16, &p), PLINTH_ERROR_UNSUPPORTED);
  plinth_buffer_t pinned = ctx_->alloc(4096, PLINTH_MEMORY_HOST_PINNED);
  ASSERT_NE(pinned, nullptr);
  ASSERT_EQ(api()->copy_buffer(ctx_->stream(), a, 0, pinned, 0, 4096), PLINTH_OK);
  ASSERT_EQ(api()->stream_synchronize(ctx_->stream()), PLINTH_OK);
  ASSERT_EQ(api()->buffer_map(pinned, 0, 4096, &p), PLINTH_OK);
  EXPECT_EQ(std::memcmp(p, data.data(), 4096), 0);
  EXPECT_EQ(api()->buffer_map(pinned, 0, 16, &p), PLINTH_ERROR_INVALID_STATE);
  EXPECT_EQ(api()->buffer_unmap(pinned), PLINTH_OK);
  plinth_buffer_desc_t desc{};
  desc.struct_size = sizeof desc;
  desc.size = 1000;
  desc.alignment = 4096;
  plinth_buffer_t aligned = nullptr;
  ASSERT_EQ(api()->buffer_alloc(device_, &desc, &aligned), PLINTH_OK);
  EXPECT_EQ(api()->buffer_free(aligned), PLINTH_OK);
  desc.size = UINT64_MAX / 2;
  EXPECT_EQ(api()->buffer_alloc(device_, &desc, &aligned), PLINTH_ERROR_OUT_OF_RANGE);
}

TEST_F(GpuDevice, EventsOrderStreamsAndTime) {
  plinth_stream_t other = nullptr;
  ASSERT_EQ(api()->stream_create(device_, 0, &other), PLINTH_OK);
  plinth_event_t start = nullptr, end = nullptr;
  ASSERT_EQ(api()->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &start), PLINTH_OK);
  ASSERT_EQ(api()->event_create(device_, PLINTH_EVENT_FLAG_TIMING, &end), PLINTH_OK);
  EXPECT_EQ(api()->event_query(start), PLINTH_OK);  // never recorded counts as complete
  float ms = 0.0f;
  EXPECT_EQ(api()->event_elapsed_ms(start, end, &ms), PLINTH_ERROR_INVALID_ARGUMENT);
  std::vector<float> x(1 << 20, 1.0f);
  plinth_buffer_t b = ctx_->upload(x);
  const auto t = tensor(b, PLINTH_DTYPE_F32, {1 << 20});
  plinth_scale_params_t p{};
  p.struct_size = sizeof p;
  p.scale = 3.0f;
  ASSERT_EQ(api()->event_record(start, ctx_->stream()), PLINTH_OK);
  ASSERT_EQ(ctx_->run(PLINTH_OP_SCALE, {&t}, {&t}, &p), PLINTH_OK);
  ASSERT_EQ(api()->event_record(end, ctx_->stream()), PLINTH_OK);
  // The other stream reads only after the scale finished.
  ASSERT_EQ(api()->stream_wait_event(other, end), PLINTH_OK);
  float first = 0.0f;
  ASSERT_EQ(api()->copy_buffer_to_host(other, b, 0, &first, 4), PLINTH_OK);
  ASSERT_EQ(api()->stream_synchronize(other), PLINTH_OK);
  EXPECT_EQ(first, 3.0f);
  ASSERT_EQ(api()->event_synchronize(end), PLINTH_OK);
  ASSERT_EQ(api()->event_elapsed_ms(start, end, &ms), PLINTH_OK);
  EXPECT_GE(ms, 0.0f);
  api()->event_destroy(start);
  api()->event_destroy(end);
  api()->stream_destroy(other);
}

TEST_F(GpuDevice, RejectsMalformedAndUnsupportedCalls) {
  plinth_buffer_t b = ctx_->alloc(64);
  const auto small = tensor(b, PLINTH_DTYPE_F32, {16});
  const auto big = tensor(b, PLINTH_DTYPE_F32, {32});
  EXPECT_EQ(ctx_->run(PLINTH_OP_SILU, {&small}, {&big}, nullptr), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(ctx_->run(PLINTH_OP_SILU, {&big}, {&big}, nullptr), PLINTH_ERROR_OUT_OF_RANGE);
  plinth_op_call_t call{};
  call.struct_size = sizeof call;
  call.op = 999;
  uint32_t supported = 1;
  EXPECT_EQ(api()->op_supports(device_, &call, &supported), PLINTH_OK);
  EXPECT_EQ(supported, 0u);
}

class GpuOps : public GpuDevice, public ::testing::WithParamInterface<std::string> {};

TEST_P(GpuOps, MatchesReference) {
  for (const auto& [name, check] : all_checks()) {
    if (name == GetParam()) {
      const std::string error = check(*ctx_);
      EXPECT_EQ(error, "") << name;
      return;
    }
  }
  FAIL() << "unknown check " << GetParam();
}

std::vector<std::string> check_names() {
  std::vector<std::string> names;
  for (const auto& c : all_checks()) names.push_back(c.first);
  return names;
}

INSTANTIATE_TEST_SUITE_P(All, GpuOps, ::testing::ValuesIn(check_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

// The tiled kernel is the only matmul on ROCm; on CUDA it is selected by an environment variable at
// device open, so run the float matmul checks through it as well.
class GpuTiledMatmul : public GpuDevice {
 protected:
  void SetUp() override {
    setenv("PLINTH_CUDA_MATMUL", "tiled", 1);
    GpuDevice::SetUp();
  }
  void TearDown() override {
    GpuDevice::TearDown();
    unsetenv("PLINTH_CUDA_MATMUL");
  }
};

TEST_F(GpuTiledMatmul, MatchesReference) {
  EXPECT_EQ(check_matmul_float(*ctx_, PLINTH_DTYPE_F32, false), "");
  EXPECT_EQ(check_matmul_float(*ctx_, PLINTH_DTYPE_F32, true), "");
  EXPECT_EQ(check_matmul_float(*ctx_, PLINTH_DTYPE_F16, true), "");
  EXPECT_EQ(check_matmul_quant(*ctx_, PLINTH_DTYPE_Q4_1, 37), "");
}

// Decode-shaped quantized matmuls round activations to 8 bits by default; the exact f32-activation
// kernel stays selectable (PLINTH_CUDA_DECODE=f32 at device open) and must match f32 arithmetic.
class GpuExactDecode : public GpuDevice {
 protected:
  void SetUp() override {
    setenv("PLINTH_CUDA_DECODE", "f32", 1);
    GpuDevice::SetUp();
  }
  void TearDown() override {
    GpuDevice::TearDown();
    unsetenv("PLINTH_CUDA_DECODE");
  }
};

TEST_F(GpuExactDecode, MatchesF32Arithmetic) {
  for (const plinth_dtype_t dtype : {PLINTH_DTYPE_Q4_1, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q8_0}) {
    EXPECT_EQ(check_matmul_quant(*ctx_, dtype, 1, 4160, 1e-9), "") << dtype;
    EXPECT_EQ(check_matmul_quant(*ctx_, dtype, 5, 256, 1e-9), "") << dtype;
  }
}

}  // namespace
}  // namespace plinth::gpu_test
