// f16 matmuls of awkward shapes on every usable Vulkan device, against a double-precision reference
// with the catalogue's f16 matmul tolerance. On a device with VK_NV_cooperative_matrix they run the
// tensor-core kernel (props.arch carries " coopmat-nv"); elsewhere (lavapipe) the portable kernels.
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "vulkan_harness.hpp"

namespace plinth::vulkan_test {
namespace {

constexpr const char* kCoopmatMarker = " coopmat-nv";

struct Case {
  int64_t batch_a, batch_b, M, N, K;
  bool transpose_b;
  plinth_dtype_t out;
  float alpha;
  int64_t lda = 0, ldb = 0;  // row strides in elements; 0 = contiguous
};

std::string describe(const Case& c) {
  return std::to_string(c.M) + "x" + std::to_string(c.N) + "x" + std::to_string(c.K) + " batch " +
         std::to_string(c.batch_a) + "/" + std::to_string(c.batch_b) + (c.transpose_b ? " b^T" : "") +
         (c.out == PLINTH_DTYPE_F16 ? " -> f16" : " -> f32") + " alpha " + std::to_string(c.alpha) +
         (c.lda != 0 ? " lda " + std::to_string(c.lda) : "") +
         (c.ldb != 0 ? " ldb " + std::to_string(c.ldb) : "");
}

std::vector<uint16_t> random_halves(size_t n, uint32_t seed) {
  std::vector<uint16_t> h(n);
  const auto f = random_floats(n, seed);
  for (size_t i = 0; i < n; ++i) h[i] = sdk::f32_to_f16(f[i]);
  return h;
}

// Runs one case and checks it against the f16 matmul bounds of docs/ops.md: NMSE <= 1e-5 and every
// element within 1e-2 * max(|want|, rms(want), 1e-3).
void run_case(Session& s, const Case& c) {
  SCOPED_TRACE(describe(c));
  const int64_t batch = std::max(c.batch_a, c.batch_b);
  // a [Ba, M, K] row stride lda; b [Bb, K, N] row stride ldb, or [Bb, N, K] when transposed.
  const int64_t lda = c.lda != 0 ? c.lda : c.K;
  const int64_t b_rows = c.transpose_b ? c.N : c.K, b_cols = c.transpose_b ? c.K : c.N;
  const int64_t ldb = c.ldb != 0 ? c.ldb : b_cols;
  const auto ha = random_halves(static_cast<size_t>(c.batch_a * c.M * lda), 11);
  const auto hb = random_halves(static_cast<size_t>(c.batch_b * b_rows * ldb), 23);
  plinth_buffer_t ba = s.upload(ha.data(), ha.size() * 2), bb = s.upload(hb.data(), hb.size() * 2);
  const int64_t out_elem = c.out == PLINTH_DTYPE_F16 ? 2 : 4;
  plinth_buffer_t bc = s.alloc(static_cast<uint64_t>(batch * c.M * c.N * out_elem));
  auto ta = tensor(ba, PLINTH_DTYPE_F16, {c.batch_a, c.M, c.K}, {c.M * lda * 2, lda * 2, 2});
  auto tb = tensor(bb, PLINTH_DTYPE_F16, {c.batch_b, b_rows, b_cols}, {b_rows * ldb * 2, ldb * 2, 2});
  auto tc = tensor(bc, c.out, {batch, c.M, c.N});
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_b = c.transpose_b ? 1 : 0;
  p.alpha = c.alpha;
  ASSERT_EQ(s.matmul(ta, tb, tc, p), PLINTH_OK) << s.last_error();

  std::vector<double> got(static_cast<size_t>(batch * c.M * c.N));
  if (c.out == PLINTH_DTYPE_F16) {
    const auto h = s.download<uint16_t>(bc, got.size());
    for (size_t i = 0; i < got.size(); ++i) got[i] = sdk::f16_to_f32(h[i]);
  } else {
    const auto f = s.download<float>(bc, got.size());
    for (size_t i = 0; i < got.size(); ++i) got[i] = f[i];
  }
  std::vector<double> want(got.size());
  for (int64_t bi = 0; bi < batch; ++bi) {
    const int64_t a0 = (c.batch_a == 1 ? 0 : bi) * c.M * lda;
    const int64_t b0 = (c.batch_b == 1 ? 0 : bi) * b_rows * ldb;
    for (int64_t m = 0; m < c.M; ++m) {
      for (int64_t n = 0; n < c.N; ++n) {
        double acc = 0.0;
        for (int64_t k = 0; k < c.K; ++k) {
          const int64_t bo = c.transpose_b ? n * ldb + k : k * ldb + n;
          acc += static_cast<double>(sdk::f16_to_f32(ha[a0 + m * lda + k])) * sdk::f16_to_f32(hb[b0 + bo]);
        }
        double w = acc * c.alpha;
        if (c.out == PLINTH_DTYPE_F16) w = sdk::f16_to_f32(sdk::f32_to_f16(static_cast<float>(w)));
        want[(bi * c.M + m) * c.N + n] = w;
      }
    }
  }
  double err2 = 0.0, ref2 = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    err2 += (got[i] - want[i]) * (got[i] - want[i]);
    ref2 += want[i] * want[i];
  }
  const double floor = 1e-3;
  const double rms = std::sqrt(ref2 / static_cast<double>(want.size()));
  const double nmse = err2 / std::max(ref2, static_cast<double>(want.size()) * floor * floor);
  EXPECT_LE(nmse, 1e-5);
  for (size_t i = 0; i < got.size(); ++i) {
    const double bound = 1e-2 * std::max({std::abs(want[i]), rms, floor});
    ASSERT_LE(std::abs(got[i] - want[i]), bound)
        << "element " << i << ": got " << got[i] << ", want " << want[i];
  }
}

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {1, 1, 1, 16, 16, false, PLINTH_DTYPE_F32, 1.0f},
      {1, 1, 17, 33, 48, true, PLINTH_DTYPE_F16, 0.5f},
      {1, 1, 17, 33, 48, false, PLINTH_DTYPE_F32, 1.0f},
      {2, 2, 130, 70, 96, false, PLINTH_DTYPE_F32, -1.25f},
      {2, 2, 130, 72, 96, false, PLINTH_DTYPE_F32, -1.25f},
      {2, 1, 130, 70, 96, true, PLINTH_DTYPE_F16, 1.0f},  // b broadcast over the batch
      {1, 1, 256, 256, 256, false, PLINTH_DTYPE_F16, 1.0f},
      {1, 1, 256, 256, 256, true, PLINTH_DTYPE_F32, 0.75f},
      // 16-byte aligned rows around ragged extents: partial vectors at the end of K (and N), and a K
      // that is not a multiple of the kernel's 32-deep slices.
      {1, 1, 70, 130, 37, false, PLINTH_DTYPE_F16, 1.0f, 40, 136},
      {2, 2, 70, 130, 37, true, PLINTH_DTYPE_F32, 2.0f, 40, 40},
      {1, 1, 144, 136, 40, true, PLINTH_DTYPE_F16, 1.0f},
  };
  return kCases;
}

class VulkanCoopmat : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(loaded_.api, nullptr) << "plugin failed to load or init: " << dlerror();
    std::string reasons;
    for (const auto& e : loaded_.probe()) {
      if (e.usable)
        usable_.push_back(e.index);
      else
        reasons += std::string(" ") + e.reason;
    }
    if (usable_.empty()) GTEST_SKIP() << "no usable Vulkan device:" << reasons;
  }
  Loaded loaded_;
  std::vector<uint32_t> usable_;
};

TEST_F(VulkanCoopmat, F16MatmulsOfAwkwardShapesOnEveryDevice) {
  for (uint32_t index : usable_) {
    Session s(loaded_.api, index);
    ASSERT_TRUE(s.ok()) << loaded_.api->last_error_message();
    const auto props = s.properties();
    const bool coopmat = std::string(props.arch).find(kCoopmatMarker) != std::string::npos;
    const std::string path =
        std::string(props.name) + ": " + (coopmat ? "cooperative-matrix kernel" : "portable kernels");
    std::printf("[ device %u ] %s (arch \"%s\")\n", index, path.c_str(), props.arch);
    RecordProperty("device" + std::to_string(index) + "_f16_matmul_path", path);
    SCOPED_TRACE(path);
    for (const Case& c : cases()) ASSERT_NO_FATAL_FAILURE(run_case(s, c));
  }
}

// PLINTH_VULKAN_COOPMAT=0 (read when a device is opened) turns the tensor-core kernel off; the portable
// kernels then give the same results within tolerance.
TEST_F(VulkanCoopmat, EnvironmentSwitchSelectsPortableKernels) {
  const EnvOverride off("PLINTH_VULKAN_COOPMAT", "0");
  for (uint32_t index : usable_) {
    Session s(loaded_.api, index);
    ASSERT_TRUE(s.ok()) << loaded_.api->last_error_message();
    const auto props = s.properties();
    EXPECT_EQ(std::string(props.arch).find(kCoopmatMarker), std::string::npos) << props.arch;
    ASSERT_NO_FATAL_FAILURE(run_case(s, cases()[7]));
    ASSERT_NO_FATAL_FAILURE(run_case(s, cases()[8]));
  }
}

}  // namespace
}  // namespace plinth::vulkan_test
