// MATMUL with quantized weights at decode sizes (M = 1..6 activation rows): the kernel tiles weight
// rows in groups, so every remainder of N and M, K of a few blocks, and strided activations and
// outputs are checked element by element against the exactly dequantized weights.
#include <cmath>

#include "cpu_test_harness.hpp"

namespace plinth::cpu_test {

HostTensor quantized_tensor(plinth_dtype_t t, int64_t rows, int64_t cols, uint32_t seed,
                            std::vector<double>* dequant);

namespace {

using CpuQuantGemvTest = CpuPlugin;

plinth_matmul_params_t transpose_b(float alpha) {
  plinth_matmul_params_t p{};
  p.struct_size = sizeof p;
  p.transpose_b = 1;
  p.alpha = alpha;
  return p;
}

// Each product may carry f32 rounding of its own size: the bound is relative to sum |a * w|.
void expect_matches(const std::vector<double>& got, int64_t ldc, const std::vector<double>& a, int64_t lda,
                    const std::vector<double>& w, int64_t m, int64_t n, int64_t k, double alpha,
                    const std::string& what) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      double mag = 0;
      for (int64_t x = 0; x < k; ++x) {
        const double p = a[static_cast<size_t>(i * lda + x)] * w[static_cast<size_t>(j * k + x)];
        want += p;
        mag += std::fabs(p);
      }
      ASSERT_NEAR(got[static_cast<size_t>(i * ldc + j)], alpha * want, 1e-5 * std::fabs(alpha) * mag + 1e-30)
          << what << " row " << i << " col " << j;
    }
  }
}

TEST_P(CpuQuantGemvTest, EveryRowAndColumnRemainder) {
  for (plinth_dtype_t qt : {PLINTH_DTYPE_Q8_0, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q4_1}) {
    for (int64_t k : {32, 160, 576}) {
      for (int64_t n : {1, 2, 3, 4, 5, 7, 9, 70}) {
        std::vector<double> deq;
        const HostTensor w = quantized_tensor(qt, n, k, static_cast<uint32_t>(100 + n + k), &deq);
        for (int64_t m = 1; m <= 6; ++m) {
          const HostTensor a = random_tensor(PLINTH_DTYPE_F32, {m, k}, static_cast<uint32_t>(200 + m));
          const HostTensor c =
              make(PLINTH_DTYPE_F32, {m, n}, std::vector<double>(static_cast<size_t>(m * n), 0.0));
          const auto p = transpose_b(1.5f);
          const auto got = run(PLINTH_OP_MATMUL, {&a, &w}, {c}, &p)[0];
          expect_matches(got, n, values(a), k, deq, m, n, k, 1.5,
                         std::string(sdk::dtype_name(qt)) + " K=" + std::to_string(k) +
                             " N=" + std::to_string(n) + " M=" + std::to_string(m));
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(CpuQuantGemvTest, StridedActivationsAndOutput) {
  const int64_t k = 96, n = 13;
  for (plinth_dtype_t qt : {PLINTH_DTYPE_Q8_0, PLINTH_DTYPE_Q4_0, PLINTH_DTYPE_Q4_1}) {
    std::vector<double> deq;
    const HostTensor w = quantized_tensor(qt, n, k, 300, &deq);
    for (int64_t m : {1, 3, 4}) {
      // a is the left half of [m, 2k] rows, c the left half of [m, 2n] rows.
      const HostTensor a_full = random_tensor(PLINTH_DTYPE_F32, {m, 2 * k}, 301);
      const HostTensor c_full =
          make(PLINTH_DTYPE_F32, {m, 2 * n}, std::vector<double>(static_cast<size_t>(2 * m * n), 7.0));
      plinth_tensor_t da = upload(a_full);
      da.dims[1] = k;
      const plinth_tensor_t dw = upload(w);
      plinth_tensor_t dc = upload(c_full);
      dc.dims[1] = n;
      const auto p = transpose_b(1.0f);
      ASSERT_EQ(launch(PLINTH_OP_MATMUL, {&da, &dw}, {&dc}, &p), PLINTH_OK) << api_->last_error_message();
      const auto got = values(download(dc, c_full));
      expect_matches(got, 2 * n, values(a_full), 2 * k, deq, m, n, k, 1.0,
                     std::string(sdk::dtype_name(qt)) + " M=" + std::to_string(m));
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = n; j < 2 * n; ++j)
          ASSERT_EQ(got[static_cast<size_t>(i * 2 * n + j)], 7.0) << "wrote outside the view";
      }
    }
  }
}

PLINTH_CPU_INSTANTIATE(CpuQuantGemvTest);

}  // namespace
}  // namespace plinth::cpu_test
