#version 460
// Embedding gather: t[0] = y [N, D] (as [1,1,N,D]), t[1] = table [R, D], t[2] = indices [N] I32.
// An index outside [0, R) sets status bit 1 and yields zeros; the table is never read out of range.
layout(local_size_x = 64) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor y = A.t[0];
  Tensor table = A.t[1];
  Tensor ind = A.t[2];
  ivec4 idx = unravel(id, y.dims);
  int n = idx.z;
  int d = idx.w;
  int r = int(ld_u32(ind.addr + uint64_t(int64_t(n) * ind.strides.w)));
  int rows = table.dims.z;
  float v = 0.0;
  if (r < 0 || r >= rows) {
    flag_error(A.status, 1u);
  } else if (table.dtype >= DT_Q8_0) {
    v = ld_quant(table.dtype, table.addr + uint64_t(int64_t(r) * table.strides.z), d);
  } else {
    v = ld_at(table, int64_t(r) * table.strides.z + int64_t(d) * table.strides.w);
  }
  st4(y, idx, v);
}
