#version 460
// Masked mean over the sequence: t[0] = y as [1,1,B,D], t[1] = x as [1,B,S,D], t[2] = mask as
// [1,1,B,S] (float or I32, optional).
layout(local_size_x = 64) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor y = A.t[0];
  Tensor x = A.t[1];
  Tensor m = A.t[2];
  ivec4 r = unravel(id, y.dims);
  int b = r.z;
  int d = r.w;
  int S = x.dims.z;
  float sum = 0.0;
  int count = 0;
  for (int s = 0; s < S; ++s) {
    if (is_present(m) && ld4(m, ivec4(0, 0, b, s)) == 0.0) continue;
    sum += ld4(x, ivec4(0, b, s, d));
    ++count;
  }
  st4(y, r, sum / float(max(1, count)));
}
