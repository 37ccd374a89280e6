#include "gpu_ops.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "gpu_blas.hpp"
#include "gpu_error.hpp"
#include "gpu_kernels.hpp"
#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::gpu {
namespace {

GpuTensor make_tensor(const sdk::TensorView& v, const Buffer* buffer) {
  GpuTensor t;
  t.data = buffer != nullptr ? buffer->data + v.offset : nullptr;
  t.dtype = v.dtype;
  t.ndim = v.ndim;
  for (int k = 0; k < v.ndim; ++k) {
    t.dims[4 - v.ndim + k] = v.dims[k];
    t.strides[4 - v.ndim + k] = v.strides[k];
  }
  return t;
}

// Views t with `dims`, repeating extent-1 dimensions (stride 0).
GpuTensor broadcast(GpuTensor t, const int64_t* dims) {
  for (int i = 0; i < 4; ++i) {
    if (t.dims[i] != dims[i]) t.strides[i] = 0;
    t.dims[i] = dims[i];
  }
  return t;
}

int64_t elem_bytes(int32_t dtype) { return dtype == PLINTH_DTYPE_F16 || dtype == PLINTH_DTYPE_BF16 ? 2 : 4; }

void checked(gpuError_t error, const char* op) { check(error, op); }

#if defined(PLINTH_GPU_CUDA)
// Stream-ordered scratch memory: freed on the stream once the kernels enqueued before the destructor
// have run, also when enqueuing them throws. Inside a graph capture both become graph memory nodes.
class StreamScratch {
 public:
  StreamScratch(gpuStream_t stream, size_t bytes, const char* what) : stream_(stream) {
    checked(cudaMallocAsync(&ptr_, bytes, stream), what);
  }
  ~StreamScratch() {
    if (ptr_ != nullptr) (void)cudaFreeAsync(ptr_, stream_);
  }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  gpuStream_t stream_;
};
#endif

void run_matmul(Stream& stream, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
  const auto& p = call.params.matmul;
  GpuTensor c = make_tensor(call.outputs[0], buffers.outputs[0]);
  GpuTensor a = make_tensor(call.inputs[0], buffers.inputs[0]);
  GpuTensor b = make_tensor(call.inputs[1], buffers.inputs[1]);
  const int64_t m = c.dims[2];
  const int64_t n = c.dims[3];
  const int64_t k = p.transpose_a != 0 ? a.dims[2] : a.dims[3];
  const int64_t batch_dims[4] = {c.dims[0], c.dims[1], a.dims[2], a.dims[3]};
  a = broadcast(a, batch_dims);
  const Device& device = *stream.device;
  const bool use_blas = device.matmul == MatmulPath::kBlas && blas_available();
  const int64_t a_sm = p.transpose_a != 0 ? a.strides[3] : a.strides[2];
  const int64_t a_sk = p.transpose_a != 0 ? a.strides[2] : a.strides[3];
  if (sdk::is_quantized(b.dtype)) {
    const int64_t rows = c.dims[0] * c.dims[1] * m;
    const int64_t row_bytes = k / 32 * sdk::dtype_layout(b.dtype).block_bytes;
    const int64_t b_row_stride = n > 1 ? b.strides[2] : row_bytes;
#if defined(PLINTH_GPU_CUDA)
    if (use_blas && rows > 8) {
      // Prefill shapes: dequantize once into a stream-ordered scratch and run the vendor GEMM.
      const int32_t scratch_dtype = a.dtype;
      const int64_t e = elem_bytes(scratch_dtype);
      StreamScratch scratch(stream.stream, static_cast<size_t>(n * k * e), "cudaMallocAsync (dequantized weights)");
      {
        checked(launch_dequantize(b.data, b_row_stride, b.dtype, n, k, scratch.get(), scratch_dtype, stream.stream),
                "matmul (dequantize)");
        MatmulArgs args;
        args.a = a;
        args.b = GpuTensor{};
        args.b.data = static_cast<char*>(scratch.get());
        args.b.dtype = scratch_dtype;
        args.b.dims[2] = n;
        args.b.dims[3] = k;
        args.b.strides[2] = k * e;
        args.b.strides[3] = e;
        args.c = c;
        args.m = m;
        args.n = n;
        args.k = k;
        args.a_sm = a_sm;
        args.a_sk = a_sk;
        args.b_sk = e;
        args.b_sn = k * e;
        args.alpha = p.alpha;
        if (!blas_matmul(stream, args)) checked(launch_matmul_tiled(args, stream.stream), "matmul (dequantized) launch");
        return;
      }
    }
#else
    (void)rows;
#endif
    QuantMatmulArgs args;
    args.a = a;
    args.c = c;
    args.b = b.data;
    args.b_row_bytes = b_row_stride;
    args.b_dtype = b.dtype;
    args.m = m;
    args.n = n;
    args.k = k;
    args.a_sm = a_sm;
    args.a_sk = a_sk;
    args.alpha = p.alpha;
    args.warp_size = device.prop.warpSize;
#if defined(PLINTH_GPU_CUDA)
    if (device.quant_decode == QuantDecodePath::kInt8 && matmul_quant_q8_applicable(args)) {
      StreamScratch scratch(stream.stream, matmul_quant_q8_scratch_bytes(args), "cudaMallocAsync (integer activations)");
      checked(launch_matmul_quant_q8(args, scratch.get(), stream.stream), "matmul (quantized, integer activations) launch");
      return;
    }
#endif
    checked(launch_matmul_quant(args, stream.stream), "matmul (quantized) launch");
    return;
  }
  const int64_t b_dims[4] = {c.dims[0], c.dims[1], b.dims[2], b.dims[3]};
  b = broadcast(b, b_dims);
  MatmulArgs args;
  args.a = a;
  args.b = b;
  args.c = c;
  args.m = m;
  args.n = n;
  args.k = k;
  args.a_sm = a_sm;
  args.a_sk = a_sk;
  args.b_sk = p.transpose_b != 0 ? b.strides[3] : b.strides[2];
  args.b_sn = p.transpose_b != 0 ? b.strides[2] : b.strides[3];
  args.alpha = p.alpha;
  if (use_blas && blas_matmul(stream, args)) return;
  checked(launch_matmul_tiled(args, stream.stream), "matmul (tiled) launch");
}

// Whether the rows of a K or V cache take 16-byte vector loads: contiguous, every row start 16-byte
// aligned, and a head dim that is a multiple of 8 so a lane's 8-element chunk is whole or absent.
bool vector_rows(const GpuTensor& t) {
  if (t.strides[3] != elem_bytes(t.dtype) || t.dims[3] % 8 != 0) return false;
  if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0) return false;
  for (int i = 0; i < 3; ++i) {
    if (t.strides[i] % 16 != 0) return false;
  }
  return true;
}

// The query vectors of a paged attention block. Decode (no sequence can have two queries when
// T <= S): the GQA group alone, so no register holds a vector that does not exist; otherwise 8
// vectors, several query rows of a small group sharing each K/V row loaded.
void set_paged_tile(PagedAttentionArgs& args, int64_t t_total, int64_t num_seqs, int64_t group) {
  int32_t rows = 8;
  if (t_total <= num_seqs) {
    rows = 1;
    while (rows < group && rows < 8) rows <<= 1;
  }
  args.rows = rows;
  args.group_tile = static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(group, 1), rows));
  args.tile_positions = rows / args.group_tile;
}

// Key splits per tile (flash decoding): enough blocks for a few per SM when the tiles alone are too
// few, as in decode, while every split keeps at least kMinSplitKeys keys to amortize its merge.
int32_t paged_splits([[maybe_unused]] const Device& device, [[maybe_unused]] int64_t tiles,
                     [[maybe_unused]] int64_t max_keys) {
#if defined(PLINTH_GPU_CUDA)
  constexpr int64_t kMinSplitKeys = 256;
  constexpr int64_t kMaxSplits = 32;
  const int64_t target = 16 * static_cast<int64_t>(std::max(device.prop.multiProcessorCount, 1));
  if (tiles <= 0 || tiles >= target) return 1;
  const int64_t wanted = (target + tiles - 1) / tiles;
  const int64_t by_keys = std::max<int64_t>(1, max_keys / kMinSplitKeys);
  return static_cast<int32_t>(std::min({wanted, by_keys, kMaxSplits}));
#else
  return 1;  // the split path needs stream-ordered scratch, which only the CUDA build allocates
#endif
}

void run_paged_attention(Stream& stream, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
  const auto in = [&](int i) { return make_tensor(call.inputs[i], buffers.inputs[i]); };
  PagedAttentionArgs args;
  args.q = in(0);
  args.k = in(1);
  args.v = in(2);
  args.block_table = in(3);
  args.query_start = in(4);
  args.context_lens = in(5);
  args.o = make_tensor(call.outputs[0], buffers.outputs[0]);
  args.scale = call.params.attention.scale;
  args.causal = call.params.attention.causal != 0 ? 1 : 0;
  args.k_vec = vector_rows(args.k);
  args.v_vec = vector_rows(args.v);
  args.error_flag = stream.error_flag;
  const int64_t t_total = args.q.dims[1];
  const int64_t hq = args.q.dims[2];
  const int64_t hkv = args.k.dims[2];
  const int64_t num_seqs = args.block_table.dims[2];
  const int64_t group = hkv > 0 ? hq / hkv : 1;
  set_paged_tile(args, t_total, num_seqs, group);
  const int64_t head_tiles = (group + args.group_tile - 1) / args.group_tile;
  const int64_t tiles = (t_total + args.tile_positions - 1) / args.tile_positions * hkv * head_tiles;
  args.splits = paged_splits(*stream.device, tiles, args.block_table.dims[3] * args.k.dims[1]);
#if defined(PLINTH_GPU_CUDA)
  if (args.splits > 1) {
    const int64_t dv = args.v.dims[3];
    const int64_t parts = args.splits * t_total * hq;
    StreamScratch scratch(stream.stream, static_cast<size_t>(parts * (dv + 2) * 4),
                          "cudaMallocAsync (paged attention splits)");
    args.partial_acc = static_cast<float*>(scratch.get());
    args.partial_ml = args.partial_acc + parts * dv;
    checked(launch_paged_attention(args, stream.stream), "paged_attention");
    return;
  }
#endif
  checked(launch_paged_attention(args, stream.stream), "paged_attention");
}

// The catalogue ops this backend has kernels for; an op appended to the catalogue later is not
// claimed until it is listed here.
bool implemented(int32_t op) {
  switch (op) {
    case PLINTH_OP_COPY:
    case PLINTH_OP_FILL:
    case PLINTH_OP_ADD:
    case PLINTH_OP_MUL:
    case PLINTH_OP_SCALE:
    case PLINTH_OP_MATMUL:
    case PLINTH_OP_GET_ROWS:
    case PLINTH_OP_RMS_NORM:
    case PLINTH_OP_LAYER_NORM:
    case PLINTH_OP_SOFTMAX:
    case PLINTH_OP_GELU:
    case PLINTH_OP_SILU:
    case PLINTH_OP_SWIGLU:
    case PLINTH_OP_ROPE:
    case PLINTH_OP_ATTENTION:
    case PLINTH_OP_MEAN_POOL:
    case PLINTH_OP_L2_NORMALIZE:
    case PLINTH_OP_TOP_K:
    case PLINTH_OP_ARGMAX:
    case PLINTH_OP_SET_ROWS:
    case PLINTH_OP_PAGED_ATTENTION: return true;
    default: return false;
  }
}

}  // namespace

std::string unsupported_reason(const Device& device, const sdk::OpCall& call) {
  switch (call.op) {
    case PLINTH_OP_MATMUL:
      if (sdk::is_quantized(call.inputs[1].dtype) && call.inputs[1].offset % 2 != 0) {
        return "quantized matmul weights must start at an even byte offset";
      }
      return "";
    case PLINTH_OP_ATTENTION: {
      const int64_t limit = static_cast<int64_t>(kAttentionMaxChunks) * device.prop.warpSize;
      if (call.inputs[0].dim(-1) > limit || call.inputs[2].dim(-1) > limit) {
        return "attention head dims above " + std::to_string(limit) + " are not implemented";
      }
      return "";
    }
    case PLINTH_OP_PAGED_ATTENTION:
      if (call.inputs[0].dim(-1) > kPagedAttentionMaxDim || call.inputs[2].dim(-1) > kPagedAttentionMaxDim) {
        return "paged attention head dims above " + std::to_string(kPagedAttentionMaxDim) +
               " are not implemented";
      }
      // The grid's limits: query rows in x, kv heads times head tiles (at most Hq) in y.
      if (call.inputs[0].dims[0] > 0x7fffffff)
        return "paged attention over more than 2^31-1 query rows is not implemented";
      if (call.inputs[0].dims[1] > 65535)
        return "paged attention with more than 65535 query heads is not implemented";
      return "";
    case PLINTH_OP_TOP_K:
    case PLINTH_OP_ARGMAX:
      if (call.inputs[0].dim(-1) > 0x7fffffff) return "rows longer than 2^31-1 elements are not implemented";
      return "";
    default:
      if (call.op < 0 || call.op >= PLINTH_OP_COUNT) return "unknown op";
      return implemented(call.op)
                 ? ""
                 : std::string(sdk::op_name(call.op)) + " is not implemented by this backend";
  }
}

void launch_op(Stream& stream, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
  // Nothing to write. set_rows with an empty dst still checks its indices (any index is then outside).
  for (int i = 0; i < call.num_outputs; ++i) {
    if (call.outputs[i].numel() == 0 && call.op != PLINTH_OP_SET_ROWS) return;
  }
  const char* name = sdk::op_name(call.op);
  const auto in = [&](int i) {
    return call.input(i) != nullptr ? make_tensor(call.inputs[i], buffers.inputs[i]) : GpuTensor{};
  };
  const auto out = [&](int i) { return make_tensor(call.outputs[i], buffers.outputs[i]); };
  switch (call.op) {
    case PLINTH_OP_COPY:
    case PLINTH_OP_FILL:
    case PLINTH_OP_ADD:
    case PLINTH_OP_MUL:
    case PLINTH_OP_SCALE:
    case PLINTH_OP_GELU:
    case PLINTH_OP_SILU:
    case PLINTH_OP_SWIGLU: {
      EwArgs args;
      args.y = out(0);
      if (call.num_inputs > 0) args.a = broadcast(in(0), args.y.dims);
      if (call.num_inputs > 1) args.b = broadcast(in(1), args.y.dims);
      // Contiguous operands with y's element count: no dim broadcasts, linear indexing applies.
      args.dense = call.outputs[0].contiguous();
      for (int i = 0; i < call.num_inputs; ++i) {
        if (call.input(i) != nullptr) {
          args.dense = args.dense && call.inputs[i].contiguous() && call.inputs[i].numel() == call.outputs[0].numel();
        }
      }
      switch (call.op) {
        case PLINTH_OP_COPY: args.op = EwOp::kCopy; break;
        case PLINTH_OP_FILL:
          args.op = EwOp::kFill;
          args.value = call.params.fill.value;
          break;
        case PLINTH_OP_ADD: args.op = EwOp::kAdd; break;
        case PLINTH_OP_MUL: args.op = EwOp::kMul; break;
        case PLINTH_OP_SCALE:
          args.op = EwOp::kScale;
          args.p0 = call.params.scale.scale;
          args.p1 = call.params.scale.bias;
          break;
        case PLINTH_OP_GELU:
          args.op = call.params.gelu.approximation == PLINTH_GELU_TANH ? EwOp::kGeluTanh : EwOp::kGeluErf;
          break;
        case PLINTH_OP_SILU: args.op = EwOp::kSilu; break;
        default: args.op = EwOp::kSwiglu; break;
      }
      checked(launch_elementwise(args, stream.stream), name);
      return;
    }
    case PLINTH_OP_MATMUL: run_matmul(stream, call, buffers); return;
    case PLINTH_OP_GET_ROWS: {
      GetRowsArgs args;
      args.table = in(0);
      args.indices = in(1);
      args.y = out(0);
      args.error_flag = stream.error_flag;
      checked(launch_get_rows(args, stream.stream), name);
      return;
    }
    case PLINTH_OP_SET_ROWS: {
      SetRowsArgs args;
      args.src = in(0);
      args.indices = in(1);
      args.dst = out(0);
      args.error_flag = stream.error_flag;
      checked(launch_set_rows(args, stream.stream), name);
      return;
    }
    case PLINTH_OP_PAGED_ATTENTION: run_paged_attention(stream, call, buffers); return;
    case PLINTH_OP_RMS_NORM:
    case PLINTH_OP_LAYER_NORM:
    case PLINTH_OP_L2_NORMALIZE:
    case PLINTH_OP_SOFTMAX: {
      RowArgs args;
      args.x = in(0);
      args.y = out(0);
      args.eps = call.params.norm.eps;
      if (call.op == PLINTH_OP_RMS_NORM) {
        args.op = RowOp::kRmsNorm;
        args.w = in(1);
      } else if (call.op == PLINTH_OP_LAYER_NORM) {
        args.op = RowOp::kLayerNorm;
        args.w = in(1);
        args.b = in(2);
      } else if (call.op == PLINTH_OP_L2_NORMALIZE) {
        args.op = RowOp::kL2Normalize;
      } else {
        args.op = RowOp::kSoftmax;
        if (call.input(1) != nullptr) args.mask = broadcast(in(1), args.x.dims);
        args.scale = call.params.softmax.scale;
        args.causal = call.params.softmax.causal != 0 ? 1 : 0;
      }
      checked(launch_rows(args, stream.stream), name);
      return;
    }
    case PLINTH_OP_ROPE: {
      RopeArgs args;
      args.x = in(0);
      args.pos = in(1);
      args.y = out(0);
      args.mode = static_cast<int32_t>(call.params.rope.mode);
      args.n_dims = static_cast<int32_t>(call.params.rope.n_dims);
      args.freq_base = call.params.rope.freq_base;
      args.freq_scale = call.params.rope.freq_scale;
      checked(launch_rope(args, stream.stream), name);
      return;
    }
    case PLINTH_OP_ATTENTION: {
      AttentionArgs args;
      args.q = in(0);
      args.k = in(1);
      args.v = in(2);
      args.o = out(0);
      if (call.input(3) != nullptr) {
        const int64_t dims[4] = {args.q.dims[0], args.q.dims[1], args.q.dims[2], args.k.dims[2]};
        args.mask = broadcast(in(3), dims);
      }
      args.kv_lens = in(4);
      args.scale = call.params.attention.scale;
      args.causal = call.params.attention.causal != 0 ? 1 : 0;
      args.error_flag = stream.error_flag;
      checked(launch_attention(args, stream.stream), name);
      return;
    }
    case PLINTH_OP_MEAN_POOL: {
      PoolArgs args;
      args.x = in(0);
      args.mask = in(1);
      args.y = out(0);
      checked(launch_mean_pool(args, stream.stream), name);
      return;
    }
    case PLINTH_OP_TOP_K:
    case PLINTH_OP_ARGMAX: {
      SelectArgs args;
      args.x = in(0);
      if (call.op == PLINTH_OP_TOP_K) {
        args.values = out(0);
        args.indices = out(1);
        args.k = static_cast<int32_t>(call.params.top_k.k);
      } else {
        // indices [R]: one element per row, so its only stride is the row stride.
        args.indices = out(0);
        args.indices.dims[2] = args.indices.dims[3];
        args.indices.strides[2] = args.indices.strides[3];
        args.indices.dims[3] = 1;
        args.indices.strides[3] = 0;
        args.k = 1;
      }
      checked(launch_select(args, stream.stream), name);
      return;
    }
    default: sdk::fail(PLINTH_ERROR_UNSUPPORTED, std::string(name) + ": not implemented by this backend");
  }
}

}  // namespace plinth::gpu
