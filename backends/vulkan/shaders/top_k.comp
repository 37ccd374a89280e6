#version 460
// Top-k / argmax per row, one invocation per row: k passes, each picking the best element strictly
// after the previous pick in the total order (value descending, NaN first, ties by lower index).
// t[0] = values as [1,1,R,k] (absent for argmax), t[1] = x as [1,1,R,N], t[2] = indices as [1,1,R,k].
// i[0] = k.
layout(local_size_x = 64) in;
#include "common.glsl"

bool before(float a, int ia, float b, int ib) {
  bool na = isnan(a);
  bool nb = isnan(b);
  if (na || nb) return na && nb ? ia < ib : na;
  if (a != b) return a > b;
  return ia < ib;
}

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor vals = A.t[0];
  Tensor x = A.t[1];
  Tensor ind = A.t[2];
  int row = int(id);
  int N = x.dims.w;
  int K = A.i[0];
  float pv = 0.0;
  int pi = -1;
  for (int r = 0; r < K; ++r) {
    float bv = 0.0;
    int bi = -1;
    for (int j = 0; j < N; ++j) {
      float v = ld4(x, ivec4(0, 0, row, j));
      if (pi >= 0 && !before(pv, pi, v, j)) continue;
      if (bi < 0 || before(v, j, bv, bi)) {
        bv = v;
        bi = j;
      }
    }
    if (is_present(vals)) st4(vals, ivec4(0, 0, row, r), bv);
    Word(ind.addr + uint64_t(off4(ind, ivec4(0, 0, row, r)))).v = uint(bi);
    pv = bv;
    pi = bi;
  }
}
