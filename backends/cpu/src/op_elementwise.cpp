// ADD, MUL (broadcasting), SCALE, GELU, SILU, SWIGLU: row loops over the vector kernels. Rows that
// are dense f32 are used in place; anything else is converted through per-thread scratch.
#include "ops.hpp"
#include "parallel.hpp"

namespace plinth::cpu {
namespace {

// Runs f(y_row, in_rows...) for every row of y, staging inputs and the output as needed.
template <class F>
void for_rows(const OpContext& ctx, const Tensor& y, const Tensor* a, const Tensor* b, F f) {
  const KernelTable& k = ctx.k;
  const int64_t n = y.cols();
  if (y.numel() == 0) return;
  parallel_for(y.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    float* sa = thread_scratch(0, n);
    float* sb = thread_scratch(1, n);
    float* sy = thread_scratch(2, n);
    const bool direct_out = y.f32_rows();
    for (int64_t r = r0; r < r1; ++r) {
      const float* pa = row_as_f32(k, *a, r, sa);
      const float* pb = b != nullptr ? row_as_f32(k, *b, r, sb) : nullptr;
      float* py = direct_out ? reinterpret_cast<float*>(y.row(r)) : sy;
      f(py, pa, pb, n);
      if (!direct_out) store_row(k, py, y.row(r), y.dtype, y.strides[3], n);
    }
  });
}

}  // namespace

void op_binary(OpContext& ctx) {
  const Tensor& y = ctx.out[0];
  const Tensor a = broadcast_to(ctx.in[0], y.dims);
  const Tensor b = broadcast_to(ctx.in[1], y.dims);
  const auto kernel = ctx.call.op == PLINTH_OP_ADD ? ctx.k.add : ctx.k.mul;
  for_rows(ctx, y, &a, &b,
           [&](float* py, const float* pa, const float* pb, int64_t n) { kernel(py, pa, pb, n); });
}

void op_unary(OpContext& ctx) {
  const Tensor& y = ctx.out[0];
  const Tensor& x = ctx.in[0];
  const KernelTable& k = ctx.k;
  switch (ctx.call.op) {
    case PLINTH_OP_SCALE: {
      const float s = ctx.call.params.scale.scale;
      const float bias = ctx.call.params.scale.bias;
      for_rows(ctx, y, &x, nullptr,
               [&](float* py, const float* px, const float*, int64_t n) { k.affine(py, px, s, bias, n); });
      break;
    }
    case PLINTH_OP_GELU: {
      const auto kernel = ctx.call.params.gelu.approximation == PLINTH_GELU_TANH ? k.gelu_tanh : k.gelu_erf;
      for_rows(ctx, y, &x, nullptr,
               [&](float* py, const float* px, const float*, int64_t n) { kernel(py, px, n); });
      break;
    }
    default:
      for_rows(ctx, y, &x, nullptr,
               [&](float* py, const float* px, const float*, int64_t n) { k.silu(py, px, n); });
      break;
  }
}

void op_swiglu(OpContext& ctx) {
  const Tensor& y = ctx.out[0];
  const KernelTable& k = ctx.k;
  for_rows(ctx, y, &ctx.in[0], &ctx.in[1],
           [&](float* py, const float* g, const float* u, int64_t n) { k.swiglu(py, g, u, n); });
}

}  // namespace plinth::cpu
