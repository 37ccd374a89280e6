#version 460
// Tensor-core matmul for f16 a and b through VK_NV_cooperative_matrix (16x16x16, f32 accumulators).
// Selected by the host only on devices that report that configuration with 32-wide subgroups, and only
// when every address and row stride it reads is 16-byte aligned (global tiles move as uvec4).
//
// t[0] = c [B0,B1,M,N] (any float dtype); t[1] = a [B0,B1,M,K] f16 with unit K stride; t[2] = b viewed
// as [B0,B1,K,N] f16: unit N stride (row-major, i[3] = 0) or unit K stride (b stored [N,K], i[3] = 1).
// i[0] = K, i[1] = tiles along N, i[2] = tiles along M; f[0] = alpha; one workgroup per c tile.
//
// A workgroup computes a kBM x kBN tile of c (128x128; 128x64 in the narrow build); each of its 4
// subgroups owns a quarter (64x64; 64x32) as a 4x4 (4x2) grid of 16x16 accumulators. The K loop moves
// kBK-deep slices of a and b through two shared-memory buffers:
// while the subgroups multiply out of one buffer, each invocation holds its share of the next slice in
// registers (loaded before the math so the global latency overlaps it) and stores it into the other
// buffer afterwards, so a single barrier per slice suffices. Out-of-range rows and columns are read as
// zeros, so M, N and K need not be multiples of anything; the epilogue stages each accumulator through
// shared memory and stores only the elements inside c.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x = 128) in;
#include "common.glsl"

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Vec4 { uvec4 v; };

const int kBM = 128;          // tile rows (M)
#ifdef PLINTH_COOPMAT_NARROW
// The narrow build (PLINTH_VULKAN_COOPMAT=narrow): 128x64 tiles, 4x2 accumulators per subgroup, half
// the accumulator registers, to compare on a GPU against the default.
const int kBN = 64;           // tile columns (N)
const int kFN = 2;            // 16-column accumulator columns per subgroup (32 columns)
#else
const int kBN = 128;          // tile columns (N)
const int kFN = 4;            // 16-column accumulator columns per subgroup (64 columns)
#endif
const int kBNShift = kBN == 128 ? 4 : 3;  // log2 of the 16-byte vectors in a row of a b tile
const int kBK = 32;           // K slice per shared-memory buffer
const int kWarpsN = 2;        // subgroups across N (2 across M)
const int kFM = 4;            // 16-row accumulator rows per subgroup (64 rows)
const int kThreads = 128;
const int kPad = 8;           // halves of skew per shared row: keeps 16-byte row reads conflict-free

// Shared tiles in uvec4 units (8 halves). a: kBM rows of kBK (+pad) halves. b row-major: kBK rows of
// kBN (+pad); b column-major: kBN rows of kBK (+pad); the buffer fits the larger of the two.
const int kLdA = (kBK + kPad) / 8;           // 5
const int kLdBRow = (kBN + kPad) / 8;        // 17 (9 narrow)
const int kLdBCol = (kBK + kPad) / 8;        // 5
const int kTileA = kBM * kLdA;               // 640
const int kTileB = max(kBK * kLdBRow, kBN * kLdBCol);  // 640 (320 narrow)
shared uvec4 sa[2 * kTileA];
shared uvec4 sb[2 * kTileB];
// Epilogue staging: one padded 16x16 f32 block per subgroup.
const int kLdC = 20;
shared float sc[4 * 16 * kLdC];
// 2 * (640 + 640) * 16 + 4 * 320 * 4 = 46080 bytes (the host checks maxComputeSharedMemorySize).

const int kVecsA = kBM * kBK / 8 / kThreads;  // 4 uvec4 of a per invocation per slice
const int kVecsB = kBK * kBN / 8 / kThreads;  // 4 (2 narrow) uvec4 of b

// 8 halves of one row starting at column `col`; zeros outside the row range and past `col_lim`.
// `row_addr` is 16-byte aligned and so is every full vector (col is a multiple of 8).
uvec4 fetch8(uint64_t row_addr, bool row_ok, int col, int col_lim) {
  if (!row_ok || col >= col_lim) return uvec4(0);
  uint64_t p = row_addr + uint64_t(col) * 2u;
  if (col + 8 <= col_lim) return Vec4(p).v;
  uvec4 r = uvec4(0);
  [[unroll]] for (int j = 0; j < 8; ++j) {
    if (col + j < col_lim) r[j >> 1] |= ld_u16(p + uint64_t(j) * 2u) << (16 * (j & 1));
  }
  return r;
}

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
  bool b_col = A.i[3] != 0;
  int M = c.dims.z;
  int N = c.dims.w;
  int tn = int(wg % uint(tiles_n));
  int tm = int((wg / uint(tiles_n)) % uint(tiles_m));
  int batch = int(wg / (uint(tiles_n) * uint(tiles_m)));
  int b1 = batch % c.dims.y;
  int b0 = batch / c.dims.y;
  int m0 = tm * kBM;
  int n0 = tn * kBN;
  uint64_t a_base = a.addr + uint64_t(off4(a, ivec4(b0, b1, 0, 0)));
  uint64_t b_base = b.addr + uint64_t(off4(b, ivec4(b0, b1, 0, 0)));
  int tid = int(gl_LocalInvocationID.x);
  int warp = int(gl_SubgroupID);
  int lane = int(gl_SubgroupInvocationID);
  int wm = warp / kWarpsN;  // 64-row band of the tile
  int wn = warp % kWarpsN;  // 64-column band

  fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[kFM][kFN];
  [[unroll]] for (int i = 0; i < kFM; ++i) {
    [[unroll]] for (int j = 0; j < kFN; ++j) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
  }

  uvec4 ra[kVecsA];
  uvec4 rb[kVecsB];
  // Which slice element each register holds: a and column-major b are kBK/8 = 4 vectors per row; row-major
  // b is kBN/8 = 16 (8) vectors per row. Consecutive invocations take consecutive vectors of a row.
  int slices = (K + kBK - 1) / kBK;
  for (int s = 0; s <= slices; ++s) {
    int cur = (s + 1) & 1;  // buffer holding slice s-1 (the one multiplied in this pass)
    int nxt = s & 1;        // buffer receiving slice s
    // 1. Global loads of slice s into registers (none past the last slice).
    if (s < slices) {
      int k0 = s * kBK;
      [[unroll]] for (int v = 0; v < kVecsA; ++v) {
        int idx = v * kThreads + tid;
        int r = idx >> 2;
        int col = k0 + (idx & 3) * 8;
        int m = m0 + r;
        ra[v] = fetch8(a_base + uint64_t(int64_t(min(m, M - 1)) * a.strides.z), m < M, col, K);
      }
      if (b_col) {
        [[unroll]] for (int v = 0; v < kVecsB; ++v) {
          int idx = v * kThreads + tid;
          int r = idx >> 2;
          int col = k0 + (idx & 3) * 8;
          int n = n0 + r;
          rb[v] = fetch8(b_base + uint64_t(int64_t(min(n, N - 1)) * b.strides.w), n < N, col, K);
        }
      } else {
        [[unroll]] for (int v = 0; v < kVecsB; ++v) {
          int idx = v * kThreads + tid;
          int r = idx >> kBNShift;
          int col = n0 + (idx & ((1 << kBNShift) - 1)) * 8;
          int k = k0 + r;
          rb[v] = fetch8(b_base + uint64_t(int64_t(min(k, K - 1)) * b.strides.z), k < K, col, N);
        }
      }
    }
    // 2. Multiply slice s-1 out of shared buffer `cur`.
    if (s > 0) {
      [[unroll]] for (int kk = 0; kk < kBK / 16; ++kk) {
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> fa[kFM];
        [[unroll]] for (int i = 0; i < kFM; ++i) {
          uint e = uint(cur * kTileA + (wm * 64 + i * 16) * kLdA + kk * 2);
          coopMatLoadNV(fa[i], sa, e, uint(kLdA), false);
        }
        [[unroll]] for (int j = 0; j < kFN; ++j) {
          fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> fb;
          if (b_col) {
            uint e = uint(cur * kTileB + (wn * (kFN * 16) + j * 16) * kLdBCol + kk * 2);
            coopMatLoadNV(fb, sb, e, uint(kLdBCol), true);
          } else {
            uint e = uint(cur * kTileB + (kk * 16) * kLdBRow + (wn * (kFN * 16) + j * 16) / 8);
            coopMatLoadNV(fb, sb, e, uint(kLdBRow), false);
          }
          [[unroll]] for (int i = 0; i < kFM; ++i) acc[i][j] = coopMatMulAddNV(fa[i], fb, acc[i][j]);
        }
      }
    }
    // 3. Registers of slice s into buffer `nxt`. Its previous contents (slice s-2) were last read in
    // the previous pass, which every invocation finished before the barrier that ended that pass.
    if (s < slices) {
      [[unroll]] for (int v = 0; v < kVecsA; ++v) {
        int idx = v * kThreads + tid;
        sa[nxt * kTileA + (idx >> 2) * kLdA + (idx & 3)] = ra[v];
      }
      if (b_col) {
        [[unroll]] for (int v = 0; v < kVecsB; ++v) {
          int idx = v * kThreads + tid;
          sb[nxt * kTileB + (idx >> 2) * kLdBCol + (idx & 3)] = rb[v];
        }
      } else {
        [[unroll]] for (int v = 0; v < kVecsB; ++v) {
          int idx = v * kThreads + tid;
          sb[nxt * kTileB + (idx >> kBNShift) * kLdBRow + (idx & ((1 << kBNShift) - 1))] = rb[v];
        }
      }
    }
    barrier();
  }

  // Epilogue: each accumulator goes through this subgroup's staging block, then every lane writes its
  // share with bounds checks. f16 outputs are written as whole 32-bit words where a pair of columns is
  // inside c and word aligned (no read-modify-write); everything else goes through st_at.
  float alpha = A.f[0];
  int stage = warp * 16 * kLdC;
  int64_t c_base = off4(c, ivec4(b0, b1, 0, 0));
  bool f16_pairs = c.dtype == DT_F16 && c.strides.w == 2;
  [[unroll]] for (int i = 0; i < kFM; ++i) {
    [[unroll]] for (int j = 0; j < kFN; ++j) {
      coopMatStoreNV(acc[i][j], sc, uint(stage), uint(kLdC), false);
      subgroupMemoryBarrierShared();
      subgroupBarrier();
      int row0 = m0 + wm * 64 + i * 16;
      int col0 = n0 + wn * (kFN * 16) + j * 16;
      if (f16_pairs) {
        [[unroll]] for (int e = 0; e < 4; ++e) {
          int idx = e * 32 + lane;
          int r = idx >> 3;
          int cc = (idx & 7) * 2;
          int row = row0 + r;
          int col = col0 + cc;
          if (row < M && col < N) {
            float v0 = sc[stage + r * kLdC + cc] * alpha;
            float v1 = sc[stage + r * kLdC + cc + 1] * alpha;
            int64_t off = c_base + int64_t(row) * c.strides.z + int64_t(col) * 2;
            uint64_t addr = c.addr + uint64_t(off);
            if (col + 1 < N && (addr & 3u) == 0u) {
              Word(addr).v = float_to_half(v0) | (float_to_half(v1) << 16);
            } else {
              st_at(c, off, v0);
              if (col + 1 < N) st_at(c, off + 2, v1);
            }
          }
        }
      } else {
        [[unroll]] for (int e = 0; e < 8; ++e) {
          int idx = e * 32 + lane;
          int r = idx >> 4;
          int cc = idx & 15;
          int row = row0 + r;
          int col = col0 + cc;
          if (row < M && col < N) {
            st_at(c, c_base + int64_t(row) * c.strides.z + int64_t(col) * c.strides.w,
                  sc[stage + r * kLdC + cc] * alpha);
          }
        }
      }
      subgroupBarrier();  // the block is rewritten by the next accumulator
    }
  }
}
