#version 460
// Straightforward batched matmul, one invocation per output element. t[0] = c [B0,B1,M,N];
// t[1] = a viewed as [B0,B1,M,K]; t[2] = b viewed as [B0,B1,K,N] (the host folds transposes and
// broadcasting into the strides). A quantized b is weight rows [N, K]: strides.w is the row stride.
// i[0] = K, f[0] = alpha.
layout(local_size_x = 64) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor c = A.t[0];
  Tensor a = A.t[1];
  Tensor b = A.t[2];
  ivec4 idx = unravel(id, c.dims);
  int K = A.i[0];
  float acc = 0.0;
  int64_t a_off = off4(a, ivec4(idx.x, idx.y, idx.z, 0));
  if (b.dtype >= DT_Q8_0) {
    uint64_t row = b.addr + uint64_t(int64_t(idx.w) * b.strides.w);
    for (int k = 0; k < K; ++k) acc += ld_at(a, a_off + int64_t(k) * a.strides.w) * ld_quant(b.dtype, row, k);
  } else {
    int64_t b_off = off4(b, ivec4(idx.x, idx.y, 0, idx.w));
    for (int k = 0; k < K; ++k) {
      acc += ld_at(a, a_off + int64_t(k) * a.strides.w) * ld_at(b, b_off + int64_t(k) * b.strides.z);
    }
  }
  st4(c, idx, acc * A.f[0]);
}
