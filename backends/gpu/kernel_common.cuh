// Device helpers shared by every kernel source: dtype loads/stores with f32 arithmetic, index
// arithmetic over right-aligned 4-d tensors, and warp/block reductions that work for any warp width
// (32 on NVIDIA and RDNA, 64 on CDNA).
#pragma once

#include <cmath>
#include <cstdint>

#include "gpu_kernels.hpp"
#include "gpu_port.hpp"
#include "plinth/ops.h"

namespace plinth::gpu {

// Block size of the row kernels; a multiple of every warp width.
inline constexpr int kRowThreads = 256;
// Largest number of warps a block can hold (1024 threads / 32); sizes the reduction scratch.
inline constexpr int kMaxWarps = 32;

// Software conversions keep both toolchains bit-identical and need no vendor half-type headers.
__device__ __forceinline__ float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float f = static_cast<float>(mant) * 5.9604644775390625e-8f;  // mant * 2^-24
    return sign != 0 ? -f : f;
  }
  if (exp == 31) return __uint_as_float(sign | 0x7f800000u | (mant << 13));
  return __uint_as_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

// The hardware conversion where the toolchain offers one (the quantized kernels convert a scale per
// thread per block); identical results to half_to_float.
__device__ __forceinline__ float half_to_float_fast(uint16_t h) {
#if defined(PLINTH_GPU_CUDA)
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
#else
  return half_to_float(h);
#endif
}

__device__ __forceinline__ uint16_t float_to_half(float f) {
  const uint32_t x = __float_as_uint(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504
  if (ax < 0x38800000u) {  // result is subnormal (or zero): round |f| * 2^24 to nearest even
    const float scaled = __uint_as_float(ax) * 16777216.0f;
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(rintf(scaled)));
  }
  uint32_t h = (((ax >> 23) - 112u) << 10) | ((ax >> 13) & 0x3ffu);
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0)) ++h;
  return static_cast<uint16_t>(sign | h);
}

__device__ __forceinline__ float bf16_to_float(uint16_t b) { return __uint_as_float(static_cast<uint32_t>(b) << 16); }

__device__ __forceinline__ uint16_t float_to_bf16(float f) {
  const uint32_t x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ float load_f(const char* p, int32_t dtype) {
  switch (dtype) {
    case PLINTH_DTYPE_F32: return *reinterpret_cast<const float*>(p);
    case PLINTH_DTYPE_F16: return half_to_float(*reinterpret_cast<const uint16_t*>(p));
    case PLINTH_DTYPE_BF16: return bf16_to_float(*reinterpret_cast<const uint16_t*>(p));
    case PLINTH_DTYPE_I32: return static_cast<float>(*reinterpret_cast<const int32_t*>(p));
    default: return 0.0f;
  }
}

__device__ __forceinline__ void store_f(char* p, int32_t dtype, float v) {
  switch (dtype) {
    case PLINTH_DTYPE_F32: *reinterpret_cast<float*>(p) = v; break;
    case PLINTH_DTYPE_F16: *reinterpret_cast<uint16_t*>(p) = float_to_half(v); break;
    case PLINTH_DTYPE_BF16: *reinterpret_cast<uint16_t*>(p) = float_to_bf16(v); break;
    case PLINTH_DTYPE_I32: *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(v); break;
    default: break;
  }
}

// Byte offset of the element at 4-d index idx.
__device__ __forceinline__ int64_t offset4(const GpuTensor& t, const int64_t* idx) {
  return idx[0] * t.strides[0] + idx[1] * t.strides[1] + idx[2] * t.strides[2] + idx[3] * t.strides[3];
}

__device__ __forceinline__ void unravel4(int64_t linear, const int64_t* dims, int64_t* idx) {
  for (int d = 3; d >= 0; --d) {
    idx[d] = linear % dims[d];
    linear /= dims[d];
  }
}

__device__ __forceinline__ int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_threads() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = warpSize / 2; o > 0; o >>= 1) v += PLINTH_SHFL_XOR(v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = warpSize / 2; o > 0; o >>= 1) v = fmaxf(v, PLINTH_SHFL_XOR(v, o));
  return v;
}

// Block-wide reductions; every thread of the block must call them. `scratch` holds kMaxWarps floats.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = static_cast<int>(threadIdx.x) % warpSize;
  const int warp = static_cast<int>(threadIdx.x) / warpSize;
  const int warps = (static_cast<int>(blockDim.x) + warpSize - 1) / warpSize;
  v = warp_sum(v);
  __syncthreads();  // earlier readers of scratch are done
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < warps; ++w) total += scratch[w];
  return total;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = static_cast<int>(threadIdx.x) % warpSize;
  const int warp = static_cast<int>(threadIdx.x) / warpSize;
  const int warps = (static_cast<int>(blockDim.x) + warpSize - 1) / warpSize;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float best = -INFINITY;
  for (int w = 0; w < warps; ++w) best = fmaxf(best, scratch[w]);
  return best;
}

// Element j of a row of GGUF blocks (byte loads: valid for any alignment).
__device__ __forceinline__ float dequant_element(const char* row, int32_t dtype, int64_t j) {
  const char* block = row + (j / 32) * (dtype == PLINTH_DTYPE_Q8_0 ? 34 : dtype == PLINTH_DTYPE_Q4_0 ? 18 : 20);
  const int e = static_cast<int>(j % 32);
  const auto* bytes = reinterpret_cast<const uint8_t*>(block);
  const float d = half_to_float(static_cast<uint16_t>(bytes[0] | (bytes[1] << 8)));
  if (dtype == PLINTH_DTYPE_Q8_0) return d * static_cast<float>(static_cast<int8_t>(bytes[2 + e]));
  const int qs = dtype == PLINTH_DTYPE_Q4_0 ? 2 : 4;
  const int nib = e < 16 ? (bytes[qs + e] & 0xF) : (bytes[qs + e - 16] >> 4);
  if (dtype == PLINTH_DTYPE_Q4_0) return d * static_cast<float>(nib - 8);
  const float m = half_to_float(static_cast<uint16_t>(bytes[2] | (bytes[3] << 8)));
  return d * static_cast<float>(nib) + m;
}

// Grid size for a grid-stride loop over n items: enough blocks to fill the device, capped so the
// x dimension stays legal everywhere.
inline unsigned grid_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

}  // namespace plinth::gpu
