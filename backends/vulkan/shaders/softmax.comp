#version 460
// Softmax over the last dim, one invocation per row. t[0] = y, t[1] = x, t[2] = mask (broadcast
// strides, optional). f[0] = scale, i[0] = causal.
layout(local_size_x = 64) in;
#include "common.glsl"

float logit(Tensor x, Tensor m, ivec4 r, int j, float scale, bool causal) {
  int sq = x.dims.z;
  int sk = x.dims.w;
  if (causal && j > r.z + (sk - sq)) return uintBitsToFloat(0xff800000u);
  ivec4 e = ivec4(r.xyz, j);
  float z = ld4(x, e) * scale;
  if (is_present(m)) z += ld4(m, e);
  return z;
}

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor y = A.t[0];
  Tensor x = A.t[1];
  Tensor m = A.t[2];
  float scale = A.f[0];
  bool causal = A.i[0] != 0;
  int sk = x.dims.w;
  ivec4 r = unravel(id, ivec4(x.dims.xyz, 1));
  float mx = uintBitsToFloat(0xff800000u);
  for (int j = 0; j < sk; ++j) mx = max(mx, logit(x, m, r, j, scale, causal));
  if (isinf(mx) && mx < 0.0) {
    for (int j = 0; j < sk; ++j) st4(y, ivec4(r.xyz, j), 0.0);
    return;
  }
  float sum = 0.0;
  for (int j = 0; j < sk; ++j) sum += exp(logit(x, m, r, j, scale, causal) - mx);
  float inv = 1.0 / sum;
  for (int j = 0; j < sk; ++j) st4(y, ivec4(r.xyz, j), exp(logit(x, m, r, j, scale, causal) - mx) * inv);
}
