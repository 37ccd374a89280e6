#version 460
// Elementwise ops over 4-D strided views: t[0] = y, t[1] = a, t[2] = b (broadcast strides are 0).
// i[0] selects the op (EltwiseMode in src/gpu_args.hpp).
layout(local_size_x = 64) in;
#include "common.glsl"

// erf(z) for 0 <= z < 1.2 from the all-positive series 2/sqrt(pi) e^-z^2 sum 2^n z^(2n+1)/(2n+1)!!,
// which has no cancellation.
float erf_series(float z) {
  float z2 = z * z;
  float term = z;
  float sum = z;
  for (int n = 1; n < 40; ++n) {
    term *= 2.0 * z2 / float(2 * n + 1);
    sum += term;
    if (term < sum * 1e-8) break;
  }
  return 1.1283791670955126 * exp(-z2) * sum;
}

// erfc(z) for z >= 1.2 from its continued fraction, evaluated backwards; keeps full relative
// precision in the tail, where 1 - erf(z) would cancel to zero.
float erfc_fraction(float z) {
  float f = z;
  for (int k = 40; k >= 1; --k) f = z + 0.5 * float(k) / f;
  return 0.5641895835477563 * exp(-z * z) / f;
}

// 1 + erf(z) without cancellation for either sign of z.
float one_plus_erf(float z) {
  float a = abs(z);
  float erfc_a = a < 1.2 ? 1.0 - erf_series(a) : erfc_fraction(a);
  return z >= 0.0 ? 2.0 - erfc_a : erfc_a;
}

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor y = A.t[0];
  ivec4 idx = unravel(id, y.dims);
  int mode = A.i[0];
  if (mode == 0) {
    Tensor x = A.t[1];
    if (x.dtype == y.dtype) {
      uint64_t src = x.addr + uint64_t(off4(x, idx));
      uint64_t dst = y.addr + uint64_t(off4(y, idx));
      if (x.dtype == DT_F16 || x.dtype == DT_BF16) st_u16(dst, ld_u16(src));
      else Word(dst).v = ld_u32(src);
    } else {
      st4(y, idx, ld4(x, idx));
    }
    return;
  }
  if (mode == 1) {
    if (y.dtype == DT_I32) Word(y.addr + uint64_t(off4(y, idx))).v = uint(A.i[1]);
    else st4(y, idx, A.f[0]);
    return;
  }
  float a = ld4(A.t[1], idx);
  float r;
  if (mode == 2) r = a + ld4(A.t[2], idx);
  else if (mode == 3) r = a * ld4(A.t[2], idx);
  else if (mode == 4) r = a * A.f[0] + A.f[1];
  else if (mode == 5) r = 0.5 * a * one_plus_erf(a * 0.70710678118654752);
  else if (mode == 6) {
    float u = clamp(0.7978845608028654 * (a + 0.044715 * a * a * a), -15.0, 15.0);
    r = 0.5 * a * (1.0 + tanh(u));
  } else if (mode == 7) r = a / (1.0 + exp(-a));
  else r = a / (1.0 + exp(-a)) * ld4(A.t[2], idx);
  st4(y, idx, r);
}
