#version 460
// Shared-memory tiled matmul for float operands: a 16x16 workgroup computes a 16x16 tile of c.
// Same argument layout as matmul.comp; i[1] = tiles along N, i[2] = tiles along M.
layout(local_size_x = 256) in;
#include "common.glsl"

const int kTile = 16;
shared float sa[kTile][kTile + 1];
shared float sb[kTile][kTile + 1];

void main() {
  Args A = Args(pc.args);
  uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  if (wg >= A.total) return;  // uniform per workgroup, so barriers stay legal
  Tensor c = A.t[0];
  Tensor a = A.t[1];
  Tensor b = A.t[2];
  int K = A.i[0];
  int tiles_n = A.i[1];
  int tiles_m = A.i[2];
  int tn = int(wg % uint(tiles_n));
  int tm = int((wg / uint(tiles_n)) % uint(tiles_m));
  int batch = int(wg / uint(tiles_n * tiles_m));
  int b1 = batch % c.dims.y;
  int b0 = batch / c.dims.y;
  int lx = int(gl_LocalInvocationID.x) % kTile;
  int ly = int(gl_LocalInvocationID.x) / kTile;
  int row = tm * kTile + ly;
  int col = tn * kTile + lx;
  int M = c.dims.z;
  int N = c.dims.w;
  int64_t a_base = off4(a, ivec4(b0, b1, 0, 0));
  int64_t b_base = off4(b, ivec4(b0, b1, 0, 0));
  float acc = 0.0;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    int ka = k0 + lx;
    sa[ly][lx] = (row < M && ka < K) ? ld_at(a, a_base + int64_t(row) * a.strides.z + int64_t(ka) * a.strides.w) : 0.0;
    int kb = k0 + ly;
    sb[ly][lx] = (col < N && kb < K) ? ld_at(b, b_base + int64_t(kb) * b.strides.z + int64_t(col) * b.strides.w) : 0.0;
    barrier();
    for (int kk = 0; kk < kTile; ++kk) acc += sa[ly][kk] * sb[kk][lx];
    barrier();
  }
  if (row < M && col < N) st4(c, ivec4(b0, b1, row, col), acc * A.f[0]);
}
