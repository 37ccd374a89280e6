#version 460
// Decode-shaped matmul with quantized weights: one workgroup per output element, the K blocks
// spread over the workgroup and summed. Built twice: with PLINTH_SUBGROUPS the sum is a subgroup
// reduction plus one shared slot per subgroup; without it, a shared-memory tree (portable on any
// device). Weight blocks are read as 32-bit words. Same argument layout as matmul.comp.
layout(local_size_x = 64) in;
#include "common.glsl"
#ifdef PLINTH_SUBGROUPS
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float partial[64];

void main() {
  Args A = Args(pc.args);
  uint wg = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  if (wg >= A.total) return;  // uniform per workgroup
  Tensor c = A.t[0];
  Tensor a = A.t[1];
  Tensor b = A.t[2];
  ivec4 idx = unravel(wg, c.dims);
  int K = A.i[0];
  int blocks = K / 32;
  uint tid = gl_LocalInvocationID.x;
  int64_t a_off = off4(a, ivec4(idx.x, idx.y, idx.z, 0));
  uint64_t row = b.addr + uint64_t(int64_t(idx.w) * b.strides.w);
  float acc = 0.0;
  for (int blk = int(tid); blk < blocks; blk += 64) {
    int k0 = blk * 32;
    float s = 0.0;
    if (b.dtype == DT_Q8_0) {
      uint64_t bb = row + uint64_t(blk) * 34u;
      float d = half_to_float(ld_u16(bb));
      for (int j = 0; j < 32; ++j) {
        int q = int(ld_u8(bb + 2u + uint64_t(j)));
        s += float(q >= 128 ? q - 256 : q) * ld_at(a, a_off + int64_t(k0 + j) * a.strides.w);
      }
      acc += d * s;
    } else {
      bool q41 = b.dtype == DT_Q4_1;
      uint64_t bb = row + uint64_t(blk) * (q41 ? 20u : 18u);
      float d = half_to_float(ld_u16(bb));
      float m = q41 ? half_to_float(ld_u16(bb + 2u)) : -8.0 * d;
      uint64_t qs = bb + (q41 ? 4u : 2u);
      float asum = 0.0;
      for (int j = 0; j < 16; ++j) {
        uint q = ld_u8(qs + uint64_t(j));
        float x0 = ld_at(a, a_off + int64_t(k0 + j) * a.strides.w);
        float x1 = ld_at(a, a_off + int64_t(k0 + j + 16) * a.strides.w);
        s += float(q & 15u) * x0 + float(q >> 4) * x1;
        asum += x0 + x1;
      }
      acc += d * s + m * asum;
    }
  }
#ifdef PLINTH_SUBGROUPS
  float s = subgroupAdd(acc);
  if (subgroupElect()) partial[gl_SubgroupID] = s;
  barrier();
  if (tid == 0) {
    float total = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; ++i) total += partial[i];
    st4(c, idx, total * A.f[0]);
  }
#else
  partial[tid] = acc;
  barrier();
  for (uint w = 32; w > 0; w >>= 1) {
    if (tid < w) partial[tid] += partial[tid + w];
    barrier();
  }
  if (tid == 0) st4(c, idx, partial[0] * A.f[0]);
#endif
}
