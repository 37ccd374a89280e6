// The project's own matmul kernels: a shared-memory tiled kernel for float operands (the only matmul
// on ROCm, and selectable on CUDA), and the quantized-weight kernel for GGUF Q8_0/Q4_0/Q4_1 weights.
#include "kernel_common.cuh"

namespace plinth::gpu {
namespace {

constexpr int kTile = 64;       // output tile edge
constexpr int kTileK = 16;      // k slice per shared-memory stage
constexpr int kTileThreads = 256;  // 16 x 16 threads, 4 x 4 outputs each
constexpr int kQuantRows = 8;   // activation rows one warp keeps in registers
constexpr int kQuantThreads = 256;

__global__ void __launch_bounds__(kTileThreads) matmul_tiled_kernel(MatmulArgs args) {
  __shared__ float as[kTileK][kTile + 1];
  __shared__ float bs[kTileK][kTile + 1];
  const int tx = static_cast<int>(threadIdx.x) % 16;
  const int ty = static_cast<int>(threadIdx.x) / 16;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kTile;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t batches = args.c.dims[0] * args.c.dims[1];
  for (int64_t z = blockIdx.z; z < batches; z += gridDim.z) {
    const int64_t b0 = z / args.c.dims[1];
    const int64_t b1 = z % args.c.dims[1];
    const char* a = args.a.data + b0 * args.a.strides[0] + b1 * args.a.strides[1];
    const char* b = args.b.data + b0 * args.b.strides[0] + b1 * args.b.strides[1];
    char* c = args.c.data + b0 * args.c.strides[0] + b1 * args.c.strides[1];
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < args.k; k0 += kTileK) {
      for (int i = static_cast<int>(threadIdx.x); i < kTile * kTileK; i += kTileThreads) {
        const int mm = i / kTileK;
        const int kk = i % kTileK;
        const int64_t gm = m0 + mm;
        const int64_t gk = k0 + kk;
        as[kk][mm] = (gm < args.m && gk < args.k) ? load_f(a + gm * args.a_sm + gk * args.a_sk, args.a.dtype) : 0.0f;
      }
      for (int i = static_cast<int>(threadIdx.x); i < kTile * kTileK; i += kTileThreads) {
        const int kk = i / kTile;
        const int nn = i % kTile;
        const int64_t gk = k0 + kk;
        const int64_t gn = n0 + nn;
        bs[kk][nn] = (gk < args.k && gn < args.n) ? load_f(b + gk * args.b_sk + gn * args.b_sn, args.b.dtype) : 0.0f;
      }
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < kTileK; ++kk) {
        float ar[4];
        float br[4];
#pragma unroll
        for (int r = 0; r < 4; ++r) ar[r] = as[kk][ty + 16 * r];
#pragma unroll
        for (int q = 0; q < 4; ++q) br[q] = bs[kk][tx + 16 * q];
#pragma unroll
        for (int r = 0; r < 4; ++r) {
#pragma unroll
          for (int q = 0; q < 4; ++q) acc[r][q] = fmaf(ar[r], br[q], acc[r][q]);
        }
      }
      __syncthreads();
    }
    for (int r = 0; r < 4; ++r) {
      const int64_t gm = m0 + ty + 16 * r;
      if (gm >= args.m) continue;
      for (int q = 0; q < 4; ++q) {
        const int64_t gn = n0 + tx + 16 * q;
        if (gn >= args.n) continue;
        store_f(c + gm * args.c.strides[2] + gn * args.c.strides[3], args.c.dtype, args.alpha * acc[r][q]);
      }
    }
  }
}

// Decodes one GGUF block (read as 16-bit words; blocks are 2-byte aligned) into 32 floats.
template <int32_t kType>
__device__ __forceinline__ void decode_block(const uint16_t* u, float* w) {
  const float d = half_to_float(u[0]);
  if constexpr (kType == PLINTH_DTYPE_Q8_0) {
#pragma unroll
    for (int t = 0; t < 16; ++t) {
      const uint16_t q = u[1 + t];
      w[2 * t] = d * static_cast<float>(static_cast<int8_t>(q & 0xFF));
      w[2 * t + 1] = d * static_cast<float>(static_cast<int8_t>(q >> 8));
    }
  } else if constexpr (kType == PLINTH_DTYPE_Q4_0) {
#pragma unroll
    for (int t = 0; t < 8; ++t) {
      const uint16_t q = u[1 + t];
      w[2 * t] = d * static_cast<float>(static_cast<int>(q & 0xF) - 8);
      w[2 * t + 1] = d * static_cast<float>(static_cast<int>((q >> 8) & 0xF) - 8);
      w[16 + 2 * t] = d * static_cast<float>(static_cast<int>((q >> 4) & 0xF) - 8);
      w[17 + 2 * t] = d * static_cast<float>(static_cast<int>(q >> 12) - 8);
    }
  } else {
    const float m = half_to_float(u[1]);
#pragma unroll
    for (int t = 0; t < 8; ++t) {
      const uint16_t q = u[2 + t];
      w[2 * t] = fmaf(d, static_cast<float>(q & 0xF), m);
      w[2 * t + 1] = fmaf(d, static_cast<float>((q >> 8) & 0xF), m);
      w[16 + 2 * t] = fmaf(d, static_cast<float>((q >> 4) & 0xF), m);
      w[17 + 2 * t] = fmaf(d, static_cast<float>(q >> 12), m);
    }
  }
}

// Output element (activation row r over the batch dims and M, weight row n) of a quantized matmul.
__device__ __forceinline__ char* quant_output(const QuantMatmulArgs& args, int64_t r, int64_t n) {
  const int64_t m = r % args.m;
  const int64_t bb = r / args.m;
  return args.c.data + (bb / args.c.dims[1]) * args.c.strides[0] + (bb % args.c.dims[1]) * args.c.strides[1] +
         m * args.c.strides[2] + n * args.c.strides[3];
}

// Activation row r (over the batch dims and M) of an f32 activation tensor.
__device__ __forceinline__ const float* activation_row(const QuantMatmulArgs& args, int64_t r) {
  const int64_t m = r % args.m;
  const int64_t bb = r / args.m;
  return reinterpret_cast<const float*>(args.a.data + (bb / args.a.dims[1]) * args.a.strides[0] +
                                        (bb % args.a.dims[1]) * args.a.strides[1] + m * args.a_sm);
}

template <int32_t kType>
inline constexpr int kBlockBytes = kType == PLINTH_DTYPE_Q8_0 ? 34 : kType == PLINTH_DTYPE_Q4_0 ? 18 : 20;

// One warp per weight row n and up to kQuantRows activation rows: lanes walk the row's blocks so a
// warp reads one contiguous run of blocks per step, each weight byte is read once per warp, and the
// activations (small for decode shapes) come from cache. kVec: a is f32 with unit stride and 16-byte
// aligned rows, read as float4.
template <int32_t kType, bool kVec>
__global__ void __launch_bounds__(kQuantThreads) matmul_quant_kernel(QuantMatmulArgs args) {
  const int lane = static_cast<int>(threadIdx.x) % warpSize;
  const int warp = static_cast<int>(threadIdx.x) / warpSize;
  const int warps = static_cast<int>(blockDim.x) / warpSize;
  const int64_t n = static_cast<int64_t>(blockIdx.x) * warps + warp;
  if (n >= args.n) return;  // whole warps leave together; no block-level sync follows
  const int64_t rows = args.a.dims[0] * args.a.dims[1] * args.m;
  const int64_t blocks = args.k / 32;
  const char* wrow = args.b + n * args.b_row_bytes;
  for (int64_t r0 = static_cast<int64_t>(blockIdx.y) * kQuantRows; r0 < rows;
       r0 += static_cast<int64_t>(gridDim.y) * kQuantRows) {
    const int nr = static_cast<int>(rows - r0 < kQuantRows ? rows - r0 : kQuantRows);
    const char* arow[kQuantRows];
#pragma unroll
    for (int i = 0; i < kQuantRows; ++i) {
      const int64_t r = r0 + (i < nr ? i : 0);
      const int64_t m = r % args.m;
      const int64_t bb = r / args.m;
      arow[i] = args.a.data + (bb / args.a.dims[1]) * args.a.strides[0] + (bb % args.a.dims[1]) * args.a.strides[1] +
                m * args.a_sm;
    }
    float acc[kQuantRows] = {};
    for (int64_t blk = lane; blk < blocks; blk += warpSize) {
      float w[32];
      decode_block<kType>(reinterpret_cast<const uint16_t*>(wrow + blk * kBlockBytes<kType>), w);
#pragma unroll
      for (int i = 0; i < kQuantRows; ++i) {
        if (i >= nr) continue;
        float s = 0.0f;
        if constexpr (kVec) {
          const float4* ap = reinterpret_cast<const float4*>(arow[i] + blk * 32 * 4);
#pragma unroll
          for (int t = 0; t < 8; ++t) {
            const float4 v = ap[t];
            s = fmaf(w[4 * t], v.x, s);
            s = fmaf(w[4 * t + 1], v.y, s);
            s = fmaf(w[4 * t + 2], v.z, s);
            s = fmaf(w[4 * t + 3], v.w, s);
          }
        } else {
          const char* ap = arow[i] + blk * 32 * args.a_sk;
#pragma unroll
          for (int t = 0; t < 32; ++t) s = fmaf(w[t], load_f(ap + t * args.a_sk, args.a.dtype), s);
        }
        acc[i] += s;
      }
    }
#pragma unroll
    for (int i = 0; i < kQuantRows; ++i) {
      const float total = warp_sum(acc[i]);
      if (lane == 0 && i < nr) {
        store_f(quant_output(args, r0 + i, n), args.c.dtype, args.alpha * total);
      }
    }
  }
}

// Integer q (0 <= q < 2^23) to float without the quarter-rate int->float conversion: place q in the
// mantissa of 2^23 and subtract 2^23.
__device__ __forceinline__ float small_uint_to_float(uint32_t q) { return __uint_as_float(0x4B000000u | q) - 8388608.0f; }

// Decode shapes (a is f32 with unit stride, at most kM activation rows): four threads share one
// GGUF block, each decoding 8 of its elements from one 32-bit word of quants, so a warp reads
// warpSize/4 consecutive blocks of a weight row per step with two or three loads per thread and no
// int->float conversion instructions. Each warp covers kRowsPerWarp weight rows, so each activation
// value loaded (from L1) serves that many rows.
constexpr int kRowsPerWarp = 2;

template <int32_t kType>
__device__ __forceinline__ void decode_part(const char* bp, int part, float* w) {
  if constexpr (kType == PLINTH_DTYPE_Q4_1) {
    const uint32_t dm = *reinterpret_cast<const uint32_t*>(bp);
    const uint32_t q = *reinterpret_cast<const uint32_t*>(bp + 4 + 4 * part);
    const float d = half_to_float_fast(static_cast<uint16_t>(dm & 0xFFFFu));
    const float mn = half_to_float_fast(static_cast<uint16_t>(dm >> 16));
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      w[t] = fmaf(d, small_uint_to_float((q >> (8 * t)) & 0xFu), mn);
      w[4 + t] = fmaf(d, small_uint_to_float((q >> (8 * t + 4)) & 0xFu), mn);
    }
  } else if constexpr (kType == PLINTH_DTYPE_Q4_0) {
    const auto* u = reinterpret_cast<const uint16_t*>(bp);
    const uint32_t q = static_cast<uint32_t>(u[1 + 2 * part]) | (static_cast<uint32_t>(u[2 + 2 * part]) << 16);
    const float d = half_to_float_fast(u[0]);
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      w[t] = d * (small_uint_to_float((q >> (8 * t)) & 0xFu) - 8.0f);
      w[4 + t] = d * (small_uint_to_float((q >> (8 * t + 4)) & 0xFu) - 8.0f);
    }
  } else {
    const auto* u = reinterpret_cast<const uint16_t*>(bp);
    const uint32_t q0 = static_cast<uint32_t>(u[1 + 4 * part]) | (static_cast<uint32_t>(u[2 + 4 * part]) << 16);
    const uint32_t q1 = static_cast<uint32_t>(u[3 + 4 * part]) | (static_cast<uint32_t>(u[4 + 4 * part]) << 16);
    const float d = half_to_float_fast(u[0]);
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      // Signed bytes: flip the sign bit to get q + 128 in [0, 255], then subtract 2^23 + 128.
      w[t] = d * (__uint_as_float(0x4B000000u | (((q0 >> (8 * t)) & 0xFFu) ^ 0x80u)) - 8388736.0f);
      w[4 + t] = d * (__uint_as_float(0x4B000000u | (((q1 >> (8 * t)) & 0xFFu) ^ 0x80u)) - 8388736.0f);
    }
  }
}

template <int32_t kType, int kM>
__global__ void __launch_bounds__(kQuantThreads) matmul_quant_decode_kernel(QuantMatmulArgs args) {
  const int lane = static_cast<int>(threadIdx.x) % warpSize;
  const int warp = static_cast<int>(threadIdx.x) / warpSize;
  const int warps = static_cast<int>(blockDim.x) / warpSize;
  const int64_t n0 = (static_cast<int64_t>(blockIdx.x) * warps + warp) * kRowsPerWarp;
  if (n0 >= args.n) return;  // whole warps leave together; no block-level sync follows
  const int nn = static_cast<int>(args.n - n0 < kRowsPerWarp ? args.n - n0 : kRowsPerWarp);
  const int part = lane & 3;
  const int per_step = warpSize / 4;
  const int64_t rows = args.a.dims[0] * args.a.dims[1] * args.m;
  const int64_t blocks = args.k / 32;
  const char* wrow = args.b + n0 * args.b_row_bytes;
  // Element offsets (within a block of 32) of this thread's two runs of 4 elements.
  const int off0 = kType == PLINTH_DTYPE_Q8_0 ? 8 * part : 4 * part;
  const int off1 = kType == PLINTH_DTYPE_Q8_0 ? 8 * part + 4 : 16 + 4 * part;
  for (int64_t r0 = static_cast<int64_t>(blockIdx.y) * kM; r0 < rows; r0 += static_cast<int64_t>(gridDim.y) * kM) {
    const int nr = static_cast<int>(rows - r0 < kM ? rows - r0 : kM);
    const float* arow[kM];
#pragma unroll
    for (int i = 0; i < kM; ++i) {
      arow[i] = activation_row(args, r0 + (i < nr ? i : 0));
    }
    float acc[kRowsPerWarp][kM] = {};
#pragma unroll 2
    for (int64_t blk = lane / 4; blk < blocks; blk += per_step) {
      float4 x0[kM];
      float4 x1[kM];
#pragma unroll
      for (int i = 0; i < kM; ++i) {
        const float* ap = arow[i] + blk * 32;
        x0[i] = *reinterpret_cast<const float4*>(ap + off0);
        x1[i] = *reinterpret_cast<const float4*>(ap + off1);
      }
#pragma unroll
      for (int j = 0; j < kRowsPerWarp; ++j) {
        if (j < nn) {
          float w[8];
          decode_part<kType>(wrow + j * args.b_row_bytes + blk * kBlockBytes<kType>, part, w);
#pragma unroll
          for (int i = 0; i < kM; ++i) {
            float s = acc[j][i];
            s = fmaf(w[0], x0[i].x, s);
            s = fmaf(w[1], x0[i].y, s);
            s = fmaf(w[2], x0[i].z, s);
            s = fmaf(w[3], x0[i].w, s);
            s = fmaf(w[4], x1[i].x, s);
            s = fmaf(w[5], x1[i].y, s);
            s = fmaf(w[6], x1[i].z, s);
            s = fmaf(w[7], x1[i].w, s);
            acc[j][i] = s;
          }
        }
      }
    }
#pragma unroll
    for (int j = 0; j < kRowsPerWarp; ++j) {
#pragma unroll
      for (int i = 0; i < kM; ++i) {
        const float total = warp_sum(acc[j][i]);
        if (lane == 0 && i < nr && j < nn) {
          store_f(quant_output(args, r0 + i, n0 + j), args.c.dtype, args.alpha * total);
        }
      }
    }
  }
}

// ---- Decode shapes with integer activations ------------------------------------------------------
// The f32 decode kernel above spends several instructions per weight on unpacking and converting, which
// makes it instruction-bound at a fraction of the memory bandwidth. Here the (at most kMaxQ8Rows)
// activation rows are first quantized per 32-element block into two int8 levels: x ~ d1 q1 + d2 q2 with
// d1 = amax / 127 and d2 = d1 / 254 (q2 quantizes the remainder of q1, which is at most d1 / 2), plus
// the exact f32 block sum s. A weight block's dot product is then integer dot products of four bytes at
// a time (dp4a), two per weight word:
//   p = d1 sum(q_w q1) + d2 sum(q_w q2)     Q4_1: dw p + mw s     Q4_0: dw (p - 8 s)     Q8_0: dw p
// about one instruction per two weights, so the kernel stays memory-bound. One int8 level (as GGUF
// runtimes use) would be cheaper still, but its error on a single short dot product whose terms cancel
// exceeds the catalogue's tolerance; the second level leaves a remainder of at most amax / 64516 per
// element, close to f32 accuracy.

// Lanes that share one weight row: a warp on CUDA, half a wave on 64-wide AMD devices. Reductions use
// XOR shuffles with offsets below kSeg, which stay inside an aligned group of kSeg lanes either way.
constexpr int kSeg = 32;

__device__ __forceinline__ float seg_sum(float v) {
#pragma unroll
  for (int o = kSeg / 2; o > 0; o >>= 1) v += PLINTH_SHFL_XOR(v, o);
  return v;
}

__device__ __forceinline__ float seg_max(float v) {
#pragma unroll
  for (int o = kSeg / 2; o > 0; o >>= 1) v = fmaxf(v, PLINTH_SHFL_XOR(v, o));
  return v;
}

// Four signed 8-bit products summed into c.
__device__ __forceinline__ int dot4_i8(int a, int b, int c) {
#if defined(PLINTH_GPU_CUDA)
  return __dp4a(a, b, c);
#else
#pragma unroll
  for (int t = 0; t < 4; ++t) {
    c += static_cast<int>(static_cast<int8_t>(a >> (8 * t))) * static_cast<int>(static_cast<int8_t>(b >> (8 * t)));
  }
  return c;
#endif
}

// The quantized activations of one 32-element block: both levels' bytes (16-byte aligned for int4
// loads) and the scales. Blocks of a row are consecutive; rows follow each other.
struct ActBlock {
  int8_t q1[32];
  int8_t q2[32];
  float d1, d2, sum, pad;
};
static_assert(sizeof(ActBlock) == 80, "ActBlock is loaded as five int4");

// One segment of kSeg lanes per (row, 32-element block): lane t holds element t.
__global__ void __launch_bounds__(kQuantThreads) quantize_activations_kernel(QuantMatmulArgs args, int64_t rows,
                                                                           ActBlock* out) {
  const int lane = static_cast<int>(threadIdx.x) % kSeg;
  const int64_t blocks = args.k / 32;
  const int64_t seg = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / kSeg;
  if (seg >= rows * blocks) return;  // whole segments leave together
  const float x = activation_row(args, seg / blocks)[(seg % blocks) * 32 + lane];
  // NaN compares as infinite here so that it reaches the result instead of being dropped by fmaxf.
  const float amax = seg_max(x != x ? INFINITY : fabsf(x));
  const bool finite = amax <= 3.402823466e38f;
  const bool zero = !(amax > 0.0f);
  const float d1 = amax / 127.0f;
  const float d2 = d1 / 254.0f;
  int q1 = 0, q2 = 0;
  if (finite && !zero) {
    q1 = static_cast<int>(rintf(x / d1));
    const float r = fmaf(-static_cast<float>(q1), d1, x);  // |r| <= d1 / 2 up to rounding
    q2 = static_cast<int>(fminf(fmaxf(rintf(r / d2), -127.0f), 127.0f));
  }
  const float sum = seg_sum(x);
  ActBlock& b = out[seg];
  b.q1[lane] = static_cast<int8_t>(q1);
  b.q2[lane] = static_cast<int8_t>(q2);
  if (lane == 0) {
    b.d1 = finite ? d1 : NAN;
    b.d2 = finite ? d2 : NAN;
    b.sum = sum;
    b.pad = 0.0f;
  }
}

// A weight block as packed 4-bit or 8-bit quants in 32-bit words plus its scale (and minimum).
template <int32_t kType>
struct QuantWords {
  static constexpr int kWords = kType == PLINTH_DTYPE_Q8_0 ? 8 : 4;
  int q[kWords];
  float d;
  float m;
};

template <int32_t kType>
__device__ __forceinline__ QuantWords<kType> load_quant_words(const char* bp) {
  QuantWords<kType> b;
  if constexpr (kType == PLINTH_DTYPE_Q4_1) {  // 20-byte blocks, 4-byte aligned (checked at launch)
    const auto* u = reinterpret_cast<const uint32_t*>(bp);
    const uint32_t dm = u[0];
    b.d = half_to_float_fast(static_cast<uint16_t>(dm & 0xFFFFu));
    b.m = half_to_float_fast(static_cast<uint16_t>(dm >> 16));
#pragma unroll
    for (int w = 0; w < 4; ++w) b.q[w] = static_cast<int>(u[1 + w]);
  } else {  // Q4_0 (18 bytes) and Q8_0 (34 bytes): only 2-byte aligned
    const auto* h = reinterpret_cast<const uint16_t*>(bp);
    b.d = half_to_float_fast(h[0]);
    b.m = 0.0f;
#pragma unroll
    for (int w = 0; w < QuantWords<kType>::kWords; ++w) {
      b.q[w] = static_cast<int>(static_cast<uint32_t>(h[1 + 2 * w]) | (static_cast<uint32_t>(h[2 + 2 * w]) << 16));
    }
  }
  return b;
}

// The weight quants as eight words of signed bytes in element order (elements 4t..4t+3 in word t).
// Byte j of a 4-bit block holds element j in its low nibble and element j + 16 in its high nibble.
template <int32_t kType>
__device__ __forceinline__ void weight_bytes(const QuantWords<kType>& b, int (&out)[8]) {
  if constexpr (kType == PLINTH_DTYPE_Q8_0) {
#pragma unroll
    for (int w = 0; w < 8; ++w) out[w] = b.q[w];
  } else {
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      out[w] = b.q[w] & 0x0F0F0F0F;
      out[4 + w] = (b.q[w] >> 4) & 0x0F0F0F0F;
    }
  }
}

// One weight block against one activation block.
template <int32_t kType>
__device__ __forceinline__ float block_dot(const QuantWords<kType>& w, const int (&wq)[8], const int4 (&x)[5]) {
  const int x1[8] = {x[0].x, x[0].y, x[0].z, x[0].w, x[1].x, x[1].y, x[1].z, x[1].w};
  const int x2[8] = {x[2].x, x[2].y, x[2].z, x[2].w, x[3].x, x[3].y, x[3].z, x[3].w};
  const float d1 = __int_as_float(x[4].x), d2 = __int_as_float(x[4].y), sum = __int_as_float(x[4].z);
  int i1 = 0, i2 = 0;
#pragma unroll
  for (int t = 0; t < 8; ++t) {
    i1 = dot4_i8(wq[t], x1[t], i1);
    i2 = dot4_i8(wq[t], x2[t], i2);
  }
  const float p = fmaf(d1, static_cast<float>(i1), d2 * static_cast<float>(i2));
  if constexpr (kType == PLINTH_DTYPE_Q4_1) return fmaf(w.d, p, w.m * sum);
  if constexpr (kType == PLINTH_DTYPE_Q4_0) return w.d * fmaf(-8.0f, sum, p);
  return w.d * p;
}

// Each segment owns kR weight rows and all kM activation rows of its grid row: lanes walk the K blocks
// (lane-strided, so a segment reads a contiguous run of each weight row per step); each weight block is
// loaded and unpacked once and serves every activation row.
template <int32_t kType, int kM, int kR>
__global__ void __launch_bounds__(kQuantThreads) matmul_quant_q8_kernel(QuantMatmulArgs args, int64_t rows,
                                                                      const ActBlock* act) {
  const int lane = static_cast<int>(threadIdx.x) % kSeg;
  const int64_t segs = blockDim.x / kSeg;
  const int64_t n0 = (static_cast<int64_t>(blockIdx.x) * segs + threadIdx.x / kSeg) * kR;
  if (n0 >= args.n) return;  // whole segments leave together; no block-level sync follows
  const int nn = static_cast<int>(args.n - n0 < kR ? args.n - n0 : kR);
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kM;
  const int nr = static_cast<int>(rows - r0 < kM ? rows - r0 : kM);
  const int64_t blocks = args.k / 32;
  float acc[kR][kM] = {};
#pragma unroll 2
  for (int64_t blk = lane; blk < blocks; blk += kSeg) {
    QuantWords<kType> w[kR];
#pragma unroll
    for (int j = 0; j < kR; ++j) {
      // Rows past the end re-read the last row (no divergent branch); their sums are never stored.
      const int64_t n = n0 + (j < nn ? j : nn - 1);
      w[j] = load_quant_words<kType>(args.b + n * args.b_row_bytes + blk * kBlockBytes<kType>);
    }
#pragma unroll
    for (int i = 0; i < kM; ++i) {
      const int4* xp = reinterpret_cast<const int4*>(act + (r0 + (i < nr ? i : 0)) * blocks + blk);
      const int4 x[5] = {xp[0], xp[1], xp[2], xp[3], xp[4]};
#pragma unroll
      for (int j = 0; j < kR; ++j) {
        int wq[8];
        weight_bytes<kType>(w[j], wq);
        acc[j][i] += block_dot<kType>(w[j], wq, x);
      }
    }
  }
#pragma unroll
  for (int j = 0; j < kR; ++j) {
#pragma unroll
    for (int i = 0; i < kM; ++i) {
      const float total = seg_sum(acc[j][i]);
      if (lane == 0 && i < nr && j < nn) store_f(quant_output(args, r0 + i, n0 + j), args.c.dtype, args.alpha * total);
    }
  }
}

template <int32_t kType, int kM, int kR>
gpuError_t launch_q8_typed(const QuantMatmulArgs& args, int64_t rows, const ActBlock* act, gpuStream_t stream) {
  const int64_t rows_per_block = kQuantThreads / kSeg * kR;
  const dim3 grid(static_cast<unsigned>((args.n + rows_per_block - 1) / rows_per_block),
                  static_cast<unsigned>((rows + kM - 1) / kM));
  matmul_quant_q8_kernel<kType, kM, kR><<<grid, kQuantThreads, 0, stream>>>(args, rows, act);
  return gpuGetLastError();
}

template <int32_t kType>
gpuError_t launch_q8_rows(const QuantMatmulArgs& args, int64_t rows, const ActBlock* act, gpuStream_t stream) {
  // Fewer weight rows per segment as activation rows grow keeps the registers (and occupancy) in check.
  if (rows <= 1) return launch_q8_typed<kType, 1, 4>(args, rows, act, stream);
  if (rows <= 2) return launch_q8_typed<kType, 2, 4>(args, rows, act, stream);
  if (rows <= 4) return launch_q8_typed<kType, 4, 2>(args, rows, act, stream);
  return launch_q8_typed<kType, 8, 1>(args, rows, act, stream);
}

__global__ void dequantize_kernel(const char* b, int64_t row_bytes, int32_t dtype, int64_t n, int64_t k, char* out,
                                  int32_t out_dtype) {
  const int64_t elem = out_dtype == PLINTH_DTYPE_F32 ? 4 : 2;
  for (int64_t t = global_thread(); t < n * k; t += grid_threads()) {
    const int64_t row = t / k;
    const int64_t j = t % k;
    store_f(out + t * elem, out_dtype, dequant_element(b + row * row_bytes, dtype, j));
  }
}

template <int32_t kType>
gpuError_t launch_quant_typed(const QuantMatmulArgs& args, bool vec, dim3 grid, gpuStream_t stream) {
  const int64_t rows = args.a.dims[0] * args.a.dims[1] * args.m;
  const bool words_aligned = kType != PLINTH_DTYPE_Q4_1 ||
                             (reinterpret_cast<uintptr_t>(args.b) % 4 == 0 && args.b_row_bytes % 4 == 0);
  if (vec && words_aligned && rows <= 8) {
    const int k_m = rows <= 1 ? 1 : (rows <= 4 ? 4 : 8);
    const int64_t warps = kQuantThreads / (args.warp_size > 0 ? args.warp_size : 32);
    grid.x = static_cast<unsigned>((args.n + warps * kRowsPerWarp - 1) / (warps * kRowsPerWarp));
    grid.y = static_cast<unsigned>((rows + k_m - 1) / k_m);
    if (k_m == 1) {
      matmul_quant_decode_kernel<kType, 1><<<grid, kQuantThreads, 0, stream>>>(args);
    } else if (k_m == 4) {
      matmul_quant_decode_kernel<kType, 4><<<grid, kQuantThreads, 0, stream>>>(args);
    } else {
      matmul_quant_decode_kernel<kType, 8><<<grid, kQuantThreads, 0, stream>>>(args);
    }
    return gpuGetLastError();
  }
  if (vec) {
    matmul_quant_kernel<kType, true><<<grid, kQuantThreads, 0, stream>>>(args);
  } else {
    matmul_quant_kernel<kType, false><<<grid, kQuantThreads, 0, stream>>>(args);
  }
  return gpuGetLastError();
}

}  // namespace

gpuError_t launch_matmul_tiled(const MatmulArgs& args, gpuStream_t stream) {
  const int64_t batches = args.c.dims[0] * args.c.dims[1];
  if (args.m == 0 || args.n == 0 || batches == 0) return gpuSuccess;
  const int64_t gx = (args.n + kTile - 1) / kTile;
  const int64_t gy = (args.m + kTile - 1) / kTile;
  if (gx > 0x7fffffff || gy > 65535) return gpuErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy),
                  static_cast<unsigned>(batches < 65535 ? batches : 65535));
  matmul_tiled_kernel<<<grid, kTileThreads, 0, stream>>>(args);
  return gpuGetLastError();
}

gpuError_t launch_matmul_quant(const QuantMatmulArgs& args, gpuStream_t stream) {
  const int64_t rows = args.a.dims[0] * args.a.dims[1] * args.m;
  if (rows == 0 || args.n == 0) return gpuSuccess;
  const bool vec = args.a.dtype == PLINTH_DTYPE_F32 && args.a_sk == 4 &&
                   (reinterpret_cast<uintptr_t>(args.a.data) % 16) == 0 && args.a_sm % 16 == 0 &&
                   args.a.strides[0] % 16 == 0 && args.a.strides[1] % 16 == 0;
  const int64_t warps = kQuantThreads / (args.warp_size > 0 ? args.warp_size : 32);
  const int64_t gx = (args.n + warps - 1) / warps;
  const int64_t gy_full = (rows + kQuantRows - 1) / kQuantRows;
  if (gx > 0x7fffffff) return gpuErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy_full < 65535 ? gy_full : 65535));
  switch (args.b_dtype) {
    case PLINTH_DTYPE_Q8_0: return launch_quant_typed<PLINTH_DTYPE_Q8_0>(args, vec, grid, stream);
    case PLINTH_DTYPE_Q4_0: return launch_quant_typed<PLINTH_DTYPE_Q4_0>(args, vec, grid, stream);
    case PLINTH_DTYPE_Q4_1: return launch_quant_typed<PLINTH_DTYPE_Q4_1>(args, vec, grid, stream);
    default: return gpuErrorInvalidValue;
  }
}

namespace {
int64_t q8_rows(const QuantMatmulArgs& args) { return args.a.dims[0] * args.a.dims[1] * args.m; }
}  // namespace

bool matmul_quant_q8_applicable(const QuantMatmulArgs& args) {
  const int64_t rows = q8_rows(args);
  const bool unit_f32 = args.a.dtype == PLINTH_DTYPE_F32 && args.a_sk == 4 &&
                        reinterpret_cast<uintptr_t>(args.a.data) % 4 == 0 && args.a_sm % 4 == 0 &&
                        args.a.strides[0] % 4 == 0 && args.a.strides[1] % 4 == 0;
  const bool words_aligned = args.b_dtype != PLINTH_DTYPE_Q4_1 ||
                             (reinterpret_cast<uintptr_t>(args.b) % 4 == 0 && args.b_row_bytes % 4 == 0);
  return rows >= 1 && rows <= kMaxQ8Rows && args.k > 0 && unit_f32 && words_aligned;
}

uint64_t matmul_quant_q8_scratch_bytes(const QuantMatmulArgs& args) {
  return static_cast<uint64_t>(q8_rows(args)) * static_cast<uint64_t>(args.k / 32) * sizeof(ActBlock);
}

gpuError_t launch_matmul_quant_q8(const QuantMatmulArgs& args, void* scratch, gpuStream_t stream) {
  const int64_t rows = q8_rows(args);
  if (rows == 0 || args.n == 0) return gpuSuccess;
  auto* act = static_cast<ActBlock*>(scratch);
  const int64_t segs = rows * (args.k / 32);
  const int64_t per_block = kQuantThreads / kSeg;
  quantize_activations_kernel<<<static_cast<unsigned>((segs + per_block - 1) / per_block), kQuantThreads, 0, stream>>>(
      args, rows, act);
  if (const gpuError_t e = gpuGetLastError(); e != gpuSuccess) return e;
  switch (args.b_dtype) {
    case PLINTH_DTYPE_Q8_0: return launch_q8_rows<PLINTH_DTYPE_Q8_0>(args, rows, act, stream);
    case PLINTH_DTYPE_Q4_0: return launch_q8_rows<PLINTH_DTYPE_Q4_0>(args, rows, act, stream);
    case PLINTH_DTYPE_Q4_1: return launch_q8_rows<PLINTH_DTYPE_Q4_1>(args, rows, act, stream);
    default: return gpuErrorInvalidValue;
  }
}

gpuError_t launch_dequantize(const char* b, int64_t b_row_bytes, int32_t b_dtype, int64_t n, int64_t k, void* out,
                             int32_t out_dtype, gpuStream_t stream) {
  if (n * k == 0) return gpuSuccess;
  dequantize_kernel<<<grid_for(n * k, 256), 256, 0, stream>>>(b, b_row_bytes, b_dtype, n, k, static_cast<char*>(out),
                                                             out_dtype);
  return gpuGetLastError();
}

}  // namespace plinth::gpu
