#include "op_encoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::vulkan {
namespace {

using sdk::TensorView;

// A tensor's buffer by its handle, among those the adapter resolved for the call's slots (a handle
// names one buffer, so whichever slot holds it will do).
class BufferLookup {
 public:
  BufferLookup(const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers)
      : call_(call), buffers_(buffers) {}
  const Buffer& operator()(plinth_buffer_t handle) const {
    for (int i = 0; i < call_.num_inputs; ++i) {
      const TensorView* t = call_.input(i);
      if (t != nullptr && t->buffer == handle) return *buffers_.inputs[static_cast<size_t>(i)];
    }
    for (int i = 0; i < call_.num_outputs; ++i) {
      const auto k = static_cast<size_t>(i);
      if (call_.outputs[k].buffer == handle) return *buffers_.outputs[k];
    }
    sdk::fail(PLINTH_ERROR_INTERNAL, "a tensor's buffer is not among the call's");
  }

 private:
  const sdk::OpCall& call_;
  const sdk::OpBuffers<Buffer>& buffers_;
};

constexpr uint32_t kMode_Copy = 0, kMode_Fill = 1, kMode_Add = 2, kMode_Mul = 3, kMode_Scale = 4,
                   kMode_GeluErf = 5, kMode_GeluTanh = 6, kMode_Silu = 7, kMode_Swiglu = 8;

// Extents and strides padded on the left to 4 dims (extent 1, stride 0).
struct View4 {
  int64_t dims[4] = {1, 1, 1, 1};
  int64_t strides[4] = {0, 0, 0, 0};
};

View4 pad4(const TensorView& t) {
  View4 v;
  const int n = std::max(t.ndim, 0);
  for (int k = 0; k < n; ++k) {
    v.dims[4 - n + k] = t.dims[k];
    v.strides[4 - n + k] = t.strides[k];
  }
  return v;
}

// Pads and broadcasts `t` to the 4-D extents `to` (an extent-1 dim repeats: stride 0).
View4 broadcast(const TensorView& t, const View4& to) {
  View4 v = pad4(t);
  for (int k = 0; k < 4; ++k) {
    if (v.dims[k] == 1 && to.dims[k] != 1) v.strides[k] = 0;
    v.dims[k] = to.dims[k];
  }
  return v;
}

GpuTensor gpu(const TensorView& t, const View4& v, const BufferLookup& lookup) {
  GpuTensor g;
  g.addr = lookup(t.buffer).address() + t.offset;
  g.dtype = t.dtype;
  g.ndim = t.ndim;
  for (int k = 0; k < 4; ++k) {
    g.dims[k] = static_cast<int32_t>(v.dims[k]);
    g.strides[k] = v.strides[k];
  }
  return g;
}

GpuTensor gpu(const TensorView& t, const BufferLookup& lookup) { return gpu(t, pad4(t), lookup); }

int64_t elem_size(plinth_dtype_t dtype) {
  switch (dtype) {
    case PLINTH_DTYPE_F32:
    case PLINTH_DTYPE_I32: return 4;
    case PLINTH_DTYPE_F16:
    case PLINTH_DTYPE_BF16: return 2;
    default: return 2;  // quantized rows: the f16 scale needs 2-byte alignment
  }
}

std::string check_view(const char* what, const TensorView& t) {
  if (!sdk::is_float(t.dtype) && !sdk::is_quantized(t.dtype) && t.dtype != PLINTH_DTYPE_I32) {
    return std::string(what) + ": dtype " + sdk::dtype_name(t.dtype) + " is not supported";
  }
  const int64_t align = elem_size(t.dtype);
  if (t.offset % align != 0) return std::string(what) + ": offset is not a multiple of the element size";
  for (int k = 0; k < t.ndim; ++k) {
    if (t.dims[k] > std::numeric_limits<int32_t>::max())
      return std::string(what) + ": a dimension exceeds 2^31-1";
    const bool ignored = sdk::is_quantized(t.dtype) && k == t.ndim - 1;
    if (!ignored && t.strides[k] % align != 0) {
      return std::string(what) + ": a stride is not a multiple of the element size";
    }
  }
  return {};
}

bool float_only(std::initializer_list<const TensorView*> views) {
  for (const TensorView* v : views) {
    if (v != nullptr && !sdk::is_float(v->dtype)) return false;
  }
  return true;
}

GpuArgs base_args() { return GpuArgs{}; }

// Stores a 64-bit value in two consecutive int slots (low word first), for operands beyond the six
// tensor slots; the shader reassembles it.
void put_i64(GpuArgs& a, int slot, int64_t value) {
  const auto u = static_cast<uint64_t>(value);
  a.i[slot] = static_cast<int32_t>(static_cast<uint32_t>(u));
  a.i[slot + 1] = static_cast<int32_t>(static_cast<uint32_t>(u >> 32));
}

// SET_ROWS, one invocation per (source row, column); a row with W = 0 still gets one, so its index
// is checked (an empty dst does not make a bad index valid).
void encode_set_rows(Stream& stream, const sdk::OpCall& call, const BufferLookup& lookup) {
  const TensorView& src = call.inputs[0];
  const TensorView& dst = call.outputs[0];
  const int64_t n = src.dims[0];
  const int64_t per_row = std::max<int64_t>(src.dims[1], 1);
  if (n == 0) return;
  GpuArgs a = base_args();
  a.t[0] = gpu(dst, lookup);
  a.t[1] = gpu(src, lookup);
  a.t[2] = gpu(call.inputs[1], lookup);
  a.i[0] = static_cast<int32_t>(per_row);
  stream.dispatch(Shader::kSetRows, a, static_cast<uint64_t>(n * per_row), false);
}

// PAGED_ATTENTION: paged_check validates query_start and context_lens per sequence (so a sequence
// that owns no row is checked too), then paged_attention runs one workgroup per (row, head, chunk
// of 256 output dims). Both run even when o is empty, so bad data is still reported.
void encode_paged_attention(Stream& stream, const sdk::OpCall& call, const BufferLookup& lookup) {
  const TensorView& q = call.inputs[0];
  const TensorView& k = call.inputs[1];
  const TensorView& table = call.inputs[3];
  const TensorView& starts = call.inputs[4];
  const TensorView& lens = call.inputs[5];
  const TensorView& o = call.outputs[0];
  const int64_t seqs = table.dims[0];
  const int64_t rows = q.dims[0], heads = q.dims[1];
  const int64_t capacity = table.dims[1] * k.dims[1];

  GpuArgs check = base_args();
  check.t[0] = gpu(starts, lookup);
  check.t[1] = gpu(lens, lookup);
  check.i[0] = static_cast<int32_t>(seqs);
  check.i[1] = static_cast<int32_t>(rows);
  check.i[2] = static_cast<int32_t>(std::min<int64_t>(capacity, std::numeric_limits<int32_t>::max()));
  stream.dispatch(Shader::kPagedCheck, check, static_cast<uint64_t>(std::max<int64_t>(seqs, 1)), false);

  if (rows == 0 || heads == 0) return;
  constexpr int64_t kChunk = 256;  // output dims per workgroup (the shader's CHUNK)
  const int64_t chunks = std::max<int64_t>((o.dims[2] + kChunk - 1) / kChunk, 1);
  const auto& p = call.params.attention;
  GpuArgs a = base_args();
  a.t[0] = gpu(o, lookup);
  a.t[1] = gpu(q, lookup);
  a.t[2] = gpu(k, lookup);
  a.t[3] = gpu(call.inputs[2], lookup);
  a.t[4] = gpu(table, lookup);
  a.t[5] = gpu(starts, lookup);
  const double d = static_cast<double>(q.dims[2]);
  a.f[0] = p.scale == 0.0f ? static_cast<float>(1.0 / std::sqrt(std::max(d, 1.0))) : p.scale;
  a.i[0] = p.causal ? 1 : 0;
  a.i[1] = static_cast<int32_t>(seqs);
  a.i[2] = static_cast<int32_t>(chunks);
  put_i64(a, 4, static_cast<int64_t>(lookup(lens.buffer).address() + lens.offset));
  put_i64(a, 6, lens.ndim >= 1 ? lens.strides[lens.ndim - 1] : 0);
  stream.dispatch(Shader::kPagedAttention, a, static_cast<uint64_t>(rows * heads * chunks), true);
}

}  // namespace

std::string unsupported_reason(const Device& device, const sdk::OpCall& call) {
  (void)device;  // every usable device runs every variant: 16-bit and 8-bit data travel as 32-bit words
  for (int i = 0; i < call.num_inputs; ++i) {
    if (!call.has_input[i]) continue;
    std::string r = check_view("input", call.inputs[i]);
    if (!r.empty()) return std::string(sdk::op_name(call.op)) + " " + r;
  }
  for (int i = 0; i < call.num_outputs; ++i) {
    std::string r = check_view("output", call.outputs[i]);
    if (!r.empty()) return std::string(sdk::op_name(call.op)) + " " + r;
    if (sdk::is_quantized(call.outputs[i].dtype))
      return std::string(sdk::op_name(call.op)) + ": quantized outputs are not supported";
  }
  const TensorView& y = call.outputs[0];
  switch (call.op) {
    case PLINTH_OP_COPY: {
      const TensorView& x = call.inputs[0];
      const bool ok = (sdk::is_float(x.dtype) && sdk::is_float(y.dtype)) ||
                      (x.dtype == PLINTH_DTYPE_I32 && y.dtype == PLINTH_DTYPE_I32);
      if (!ok)
        return std::string("copy ") + sdk::dtype_name(x.dtype) + " -> " + sdk::dtype_name(y.dtype) +
               " is not supported";
      break;
    }
    case PLINTH_OP_FILL:
      if (!sdk::is_float(y.dtype) && y.dtype != PLINTH_DTYPE_I32) return "fill: output must be float or i32";
      break;
    case PLINTH_OP_MATMUL:
      if (!float_only({call.input(0), &y})) return "matmul: a and c must be float";
      if (!sdk::is_float(call.inputs[1].dtype) && !sdk::is_quantized(call.inputs[1].dtype))
        return "matmul: b must be float or q8_0/q4_0/q4_1";
      break;
    case PLINTH_OP_GET_ROWS:
      if (!float_only({&y})) return "get_rows: output must be float";
      if (call.inputs[1].dtype != PLINTH_DTYPE_I32) return "get_rows: indices must be i32";
      if (call.inputs[0].dtype == PLINTH_DTYPE_I32) return "get_rows: i32 tables are not supported";
      break;
    case PLINTH_OP_ROPE:
      if (!float_only({call.input(0), &y})) return "rope: x and y must be float";
      if (call.inputs[1].dtype != PLINTH_DTYPE_I32) return "rope: positions must be i32";
      break;
    case PLINTH_OP_ATTENTION:
      if (!float_only({call.input(0), call.input(1), call.input(2), call.input(3), &y}))
        return "attention: q, k, v, mask, o must be float";
      break;
    case PLINTH_OP_SET_ROWS:
      if (!float_only({call.input(0), &y})) return "set_rows: src and dst must be float";
      if (call.inputs[1].dtype != PLINTH_DTYPE_I32) return "set_rows: indices must be i32";
      break;
    case PLINTH_OP_PAGED_ATTENTION:
      if (!float_only({call.input(0), call.input(1), call.input(2), &y}))
        return "paged_attention: q, k_cache, v_cache and o must be float";
      for (int i = 3; i < 6; ++i) {
        if (call.inputs[i].dtype != PLINTH_DTYPE_I32)
          return "paged_attention: block_table, query_start and context_lens must be i32";
      }
      break;
    case PLINTH_OP_MEAN_POOL:
      if (!float_only({call.input(0), &y})) return "mean_pool: x and y must be float";
      break;
    case PLINTH_OP_TOP_K:
      if (!float_only({call.input(0), &y})) return "top_k: x and values must be float";
      if (call.outputs[1].dtype != PLINTH_DTYPE_I32) return "top_k: indices must be i32";
      break;
    case PLINTH_OP_ARGMAX:
      if (!float_only({call.input(0)})) return "argmax: x must be float";
      if (y.dtype != PLINTH_DTYPE_I32) return "argmax: indices must be i32";
      break;
    case PLINTH_OP_ADD:
    case PLINTH_OP_MUL:
    case PLINTH_OP_SCALE:
    case PLINTH_OP_RMS_NORM:
    case PLINTH_OP_LAYER_NORM:
    case PLINTH_OP_SOFTMAX:
    case PLINTH_OP_GELU:
    case PLINTH_OP_SILU:
    case PLINTH_OP_SWIGLU:
    case PLINTH_OP_L2_NORMALIZE:
      for (int i = 0; i < call.num_inputs; ++i) {
        if (call.has_input[i] && !sdk::is_float(call.inputs[i].dtype))
          return std::string(sdk::op_name(call.op)) + ": inputs must be float";
      }
      if (!sdk::is_float(y.dtype)) return std::string(sdk::op_name(call.op)) + ": output must be float";
      break;
    default: return "op " + std::to_string(call.op) + " is not in the catalogue (ABI 1.2)";
  }
  return {};
}

void encode_op(Stream& stream, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
  const BufferLookup lookup(call, buffers);
  const TensorView& y = call.outputs[0];
  // These two report bad indices and lengths even when their output is empty.
  if (call.op == PLINTH_OP_SET_ROWS) return encode_set_rows(stream, call, lookup);
  if (call.op == PLINTH_OP_PAGED_ATTENTION) return encode_paged_attention(stream, call, lookup);
  for (int i = 0; i < call.num_outputs; ++i) {
    if (call.outputs[i].numel() == 0) return;  // nothing to write
  }
  GpuArgs a = base_args();
  const View4 y4 = pad4(y);
  auto eltwise = [&](uint32_t mode) {
    a.i[0] = static_cast<int32_t>(mode);
    a.t[0] = gpu(y, y4, lookup);
    // Dense f32 operands skip the 4-D index arithmetic; 16-byte aligned ones also go four at a time.
    bool flat = y.dtype == PLINTH_DTYPE_F32 && y.contiguous();
    bool quads = y.numel() % 4 == 0 && a.t[0].addr % 16 == 0;
    for (int i = 0; i < call.num_inputs && i < 2; ++i) {
      if (!call.has_input[i]) continue;
      const TensorView& in = call.inputs[i];
      // Contiguous with y's element count: no dim broadcasts.
      flat = flat && in.dtype == PLINTH_DTYPE_F32 && in.contiguous() && in.numel() == y.numel();
      a.t[1 + i] = gpu(in, broadcast(in, y4), lookup);
      quads = quads && a.t[1 + i].addr % 16 == 0;
    }
    quads = quads && flat;
    a.i[2] = quads ? 2 : flat ? 1 : 0;
    const auto n = static_cast<uint64_t>(y.numel());
    stream.dispatch(Shader::kEltwise, a, quads ? n / 4 : n, false);
  };
  const auto& p = call.params;
  switch (call.op) {
    case PLINTH_OP_COPY: return eltwise(kMode_Copy);
    case PLINTH_OP_FILL: {
      const double v = p.fill.value;
      a.f[0] = static_cast<float>(v);
      const double t = std::isnan(v) ? 0.0 : std::trunc(v);
      a.i[1] = static_cast<int32_t>(std::clamp(t, -2147483648.0, 2147483647.0));
      return eltwise(kMode_Fill);
    }
    case PLINTH_OP_ADD: return eltwise(kMode_Add);
    case PLINTH_OP_MUL: return eltwise(kMode_Mul);
    case PLINTH_OP_SCALE:
      a.f[0] = p.scale.scale;
      a.f[1] = p.scale.bias;
      return eltwise(kMode_Scale);
    case PLINTH_OP_GELU:
      return eltwise(p.gelu.approximation == PLINTH_GELU_TANH ? kMode_GeluTanh : kMode_GeluErf);
    case PLINTH_OP_SILU: return eltwise(kMode_Silu);
    case PLINTH_OP_SWIGLU: return eltwise(kMode_Swiglu);
    case PLINTH_OP_MATMUL: {
      const TensorView& ta = call.inputs[0];
      const TensorView& tb = call.inputs[1];
      View4 a4 = pad4(ta);
      if (p.matmul.transpose_a) {
        std::swap(a4.dims[2], a4.dims[3]);
        std::swap(a4.strides[2], a4.strides[3]);
      }
      const int64_t M = y4.dims[2], N = y4.dims[3], K = a4.dims[3];
      for (int k = 0; k < 2; ++k) {
        if (a4.dims[k] == 1 && y4.dims[k] != 1) a4.strides[k] = 0;
        a4.dims[k] = y4.dims[k];
      }
      a.t[0] = gpu(y, y4, lookup);
      a.t[1] = gpu(ta, a4, lookup);
      a.i[0] = static_cast<int32_t>(K);
      a.f[0] = p.matmul.alpha;
      const int64_t rows = y4.dims[0] * y4.dims[1] * M;
      // The portable float kernels, with a.t[2] set: shared-memory tiles where shape and device allow.
      const auto portable_matmul = [&] {
        if (M >= 16 && N >= 16 && K >= 16 && stream.device().info().max_shared_memory >= 2 * 16 * 17 * 4) {
          const int64_t tn = (N + 15) / 16, tm = (M + 15) / 16;
          a.i[1] = static_cast<int32_t>(tn);
          a.i[2] = static_cast<int32_t>(tm);
          return stream.dispatch(Shader::kMatmulTiled, a,
                                 static_cast<uint64_t>(tn * tm * y4.dims[0] * y4.dims[1]), true);
        }
        stream.dispatch(Shader::kMatmul, a, static_cast<uint64_t>(y.numel()), false);
      };
      if (sdk::is_quantized(tb.dtype)) {
        View4 b4;  // weight rows [N, K]; strides[3] carries the row stride in bytes
        b4.dims[2] = N;
        b4.dims[3] = K;
        b4.strides[3] = tb.ndim >= 2 ? tb.strides[tb.ndim - 2] : 0;
        a.t[2] = gpu(tb, b4, lookup);
        if (rows <= 8) {
          const auto& qinfo = stream.device().info();
          // gemv_quant_fast reads activation rows as vec4 and Q4_1 blocks as aligned words (Q4_0 and
          // Q8_0 blocks are realigned in the shader); anything else takes the generic gemv_quant.
          bool fast = ta.dtype == PLINTH_DTYPE_F32 && a4.strides[3] == 4 && a.t[1].addr % 16 == 0;
          for (int k = 0; k < 3; ++k) fast = fast && (a4.dims[k] == 1 || a4.strides[k] % 16 == 0);
          if (tb.dtype == PLINTH_DTYPE_Q4_1) fast = fast && a.t[2].addr % 4 == 0 && b4.strides[3] % 4 == 0;
          if (fast) {
            // Each lane group (a subgroup, or one of four 32-lane groups without subgroups) owns 4
            // weight rows in the single-activation-row build (plain decode), 2 in the other. The
            // shader loops when the real subgroup count differs, so this only sizes the grid.
            const bool sg = qinfo.subgroup_arithmetic;
            const uint32_t lanes = sg ? std::clamp<uint32_t>(qinfo.props.subgroup_size, 1, 128) : 32;
            const int64_t per_wg = static_cast<int64_t>(128 / lanes) * (rows == 1 ? 4 : 2);
            a.i[1] = static_cast<int32_t>(rows);
            a.i[2] = static_cast<int32_t>(per_wg);
            const Shader single = sg ? Shader::kGemvQuantFastSingleSubgroup : Shader::kGemvQuantFastSingle;
            const Shader multi = sg ? Shader::kGemvQuantFastSubgroup : Shader::kGemvQuantFast;
            const Shader s = rows == 1 ? single : multi;
            return stream.dispatch(s, a, static_cast<uint64_t>((N + per_wg - 1) / per_wg), true);
          }
          const Shader gemv = qinfo.subgroup_arithmetic ? Shader::kGemvQuantSubgroup : Shader::kGemvQuant;
          return stream.dispatch(gemv, a, static_cast<uint64_t>(y.numel()), true);
        }
        // More rows (prefill): dequantize the weights once into the stream's f32 [N, K] scratch and
        // run the float kernels on it, instead of dequantizing every weight once per activation row.
        const uint64_t scratch = stream.scratch(static_cast<uint64_t>(N * K * 4));
        GpuArgs d = base_args();
        d.t[0].addr = scratch;
        d.t[0].dtype = PLINTH_DTYPE_F32;
        d.t[1] = a.t[2];
        d.i[0] = static_cast<int32_t>(K);
        stream.dispatch(Shader::kDequant, d, static_cast<uint64_t>(N * K), false);
        a.t[2] = GpuTensor{};
        a.t[2].addr = scratch;
        a.t[2].dtype = PLINTH_DTYPE_F32;
        a.t[2].ndim = 2;
        a.t[2].dims[0] = static_cast<int32_t>(y4.dims[0]);  // batch dims broadcast (extent 1, stride 0)
        a.t[2].dims[1] = static_cast<int32_t>(y4.dims[1]);
        a.t[2].dims[2] = static_cast<int32_t>(K);  // b as [K, N]: element (k, n) at n * K + k
        a.t[2].dims[3] = static_cast<int32_t>(N);
        a.t[2].strides[2] = 4;
        a.t[2].strides[3] = K * 4;
        return portable_matmul();
      }
      View4 b4 = pad4(tb);
      if (p.matmul.transpose_b) {
        std::swap(b4.dims[2], b4.dims[3]);
        std::swap(b4.strides[2], b4.strides[3]);
      }
      for (int k = 0; k < 2; ++k) {
        if (b4.dims[k] == 1 && y4.dims[k] != 1) b4.strides[k] = 0;
        b4.dims[k] = y4.dims[k];
      }
      a.t[2] = gpu(tb, b4, lookup);
      const auto& info = stream.device().info();
      if (info.coopmat_nv && ta.dtype == PLINTH_DTYPE_F16 && tb.dtype == PLINTH_DTYPE_F16 && M >= 16 &&
          N >= 16 && K >= 16) {
        // Tensor cores (matmul_coopmat.comp). It moves a and b as 16-byte vectors along K (a, and b
        // stored [N, K]) or N (b stored [K, N]), so that dim must be unit-stride and every base address,
        // row stride and batch stride 16-byte aligned; other layouts keep the portable kernels.
        const bool b_col = b4.strides[3] != 2 && b4.strides[2] == 2;
        bool fits = a4.strides[3] == 2 && (b4.strides[3] == 2 || b_col) && a.t[1].addr % 16 == 0 &&
                    a.t[2].addr % 16 == 0 && a4.strides[2] % 16 == 0 &&
                    (b_col ? b4.strides[3] : b4.strides[2]) % 16 == 0;
        for (int k = 0; k < 2; ++k) fits = fits && a4.strides[k] % 16 == 0 && b4.strides[k] % 16 == 0;
        if (fits) {
          const int64_t tile_n = info.coopmat_narrow ? 64 : 128;  // the shader's 128 x tile_n tiles
          const int64_t tn = (N + tile_n - 1) / tile_n, tm = (M + 127) / 128;
          a.i[1] = static_cast<int32_t>(tn);
          a.i[2] = static_cast<int32_t>(tm);
          a.i[3] = b_col ? 1 : 0;
          return stream.dispatch(info.coopmat_narrow ? Shader::kMatmulCoopmatNarrow : Shader::kMatmulCoopmat, a,
                                 static_cast<uint64_t>(tn * tm * y4.dims[0] * y4.dims[1]), true);
        }
      }
      return portable_matmul();
    }
    case PLINTH_OP_GET_ROWS: {
      a.t[0] = gpu(y, y4, lookup);
      a.t[1] = gpu(call.inputs[0], lookup);
      a.t[2] = gpu(call.inputs[1], lookup);
      return stream.dispatch(Shader::kGetRows, a, static_cast<uint64_t>(y.numel()), false);
    }
    case PLINTH_OP_RMS_NORM:
    case PLINTH_OP_LAYER_NORM:
    case PLINTH_OP_L2_NORMALIZE: {
      a.i[0] = call.op == PLINTH_OP_RMS_NORM ? 0 : call.op == PLINTH_OP_LAYER_NORM ? 1 : 2;
      a.f[0] = p.norm.eps;
      a.t[0] = gpu(y, y4, lookup);
      a.t[1] = gpu(call.inputs[0], lookup);
      if (call.input(1) != nullptr) a.t[2] = gpu(call.inputs[1], lookup);
      if (call.input(2) != nullptr) a.t[3] = gpu(call.inputs[2], lookup);
      const int64_t D = y4.dims[3];
      return stream.dispatch(Shader::kNorm, a, static_cast<uint64_t>(D == 0 ? 0 : y.numel() / D), false);
    }
    case PLINTH_OP_SOFTMAX: {
      a.f[0] = p.softmax.scale == 0.0f ? 1.0f : p.softmax.scale;
      a.i[0] = p.softmax.causal ? 1 : 0;
      a.t[0] = gpu(y, y4, lookup);
      a.t[1] = gpu(call.inputs[0], lookup);
      if (call.input(1) != nullptr)
        a.t[2] = gpu(call.inputs[1], broadcast(call.inputs[1], pad4(call.inputs[0])), lookup);
      const int64_t D = y4.dims[3];
      return stream.dispatch(Shader::kSoftmax, a, static_cast<uint64_t>(D == 0 ? 0 : y.numel() / D), false);
    }
    case PLINTH_OP_ROPE: {
      const int64_t D = y4.dims[3];
      const int64_t n_dims = p.rope.n_dims == 0 ? D : p.rope.n_dims;
      const int64_t per_head = n_dims / 2 + (D - n_dims);
      a.i[0] = p.rope.mode == PLINTH_ROPE_NEOX ? 1 : 0;
      a.i[1] = static_cast<int32_t>(per_head);
      a.i[2] = static_cast<int32_t>(n_dims);
      a.f[0] = p.rope.freq_base;
      a.f[1] = p.rope.freq_scale;
      a.t[0] = gpu(y, y4, lookup);
      a.t[1] = gpu(call.inputs[0], lookup);
      a.t[2] = gpu(call.inputs[1], lookup);
      return stream.dispatch(Shader::kRope, a,
                             static_cast<uint64_t>(y4.dims[0] * y4.dims[1] * y4.dims[2] * per_head), false);
    }
    case PLINTH_OP_ATTENTION: {
      const TensorView& q = call.inputs[0];
      const double D = static_cast<double>(q.dims[3]);
      a.f[0] = p.attention.scale == 0.0f ? static_cast<float>(1.0 / std::sqrt(std::max(D, 1.0)))
                                         : p.attention.scale;
      a.i[0] = p.attention.causal ? 1 : 0;
      a.t[0] = gpu(y, y4, lookup);
      a.t[1] = gpu(q, lookup);
      a.t[2] = gpu(call.inputs[1], lookup);
      a.t[3] = gpu(call.inputs[2], lookup);
      if (call.input(3) != nullptr) {
        View4 s4 = pad4(q);
        s4.dims[3] = call.inputs[1].dims[2];
        a.t[4] = gpu(call.inputs[3], broadcast(call.inputs[3], s4), lookup);
      }
      if (call.input(4) != nullptr) a.t[5] = gpu(call.inputs[4], lookup);
      return stream.dispatch(Shader::kAttention, a, static_cast<uint64_t>(y.numel()), false);
    }
    case PLINTH_OP_MEAN_POOL: {
      a.t[0] = gpu(y, y4, lookup);
      a.t[1] = gpu(call.inputs[0], lookup);
      if (call.input(1) != nullptr) a.t[2] = gpu(call.inputs[1], lookup);
      return stream.dispatch(Shader::kMeanPool, a, static_cast<uint64_t>(y.numel()), false);
    }
    case PLINTH_OP_TOP_K:
    case PLINTH_OP_ARGMAX: {
      const TensorView& x = call.inputs[0];
      const View4 x4 = pad4(x);
      a.t[1] = gpu(x, x4, lookup);
      if (call.op == PLINTH_OP_TOP_K) {
        a.i[0] = static_cast<int32_t>(p.top_k.k);
        a.t[0] = gpu(y, y4, lookup);
        a.t[2] = gpu(call.outputs[1], lookup);
      } else {
        a.i[0] = 1;
        View4 i4;  // [R] (or [1]) viewed as [1,1,R,1]
        i4.dims[2] = x4.dims[2];
        i4.strides[2] = y.ndim >= 1 ? y.strides[y.ndim - 1] : 0;
        a.t[2] = gpu(y, i4, lookup);
      }
      return stream.dispatch(Shader::kTopK, a, static_cast<uint64_t>(x4.dims[2]), false);
    }
    default:
      sdk::fail(PLINTH_ERROR_UNSUPPORTED,
                "op " + std::to_string(call.op) + " is not in the catalogue (ABI 1.2)");
  }
}

}  // namespace plinth::vulkan
