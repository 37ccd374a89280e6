// SOFTMAX over the last dimension with scale, additive broadcast mask and causal masking.
#include <cmath>
#include <limits>

#include "ops.hpp"
#include "parallel.hpp"

namespace plinth::cpu {

void op_softmax(OpContext& ctx) {
  const Tensor& x = ctx.in[0];
  const Tensor& y = ctx.out[0];
  const Tensor* mask_in = ctx.input(1);
  const Tensor mask = mask_in != nullptr ? broadcast_to(*mask_in, y.dims) : Tensor{};
  const KernelTable& k = ctx.k;
  const float scale = ctx.call.params.softmax.scale == 0.0f ? 1.0f : ctx.call.params.softmax.scale;
  const bool causal = ctx.call.params.softmax.causal != 0;
  const int64_t n = y.cols();
  const int64_t sq = y.dims[2];
  if (y.numel() == 0) return;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  parallel_for(y.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    float* sx = thread_scratch(0, n);
    float* sm = thread_scratch(1, n);
    float* sz = thread_scratch(2, n);
    const bool direct_out = y.f32_rows();
    for (int64_t r = r0; r < r1; ++r) {
      const float* px = row_as_f32(k, x, r, sx);
      k.affine(sz, px, scale, 0.0f, n);
      if (mask_in != nullptr) k.add(sz, sz, row_as_f32(k, mask, r, sm), n);
      if (causal) {
        const int64_t i = r % sq;
        const int64_t last = i + (n - sq);  // keys beyond it are masked
        for (int64_t j = last + 1 < 0 ? 0 : last + 1; j < n; ++j) sz[j] = kNegInf;
      }
      float* py = direct_out ? reinterpret_cast<float*>(y.row(r)) : thread_scratch(3, n);
      const float m = k.max(sz, n);
      if (m == kNegInf) {
        for (int64_t j = 0; j < n; ++j) py[j] = 0.0f;
      } else {
        const float sum = k.exp_sub_sum(py, sz, m, n);
        k.scale_rows(py, 1.0f / sum, n);
      }
      if (!direct_out) store_row(k, py, y.row(r), y.dtype, y.strides[3], n);
    }
  });
}

}  // namespace plinth::cpu
