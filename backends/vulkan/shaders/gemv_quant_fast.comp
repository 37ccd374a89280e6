#version 460
// Decode-shaped matmul (at most 8 activation rows) with GGUF-quantized weights [N, K], built to be
// bound by weight bandwidth. A 128-invocation workgroup owns A.i[2] consecutive weight rows; a lane
// group (a subgroup with subgroup arithmetic, else a fixed group of kLanes invocations) owns kRows of
// them at a time. Its lanes walk the K blocks four lanes per block (each lane a quarter of the block:
// one 32-bit word of Q4 nibbles, two of Q8_0 bytes), so the weight and the activation loads of a
// subgroup are contiguous runs, every weight word is loaded once and used against all activation
// rows, and each activation vec4 is loaded once per lane group and used for all its kRows rows.
// Activations must be f32, unit stride along K, rows 16-byte aligned (read as vec4); the encoder
// falls back to gemv_quant.comp otherwise. Q4_1 blocks must be 4-byte aligned; Q4_0 and Q8_0 blocks
// (18 and 34 bytes) are only 2-byte aligned, so their words are read from the aligned word below
// the block and realigned with a half-word funnel shift.
//
// Nibbles and bytes become floats without int-to-float conversions (a slow path on several GPUs):
// or-ing a value below 2^23 into the mantissa of 2^23 and subtracting 2^23 is exact. The offsets
// of Q4_0 (-8) and Q8_0 (sign, as bias 128) fold into the subtracted constant; Q4_1 adds
// m * sum(x) per quarter block. Accumulation is f32 throughout; activations are never quantized.
// Partial sums are reduced with subgroupAdd, or through shared memory in the portable builds.
layout(local_size_x = 128) in;
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
// Four variants: PLINTH_SUBGROUPS, PLINTH_SINGLE_ROW, both (PLINTH_SUBGROUPS_SINGLE_ROW, since the
// build passes one define per variant) or neither. The single-row variants serve M = 1 (plain decode)
// without carrying eight accumulators per weight row: uniform branches are cheap on GPUs, but
// CPU implementations such as lavapipe run every masked-off iteration.
#if defined(PLINTH_SUBGROUPS) || defined(PLINTH_SUBGROUPS_SINGLE_ROW)
#define PLINTH_GEMV_SUBGROUPS
#endif
#if defined(PLINTH_SINGLE_ROW) || defined(PLINTH_SUBGROUPS_SINGLE_ROW)
#define PLINTH_GEMV_MAX_M 1
#define PLINTH_GEMV_ROWS 4
#else
#define PLINTH_GEMV_MAX_M 8
#define PLINTH_GEMV_ROWS 2
#endif
#ifdef PLINTH_GEMV_SUBGROUPS
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Vec4s { vec4 v[]; };
layout(buffer_reference, std430, buffer_reference_align = 4) readonly buffer Words { uint v[]; };

const int kMaxM = PLINTH_GEMV_MAX_M;  // activation rows
const int kRows = PLINTH_GEMV_ROWS;   // weight rows per lane group
const float kMagic = 8388608.0;  // 2^23
const uint kMagicBits = 0x4B000000u;

#ifndef PLINTH_GEMV_SUBGROUPS
const uint kLanes = 32u;
shared float partial[128 * kRows * kMaxM];
#endif

// The four bytes of w (each below 2^23 after masking) as floats, minus `bias`.
vec4 bytes_f(uint w, float bias) {
  return vec4(uintBitsToFloat(kMagicBits | (w & 0xffu)), uintBitsToFloat(kMagicBits | ((w >> 8) & 0xffu)),
              uintBitsToFloat(kMagicBits | ((w >> 16) & 0xffu)), uintBitsToFloat(kMagicBits | (w >> 24))) -
         vec4(bias);
}

// Realigns words of a 2-byte-aligned block read from the word below it: `odd` means the block
// starts in the upper half of word w0.
uint realign(bool odd, uint w0, uint w1) { return odd ? w1 : (w0 >> 16) | (w1 << 16); }

void main() {
  Args A = Args(pc.args);
  uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  if (wg >= A.total) return;  // uniform per workgroup
  Tensor c = A.t[0];
  Tensor a = A.t[1];
  Tensor b = A.t[2];
  int blocks = A.i[0] >> 5;
  int M = A.i[1];
  int rows_wg = A.i[2];
  int N = c.dims.w;
  int dtype = b.dtype;
#ifdef PLINTH_GEMV_SUBGROUPS
  uint lane = gl_SubgroupInvocationID;
  uint width = gl_SubgroupSize;
  uint group = gl_SubgroupID;
  uint groups = gl_NumSubgroups;
#else
  uint tid = gl_LocalInvocationID.x;
  uint lane = tid % kLanes;
  uint width = kLanes;
  uint group = tid / kLanes;
  uint groups = gl_WorkGroupSize.x / kLanes;
#endif

  // Activation row m and output row m share the batch/row multi-index (c.dims.xyz).
  uint64_t xrow[kMaxM];
  [[unroll]] for (int m = 0; m < kMaxM; ++m) {
    ivec4 idx = unravel(uint(min(m, M - 1)), ivec4(c.dims.xyz, 1));
    xrow[m] = a.addr + uint64_t(off4(a, ivec4(idx.xyz, 0)));
  }

  // The trip count depends on uniform values only, so the barriers of the fallback stay uniform.
  for (int base = 0; base < rows_wg; base += int(groups) * kRows) {
    int r0 = base + int(group) * kRows;
    int n0 = int(wg) * rows_wg + r0;
    bool live = r0 < rows_wg && n0 < N;  // uniform across the lane group
    uint64_t wrow[kRows];
    [[unroll]] for (int r = 0; r < kRows; ++r) {
      // Rows past N (or past this workgroup) repeat a valid row; their sums are never stored.
      int n = min(n0 + r, N - 1);
      n = r0 + r < rows_wg ? n : min(n0, N - 1);
      wrow[r] = b.addr + uint64_t(int64_t(n) * b.strides.w);
    }
    float acc[kRows][kMaxM];
    [[unroll]] for (int r = 0; r < kRows; ++r)
      [[unroll]] for (int m = 0; m < kMaxM; ++m) acc[r][m] = 0.0;

    if (live) {
      // Work item `it` is quarter t = it % 4 of block it / 4: qs word t of a Q4 block (elements 4t..4t+3
      // and 16+4t..16+4t+3), qs words t and t + 4 of a Q8_0 block (elements 4t..4t+3, 16+4t..16+4t+3).
      // With a lane count that is a multiple of 4, a lane keeps its quarter and four neighbouring lanes
      // read one block, so the activation loads of a subgroup are contiguous 64-byte runs.
      for (int it = int(lane); it < blocks * 4; it += int(width)) {
        int blk = it >> 2;
        int t = it & 3;
        vec4 xl[kMaxM];
        vec4 xh[kMaxM];
        [[unroll]] for (int m = 0; m < kMaxM; ++m) {
          if (m < M) {
            Vec4s xp = Vec4s(xrow[m] + uint64_t(blk) * 128u);
            xl[m] = xp.v[t];
            xh[m] = xp.v[t + 4];
          }
        }
        if (dtype == DT_Q4_1) {
          [[unroll]] for (int r = 0; r < kRows; ++r) {
            Words p = Words(wrow[r] + uint64_t(blk) * 20u);
            vec2 dm = unpackHalf2x16(p.v[0]);
            uint q = p.v[t + 1];
            vec4 lo = bytes_f(q & 0x0f0f0f0fu, kMagic);
            vec4 hi = bytes_f((q >> 4) & 0x0f0f0f0fu, kMagic);
            [[unroll]] for (int m = 0; m < kMaxM; ++m) {
              if (m < M) {
                float xs = dot(xl[m] + xh[m], vec4(1.0));
                acc[r][m] += dm.x * (dot(lo, xl[m]) + dot(hi, xh[m])) + dm.y * xs;
              }
            }
          }
        } else if (dtype == DT_Q4_0) {
          [[unroll]] for (int r = 0; r < kRows; ++r) {
            uint64_t o = wrow[r] + uint64_t(blk) * 18u;
            bool odd = (o & 2u) != 0;
            Words p = Words(o & ~uint64_t(3));
            uint w0 = p.v[0];
            float d = unpackHalf2x16(odd ? w0 >> 16 : w0).x;
            uint q = realign(odd, p.v[t], p.v[t + 1]);
            vec4 lo = bytes_f(q & 0x0f0f0f0fu, kMagic + 8.0);
            vec4 hi = bytes_f((q >> 4) & 0x0f0f0f0fu, kMagic + 8.0);
            [[unroll]] for (int m = 0; m < kMaxM; ++m) {
              if (m < M) acc[r][m] += d * (dot(lo, xl[m]) + dot(hi, xh[m]));
            }
          }
        } else {  // DT_Q8_0; flipping the sign bits turns int8 q into q + 128 in [0, 255]
          [[unroll]] for (int r = 0; r < kRows; ++r) {
            uint64_t o = wrow[r] + uint64_t(blk) * 34u;
            bool odd = (o & 2u) != 0;
            Words p = Words(o & ~uint64_t(3));
            uint w0 = p.v[0];
            float d = unpackHalf2x16(odd ? w0 >> 16 : w0).x;
            vec4 lo = bytes_f(realign(odd, p.v[t], p.v[t + 1]) ^ 0x80808080u, kMagic + 128.0);
            vec4 hi = bytes_f(realign(odd, p.v[t + 4], p.v[t + 5]) ^ 0x80808080u, kMagic + 128.0);
            [[unroll]] for (int m = 0; m < kMaxM; ++m) {
              if (m < M) acc[r][m] += d * (dot(lo, xl[m]) + dot(hi, xh[m]));
            }
          }
        }
      }
    }

    float alpha = A.f[0];
#ifdef PLINTH_GEMV_SUBGROUPS
    // `live` is uniform across the subgroup, so every lane takes part in each reduction.
    if (live) {
      [[unroll]] for (int r = 0; r < kRows; ++r) {
        [[unroll]] for (int m = 0; m < kMaxM; ++m) {
          if (m < M) {
            float s = subgroupAdd(acc[r][m]);
            int n = n0 + r;
            if (lane == 0u && n < N && r0 + r < rows_wg) {
              ivec4 idx = unravel(uint(m), ivec4(c.dims.xyz, 1));
              st4(c, ivec4(idx.xyz, n), s * alpha);
            }
          }
        }
      }
    }
#else
    [[unroll]] for (int r = 0; r < kRows; ++r)
      [[unroll]] for (int m = 0; m < kMaxM; ++m)
        partial[tid * uint(kRows * kMaxM) + uint(r * kMaxM + m)] = acc[r][m];
    barrier();
    // Lane j of the group sums slot j over the group's lanes.
    if (lane < uint(kRows * kMaxM)) {
      int r = int(lane) / kMaxM;
      int m = int(lane) % kMaxM;
      int n = n0 + r;
      if (live && m < M && n < N && r0 + r < rows_wg) {
        float s = 0.0;
        for (uint l = 0u; l < kLanes; ++l) s += partial[(group * kLanes + l) * uint(kRows * kMaxM) + lane];
        ivec4 idx = unravel(uint(m), ivec4(c.dims.xyz, 1));
        st4(c, ivec4(idx.xyz, n), s * alpha);
      }
    }
    barrier();
#endif
  }
}
