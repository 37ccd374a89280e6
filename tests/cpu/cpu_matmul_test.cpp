// MATMUL: f32/bf16/f16 through oneDNN (transposes, alpha, batch broadcast) and quantized weights.
#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {

HostTensor quantized_tensor(plinth_dtype_t t, int64_t rows, int64_t cols, uint32_t seed,
                            std::vector<double>* dequant);

namespace {

using CpuMatmulTest = CpuPlugin;

// Reference c[batch, m, n] = alpha * sum_k A(batch, m, k) B(batch, k, n); a/b hold logical values
// of [ba, M, K] / [bb, K, N] (batch 1 broadcasts).
std::vector<double> reference(const std::vector<double>& a, const std::vector<double>& b, int64_t ba,
                              int64_t bb, int64_t m, int64_t k, int64_t n, double alpha) {
  const int64_t batch = std::max(ba, bb);
  std::vector<double> c(static_cast<size_t>(batch * m * n), 0.0);
  for (int64_t z = 0; z < batch; ++z) {
    const double* pa = &a[static_cast<size_t>((ba == 1 ? 0 : z) * m * k)];
    const double* pb = &b[static_cast<size_t>((bb == 1 ? 0 : z) * k * n)];
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t x = 0; x < k; ++x) s += pa[i * k + x] * pb[x * n + j];
        c[static_cast<size_t>((z * m + i) * n + j)] = alpha * s;
      }
    }
  }
  return c;
}

// Logical values of a tensor stored [.., C, R] read as [.., R, C].
std::vector<double> transpose_last(const std::vector<double>& v, int64_t batch, int64_t r, int64_t c) {
  std::vector<double> out(v.size());
  for (int64_t z = 0; z < batch; ++z) {
    for (int64_t i = 0; i < r; ++i) {
      for (int64_t j = 0; j < c; ++j)
        out[static_cast<size_t>((z * r + i) * c + j)] = v[static_cast<size_t>((z * c + j) * r + i)];
    }
  }
  return out;
}

plinth_matmul_params_t params(bool ta, bool tb, float alpha) {
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_a = ta ? 1 : 0;
  p.transpose_b = tb ? 1 : 0;
  p.alpha = alpha;
  return p;
}

TEST_P(CpuMatmulTest, FloatTransposesAlphaAndBatchBroadcast) {
  const int64_t m = 5, k = 19, n = 7;
  for (plinth_dtype_t dt : {PLINTH_DTYPE_F32, PLINTH_DTYPE_BF16, PLINTH_DTYPE_F16}) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool ta = (variant & 1) != 0;
      const bool tb = (variant & 2) != 0;
      const HostTensor a =
          random_tensor(dt, ta ? std::vector<int64_t>{3, k, m} : std::vector<int64_t>{3, m, k}, 20 + variant);
      const HostTensor b =
          random_tensor(dt, tb ? std::vector<int64_t>{1, n, k} : std::vector<int64_t>{1, k, n}, 30 + variant);
      const HostTensor c = make(dt == PLINTH_DTYPE_F16 ? PLINTH_DTYPE_F32 : dt, {3, m, n},
                                std::vector<double>(3 * m * n, 0.0));
      const auto p = params(ta, tb, 0.5f);
      const auto got = run(PLINTH_OP_MATMUL, {&a, &b}, {c}, &p)[0];
      const auto va = ta ? transpose_last(values(a), 3, m, k) : values(a);
      const auto vb = tb ? transpose_last(values(b), 1, k, n) : values(b);
      const auto want = reference(va, vb, 3, 1, m, k, n, 0.5);
      EXPECT_LT(nmse(got, want), dt == PLINTH_DTYPE_BF16 ? 1e-4 : 1e-9)
          << sdk::dtype_name(dt) << " variant " << variant;
    }
  }
}

TEST_P(CpuMatmulTest, MixedDtypesAndStridedOutput) {
  const int64_t m = 4, k = 8, n = 6;
  const HostTensor a = random_tensor(PLINTH_DTYPE_F16, {m, k}, 40);
  const HostTensor b = random_tensor(PLINTH_DTYPE_F32, {k, n}, 41);
  // c written into the left half of a wider row (row stride 2n).
  HostTensor c = make(PLINTH_DTYPE_F32, {m, 2 * n}, std::vector<double>(static_cast<size_t>(2 * m * n), 7.0));
  HostTensor cv = c;
  cv.dims = {m, n};
  const plinth_tensor_t da = upload(a);
  const plinth_tensor_t db = upload(b);
  plinth_tensor_t dc = upload(c);
  dc.dims[1] = n;
  const auto p = params(false, false, 1.0f);
  ASSERT_EQ(launch(PLINTH_OP_MATMUL, {&da, &db}, {&dc}, &p), PLINTH_OK) << api_->last_error_message();
  const auto full = values(download(dc, c));
  const auto want = reference(values(a), values(b), 1, 1, m, k, n, 1.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j)
      EXPECT_NEAR(full[static_cast<size_t>(i * 2 * n + j)], want[static_cast<size_t>(i * n + j)], 1e-5);
    EXPECT_EQ(full[static_cast<size_t>(i * 2 * n + n)], 7.0) << "wrote outside the view";
  }
}

TEST_P(CpuMatmulTest, DecodeShapeF32) {
  const int64_t m = 1, k = 576, n = 96;
  const HostTensor a = random_tensor(PLINTH_DTYPE_F32, {m, k}, 50);
  const HostTensor b = random_tensor(PLINTH_DTYPE_F32, {n, k}, 51);
  const HostTensor c = make(PLINTH_DTYPE_F32, {m, n}, std::vector<double>(static_cast<size_t>(n), 0.0));
  const auto p = params(false, true, 1.0f);
  const auto got = run(PLINTH_OP_MATMUL, {&a, &b}, {c}, &p)[0];
  const auto want = reference(values(a), transpose_last(values(b), 1, k, n), 1, 1, m, k, n, 1.0);
  EXPECT_LT(nmse(got, want), 1e-10);
}

TEST_P(CpuMatmulTest, QuantizedWeightsMatchTheDequantizedReference) {
  const int64_t k = 96, n = 37;
  for (plinth_dtype_t qt : {PLINTH_DTYPE_Q8_0, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q4_1}) {
    std::vector<double> deq;
    const HostTensor w = quantized_tensor(qt, n, k, 60, &deq);
    for (int64_t m : {1, 3, 8, 13, 37}) {
      const HostTensor a = random_tensor(PLINTH_DTYPE_F32, {m, k}, 61);
      const HostTensor c =
          make(PLINTH_DTYPE_F32, {m, n}, std::vector<double>(static_cast<size_t>(m * n), 0.0));
      const auto p = params(false, true, 2.0f);
      const auto got = run(PLINTH_OP_MATMUL, {&a, &w}, {c}, &p)[0];
      const auto want = reference(values(a), transpose_last(deq, 1, k, n), 1, 1, m, k, n, 2.0);
      EXPECT_LT(nmse(got, want), 1e-9) << sdk::dtype_name(qt) << " M=" << m;
    }
    // Batched f16 activations, bf16 output.
    const HostTensor a = random_tensor(PLINTH_DTYPE_F16, {2, 3, k}, 62);
    const HostTensor c =
        make(PLINTH_DTYPE_BF16, {2, 3, n}, std::vector<double>(static_cast<size_t>(6 * n), 0.0));
    const auto p = params(false, true, 1.0f);
    const auto got = run(PLINTH_OP_MATMUL, {&a, &w}, {c}, &p)[0];
    const auto want = reference(values(a), transpose_last(deq, 1, k, n), 2, 1, 3, k, n, 1.0);
    EXPECT_LT(nmse(got, want), 1e-4) << sdk::dtype_name(qt);
  }
}

TEST_P(CpuMatmulTest, QuantizedWeightsNeedTransposeB) {
  std::vector<double> deq;
  const HostTensor w = quantized_tensor(PLINTH_DTYPE_Q4_1, 4, 32, 70, &deq);
  const HostTensor a = random_tensor(PLINTH_DTYPE_F32, {1, 4}, 71);
  const HostTensor c = make(PLINTH_DTYPE_F32, {1, 32}, std::vector<double>(32, 0.0));
  const plinth_tensor_t da = upload(a);
  const plinth_tensor_t dw = upload(w);
  const plinth_tensor_t dc = upload(c);
  const auto p = params(false, false, 1.0f);
  EXPECT_EQ(launch(PLINTH_OP_MATMUL, {&da, &dw}, {&dc}, &p), PLINTH_ERROR_INVALID_ARGUMENT);
}

PLINTH_CPU_INSTANTIATE(CpuMatmulTest);

}  // namespace
}  // namespace plinth::cpu_test
