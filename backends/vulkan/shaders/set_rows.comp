#version 460
// Row scatter (the paged KV-cache write): t[0] = dst [R, W] (as [1,1,R,W]), t[1] = src [N, W],
// t[2] = indices [N] I32; i[0] = max(W, 1) invocations per source row, so that a row with W = 0
// still has its index checked. An index outside [0, R) sets status bit 32 and writes nothing, so
// nothing outside dst is ever touched. Same-dtype rows move raw bits (exact, NaN payloads kept).
layout(local_size_x = 64) in;
#include "common.glsl"

void main() {
  Args A = Args(pc.args);
  uint id = linear_id();
  if (id >= A.total) return;
  Tensor dst = A.t[0];
  Tensor src = A.t[1];
  Tensor ind = A.t[2];
  uint per_row = uint(A.i[0]);
  int n = int(id / per_row);
  int w = int(id % per_row);
  int r = int(ld_u32(ind.addr + uint64_t(int64_t(n) * ind.strides.w)));
  if (r < 0 || r >= dst.dims.z) {
    if (w == 0) flag_error(A.status, 32u);
    return;
  }
  if (w >= dst.dims.w) return;
  int64_t so = int64_t(n) * src.strides.z + int64_t(w) * src.strides.w;
  int64_t d_off = int64_t(r) * dst.strides.z + int64_t(w) * dst.strides.w;
  if (src.dtype == dst.dtype && dst.dtype == DT_F32) {
    Word(dst.addr + uint64_t(d_off)).v = ld_u32(src.addr + uint64_t(so));
  } else if (src.dtype == dst.dtype) {
    st_u16(dst.addr + uint64_t(d_off), ld_u16(src.addr + uint64_t(so)));
  } else {
    st_at(dst, d_off, ld_at(src, so));
  }
}
