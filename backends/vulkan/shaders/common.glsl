// Shared by every compute shader; include it after the local_size layout (linear_id() reads
// gl_WorkGroupSize). Tensors are reached through buffer device addresses, so no
// descriptor set (and no maxStorageBufferRange window) limits what one dispatch can address.
// Every access is a 32-bit word: 16-bit and 8-bit elements are extracted from words, so neither
// 8/16-bit storage features nor shaderFloat16 are required. 16-bit stores use word atomics so that
// neighbouring halves written by other invocations are never clobbered.
#extension GL_EXT_buffer_reference : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require

#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_I32 3
#define DT_Q8_0 4
#define DT_Q4_0 5
#define DT_Q4_1 6

layout(buffer_reference, std430, buffer_reference_align = 4) buffer Word { uint v; };

// Mirrors GpuTensor in src/gpu_args.hpp: 4 dims (leading ones padded), byte strides.
struct Tensor {
  uint64_t addr;
  int dtype;
  int ndim;
  ivec4 dims;
  i64vec4 strides;
};

// Mirrors GpuArgs in src/gpu_args.hpp.
layout(buffer_reference, std430, buffer_reference_align = 32) readonly buffer Args {
  Tensor t[6];
  float f[8];
  int i[8];
  uint64_t status;
  uint total;
  uint pad0;
};

layout(push_constant) uniform Push { uint64_t args; } pc;

uint linear_id() {
  return (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
         gl_LocalInvocationID.x;
}

uint ld_u32(uint64_t a) { return Word(a).v; }
uint ld_u16(uint64_t a) {
  uint w = Word(a & ~uint64_t(3)).v;
  return (a & 2) != 0 ? (w >> 16) : (w & 0xffffu);
}
uint ld_u8(uint64_t a) {
  uint w = Word(a & ~uint64_t(3)).v;
  return (w >> (uint(a & 3) * 8u)) & 0xffu;
}
void st_u16(uint64_t a, uint h) {
  uint shift = (a & 2) != 0 ? 16u : 0u;
  Word w = Word(a & ~uint64_t(3));
  atomicAnd(w.v, ~(0xffffu << shift));
  atomicOr(w.v, (h & 0xffffu) << shift);
}

float half_to_float(uint h) { return unpackHalf2x16(h).x; }

// Round to nearest even, done by hand because packHalf2x16 leaves rounding to the implementation.
uint float_to_half(float f) {
  uint x = floatBitsToUint(f);
  uint sign = (x >> 16) & 0x8000u;
  uint ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u);
  if (ax >= 0x477ff000u) return sign | 0x7c00u;
  if (ax < 0x38800000u) return sign | uint(roundEven(uintBitsToFloat(ax) * 16777216.0));
  uint e = ax - 0x38000000u;
  return sign | ((e + 0x0fffu + ((e >> 13) & 1u)) >> 13);
}

uint float_to_bf16(float f) {
  uint x = floatBitsToUint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (x >> 16) | 0x40u;
  return (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
}

int64_t off4(Tensor t, ivec4 i) {
  return int64_t(i.x) * t.strides.x + int64_t(i.y) * t.strides.y + int64_t(i.z) * t.strides.z +
         int64_t(i.w) * t.strides.w;
}

ivec4 unravel(uint id, ivec4 d) {
  ivec4 r;
  r.w = int(id % uint(d.w)); id /= uint(d.w);
  r.z = int(id % uint(d.z)); id /= uint(d.z);
  r.y = int(id % uint(d.y)); id /= uint(d.y);
  r.x = int(id);
  return r;
}

float ld_at(Tensor t, int64_t off) {
  uint64_t a = t.addr + uint64_t(off);
  if (t.dtype == DT_F32) return uintBitsToFloat(ld_u32(a));
  if (t.dtype == DT_F16) return half_to_float(ld_u16(a));
  if (t.dtype == DT_BF16) return uintBitsToFloat(ld_u16(a) << 16);
  return float(int(ld_u32(a)));
}

void st_at(Tensor t, int64_t off, float v) {
  uint64_t a = t.addr + uint64_t(off);
  if (t.dtype == DT_F32) Word(a).v = floatBitsToUint(v);
  else if (t.dtype == DT_F16) st_u16(a, float_to_half(v));
  else if (t.dtype == DT_BF16) st_u16(a, float_to_bf16(v));
  else Word(a).v = uint(int(v));
}

float ld4(Tensor t, ivec4 i) { return ld_at(t, off4(t, i)); }
void st4(Tensor t, ivec4 i, float v) { st_at(t, off4(t, i), v); }

// Element k of a block-quantized row starting at byte address `row` (GGUF layouts).
float ld_quant(int dtype, uint64_t row, int k) {
  int blk = k >> 5;
  int j = k & 31;
  if (dtype == DT_Q8_0) {
    uint64_t b = row + uint64_t(blk) * 34u;
    float d = half_to_float(ld_u16(b));
    int q = int(ld_u8(b + 2u + uint64_t(j)));
    return d * float(q >= 128 ? q - 256 : q);
  }
  if (dtype == DT_Q4_0) {
    uint64_t b = row + uint64_t(blk) * 18u;
    float d = half_to_float(ld_u16(b));
    uint q = ld_u8(b + 2u + uint64_t(j & 15));
    uint nib = j < 16 ? (q & 15u) : (q >> 4);
    return d * (float(nib) - 8.0);
  }
  uint64_t b = row + uint64_t(blk) * 20u;
  float d = half_to_float(ld_u16(b));
  float m = half_to_float(ld_u16(b + 2u));
  uint q = ld_u8(b + 4u + uint64_t(j & 15));
  uint nib = j < 16 ? (q & 15u) : (q >> 4);
  return d * float(nib) + m;
}

void flag_error(uint64_t status, uint bit) {
  if (status != 0) atomicOr(Word(status).v, bit);
}

bool is_present(Tensor t) { return t.addr != 0; }
