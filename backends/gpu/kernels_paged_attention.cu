// Paged attention over a ragged batch (PLINTH_OP_PAGED_ATTENTION), flash-decoding style: one block per
// (query tile, kv head, key split) scores every query head of the GQA group against each K/V row it
// loads once, keeps an online softmax in f32, and either writes o (one split) or its unnormalized
// partial state, which a second kernel merges over the splits.
#include "kernel_common.cuh"

namespace plinth::gpu {
namespace {

// Head dims one lane holds: one 16-byte load of f16/bf16, two of f32.
constexpr int kChunk = 8;
constexpr int kPagedMaxWarps = kPagedAttentionThreads / 32;

// Decode is bound by memory latency: ask nvcc for 4 resident blocks per SM (at most 128 registers)
// so enough K/V loads are in flight. 8-vector tiles (prefill) need more registers than that.
#if defined(PLINTH_GPU_CUDA)
#define PLINTH_PAGED_BOUNDS(R) __launch_bounds__(kPagedAttentionThreads, (R) <= 4 ? 4 : 2)
#else
#define PLINTH_PAGED_BOUNDS(R) __launch_bounds__(kPagedAttentionThreads)
#endif

__device__ __forceinline__ int32_t load_i32(const GpuTensor& t, int64_t i) {  // 1-D, in dims[3]
  return *reinterpret_cast<const int32_t*>(t.data + i * t.strides[3]);
}

__device__ __forceinline__ void raise_error(int32_t* flag) {
  if (flag != nullptr) atomicOr(flag, kErrorPagedAttention);
}

// Weight of an online-softmax state with running max m once merged under the larger max mm; an empty
// state (m = -inf) weighs nothing, also when every state is empty.
__device__ __forceinline__ float state_weight(float m, float mm) {
  return m == -INFINITY ? 0.0f : expf(m - mm);
}

__device__ __forceinline__ float half_bits_to_float(uint32_t bits, int32_t dtype) {
  const auto h = static_cast<uint16_t>(bits & 0xffffu);
  return dtype == PLINTH_DTYPE_F16 ? half_to_float_fast(h) : bf16_to_float(h);
}

// Elements [d0, d0 + 8) of a K or V row, zeros past `dim`. `vec`: the row is contiguous and 16-byte
// aligned and dim % 8 == 0, so the chunk is whole or absent and loads as 16-byte vectors.
__device__ __forceinline__ void load_chunk(const char* row, int32_t dtype, int64_t elem_stride, int64_t d0,
                                           int64_t dim, bool vec, float* out) {
  if (vec) {
    if (d0 >= dim) {
#pragma unroll
      for (int e = 0; e < kChunk; ++e) out[e] = 0.0f;
    } else if (dtype == PLINTH_DTYPE_F32) {
      const float4* p = reinterpret_cast<const float4*>(row + d0 * 4);
      const float4 a = p[0];
      const float4 b = p[1];
      const float values[kChunk] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
      for (int e = 0; e < kChunk; ++e) out[e] = values[e];
    } else {
      const uint4 u = *reinterpret_cast<const uint4*>(row + d0 * 2);
      const uint32_t words[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {  // little-endian: the lower half is the lower element
        out[2 * i] = half_bits_to_float(words[i], dtype);
        out[2 * i + 1] = half_bits_to_float(words[i] >> 16, dtype);
      }
    }
    return;
  }
#pragma unroll
  for (int e = 0; e < kChunk; ++e) {
    const int64_t d = d0 + e;
    out[e] = d < dim ? load_f(row + d * elem_stride, dtype) : 0.0f;
  }
}

// The rules op_launch could not check because they depend on the data (run by one block): query_start
// runs from 0 to T without decreasing, and every context holds its queries and fits its table row.
__device__ void validate_batch(const PagedAttentionArgs& args) {
  const int64_t num_seqs = args.block_table.dims[2];
  const int64_t capacity = args.block_table.dims[3] * args.k.dims[1];
  bool bad = threadIdx.x == 0 &&
             (load_i32(args.query_start, 0) != 0 || load_i32(args.query_start, num_seqs) != args.q.dims[1]);
  for (int64_t s = threadIdx.x; s < num_seqs; s += blockDim.x) {
    const int64_t begin = load_i32(args.query_start, s);
    const int64_t end = load_i32(args.query_start, s + 1);
    const int64_t len = load_i32(args.context_lens, s);
    bad = bad || end < begin || len < end - begin || len > capacity;
  }
  if (bad) raise_error(args.error_flag);
}

// The sequence owning query row t: the last s with query_start[s] <= t (exact when query_start is
// valid; the caller re-checks the bounds it relies on either way). num_seqs >= 1.
__device__ int64_t sequence_of(const GpuTensor& query_start, int64_t num_seqs, int64_t t) {
  int64_t lo = 0;
  int64_t hi = num_seqs - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (load_i32(query_start, mid) <= t) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Grid: x = query row t (a block runs only where a tile of its sequence starts), y = kv head * head
// tiles + head tile, z = key split. Query vector r of the tile is query row t + r / group_tile and
// head hk * group + g0 + r % group_tile. Lanes form groups of `lpk` lanes, each group scoring one key
// at a time with 8 head dims per lane, and each group keeps its own online-softmax state per query
// vector; the groups' states are merged by shuffles within a warp, then through shared memory.
template <int R>
__global__ void PLINTH_PAGED_BOUNDS(R) paged_attention_kernel(PagedAttentionArgs args) {
  __shared__ float s_m[kPagedMaxWarps][R];
  __shared__ float s_l[kPagedMaxWarps][R];
  __shared__ float s_acc[kPagedMaxWarps][R][kPagedAttentionMaxDim];
  const int ws = warpSize;
  const int lane = static_cast<int>(threadIdx.x) % ws;
  const int warp = static_cast<int>(threadIdx.x) / ws;
  const int warps = static_cast<int>(blockDim.x) / ws;
  const int64_t t_total = args.q.dims[1];
  const int64_t hq = args.q.dims[2];
  const int64_t dim = args.q.dims[3];
  const int64_t dv = args.v.dims[3];
  const int64_t nb = args.k.dims[0];
  const int64_t bs = args.k.dims[1];
  const int64_t hkv = args.k.dims[2];
  const int64_t num_seqs = args.block_table.dims[2];
  const int64_t group = hq / hkv;
  const int64_t head_tiles = (group + args.group_tile - 1) / args.group_tile;
  const int64_t t = blockIdx.x;
  const int64_t hk = blockIdx.y / head_tiles;
  const int64_t g0 = (blockIdx.y % head_tiles) * args.group_tile;
  const int64_t split = blockIdx.z;

  if (t == 0 && blockIdx.y == 0 && split == 0) validate_batch(args);
  if (num_seqs == 0) {  // T > 0 rows and no sequence to own them
    if (threadIdx.x == 0) raise_error(args.error_flag);
    return;
  }
  // Everything below that decides what is read is block-uniform, so the early returns skip the
  // block's barriers together.
  const int64_t s = sequence_of(args.query_start, num_seqs, t);
  const int64_t begin = load_i32(args.query_start, s);
  const int64_t end = load_i32(args.query_start, s + 1);
  const int64_t len = load_i32(args.context_lens, s);
  if (!(begin <= t && t < end && end <= t_total && len >= end - begin &&
        len <= args.block_table.dims[3] * bs)) {
    if (threadIdx.x == 0) raise_error(args.error_flag);
    return;
  }
  const int64_t n = end - begin;
  const int64_t i0 = t - begin;
  if (i0 % args.tile_positions != 0) return;  // another block's tile
  const int64_t tile_rows = n - i0 < args.tile_positions ? n - i0 : args.tile_positions;
  const int64_t first_pos = len - n + i0;  // the position of query row t
  const int64_t kv_end = args.causal != 0 ? first_pos + tile_rows : len;
  const int64_t per_split = (kv_end + args.splits - 1) / args.splits;
  const int64_t k_lo = split * per_split < kv_end ? split * per_split : kv_end;
  const int64_t k_hi = k_lo + per_split < kv_end ? k_lo + per_split : kv_end;

  const int64_t widest = dim > dv ? dim : dv;
  int lpk = 1;  // lanes per key: a power of two, at most the warp width as widest <= 256
  while (lpk * kChunk < widest) lpk <<= 1;
  const int kpw = ws / lpk;  // keys a warp scores together
  const int sub = lane / lpk;
  const int64_t d0 = static_cast<int64_t>(lane % lpk) * kChunk;

  float qv[R][kChunk];
  float acc[R][kChunk];
  float m[R];
  float l[R];
  int64_t last_key[R];  // the last key each query vector sees; -1 for a vector outside the tile
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t qi = r / args.group_tile;
    const int64_t g = g0 + r % args.group_tile;
    const bool valid = qi < tile_rows && g < group;
    last_key[r] = !valid ? -1 : (args.causal != 0 ? first_pos + qi : len - 1);
    const char* qp = args.q.data + (t + qi) * args.q.strides[1] + (hk * group + g) * args.q.strides[2];
#pragma unroll
    for (int e = 0; e < kChunk; ++e) {
      const int64_t d = d0 + e;
      qv[r][e] = valid && d < dim ? load_f(qp + d * args.q.strides[3], args.q.dtype) * args.scale : 0.0f;
      acc[r][e] = 0.0f;
    }
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }

  // Key positions are below 2^31 (context_lens are I32), so 32-bit division finds their blocks.
  const uint32_t bs32 = bs > 0x7fffffff ? 0x7fffffffu : static_cast<uint32_t>(bs);
  const char* table_row = args.block_table.data + s * args.block_table.strides[2];
  bool bad_block = false;
  // The loop bound depends on the warp only, so every lane takes part in the shuffles.
  for (int64_t base = k_lo + static_cast<int64_t>(warp) * kpw; base < k_hi;
       base += static_cast<int64_t>(warps) * kpw) {
    const int64_t j = base + sub;
    const char* kp = nullptr;
    const char* vp = nullptr;
    if (j < k_hi) {
      const auto j32 = static_cast<uint32_t>(j);
      const int32_t blk =
          *reinterpret_cast<const int32_t*>(table_row + (j32 / bs32) * args.block_table.strides[3]);
      if (blk >= 0 && blk < nb) {
        const int64_t slot = j32 % bs32;
        kp = args.k.data + blk * args.k.strides[0] + slot * args.k.strides[1] + hk * args.k.strides[2];
        vp = args.v.data + blk * args.v.strides[0] + slot * args.v.strides[1] + hk * args.v.strides[2];
      } else {
        bad_block = true;
      }
    }
    float kc[kChunk];
    float vc[kChunk];
    if (kp != nullptr) {  // both rows requested before either is used, so their loads overlap
      load_chunk(kp, args.k.dtype, args.k.strides[3], d0, dim, args.k_vec, kc);
      load_chunk(vp, args.v.dtype, args.v.strides[3], d0, dv, args.v_vec, vc);
    } else {
#pragma unroll
      for (int e = 0; e < kChunk; ++e) kc[e] = vc[e] = 0.0f;
    }
    float score[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      score[r] = 0.0f;
#pragma unroll
      for (int e = 0; e < kChunk; ++e) score[r] = fmaf(qv[r][e], kc[e], score[r]);
    }
    for (int off = 1; off < lpk; off <<= 1) {  // sum over the key's lanes (an aligned group)
#pragma unroll
      for (int r = 0; r < R; ++r) score[r] += PLINTH_SHFL_XOR(score[r], off);
    }
    if (kp == nullptr) continue;  // uniform across the key's lanes
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (j > last_key[r]) continue;  // causal mask, or a vector outside the tile
      const float new_max = fmaxf(m[r], score[r]);
      const float correction = expf(m[r] - new_max);  // 0 for the first key (m = -inf)
      const float p = expf(score[r] - new_max);
      l[r] = l[r] * correction + p;
#pragma unroll
      for (int e = 0; e < kChunk; ++e) acc[r][e] = fmaf(acc[r][e], correction, p * vc[e]);
      m[r] = new_max;
    }
  }
  if (bad_block && d0 == 0) raise_error(args.error_flag);

  // Merge the warp's key groups: lanes at the same place in their groups hold the same head dims.
  for (int off = lpk; off < ws; off <<= 1) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const float m_other = PLINTH_SHFL_XOR(m[r], off);
      const float l_other = PLINTH_SHFL_XOR(l[r], off);
      const float merged = fmaxf(m[r], m_other);
      const float w_self = state_weight(m[r], merged);
      const float w_other = state_weight(m_other, merged);
      l[r] = l[r] * w_self + l_other * w_other;
#pragma unroll
      for (int e = 0; e < kChunk; ++e)
        acc[r][e] = acc[r][e] * w_self + PLINTH_SHFL_XOR(acc[r][e], off) * w_other;
      m[r] = merged;
    }
  }
  if (lane < lpk) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
#pragma unroll
      for (int e = 0; e < kChunk; ++e) {
        if (d0 + e < dv) s_acc[warp][r][d0 + e] = acc[r][e];
      }
      if (lane == 0) {
        s_m[warp][r] = m[r];
        s_l[warp][r] = l[r];
      }
    }
  }
  __syncthreads();

  // Merge the warps and write o (one split) or this split's partial state.
  for (int64_t idx = threadIdx.x; idx < R * dv; idx += blockDim.x) {
    const int r = static_cast<int>(idx / dv);
    const int64_t d = idx % dv;
    const int64_t qi = r / args.group_tile;
    const int64_t g = g0 + r % args.group_tile;
    if (qi >= tile_rows || g >= group) continue;
    float merged = -INFINITY;
    for (int w = 0; w < warps; ++w) merged = fmaxf(merged, s_m[w][r]);
    float den = 0.0f;
    float num = 0.0f;
    for (int w = 0; w < warps; ++w) {
      const float weight = state_weight(s_m[w][r], merged);
      den += s_l[w][r] * weight;
      num += s_acc[w][r][d] * weight;
    }
    const int64_t row = t + qi;
    const int64_t head = hk * group + g;
    if (args.splits == 1) {
      char* op = args.o.data + row * args.o.strides[1] + head * args.o.strides[2] + d * args.o.strides[3];
      store_f(op, args.o.dtype, den > 0.0f ? num / den : 0.0f);  // no key seen: zeros
    } else {
      const int64_t part = (split * t_total + row) * hq + head;
      args.partial_acc[part * dv + d] = num;
      if (d == 0) {
        args.partial_ml[part * 2] = merged;
        args.partial_ml[part * 2 + 1] = den;
      }
    }
  }
}

// One thread per output element: merges the splits' partial states of its (row, head).
__global__ void paged_attention_merge_kernel(PagedAttentionArgs args) {
  const int64_t t_total = args.q.dims[1];
  const int64_t hq = args.q.dims[2];
  const int64_t dv = args.v.dims[3];
  const int64_t rows = t_total * hq;
  for (int64_t idx = global_thread(); idx < rows * dv; idx += grid_threads()) {
    const int64_t d = idx % dv;
    const int64_t th = idx / dv;  // row * hq + head
    float merged = -INFINITY;
    for (int64_t sp = 0; sp < args.splits; ++sp)
      merged = fmaxf(merged, args.partial_ml[(sp * rows + th) * 2]);
    float den = 0.0f;
    float num = 0.0f;
    for (int64_t sp = 0; sp < args.splits; ++sp) {
      const int64_t part = sp * rows + th;
      const float weight = state_weight(args.partial_ml[part * 2], merged);
      den += args.partial_ml[part * 2 + 1] * weight;
      num += args.partial_acc[part * dv + d] * weight;
    }
    char* op =
        args.o.data + (th / hq) * args.o.strides[1] + (th % hq) * args.o.strides[2] + d * args.o.strides[3];
    store_f(op, args.o.dtype, den > 0.0f ? num / den : 0.0f);
  }
}

template <int R>
gpuError_t launch_tiles(const PagedAttentionArgs& args, dim3 grid, gpuStream_t stream) {
  paged_attention_kernel<R><<<grid, kPagedAttentionThreads, 0, stream>>>(args);
  return gpuGetLastError();
}

}  // namespace

gpuError_t launch_paged_attention(const PagedAttentionArgs& args, gpuStream_t stream) {
  const int64_t t_total = args.q.dims[1];
  const int64_t hq = args.q.dims[2];
  const int64_t dv = args.v.dims[3];
  if (t_total == 0 || hq == 0 || dv == 0) return gpuSuccess;
  const int64_t group = hq / args.k.dims[2];
  const int64_t head_tiles = (group + args.group_tile - 1) / args.group_tile;
  const dim3 grid(static_cast<unsigned>(t_total), static_cast<unsigned>(args.k.dims[2] * head_tiles),
                  static_cast<unsigned>(args.splits));
  gpuError_t error = gpuSuccess;
  switch (args.rows) {
    case 1: error = launch_tiles<1>(args, grid, stream); break;
    case 2: error = launch_tiles<2>(args, grid, stream); break;
    case 4: error = launch_tiles<4>(args, grid, stream); break;
    default: error = launch_tiles<8>(args, grid, stream); break;
  }
  if (error != gpuSuccess || args.splits == 1) return error;
  paged_attention_merge_kernel<<<grid_for(t_total * hq * dv, 256), 256, 0, stream>>>(args);
  return gpuGetLastError();
}

}  // namespace plinth::gpu
