// RMS_NORM, LAYER_NORM and L2_NORMALIZE over the last dimension.
#include <cmath>

#include "ops.hpp"
#include "parallel.hpp"

namespace plinth::cpu {
namespace {

// A [D] parameter vector as dense f32 (op-level scratch slots 4 and 5 of the calling thread).
const float* param_vector(const OpContext& ctx, int input, int slot, int64_t d) {
  const Tensor* t = ctx.input(input);
  if (t == nullptr) return nullptr;
  const Tensor v = broadcast_to(*t, {1, 1, 1, d});
  return row_as_f32(ctx.k, v, 0, thread_scratch(slot, d));
}

template <class F>
void norm_rows(const OpContext& ctx, F f) {
  const Tensor& x = ctx.in[0];
  const Tensor& y = ctx.out[0];
  const KernelTable& k = ctx.k;
  const int64_t n = y.cols();
  if (y.numel() == 0) return;
  parallel_for(y.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    float* sx = thread_scratch(0, n);
    float* sy = thread_scratch(1, n);
    const bool direct_out = y.f32_rows();
    for (int64_t r = r0; r < r1; ++r) {
      const float* px = row_as_f32(k, x, r, sx);
      float* py = direct_out ? reinterpret_cast<float*>(y.row(r)) : sy;
      f(py, px, n);
      if (!direct_out) store_row(k, py, y.row(r), y.dtype, y.strides[3], n);
    }
  });
}

}  // namespace

void op_rms_norm(OpContext& ctx) {
  const int64_t d = ctx.out[0].cols();
  const float* w = param_vector(ctx, 1, 4, d);
  const float eps = ctx.call.params.norm.eps;
  const KernelTable& k = ctx.k;
  norm_rows(ctx, [&](float* y, const float* x, int64_t n) { k.rms_norm(y, x, w, n, eps); });
}

void op_layer_norm(OpContext& ctx) {
  const int64_t d = ctx.out[0].cols();
  const float* g = param_vector(ctx, 1, 4, d);
  const float* b = param_vector(ctx, 2, 5, d);
  const float eps = ctx.call.params.norm.eps;
  const KernelTable& k = ctx.k;
  norm_rows(ctx, [&](float* y, const float* x, int64_t n) { k.layer_norm(y, x, g, b, n, eps); });
}

void op_l2_normalize(OpContext& ctx) {
  const float eps = ctx.call.params.norm.eps;
  const KernelTable& k = ctx.k;
  norm_rows(ctx, [&](float* y, const float* x, int64_t n) {
    const float norm = std::sqrt(k.sum_squares(x, n));
    k.affine(y, x, 1.0f / std::fmax(norm, eps), 0.0f, n);
  });
}

}  // namespace plinth::cpu
