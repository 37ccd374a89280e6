// Decode-shaped quantized matmul (at most 8 activation rows) on every usable Vulkan device: the fast
// GEMV (aligned f32 activations) and the generic one it falls back to, with and without subgroup
// arithmetic, against a double-precision product of the activations and the dequantized weights.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "vulkan_harness.hpp"

namespace plinth::vulkan_test {
namespace {

// Matmul parameters for weights stored [N, K] (GGUF layout).
plinth_matmul_params_t weights_nk(float alpha) {
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_b = 1;
  p.alpha = alpha;
  return p;
}

// Random GGUF blocks: every byte of qs uniformly random (so every nibble value and sign occurs),
// f16 scales of either sign and a Q4_1 minimum.
std::vector<uint8_t> random_blocks(plinth_dtype_t dt, int64_t rows, int64_t K, uint32_t seed) {
  const auto layout = sdk::dtype_layout(dt);
  const int64_t nblocks = rows * (K / 32);
  std::vector<uint8_t> out(static_cast<size_t>(nblocks * layout.block_bytes));
  auto scales = random_floats(static_cast<size_t>(nblocks * 2), seed);
  uint32_t s = seed * 747796405u + 2891336453u;
  for (int64_t b = 0; b < nblocks; ++b) {
    uint8_t* blk = &out[static_cast<size_t>(b * layout.block_bytes)];
    const uint16_t d = sdk::f32_to_f16(scales[2 * b] * 0.05f);
    const uint16_t m = sdk::f32_to_f16(scales[2 * b + 1] * 0.5f);
    std::memcpy(blk, &d, 2);
    int first = 2;
    if (dt == PLINTH_DTYPE_Q4_1) {
      std::memcpy(blk + 2, &m, 2);
      first = 4;
    }
    for (uint32_t j = first; j < layout.block_bytes; ++j) {
      s = s * 1664525u + 1013904223u;
      blk[j] = static_cast<uint8_t>(s >> 24);
    }
  }
  return out;
}

std::vector<float> dequantize(plinth_dtype_t dt, const std::vector<uint8_t>& q) {
  const auto layout = sdk::dtype_layout(dt);
  std::vector<float> out(q.size() / layout.block_bytes * 32);
  for (size_t b = 0; b < q.size() / layout.block_bytes; ++b)
    sdk::dequantize_block(dt, &q[b * layout.block_bytes], &out[b * 32]);
  return out;
}

// c[r, n] = alpha * sum_k a[r, k] * w[n, k] in double.
std::vector<double> reference(const std::vector<float>& a, const std::vector<float>& w, int64_t rows,
                              int64_t N, int64_t K, float alpha) {
  std::vector<double> c(static_cast<size_t>(rows * N));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += static_cast<double>(a[r * K + k]) * w[n * K + k];
      c[r * N + n] = s * alpha;
    }
  }
  return c;
}

// Normalized mean squared error. Correct f32 accumulation stays below about 1e-13 on these cases; one
// wrong nibble per block (in any row of a case) costs far more than 1e-10, as does a wrong scale,
// minimum or sign.
constexpr double kMaxNmse = 1e-10;

double nmse(const std::vector<float>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return den == 0 ? num : num / den;
}

const char* name(plinth_dtype_t dt) { return sdk::dtype_name(dt); }

class VulkanGemv : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(loaded_.api, nullptr) << "plugin failed to load or init: " << dlerror();
    std::string reasons;
    for (const auto& e : loaded_.probe()) {
      if (e.usable) devices_.push_back(e.index);
      else reasons += std::string(" ") + e.reason;
    }
    if (devices_.empty()) GTEST_SKIP() << "no usable Vulkan device:" << reasons;
  }

  // Every case of the decode-shape sweep on one device; `no_subgroups` forces the portable variants.
  void sweep(uint32_t index, const std::vector<plinth_dtype_t>& dtypes, const std::vector<int64_t>& Ns,
             const std::vector<int64_t>& Ks, const std::vector<int64_t>& Ms) {
    Session dev(loaded_.api, index);
    ASSERT_TRUE(dev.ok());
    const float alpha = 0.75f;
    uint32_t seed = 1;
    for (plinth_dtype_t dt : dtypes) {
      for (int64_t N : Ns) {
        for (int64_t K : Ks) {
          auto q = random_blocks(dt, N, K, seed++);
          auto wd = dequantize(dt, q);
          auto tw = tensor(dev.upload(q.data(), q.size()), dt, {N, K});
          for (int64_t M : Ms) {
            SCOPED_TRACE(testing::Message() << "device " << index << " " << name(dt) << " M=" << M
                                            << " N=" << N << " K=" << K);
            auto a = random_floats(static_cast<size_t>(M * K), seed++);
            plinth_buffer_t bc = dev.alloc(static_cast<uint64_t>(M * N * 4));
            auto ta = tensor(dev.upload(a.data(), a.size() * 4), PLINTH_DTYPE_F32, {M, K});
            auto tc = tensor(bc, PLINTH_DTYPE_F32, {M, N});
            ASSERT_EQ(dev.matmul(ta, tw, tc, weights_nk(alpha)), PLINTH_OK);
            EXPECT_LE(nmse(dev.download<float>(bc, static_cast<size_t>(M * N)), reference(a, wd, M, N, K, alpha)),
                      kMaxNmse);
          }
        }
      }
    }
  }

  Loaded loaded_;
  std::vector<uint32_t> devices_;
};

const std::vector<plinth_dtype_t> kQuant = {PLINTH_DTYPE_Q4_1, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q8_0};

TEST_F(VulkanGemv, DecodeShapesMatchDoubleReference) {
  for (uint32_t d : devices_) sweep(d, kQuant, {37, 1000}, {32, 96, 4096}, {1, 2, 5, 8});
}

// More than 8 activation rows: the weights are dequantized once into an f32 scratch and the float
// kernels run on it (both the tiled kernel, M and N >= 16, and the plain one).
TEST_F(VulkanGemv, PrefillShapesMatchDoubleReference) {
  for (uint32_t d : devices_) sweep(d, kQuant, {9, 37, 300}, {32, 1056}, {9, 17, 40});
}

// The shared-memory variants, for devices without subgroup arithmetic.
TEST_F(VulkanGemv, DecodeShapesWithoutSubgroups) {
  const EnvOverride no_subgroups("PLINTH_VULKAN_NO_SUBGROUPS", "1");
  for (uint32_t d : devices_) {
    {
      Session dev(loaded_.api, d);
      ASSERT_TRUE(dev.ok());
      EXPECT_EQ(dev.properties().features & PLINTH_FEATURE_SUBGROUPS, 0u);
    }
    sweep(d, kQuant, {37, 300}, {96, 4096}, {1, 3, 8});
  }
}

// Prefill shapes use scratch memory for the dequantized weights: one grow-only buffer per stream, or,
// inside a graph capture, a buffer per op that the graph owns. Two prefill matmuls of different sizes
// captured in one graph must replay correctly, also after eager prefill matmuls on the same stream
// have rewritten the stream's scratch in between.
TEST_F(VulkanGemv, PrefillInsideGraphCapture) {
  const int64_t M = 12, K = 96;
  const int64_t ns[2] = {40, 70};
  for (uint32_t d : devices_) {
    Session dev(loaded_.api, d);
    ASSERT_TRUE(dev.ok());
    std::vector<float> a = random_floats(static_cast<size_t>(M * K), 5);
    const auto ta = tensor(dev.upload(a.data(), a.size() * 4), PLINTH_DTYPE_F32, {M, K});
    std::vector<float> wd[2];
    plinth_tensor_t tw[2], tc[2];
    plinth_buffer_t bc[2];
    for (int i = 0; i < 2; ++i) {
      auto q = random_blocks(PLINTH_DTYPE_Q4_1, ns[i], K, 6 + i);
      wd[i] = dequantize(PLINTH_DTYPE_Q4_1, q);
      tw[i] = tensor(dev.upload(q.data(), q.size()), PLINTH_DTYPE_Q4_1, {ns[i], K});
      bc[i] = dev.alloc(static_cast<uint64_t>(M * ns[i] * 4));
      tc[i] = tensor(bc[i], PLINTH_DTYPE_F32, {M, ns[i]});
    }
    ASSERT_EQ(dev.synchronize(), PLINTH_OK);
    const plinth_plugin_api_t* api = loaded_.api;
    ASSERT_EQ(api->graph_begin_capture(dev.stream()), PLINTH_OK) << api->last_error_message();
    ASSERT_EQ(dev.matmul(ta, tw[0], tc[0], weights_nk(1.0f)), PLINTH_OK);
    ASSERT_EQ(dev.matmul(ta, tw[1], tc[1], weights_nk(1.0f)), PLINTH_OK);
    plinth_graph_t graph = nullptr;
    ASSERT_EQ(api->graph_end_capture(dev.stream(), &graph), PLINTH_OK) << api->last_error_message();
    // Eager prefill matmuls in between grow and overwrite the stream's own scratch.
    ASSERT_EQ(dev.matmul(ta, tw[1], tc[1], weights_nk(-2.0f)), PLINTH_OK);
    ASSERT_EQ(dev.matmul(ta, tw[0], tc[0], weights_nk(-2.0f)), PLINTH_OK);
    for (int replay = 0; replay < 2; ++replay) {
      ASSERT_EQ(api->graph_launch(graph, dev.stream()), PLINTH_OK) << api->last_error_message();
      for (int i = 0; i < 2; ++i) {
        EXPECT_LE(nmse(dev.download<float>(bc[i], static_cast<size_t>(M * ns[i])),
                       reference(a, wd[i], M, ns[i], K, 1.0f)),
                  kMaxNmse)
            << "replay " << replay << " matmul " << i;
      }
    }
    EXPECT_EQ(api->graph_destroy(graph), PLINTH_OK);
  }
}

// A quantized b has batch dims of extent 1, so the batch lives in the activations: a [2, 3, 1, K]
// whose middle dim broadcasts (stride 0) against c [2, 3, 1, N], i.e. 6 rows. The weights also start
// 2 bytes into their buffer: realigned in the fast shader for Q4_0 and Q8_0, the generic path for Q4_1.
TEST_F(VulkanGemv, BatchBroadcastAndHalfWordWeights) {
  const int64_t N = 45, K = 160;
  const float alpha = -1.5f;
  for (uint32_t d : devices_) {
    Session dev(loaded_.api, d);
    ASSERT_TRUE(dev.ok());
    for (plinth_dtype_t dt : kQuant) {
      for (uint64_t w_off : {0, 2}) {
        SCOPED_TRACE(testing::Message() << "device " << d << " " << name(dt) << " weight offset " << w_off);
        auto q = random_blocks(dt, N, K, 77);
        auto wd = dequantize(dt, q);
        auto tw = tensor(dev.upload(q.data(), q.size(), w_off), dt, {N, K});
        tw.offset = w_off;
        auto a = random_floats(static_cast<size_t>(2 * K), 78);
        auto ta = tensor(dev.upload(a.data(), a.size() * 4), PLINTH_DTYPE_F32, {2, 3, 1, K},
                         {K * 4, 0, K * 4, 4});
        plinth_buffer_t bc = dev.alloc(6 * N * 4);
        auto tc = tensor(bc, PLINTH_DTYPE_F32, {2, 3, 1, N});
        ASSERT_EQ(dev.matmul(ta, tw, tc, weights_nk(alpha)), PLINTH_OK);
        std::vector<float> rows;
        for (int r = 0; r < 6; ++r)
          rows.insert(rows.end(), a.begin() + (r / 3) * K, a.begin() + (r / 3 + 1) * K);
        EXPECT_LE(nmse(dev.download<float>(bc, 6 * N), reference(rows, wd, 6, N, K, alpha)), kMaxNmse);
      }
    }
  }
}

// Activations 4 bytes past a 16-byte boundary (not vec4-aligned): the generic path, still exact.
TEST_F(VulkanGemv, UnalignedActivations) {
  const int64_t M = 3, N = 37, K = 96;
  for (uint32_t d : devices_) {
    Session dev(loaded_.api, d);
    ASSERT_TRUE(dev.ok());
    for (plinth_dtype_t dt : kQuant) {
      SCOPED_TRACE(testing::Message() << "device " << d << " " << name(dt));
      auto q = random_blocks(dt, N, K, 90);
      auto wd = dequantize(dt, q);
      auto tw = tensor(dev.upload(q.data(), q.size()), dt, {N, K});
      auto a = random_floats(static_cast<size_t>(M * K), 91);
      auto ta = tensor(dev.upload(a.data(), a.size() * 4, 4), PLINTH_DTYPE_F32, {M, K}, {}, 4);
      plinth_buffer_t bc = dev.alloc(M * N * 4);
      auto tc = tensor(bc, PLINTH_DTYPE_F32, {M, N});
      ASSERT_EQ(dev.matmul(ta, tw, tc, weights_nk(2.0f)), PLINTH_OK);
      EXPECT_LE(nmse(dev.download<float>(bc, M * N), reference(a, wd, M, N, K, 2.0f)), kMaxNmse);
    }
  }
}

// Informational timing of the fast path against the generic one (activations offset by 4 bytes) for
// Q4_1, N = K = 4096, M = 1 and 8; run with --gtest_also_run_disabled_tests.
TEST_F(VulkanGemv, DISABLED_TimeFastVersusGeneric) {
  const int64_t N = 4096, K = 4096;
  Session dev(loaded_.api, devices_.front());
  ASSERT_TRUE(dev.ok());
  auto q = random_blocks(PLINTH_DTYPE_Q4_1, N, K, 5);
  auto tw = tensor(dev.upload(q.data(), q.size()), PLINTH_DTYPE_Q4_1, {N, K});
  for (int64_t M : {1, 8}) {
    auto a = random_floats(static_cast<size_t>(M * K), 6);
    plinth_buffer_t bc = dev.alloc(M * N * 4);
    auto tc = tensor(bc, PLINTH_DTYPE_F32, {M, N});
    for (uint64_t off : {0, 4}) {
      auto ta = tensor(dev.upload(a.data(), a.size() * 4, off), PLINTH_DTYPE_F32, {M, K}, {}, off);
      ASSERT_EQ(dev.matmul(ta, tw, tc, weights_nk(1.0f)), PLINTH_OK);  // warm-up (pipeline creation)
      ASSERT_EQ(dev.synchronize(), PLINTH_OK);
      const int reps = 5;
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < reps; ++i) ASSERT_EQ(dev.matmul(ta, tw, tc, weights_nk(1.0f)), PLINTH_OK);
      ASSERT_EQ(dev.synchronize(), PLINTH_OK);
      const auto t1 = std::chrono::steady_clock::now();
      const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count() / reps;
      std::printf("M=%d %s: %.3f ms per matmul (%.2f GB/s of weights)\n", static_cast<int>(M),
                  off == 0 ? "fast" : "generic", ms, static_cast<double>(q.size()) / (ms * 1e6));
    }
  }
}

}  // namespace
}  // namespace plinth::vulkan_test
