// Every catalogue op on small shapes, checked against plain CPU loops.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "vulkan_harness.hpp"

namespace plinth::vulkan_test {
namespace {

using VulkanOps = VulkanTest;

TEST_F(VulkanOps, CopyConvertsAndTransposes) {
  auto x = random_floats(6 * 5, 2);
  x[0] = 1.0f + 1.0f / 2048.0f;  // exactly halfway between two f16 values: ties to even (1.0)
  x[1] = 70000.0f;               // overflows f16
  plinth_buffer_t bx = upload(x);
  plinth_buffer_t bh = alloc(30 * 2);
  plinth_buffer_t by = alloc(30 * 4);
  auto tx = tensor(bx, PLINTH_DTYPE_F32, {6, 5});
  auto th = tensor(bh, PLINTH_DTYPE_F16, {6, 5});
  run(PLINTH_OP_COPY, {&tx}, {&th});
  auto halves = download<uint16_t>(bh, 30);
  for (size_t i = 0; i < 30; ++i) EXPECT_EQ(halves[i], sdk::f32_to_f16(x[i])) << i;
  // Transposing copy f16 [6,5] -> f32 viewed through transposed strides.
  auto tt = tensor(by, PLINTH_DTYPE_F32, {6, 5}, {4, 6 * 4});
  run(PLINTH_OP_COPY, {&th}, {&tt});
  auto y = download<float>(by, 30);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(y[j * 6 + i], sdk::f16_to_f32(halves[i * 5 + j]));
  // bf16 round trip and exact i32 copy.
  plinth_buffer_t bb = alloc(30 * 2);
  auto tb = tensor(bb, PLINTH_DTYPE_BF16, {30});
  auto tx1 = tensor(bx, PLINTH_DTYPE_F32, {30});
  run(PLINTH_OP_COPY, {&tx1}, {&tb});
  auto bf = download<uint16_t>(bb, 30);
  for (size_t i = 0; i < 30; ++i) EXPECT_EQ(bf[i], sdk::f32_to_bf16(x[i]));
  std::vector<int32_t> ints = {2147483647, -2147483647 - 1, 16777217, -5};
  plinth_buffer_t bi = upload(ints);
  plinth_buffer_t bo = alloc(16);
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {4});
  auto to = tensor(bo, PLINTH_DTYPE_I32, {4});
  run(PLINTH_OP_COPY, {&ti}, {&to});
  EXPECT_EQ(download<int32_t>(bo, 4), ints);
}

TEST_F(VulkanOps, FillFloatAndInt) {
  plinth_buffer_t b = alloc(64);
  auto t = tensor(b, PLINTH_DTYPE_F32, {4, 4});
  plinth_fill_params_t p{};
  p.struct_size = sizeof p;
  p.value = -2.5;
  run(PLINTH_OP_FILL, {}, {&t}, &p);
  for (float v : download<float>(b, 16)) EXPECT_EQ(v, -2.5f);
  auto ti = tensor(b, PLINTH_DTYPE_I32, {3}, {8});  // every other word
  p.value = -7.9;
  run(PLINTH_OP_FILL, {}, {&ti}, &p);
  auto words = download<int32_t>(b, 6);
  EXPECT_EQ(words[0], -7);
  EXPECT_EQ(words[2], -7);
  EXPECT_EQ(words[4], -7);
  EXPECT_EQ(std::bit_cast<float>(words[1]), -2.5f);
}

TEST_F(VulkanOps, AddMulBroadcastAndInPlace) {
  auto a = random_floats(2 * 3 * 4, 3);
  auto b = random_floats(4, 4);
  plinth_buffer_t ba = upload(a), bb = upload(b), by = alloc(24 * 4);
  auto ta = tensor(ba, PLINTH_DTYPE_F32, {2, 3, 4});
  auto tb = tensor(bb, PLINTH_DTYPE_F32, {4});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {2, 3, 4});
  run(PLINTH_OP_MUL, {&ta, &tb}, {&ty});
  std::vector<float> want(24);
  for (int i = 0; i < 24; ++i) want[i] = a[i] * b[i % 4];
  expect_near_all(download<float>(by, 24), want, 1e-6f);
  run(PLINTH_OP_ADD, {&ta, &tb}, {&ta});  // in place
  for (int i = 0; i < 24; ++i) want[i] = a[i] + b[i % 4];
  expect_near_all(download<float>(ba, 24), want, 1e-6f);
  // Column broadcast [2,3,1] + f16 output.
  auto c = random_floats(6, 5);
  plinth_buffer_t bc = upload(c), bh = alloc(48);
  auto tc = tensor(bc, PLINTH_DTYPE_F32, {2, 3, 1});
  auto th = tensor(bh, PLINTH_DTYPE_F16, {2, 3, 4});
  run(PLINTH_OP_ADD, {&ta, &tc}, {&th});
  auto h = download<uint16_t>(bh, 24);
  for (int i = 0; i < 24; ++i) EXPECT_NEAR(sdk::f16_to_f32(h[i]), want[i] + c[i / 4], 2e-3f) << i;
}

TEST_F(VulkanOps, ScaleGeluSiluSwiglu) {
  auto x = random_floats(50, 6);
  for (auto& v : x) v *= 4.0f;
  auto u = random_floats(50, 7);
  plinth_buffer_t bx = upload(x), bu = upload(u), by = alloc(200);
  auto tx = tensor(bx, PLINTH_DTYPE_F32, {5, 10});
  auto tu = tensor(bu, PLINTH_DTYPE_F32, {5, 10});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {5, 10});
  std::vector<float> want(50);
  plinth_scale_params_t sp{};
  sp.struct_size = sizeof sp;
  sp.scale = 0.5f;
  sp.bias = 1.0f;
  run(PLINTH_OP_SCALE, {&tx}, {&ty}, &sp);
  for (int i = 0; i < 50; ++i) want[i] = x[i] * 0.5f + 1.0f;
  expect_near_all(download<float>(by, 50), want, 1e-6f);
  run(PLINTH_OP_GELU, {&tx}, {&ty});
  for (int i = 0; i < 50; ++i)
    want[i] = static_cast<float>(0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0))));
  expect_near_all(download<float>(by, 50), want, 1e-5f);
  plinth_gelu_params_t gp{};
  gp.struct_size = sizeof gp;
  gp.approximation = PLINTH_GELU_TANH;
  run(PLINTH_OP_GELU, {&tx}, {&ty}, &gp);
  for (int i = 0; i < 50; ++i) {
    const double v = x[i];
    want[i] = static_cast<float>(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
  }
  expect_near_all(download<float>(by, 50), want, 1e-5f);
  run(PLINTH_OP_SILU, {&tx}, {&ty});
  for (int i = 0; i < 50; ++i) want[i] = x[i] / (1 + std::exp(-x[i]));
  expect_near_all(download<float>(by, 50), want, 1e-5f);
  run(PLINTH_OP_SWIGLU, {&tx, &tu}, {&ty});
  for (int i = 0; i < 50; ++i) want[i] = x[i] / (1 + std::exp(-x[i])) * u[i];
  expect_near_all(download<float>(by, 50), want, 1e-5f);
}

std::vector<float> ref_matmul(const std::vector<float>& a, const std::vector<float>& bt, int64_t M, int64_t N,
                              int64_t K, float alpha) {  // bt is [N, K]
  std::vector<float> c(M * N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += double(a[i * K + k]) * bt[j * K + k];
      c[i * N + j] = static_cast<float>(s * alpha);
    }
  return c;
}

TEST_F(VulkanOps, MatmulNaiveTiledTransposedBatched) {
  for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{3, 5, 7}, {33, 40, 20}}) {
    auto a = random_floats(M * K, 8);
    auto bt = random_floats(N * K, 9);
    plinth_buffer_t ba = upload(a), bb = upload(bt), bc = alloc(M * N * 4);
    auto ta = tensor(ba, PLINTH_DTYPE_F32, {M, K});
    auto tb = tensor(bb, PLINTH_DTYPE_F32, {N, K});
    auto tc = tensor(bc, PLINTH_DTYPE_F32, {M, N});
    plinth_matmul_params_t p{};
    p.struct_size = sizeof p;
    p.transpose_b = 1;
    p.alpha = 0.5f;
    run(PLINTH_OP_MATMUL, {&ta, &tb}, {&tc}, &p);
    expect_near_all(download<float>(bc, M * N), ref_matmul(a, bt, M, N, K, 0.5f), 1e-4f);
  }
  // Batched [2,1,M,K] x [3,K,N] -> [2,3,M,N], with transpose_a (a stored [.., K, M]).
  const int64_t M = 4, N = 3, K = 5;
  auto a = random_floats(2 * K * M, 10);
  auto b = random_floats(3 * K * N, 11);
  plinth_buffer_t ba = upload(a), bb = upload(b), bc = alloc(2 * 3 * M * N * 4);
  auto ta = tensor(ba, PLINTH_DTYPE_F32, {2, 1, K, M});
  auto tb = tensor(bb, PLINTH_DTYPE_F32, {3, K, N});
  auto tc = tensor(bc, PLINTH_DTYPE_F32, {2, 3, M, N});
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_a = 1;
  p.alpha = 1.0f;
  run(PLINTH_OP_MATMUL, {&ta, &tb}, {&tc}, &p);
  auto got = download<float>(bc, 2 * 3 * M * N);
  for (int x = 0; x < 2; ++x)
    for (int y = 0; y < 3; ++y)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
          double s = 0;
          for (int k = 0; k < K; ++k) s += double(a[x * K * M + k * M + i]) * b[y * K * N + k * N + j];
          EXPECT_NEAR(got[((x * 3 + y) * M + i) * N + j], s, 1e-4);
        }
}

// Quantizes rows of floats into GGUF blocks (simple reference quantizers).
std::vector<uint8_t> quantize(plinth_dtype_t dtype, const std::vector<float>& x) {
  std::vector<uint8_t> out;
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const float* v = &x[b * 32];
    float amax = 0, lo = v[0], hi = v[0];
    for (int j = 0; j < 32; ++j) {
      amax = std::max(amax, std::abs(v[j]));
      lo = std::min(lo, v[j]);
      hi = std::max(hi, v[j]);
    }
    if (dtype == PLINTH_DTYPE_Q8_0) {
      sdk::BlockQ8_0 blk{};
      const float d = amax / 127.0f;
      blk.d = sdk::f32_to_f16(d);
      for (int j = 0; j < 32; ++j) blk.qs[j] = static_cast<int8_t>(std::lround(d == 0 ? 0 : v[j] / d));
      auto* p = reinterpret_cast<uint8_t*>(&blk);
      out.insert(out.end(), p, p + sizeof blk);
    } else if (dtype == PLINTH_DTYPE_Q4_0) {
      sdk::BlockQ4_0 blk{};
      const float d = amax / 7.0f;
      blk.d = sdk::f32_to_f16(d);
      for (int j = 0; j < 16; ++j) {
        auto q = [&](float f) {
          return static_cast<uint8_t>(std::clamp<long>(std::lround(d == 0 ? 0 : f / d) + 8, 0, 15));
        };
        blk.qs[j] = static_cast<uint8_t>(q(v[j]) | (q(v[j + 16]) << 4));
      }
      auto* p = reinterpret_cast<uint8_t*>(&blk);
      out.insert(out.end(), p, p + sizeof blk);
    } else {
      sdk::BlockQ4_1 blk{};
      const float d = (hi - lo) / 15.0f;
      blk.d = sdk::f32_to_f16(d);
      blk.m = sdk::f32_to_f16(lo);
      for (int j = 0; j < 16; ++j) {
        auto q = [&](float f) {
          return static_cast<uint8_t>(std::clamp<long>(std::lround(d == 0 ? 0 : (f - lo) / d), 0, 15));
        };
        blk.qs[j] = static_cast<uint8_t>(q(v[j]) | (q(v[j + 16]) << 4));
      }
      auto* p = reinterpret_cast<uint8_t*>(&blk);
      out.insert(out.end(), p, p + sizeof blk);
    }
  }
  return out;
}

std::vector<float> dequantize(plinth_dtype_t dtype, const std::vector<uint8_t>& q) {
  const auto layout = sdk::dtype_layout(dtype);
  std::vector<float> out(q.size() / layout.block_bytes * 32);
  for (size_t b = 0; b < q.size() / layout.block_bytes; ++b)
    sdk::dequantize_block(dtype, &q[b * layout.block_bytes], &out[b * 32]);
  return out;
}

class VulkanQuant : public VulkanTest, public ::testing::WithParamInterface<plinth_dtype_t> {};

TEST_P(VulkanQuant, MatmulGemvAndPrefill) {
  const plinth_dtype_t dt = GetParam();
  const int64_t N = 24, K = 96;
  auto w = random_floats(N * K, 12);
  auto q = quantize(dt, w);
  auto wd = dequantize(dt, q);
  plinth_buffer_t bw = upload(q);
  auto tw = tensor(bw, dt, {N, K});
  for (int64_t M : {1, 12}) {
    auto a = random_floats(M * K, 13);
    plinth_buffer_t ba = upload(a), bc = alloc(M * N * 4);
    auto ta = tensor(ba, PLINTH_DTYPE_F32, {M, K});
    auto tc = tensor(bc, PLINTH_DTYPE_F32, {M, N});
    plinth_matmul_params_t p{};
    p.struct_size = sizeof p;
    p.transpose_b = 1;
    p.alpha = 1.0f;
    run(PLINTH_OP_MATMUL, {&ta, &tw}, {&tc}, &p);
    expect_near_all(download<float>(bc, M * N), ref_matmul(a, wd, M, N, K, 1.0f), 1e-4f);
  }
}

TEST_P(VulkanQuant, GetRows) {
  const plinth_dtype_t dt = GetParam();
  const int64_t R = 10, D = 64;
  auto w = random_floats(R * D, 14);
  auto q = quantize(dt, w);
  auto wd = dequantize(dt, q);
  std::vector<int32_t> idx = {9, 0, 3, 3};
  plinth_buffer_t bt = upload(q), bi = upload(idx), by = alloc(4 * D * 4);
  auto tt = tensor(bt, dt, {R, D});
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {4});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {4, D});
  run(PLINTH_OP_GET_ROWS, {&tt, &ti}, {&ty});
  std::vector<float> want;
  for (int32_t r : idx) want.insert(want.end(), wd.begin() + r * D, wd.begin() + (r + 1) * D);
  expect_near_all(download<float>(by, 4 * D), want, 1e-6f);
}

INSTANTIATE_TEST_SUITE_P(Quant, VulkanQuant,
                         ::testing::Values(PLINTH_DTYPE_Q8_0, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q4_1),
                         [](const auto& param_info) {
                           return std::string(sdk::dtype_name(param_info.param));
                         });

TEST_F(VulkanOps, GetRowsFloatAndBadIndex) {
  auto table = random_floats(5 * 3, 15);
  std::vector<int32_t> idx = {4, 1};
  plinth_buffer_t bt = upload(table), bi = upload(idx), by = alloc(6 * 4);
  auto tt = tensor(bt, PLINTH_DTYPE_F32, {5, 3});
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {2});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {2, 3});
  run(PLINTH_OP_GET_ROWS, {&tt, &ti}, {&ty});
  auto y = download<float>(by, 6);
  for (int d = 0; d < 3; ++d) {
    EXPECT_EQ(y[d], table[12 + d]);
    EXPECT_EQ(y[3 + d], table[3 + d]);
  }
  std::vector<int32_t> bad = {5, -1};
  plinth_buffer_t bb = upload(bad);
  auto tbad = tensor(bb, PLINTH_DTYPE_I32, {2});
  run(PLINTH_OP_GET_ROWS, {&tt, &tbad}, {&ty});
  EXPECT_EQ(api_->stream_synchronize(stream_), PLINTH_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(api_->last_error_message()).find("index"), std::string::npos);
  EXPECT_EQ(api_->stream_synchronize(stream_), PLINTH_OK) << "the error is reported once";
}

TEST_F(VulkanOps, Norms) {
  const int64_t R = 3, D = 17;
  auto x = random_floats(R * D, 16);
  auto g = random_floats(D, 17);
  auto bta = random_floats(D, 18);
  plinth_buffer_t bx = upload(x), bg = upload(g), bb = upload(bta), by = alloc(R * D * 4);
  auto tx = tensor(bx, PLINTH_DTYPE_F32, {R, D});
  auto tg = tensor(bg, PLINTH_DTYPE_F32, {D});
  auto tb = tensor(bb, PLINTH_DTYPE_F32, {D});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {R, D});
  plinth_norm_params_t p{};
  p.struct_size = sizeof p;
  p.eps = 1e-5f;
  std::vector<float> want(R * D);
  run(PLINTH_OP_RMS_NORM, {&tx, &tg}, {&ty}, &p);
  for (int r = 0; r < R; ++r) {
    double ss = 0;
    for (int d = 0; d < D; ++d) ss += double(x[r * D + d]) * x[r * D + d];
    for (int d = 0; d < D; ++d)
      want[r * D + d] = static_cast<float>(x[r * D + d] / std::sqrt(ss / D + 1e-5) * g[d]);
  }
  expect_near_all(download<float>(by, R * D), want, 1e-5f);
  run(PLINTH_OP_LAYER_NORM, {&tx, &tg, &tb}, {&ty}, &p);
  for (int r = 0; r < R; ++r) {
    double m = 0, v = 0;
    for (int d = 0; d < D; ++d) m += x[r * D + d];
    m /= D;
    for (int d = 0; d < D; ++d) v += (x[r * D + d] - m) * (x[r * D + d] - m);
    v /= D;
    for (int d = 0; d < D; ++d)
      want[r * D + d] = static_cast<float>((x[r * D + d] - m) / std::sqrt(v + 1e-5) * g[d] + bta[d]);
  }
  expect_near_all(download<float>(by, R * D), want, 1e-5f);
  run(PLINTH_OP_L2_NORMALIZE, {&tx}, {&ty}, &p);
  for (int r = 0; r < R; ++r) {
    double ss = 0;
    for (int d = 0; d < D; ++d) ss += double(x[r * D + d]) * x[r * D + d];
    for (int d = 0; d < D; ++d)
      want[r * D + d] = static_cast<float>(x[r * D + d] / std::max(std::sqrt(ss), 1e-5));
  }
  expect_near_all(download<float>(by, R * D), want, 1e-5f);
}

TEST_F(VulkanOps, SoftmaxMaskAndCausal) {
  const int64_t H = 2, Sq = 3, Sk = 5;
  auto x = random_floats(H * Sq * Sk, 19);
  std::vector<float> mask(Sk, 0.0f);
  mask[1] = -std::numeric_limits<float>::infinity();
  plinth_buffer_t bx = upload(x), bm = upload(mask), by = alloc(x.size() * 4);
  auto tx = tensor(bx, PLINTH_DTYPE_F32, {H, Sq, Sk});
  auto tm = tensor(bm, PLINTH_DTYPE_F32, {Sk});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {H, Sq, Sk});
  plinth_softmax_params_t p{};
  p.struct_size = sizeof p;
  p.scale = 2.0f;
  p.causal = 1;
  run(PLINTH_OP_SOFTMAX, {&tx, &tm}, {&ty}, &p);
  std::vector<float> want(x.size());
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < Sq; ++i) {
      std::vector<double> z(Sk);
      double mx = -INFINITY;
      for (int j = 0; j < Sk; ++j) {
        z[j] = (j > i + (Sk - Sq)) ? -INFINITY : x[(h * Sq + i) * Sk + j] * 2.0 + mask[j];
        mx = std::max(mx, z[j]);
      }
      double s = 0;
      for (int j = 0; j < Sk; ++j) s += std::exp(z[j] - mx);
      for (int j = 0; j < Sk; ++j) want[(h * Sq + i) * Sk + j] = static_cast<float>(std::exp(z[j] - mx) / s);
    }
  expect_near_all(download<float>(by, x.size()), want, 1e-5f);
}

TEST_F(VulkanOps, RopeNormalAndNeoxInPlace) {
  const int64_t S = 3, H = 2, D = 8;
  for (uint32_t mode : {PLINTH_ROPE_NORMAL, PLINTH_ROPE_NEOX}) {
    auto x = random_floats(S * H * D, 20 + mode);
    std::vector<int32_t> pos = {0, 5, 17};
    plinth_buffer_t bx = upload(x), bp = upload(pos);
    auto tx = tensor(bx, PLINTH_DTYPE_F32, {S, H, D});
    auto tp = tensor(bp, PLINTH_DTYPE_I32, {S});
    plinth_rope_params_t p{};
    p.struct_size = sizeof p;
    p.mode = mode;
    p.n_dims = 6;
    p.freq_base = 10000.0f;
    p.freq_scale = 1.0f;
    run(PLINTH_OP_ROPE, {&tx, &tp}, {&tx}, &p);
    std::vector<float> want = x;
    for (int s = 0; s < S; ++s)
      for (int h = 0; h < H; ++h)
        for (int i = 0; i < 3; ++i) {
          const double theta = pos[s] * std::pow(10000.0, -2.0 * i / 6);
          const int d0 = mode == PLINTH_ROPE_NORMAL ? 2 * i : i;
          const int d1 = mode == PLINTH_ROPE_NORMAL ? 2 * i + 1 : i + 3;
          const float* r = &x[(s * H + h) * D];
          want[(s * H + h) * D + d0] = static_cast<float>(r[d0] * std::cos(theta) - r[d1] * std::sin(theta));
          want[(s * H + h) * D + d1] = static_cast<float>(r[d0] * std::sin(theta) + r[d1] * std::cos(theta));
        }
    expect_near_all(download<float>(bx, x.size()), want, 1e-4f);
  }
}

TEST_F(VulkanOps, AttentionGroupedCausalKvLens) {
  const int64_t B = 2, Hq = 4, Hkv = 2, Sq = 2, Skv = 5, D = 8, Dv = 6;
  auto q = random_floats(B * Hq * Sq * D, 30);
  auto k = random_floats(B * Hkv * Skv * D, 31);
  auto v = random_floats(B * Hkv * Skv * Dv, 32);
  std::vector<int32_t> lens = {5, 3};
  plinth_buffer_t bq = upload(q), bk = upload(k), bv = upload(v), bl = upload(lens),
                  bo = alloc(B * Hq * Sq * Dv * 4);
  auto tq = tensor(bq, PLINTH_DTYPE_F32, {B, Hq, Sq, D});
  auto tk = tensor(bk, PLINTH_DTYPE_F32, {B, Hkv, Skv, D});
  auto tv = tensor(bv, PLINTH_DTYPE_F32, {B, Hkv, Skv, Dv});
  auto tl = tensor(bl, PLINTH_DTYPE_I32, {B});
  auto to = tensor(bo, PLINTH_DTYPE_F32, {B, Hq, Sq, Dv});
  plinth_attention_params_t p{};
  p.struct_size = sizeof p;
  p.causal = 1;
  run(PLINTH_OP_ATTENTION, {&tq, &tk, &tv, nullptr, &tl}, {&to}, &p);
  auto got = download<float>(bo, B * Hq * Sq * Dv);
  const double scale = 1.0 / std::sqrt(double(D));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < Hq; ++h)
      for (int i = 0; i < Sq; ++i) {
        const int hk = h / (Hq / Hkv);
        const int L = lens[b];
        std::vector<double> s;
        for (int j = 0; j < L && j <= L - Sq + i; ++j) {
          double dot = 0;
          for (int d = 0; d < D; ++d)
            dot += q[((b * Hq + h) * Sq + i) * D + d] * k[((b * Hkv + hk) * Skv + j) * D + d];
          s.push_back(dot * scale);
        }
        double mx = *std::max_element(s.begin(), s.end()), sum = 0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (int e = 0; e < Dv; ++e) {
          double o = 0;
          for (size_t j = 0; j < s.size(); ++j) o += s[j] / sum * v[((b * Hkv + hk) * Skv + j) * Dv + e];
          EXPECT_NEAR(got[((b * Hq + h) * Sq + i) * Dv + e], o, 1e-5);
        }
      }
}

TEST_F(VulkanOps, MeanPoolMasked) {
  const int64_t B = 2, S = 3, D = 4;
  auto x = random_floats(B * S * D, 40);
  std::vector<int32_t> mask = {1, 1, 0, 0, 0, 0};
  plinth_buffer_t bx = upload(x), bm = upload(mask), by = alloc(B * D * 4);
  auto tx = tensor(bx, PLINTH_DTYPE_F32, {B, S, D});
  auto tm = tensor(bm, PLINTH_DTYPE_I32, {B, S});
  auto ty = tensor(by, PLINTH_DTYPE_F32, {B, D});
  run(PLINTH_OP_MEAN_POOL, {&tx, &tm}, {&ty});
  auto y = download<float>(by, B * D);
  for (int d = 0; d < D; ++d) {
    EXPECT_NEAR(y[d], (x[d] + x[D + d]) / 2, 1e-6);
    EXPECT_EQ(y[D + d], 0.0f) << "a fully masked row averages nothing";
  }
}

TEST_F(VulkanOps, TopKAndArgmaxTiesAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {1, 3, 3, -2, nan, 0, 5, 5, 5, -1};
  plinth_buffer_t bx = upload(x), bv = alloc(2 * 3 * 4), bi = alloc(2 * 3 * 4), ba = alloc(8);
  auto tx = tensor(bx, PLINTH_DTYPE_F32, {2, 5});
  auto tv = tensor(bv, PLINTH_DTYPE_F32, {2, 3});
  auto ti = tensor(bi, PLINTH_DTYPE_I32, {2, 3});
  plinth_top_k_params_t p{};
  p.struct_size = sizeof p;
  p.k = 3;
  run(PLINTH_OP_TOP_K, {&tx}, {&tv, &ti}, &p);
  EXPECT_EQ(download<int32_t>(bi, 6), (std::vector<int32_t>{4, 1, 2, 1, 2, 3}));
  auto vals = download<float>(bv, 6);
  EXPECT_TRUE(std::isnan(vals[0]));
  EXPECT_EQ(vals[1], 3.0f);
  EXPECT_EQ(vals[5], 5.0f);
  auto ta = tensor(ba, PLINTH_DTYPE_I32, {2});
  run(PLINTH_OP_ARGMAX, {&tx}, {&ta});
  EXPECT_EQ(download<int32_t>(ba, 2), (std::vector<int32_t>{4, 1}));
}

TEST_F(VulkanOps, SupportsAndRejects) {
  auto tx = tensor(nullptr, PLINTH_DTYPE_F32, {4, 4});
  auto ty = tensor(nullptr, PLINTH_DTYPE_F32, {4, 4});
  const plinth_tensor_t* in[] = {&tx};
  const plinth_tensor_t* out[] = {&ty};
  plinth_op_call_t c{};
  c.struct_size = sizeof c;
  c.op = PLINTH_OP_SILU;
  c.inputs = in;
  c.outputs = out;
  c.num_inputs = 1;
  c.num_outputs = 1;
  uint32_t ok = 0;
  ASSERT_EQ(api_->op_supports(device_, &c, &ok), PLINTH_OK) << api_->last_error_message();
  EXPECT_EQ(ok, 1u);
  c.op = 999;
  ASSERT_EQ(api_->op_supports(device_, &c, &ok), PLINTH_OK);
  EXPECT_EQ(ok, 0u);
  EXPECT_STRNE(api_->last_error_message(), "");
  // A misaligned f32 view is reported, not run.
  plinth_buffer_t b = alloc(128);
  auto mis = tensor(b, PLINTH_DTYPE_F32, {4}, {}, 2);
  auto good = tensor(b, PLINTH_DTYPE_F32, {4}, {}, 64);
  EXPECT_EQ(launch(PLINTH_OP_SILU, {&mis}, {&good}), PLINTH_ERROR_UNSUPPORTED);
  // A tensor outside its buffer is OUT_OF_RANGE.
  auto far = tensor(b, PLINTH_DTYPE_F32, {4}, {}, 120);
  EXPECT_EQ(launch(PLINTH_OP_SILU, {&far}, {&good}), PLINTH_ERROR_OUT_OF_RANGE);
}

}  // namespace
}  // namespace plinth::vulkan_test

namespace plinth::vulkan_test {
namespace {

// The portable (shared-memory) quantized GEMV, forced by the plugin's environment switch.
class VulkanPortable : public VulkanTest {
 protected:
  void SetUp() override {
    setenv("PLINTH_VULKAN_NO_SUBGROUPS", "1", 1);
    VulkanTest::SetUp();
  }
  void TearDown() override {
    VulkanTest::TearDown();
    unsetenv("PLINTH_VULKAN_NO_SUBGROUPS");
  }
};

TEST_F(VulkanPortable, QuantGemvWithoutSubgroups) {
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  ASSERT_EQ(api_->device_get_properties(device_, &p), PLINTH_OK);
  EXPECT_FALSE(p.features & PLINTH_FEATURE_SUBGROUPS);
  const int64_t N = 7, K = 64 * 32 + 32;  // more blocks than invocations in the workgroup
  auto w = random_floats(N * K, 50);
  auto q = quantize(PLINTH_DTYPE_Q4_0, w);
  auto wd = dequantize(PLINTH_DTYPE_Q4_0, q);
  auto a = random_floats(K, 51);
  plinth_buffer_t bw = upload(q), ba = upload(a), bc = alloc(N * 4);
  auto tw = tensor(bw, PLINTH_DTYPE_Q4_0, {N, K});
  auto ta = tensor(ba, PLINTH_DTYPE_F32, {1, K});
  auto tc = tensor(bc, PLINTH_DTYPE_F32, {1, N});
  plinth_matmul_params_t mp{};
  mp.struct_size = sizeof mp;
  mp.transpose_b = 1;
  mp.alpha = 1.0f;
  run(PLINTH_OP_MATMUL, {&ta, &tw}, {&tc}, &mp);
  expect_near_all(download<float>(bc, N), ref_matmul(a, wd, 1, N, K, 1.0f), 1e-4f);
}

}  // namespace
}  // namespace plinth::vulkan_test
