// Launchers for every kernel of the GPU backends. Host code (compiled by the C++ compiler) sees only
// these declarations; the definitions are in the kernel sources compiled by nvcc or hipcc. Tensors
// cross as GpuTensor: right-aligned to 4 dims (missing leading dims have extent 1, stride 0), strides
// in bytes, data already offset to element (0,0,0,0).
#pragma once

#include <cstdint>

#include "gpu_port.hpp"

namespace plinth::gpu {

struct GpuTensor {
  char* data = nullptr;
  int32_t dtype = 0;
  int32_t ndim = 0;  // the caller's ndim, before right-alignment
  int64_t dims[4] = {1, 1, 1, 1};
  int64_t strides[4] = {0, 0, 0, 0};
};

enum class EwOp : int32_t { kCopy, kFill, kAdd, kMul, kScale, kGeluErf, kGeluTanh, kSilu, kSwiglu };

struct EwArgs {
  GpuTensor y;
  GpuTensor a;  // broadcast to y's shape by the caller (stride 0 where a has extent 1)
  GpuTensor b;
  EwOp op = EwOp::kCopy;
  float p0 = 0.0f;  // scale
  float p1 = 0.0f;  // bias
  double value = 0.0;  // fill
  bool dense = false;  // every operand contiguous with y's shape (no broadcast): linear indexing applies
};

enum class RowOp : int32_t { kRmsNorm, kLayerNorm, kL2Normalize, kSoftmax };

struct RowArgs {
  GpuTensor x;
  GpuTensor y;
  GpuTensor w;     // rms/layer norm weight or gamma, 1-D [D]; data NULL when absent
  GpuTensor b;     // layer norm beta
  GpuTensor mask;  // softmax mask broadcast to x's shape; data NULL when absent
  RowOp op = RowOp::kRmsNorm;
  float eps = 1e-5f;
  float scale = 1.0f;
  int32_t causal = 0;
};

struct MatmulArgs {
  GpuTensor a;  // batch dims broadcast to c's
  GpuTensor b;
  GpuTensor c;
  int64_t m = 0, n = 0, k = 0;
  // Byte strides of the logical a[m][k] and b[k][n] (transposes already folded in).
  int64_t a_sm = 0, a_sk = 0, b_sk = 0, b_sn = 0;
  float alpha = 1.0f;
};

struct QuantMatmulArgs {
  GpuTensor a;  // [.., .., M, K] float; rows r over (d0, d1, M)
  GpuTensor c;  // [.., .., M, N]
  const char* b = nullptr;  // [N, K/32] blocks
  int64_t b_row_bytes = 0;
  int32_t b_dtype = 0;
  int64_t m = 0, n = 0, k = 0;
  int64_t a_sm = 0, a_sk = 0;
  float alpha = 1.0f;
  int32_t warp_size = 32;  // the device's warp width: sets how many weight rows a block covers
};

// Bits of a stream's error word (Stream::error_flag): which op found a data-dependent error, so that
// stream_synchronize can name it. Kernels raise them with atomicOr.
inline constexpr int32_t kErrorGetRowsIndex = 1;
inline constexpr int32_t kErrorSetRowsIndex = 2;
inline constexpr int32_t kErrorPagedAttention = 4;
inline constexpr int32_t kErrorAttentionKvLens = 8;

struct GetRowsArgs {
  GpuTensor table;
  GpuTensor indices;
  GpuTensor y;
  int32_t* error_flag = nullptr;  // raises kErrorGetRowsIndex on an out-of-range index
};

struct SetRowsArgs {
  GpuTensor src;                  // [N, W] in dims[2..3]
  GpuTensor indices;              // [N] in dims[3]
  GpuTensor dst;                  // [R, W] in dims[2..3]
  int32_t* error_flag = nullptr;  // raises kErrorSetRowsIndex on an out-of-range index
};

struct RopeArgs {
  GpuTensor x;    // [B, S, H, D]
  GpuTensor pos;  // dims[2] = B (or 1, stride 0), dims[3] = S
  GpuTensor y;
  int32_t mode = 0;
  int32_t n_dims = 0;
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
};

struct AttentionArgs {
  GpuTensor q, k, v, o;
  GpuTensor mask;     // broadcast to [B, Hq, Sq, Skv]; data NULL when absent
  GpuTensor kv_lens;  // [B] in dims[3]; data NULL when absent
  float scale = 1.0f;
  int32_t causal = 0;
  int32_t* error_flag = nullptr;  // raises kErrorAttentionKvLens on a kv_lens value outside [0, Skv]
};

// Paged attention: one block per (query tile, kv head, head tile, key split). A query tile is up to
// `rows` query vectors of one sequence: tile_positions consecutive query rows times group_tile heads of
// one GQA group (rows = tile_positions * group_tile), so each K/V row a block loads serves every query
// head that reads it.
struct PagedAttentionArgs {
  GpuTensor q, o;          // [T, Hq, D] / [T, Hq, Dv] in dims[1..3]
  GpuTensor k, v;          // [NB, BS, Hkv, D] / [NB, BS, Hkv, Dv]
  GpuTensor block_table;   // [S, MB] in dims[2..3]
  GpuTensor query_start;   // [S + 1] in dims[3]
  GpuTensor context_lens;  // [S] in dims[3]
  float scale = 1.0f;
  int32_t causal = 0;
  int32_t rows = 1;            // query vectors per block: 1, 2, 4 or 8
  int32_t group_tile = 1;      // heads of a GQA group per block (<= rows)
  int32_t tile_positions = 1;  // query rows per block: rows / group_tile
  int32_t splits = 1;          // key ranges per tile; > 1 needs the partial buffers
  bool k_vec = false;          // K rows are 16-byte aligned and contiguous with D % 8 == 0: vector loads
  bool v_vec = false;          // the same for V rows and Dv
  // splits > 1: each split's unnormalized output [splits][T][Hq][Dv] and its (max, denominator)
  // [splits][T][Hq][2], f32, merged by a second kernel.
  float* partial_acc = nullptr;
  float* partial_ml = nullptr;
  int32_t* error_flag = nullptr;  // raises kErrorPagedAttention on a data-dependent error
};

// Head dims above this are not implemented by the paged attention kernel (8 per lane, one warp per key).
inline constexpr int64_t kPagedAttentionMaxDim = 256;
// Threads of a paged attention block.
inline constexpr int kPagedAttentionThreads = 128;

struct PoolArgs {
  GpuTensor x;     // [B, S, D] in dims[1..3]
  GpuTensor mask;  // [B, S] in dims[2..3]; data NULL when absent
  GpuTensor y;     // [B, D] in dims[2..3]
};

struct SelectArgs {
  GpuTensor x;        // [R, N] in dims[2..3]
  GpuTensor values;   // [R, k]; data NULL for argmax
  GpuTensor indices;  // [R, k] or [R]
  int32_t k = 1;
};

// Largest per-lane register chunk count of the attention kernel: head dims up to this times the
// warp width are supported.
inline constexpr int kAttentionMaxChunks = 8;

// Each launcher enqueues on `stream` and returns the launch error (gpuSuccess on success).
gpuError_t launch_elementwise(const EwArgs& args, gpuStream_t stream);
gpuError_t launch_rows(const RowArgs& args, gpuStream_t stream);
gpuError_t launch_matmul_tiled(const MatmulArgs& args, gpuStream_t stream);
gpuError_t launch_matmul_quant(const QuantMatmulArgs& args, gpuStream_t stream);
// Decode shapes (at most kMaxQ8Rows activation rows, f32 activations with unit K stride): quantizes the
// activations per 32-element block into two int8 levels (about 16-bit precision) in `scratch`
// (matmul_quant_q8_scratch_bytes, 16-byte aligned) and runs integer dot products against the weight
// quants. Error about 1e-9 NMSE against the exact product, far inside the catalogue's tolerance.
inline constexpr int64_t kMaxQ8Rows = 8;
bool matmul_quant_q8_applicable(const QuantMatmulArgs& args);
uint64_t matmul_quant_q8_scratch_bytes(const QuantMatmulArgs& args);
gpuError_t launch_matmul_quant_q8(const QuantMatmulArgs& args, void* scratch, gpuStream_t stream);
// Dequantizes n x k weights into a dense row-major scratch of dtype `out_dtype` (f32/f16/bf16).
gpuError_t launch_dequantize(const char* b, int64_t b_row_bytes, int32_t b_dtype, int64_t n, int64_t k,
                             void* out, int32_t out_dtype, gpuStream_t stream);
gpuError_t launch_get_rows(const GetRowsArgs& args, gpuStream_t stream);
gpuError_t launch_set_rows(const SetRowsArgs& args, gpuStream_t stream);
gpuError_t launch_rope(const RopeArgs& args, gpuStream_t stream);
gpuError_t launch_attention(const AttentionArgs& args, gpuStream_t stream);
// The attention kernel and, when args.splits > 1, the kernel merging the splits.
gpuError_t launch_paged_attention(const PagedAttentionArgs& args, gpuStream_t stream);
gpuError_t launch_mean_pool(const PoolArgs& args, gpuStream_t stream);
gpuError_t launch_select(const SelectArgs& args, gpuStream_t stream);
// An empty kernel: measures launch overhead in benchmarks.
gpuError_t launch_noop(gpuStream_t stream);

}  // namespace plinth::gpu
