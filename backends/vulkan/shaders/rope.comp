#version 460
// Rotary embedding; one invocation per rotated pair (or per passed-through element), so that an
// in-place call (y aliasing x) reads both halves of a pair before writing them.
// t[0] = y [B,S,H,D], t[1] = x, t[2] = positions as [1,1,B,S] (I32). i[0] = mode (0 normal, 1 neox),
// i[1] = work items per head, i[2] = n_dims. f[0] = freq_base, f[1] = freq_scale.
layout(local_size_x = 64) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor y = A.t[0];
  Tensor x = A.t[1];
  Tensor p = A.t[2];
  int n_dims = A.i[2];
  int half_dims = n_dims / 2;
  ivec4 w = unravel(id, ivec4(y.dims.xyz, A.i[1]));
  int j = w.w;
  if (j >= half_dims) {
    int d = n_dims + (j - half_dims);
    ivec4 e = ivec4(w.xyz, d);
    st4(y, e, ld4(x, e));
    return;
  }
  int pos = int(ld_u32(p.addr + uint64_t(int64_t(w.x) * p.strides.z + int64_t(w.y) * p.strides.w)));
  int d0 = A.i[0] == 0 ? 2 * j : j;
  int d1 = A.i[0] == 0 ? 2 * j + 1 : j + half_dims;
  float theta = float(pos) * A.f[1] * exp2(-2.0 * float(j) / float(n_dims) * log2(A.f[0]));
  // Reduce to about [-pi, pi] first: GPU sin/cos lose absolute accuracy as the argument grows, and
  // positions run into the thousands. 2*pi = 6.28125 (exact, 8 bits, so k * 6.28125 is exact) + rest.
  float k = round(theta * 0.15915494309189535);
  precise float r = (theta - k * 6.28125) - k * 1.9353071795864769e-3;
  float c = cos(r);
  float s = sin(r);
  ivec4 e0 = ivec4(w.xyz, d0);
  ivec4 e1 = ivec4(w.xyz, d1);
  float a = ld4(x, e0);
  float b = ld4(x, e1);
  st4(y, e0, a * c - b * s);
  st4(y, e1, a * s + b * c);
}
