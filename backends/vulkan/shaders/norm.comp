#version 460
// Row normalizations over the last dim, one invocation per row. t[0] = y, t[1] = x, t[2] = weight or
// gamma (absent: ones), t[3] = beta (absent: zeros). i[0]: 0 rms_norm, 1 layer_norm, 2 l2_normalize.
// f[0] = eps.
layout(local_size_x = 64) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor y = A.t[0];
  Tensor x = A.t[1];
  Tensor w = A.t[2];
  Tensor bt = A.t[3];
  int D = x.dims.w;
  ivec4 r = unravel(id, ivec4(x.dims.xyz, 1));
  int64_t xo = off4(x, r);
  int64_t yo = off4(y, r);
  int mode = A.i[0];
  float eps = A.f[0];
  float mean = 0.0;
  if (mode == 1) {
    float s = 0.0;
    for (int d = 0; d < D; ++d) s += ld_at(x, xo + int64_t(d) * x.strides.w);
    mean = s / float(D);
  }
  float ss = 0.0;
  for (int d = 0; d < D; ++d) {
    float v = ld_at(x, xo + int64_t(d) * x.strides.w) - mean;
    ss += v * v;
  }
  float inv;
  if (mode == 2) inv = 1.0 / max(sqrt(ss), eps);
  else inv = inversesqrt(ss / float(D) + eps);
  for (int d = 0; d < D; ++d) {
    float v = (ld_at(x, xo + int64_t(d) * x.strides.w) - mean) * inv;
    if (mode != 2 && is_present(w)) v *= ld_at(w, int64_t(d) * w.strides.w);
    if (mode == 1 && is_present(bt)) v += ld_at(bt, int64_t(d) * bt.strides.w);
    st_at(y, yo + int64_t(d) * y.strides.w, v);
  }
}
