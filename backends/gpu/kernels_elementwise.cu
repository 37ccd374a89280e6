// Elementwise, per-row (norms, softmax), rope, mean pooling, get_rows and set_rows kernels. Plain grid-stride
// kernels over strided tensors: correctness first, these ops are memory-bound and small next to the
// matmuls.
#include "kernel_common.cuh"

namespace plinth::gpu {
namespace {

__device__ __forceinline__ float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
__device__ __forceinline__ float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}
__device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(-x)); }

__global__ void elementwise_kernel(EwArgs args) {
  const int64_t total = args.y.dims[0] * args.y.dims[1] * args.y.dims[2] * args.y.dims[3];
  for (int64_t i = global_thread(); i < total; i += grid_threads()) {
    int64_t idx[4];
    unravel4(i, args.y.dims, idx);
    char* y = args.y.data + offset4(args.y, idx);
    if (args.op == EwOp::kFill) {
      if (args.y.dtype == PLINTH_DTYPE_I32) {
        *reinterpret_cast<int32_t*>(y) = static_cast<int32_t>(args.value);  // truncates toward zero
      } else {
        store_f(y, args.y.dtype, static_cast<float>(args.value));
      }
      continue;
    }
    const char* a = args.a.data + offset4(args.a, idx);
    if (args.op == EwOp::kCopy && args.a.dtype == PLINTH_DTYPE_I32) {
      *reinterpret_cast<int32_t*>(y) = *reinterpret_cast<const int32_t*>(a);
      continue;
    }
    const float x = load_f(a, args.a.dtype);
    float r = x;
    switch (args.op) {
      case EwOp::kAdd: r = x + load_f(args.b.data + offset4(args.b, idx), args.b.dtype); break;
      case EwOp::kMul: r = x * load_f(args.b.data + offset4(args.b, idx), args.b.dtype); break;
      case EwOp::kScale: r = x * args.p0 + args.p1; break;
      case EwOp::kGeluErf: r = gelu_erf(x); break;
      case EwOp::kGeluTanh: r = gelu_tanh(x); break;
      case EwOp::kSilu: r = silu(x); break;
      case EwOp::kSwiglu: r = silu(x) * load_f(args.b.data + offset4(args.b, idx), args.b.dtype); break;
      default: break;
    }
    store_f(y, args.y.dtype, r);
  }
}

// Dense f32 tensors (row-major, no broadcast, 16-byte aligned, element count a multiple of 4): no index
// arithmetic, four elements per 16-byte access. The generic kernel above spends most of its time
// unravelling indices, which keeps it far below the memory bandwidth.
__device__ __forceinline__ float apply_f32(EwOp op, float x, float b, const EwArgs& args) {
  switch (op) {
    case EwOp::kAdd: return x + b;
    case EwOp::kMul: return x * b;
    case EwOp::kScale: return x * args.p0 + args.p1;
    case EwOp::kGeluErf: return gelu_erf(x);
    case EwOp::kGeluTanh: return gelu_tanh(x);
    case EwOp::kSilu: return silu(x);
    case EwOp::kSwiglu: return silu(x) * b;
    default: return x;
  }
}

__global__ void elementwise_dense_f32_kernel(EwArgs args, int64_t quads) {
  auto* y = reinterpret_cast<float4*>(args.y.data);
  const auto* a = reinterpret_cast<const float4*>(args.a.data);
  const auto* b = reinterpret_cast<const float4*>(args.b.data);
  const bool binary = args.op == EwOp::kAdd || args.op == EwOp::kMul || args.op == EwOp::kSwiglu;
  const float fill = static_cast<float>(args.value);
  for (int64_t i = global_thread(); i < quads; i += grid_threads()) {
    if (args.op == EwOp::kFill) {
      y[i] = make_float4(fill, fill, fill, fill);
      continue;
    }
    const float4 x = a[i];
    const float4 z = binary ? b[i] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    y[i] = make_float4(apply_f32(args.op, x.x, z.x, args), apply_f32(args.op, x.y, z.y, args),
                       apply_f32(args.op, x.z, z.z, args), apply_f32(args.op, x.w, z.w, args));
  }
}

bool dense_f32_quads(const EwArgs& args, int64_t total) {
  const auto fits = [](const GpuTensor& t) {
    return t.dtype == PLINTH_DTYPE_F32 && reinterpret_cast<uintptr_t>(t.data) % 16 == 0;
  };
  if (!args.dense || total % 4 != 0 || !fits(args.y)) return false;
  if (args.op == EwOp::kFill) return true;
  const bool binary = args.op == EwOp::kAdd || args.op == EwOp::kMul || args.op == EwOp::kSwiglu;
  return fits(args.a) && (!binary || fits(args.b));
}

// One block per row of the last dimension.
__global__ void rows_kernel(RowArgs args) {
  __shared__ float scratch[kMaxWarps];
  const int64_t d = args.x.dims[3];
  const int64_t rows = args.x.dims[0] * args.x.dims[1] * args.x.dims[2];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    int64_t idx[4];
    idx[2] = row % args.x.dims[2];
    idx[1] = (row / args.x.dims[2]) % args.x.dims[1];
    idx[0] = row / (args.x.dims[2] * args.x.dims[1]);
    idx[3] = 0;
    const char* x = args.x.data + offset4(args.x, idx);
    char* y = args.y.data + offset4(args.y, idx);
    const int64_t xs = args.x.strides[3];
    const int64_t ys = args.y.strides[3];
    if (args.op == RowOp::kSoftmax) {
      const char* mask = args.mask.data != nullptr ? args.mask.data + offset4(args.mask, idx) : nullptr;
      const int64_t ms = args.mask.strides[3];
      // Causal: key j is visible to query i when j <= i + (Sk - Sq).
      const int64_t limit = args.causal != 0 ? idx[2] + (d - args.x.dims[2]) : d - 1;
      float local_max = -INFINITY;
      for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
        if (j > limit) continue;
        float z = load_f(x + j * xs, args.x.dtype) * args.scale;
        if (mask != nullptr) z += load_f(mask + j * ms, args.mask.dtype);
        local_max = fmaxf(local_max, z);
      }
      const float row_max = block_max(local_max, scratch);
      if (row_max == -INFINITY) {  // every element masked
        for (int64_t j = threadIdx.x; j < d; j += blockDim.x) store_f(y + j * ys, args.y.dtype, 0.0f);
        continue;
      }
      float local_sum = 0.0f;
      for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
        if (j > limit) continue;
        float z = load_f(x + j * xs, args.x.dtype) * args.scale;
        if (mask != nullptr) z += load_f(mask + j * ms, args.mask.dtype);
        local_sum += expf(z - row_max);
      }
      const float inv = 1.0f / block_sum(local_sum, scratch);
      for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
        float r = 0.0f;
        if (j <= limit) {
          float z = load_f(x + j * xs, args.x.dtype) * args.scale;
          if (mask != nullptr) z += load_f(mask + j * ms, args.mask.dtype);
          r = expf(z - row_max) * inv;
        }
        store_f(y + j * ys, args.y.dtype, r);
      }
      continue;
    }
    float mean = 0.0f;
    if (args.op == RowOp::kLayerNorm) {
      float s = 0.0f;
      for (int64_t j = threadIdx.x; j < d; j += blockDim.x) s += load_f(x + j * xs, args.x.dtype);
      mean = block_sum(s, scratch) / static_cast<float>(d);
    }
    float sq = 0.0f;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      const float v = load_f(x + j * xs, args.x.dtype) - mean;
      sq += v * v;
    }
    const float total = block_sum(sq, scratch);
    float inv = 1.0f;
    if (args.op == RowOp::kL2Normalize) {
      inv = 1.0f / fmaxf(sqrtf(total), args.eps);
    } else {
      inv = rsqrtf(total / static_cast<float>(d) + args.eps);
    }
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      float v = (load_f(x + j * xs, args.x.dtype) - mean) * inv;
      if (args.w.data != nullptr) v *= load_f(args.w.data + j * args.w.strides[3], args.w.dtype);
      if (args.b.data != nullptr) v += load_f(args.b.data + j * args.b.strides[3], args.b.dtype);
      store_f(y + j * ys, args.y.dtype, v);
    }
  }
}

// One thread per (b, s, h, work item); work items are the n_dims/2 rotated pairs followed by the
// D - n_dims copied dimensions. Each thread reads both halves of its pair before writing, so y may
// alias x.
__global__ void rope_kernel(RopeArgs args) {
  const int64_t dim = args.x.dims[3];
  const int64_t half = args.n_dims / 2;
  const int64_t work = half + (dim - args.n_dims);
  const int64_t total = args.x.dims[0] * args.x.dims[1] * args.x.dims[2] * work;
  for (int64_t t = global_thread(); t < total; t += grid_threads()) {
    const int64_t w = t % work;
    int64_t idx[4];
    int64_t rest = t / work;
    idx[2] = rest % args.x.dims[2];
    rest /= args.x.dims[2];
    idx[1] = rest % args.x.dims[1];
    idx[0] = rest / args.x.dims[1];
    idx[3] = 0;
    const char* x = args.x.data + offset4(args.x, idx);
    char* y = args.y.data + offset4(args.y, idx);
    const int64_t xs = args.x.strides[3];
    const int64_t ys = args.y.strides[3];
    if (w >= half) {
      const int64_t j = args.n_dims + (w - half);
      store_f(y + j * ys, args.y.dtype, load_f(x + j * xs, args.x.dtype));
      continue;
    }
    const int64_t b_index = args.pos.dims[2] == 1 ? 0 : idx[0];
    const int32_t p = *reinterpret_cast<const int32_t*>(args.pos.data + b_index * args.pos.strides[2] +
                                                        idx[1] * args.pos.strides[3]);
    const float inv_freq = powf(args.freq_base, -2.0f * static_cast<float>(w) / static_cast<float>(args.n_dims));
    const float theta = static_cast<float>(p) * args.freq_scale * inv_freq;
    float s = 0.0f;
    float c = 0.0f;
    sincosf(theta, &s, &c);
    const int64_t i0 = args.mode == PLINTH_ROPE_NEOX ? w : 2 * w;
    const int64_t i1 = args.mode == PLINTH_ROPE_NEOX ? w + half : 2 * w + 1;
    const float a = load_f(x + i0 * xs, args.x.dtype);
    const float b = load_f(x + i1 * xs, args.x.dtype);
    store_f(y + i0 * ys, args.y.dtype, a * c - b * s);
    store_f(y + i1 * ys, args.y.dtype, a * s + b * c);
  }
}

// One thread per (b, d), consecutive threads on consecutive d for coalesced reads.
__global__ void mean_pool_kernel(PoolArgs args) {
  const int64_t batch = args.x.dims[1];
  const int64_t seq = args.x.dims[2];
  const int64_t dim = args.x.dims[3];
  for (int64_t t = global_thread(); t < batch * dim; t += grid_threads()) {
    const int64_t b = t / dim;
    const int64_t j = t % dim;
    float sum = 0.0f;
    int64_t count = 0;
    for (int64_t s = 0; s < seq; ++s) {
      if (args.mask.data != nullptr) {
        const char* m = args.mask.data + b * args.mask.strides[2] + s * args.mask.strides[3];
        const bool keep = args.mask.dtype == PLINTH_DTYPE_I32 ? *reinterpret_cast<const int32_t*>(m) != 0
                                                              : load_f(m, args.mask.dtype) != 0.0f;
        if (!keep) continue;
      }
      sum += load_f(args.x.data + b * args.x.strides[1] + s * args.x.strides[2] + j * args.x.strides[3],
                    args.x.dtype);
      ++count;
    }
    const float r = sum / static_cast<float>(count > 0 ? count : 1);
    store_f(args.y.data + b * args.y.strides[2] + j * args.y.strides[3], args.y.dtype, r);
  }
}

__global__ void get_rows_kernel(GetRowsArgs args) {
  const int64_t rows = args.table.dims[2];
  const int64_t n = args.indices.dims[3];
  const int64_t dim = args.table.dims[3];
  const bool quant = args.table.dtype >= PLINTH_DTYPE_Q8_0;
  for (int64_t t = global_thread(); t < n * dim; t += grid_threads()) {
    const int64_t i = t / dim;
    const int64_t j = t % dim;
    const int32_t r = *reinterpret_cast<const int32_t*>(args.indices.data + i * args.indices.strides[3]);
    char* y = args.y.data + i * args.y.strides[2] + j * args.y.strides[3];
    if (r < 0 || r >= rows) {
      if (j == 0 && args.error_flag != nullptr) atomicOr(args.error_flag, kErrorGetRowsIndex);
      store_f(y, args.y.dtype, 0.0f);
      continue;
    }
    const char* row = args.table.data + r * args.table.strides[2];
    const float v = quant ? dequant_element(row, args.table.dtype, j) : load_f(row + j * args.table.strides[3], args.table.dtype);
    store_f(y, args.y.dtype, v);
  }
}

// One thread per destination element; a row with a bad index writes nothing (it may not be read).
__global__ void set_rows_kernel(SetRowsArgs args) {
  const int64_t rows = args.dst.dims[2];
  const int64_t n = args.indices.dims[3];
  const int64_t width = args.src.dims[3];
  for (int64_t t = global_thread(); t < n * width; t += grid_threads()) {
    const int64_t i = t / width;
    const int64_t j = t % width;
    const int32_t r = *reinterpret_cast<const int32_t*>(args.indices.data + i * args.indices.strides[3]);
    if (r < 0 || r >= rows) {
      if (j == 0 && args.error_flag != nullptr) atomicOr(args.error_flag, kErrorSetRowsIndex);
      continue;
    }
    const float v = load_f(args.src.data + i * args.src.strides[2] + j * args.src.strides[3], args.src.dtype);
    store_f(args.dst.data + r * args.dst.strides[2] + j * args.dst.strides[3], args.dst.dtype, v);
  }
}

}  // namespace

gpuError_t launch_elementwise(const EwArgs& args, gpuStream_t stream) {
  const int64_t total = args.y.dims[0] * args.y.dims[1] * args.y.dims[2] * args.y.dims[3];
  if (total == 0) return gpuSuccess;
  if (dense_f32_quads(args, total)) {
    elementwise_dense_f32_kernel<<<grid_for(total / 4, 256), 256, 0, stream>>>(args, total / 4);
    return gpuGetLastError();
  }
  elementwise_kernel<<<grid_for(total, 256), 256, 0, stream>>>(args);
  return gpuGetLastError();
}

gpuError_t launch_rows(const RowArgs& args, gpuStream_t stream) {
  const int64_t rows = args.x.dims[0] * args.x.dims[1] * args.x.dims[2];
  if (rows == 0 || args.x.dims[3] == 0) return gpuSuccess;
  rows_kernel<<<static_cast<unsigned>(rows < 65535 ? rows : 65535), kRowThreads, 0, stream>>>(args);
  return gpuGetLastError();
}

gpuError_t launch_rope(const RopeArgs& args, gpuStream_t stream) {
  const int64_t work = args.n_dims / 2 + (args.x.dims[3] - args.n_dims);
  const int64_t total = args.x.dims[0] * args.x.dims[1] * args.x.dims[2] * work;
  if (total == 0) return gpuSuccess;
  rope_kernel<<<grid_for(total, 256), 256, 0, stream>>>(args);
  return gpuGetLastError();
}

gpuError_t launch_mean_pool(const PoolArgs& args, gpuStream_t stream) {
  const int64_t total = args.x.dims[1] * args.x.dims[3];
  if (total == 0) return gpuSuccess;
  mean_pool_kernel<<<grid_for(total, 256), 256, 0, stream>>>(args);
  return gpuGetLastError();
}

gpuError_t launch_get_rows(const GetRowsArgs& args, gpuStream_t stream) {
  const int64_t total = args.indices.dims[3] * args.table.dims[3];
  if (total == 0) return gpuSuccess;
  get_rows_kernel<<<grid_for(total, 256), 256, 0, stream>>>(args);
  return gpuGetLastError();
}

gpuError_t launch_set_rows(const SetRowsArgs& args, gpuStream_t stream) {
  const int64_t total = args.indices.dims[3] * args.src.dims[3];
  if (total == 0) return gpuSuccess;
  set_rows_kernel<<<grid_for(total, 256), 256, 0, stream>>>(args);
  return gpuGetLastError();
}

}  // namespace plinth::gpu
