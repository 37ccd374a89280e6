#include <string>

#include "ops.hpp"
#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::cpu {
namespace {

bool is_float(const sdk::TensorView* t) { return t == nullptr || sdk::is_float(t->dtype); }
bool is_i32(const sdk::TensorView* t) { return t == nullptr || t->dtype == PLINTH_DTYPE_I32; }

std::string dtype_reason(const sdk::OpCall& call, const char* operand, const sdk::TensorView& t) {
  return std::string(sdk::op_name(call.op)) + ": " + operand + " dtype " + sdk::dtype_name(t.dtype) +
         " is not implemented by the cpu backend";
}

}  // namespace

Tensor resolve(const sdk::TensorView& view, std::byte* base) noexcept {
  Tensor t;
  t.data = base == nullptr ? nullptr : base + view.offset;
  t.dtype = view.dtype;
  t.ndim = view.ndim;
  const int shift = 4 - view.ndim;
  for (int i = 0; i < view.ndim; ++i) {
    t.dims[static_cast<size_t>(i + shift)] = view.dims[static_cast<size_t>(i)];
    t.strides[static_cast<size_t>(i + shift)] = view.strides[static_cast<size_t>(i)];
  }
  return t;
}

std::string unsupported_reason(const CpuDevice& /*device*/, const sdk::OpCall& call) {
  const auto* x = call.input(0);
  const sdk::TensorView& y = call.outputs[0];
  auto all_float_inputs = [&]() -> std::string {
    for (int i = 0; i < call.num_inputs; ++i) {
      if (!is_float(call.input(i))) return dtype_reason(call, "input", call.inputs[static_cast<size_t>(i)]);
    }
    if (!sdk::is_float(y.dtype)) return dtype_reason(call, "output", y);
    return {};
  };
  switch (call.op) {
    case PLINTH_OP_COPY:
      if (x != nullptr && ((sdk::is_float(x->dtype) && sdk::is_float(y.dtype)) ||
                           (x->dtype == PLINTH_DTYPE_I32 && y.dtype == PLINTH_DTYPE_I32))) {
        return {};
      }
      return "copy: " + std::string(x ? sdk::dtype_name(x->dtype) : "?") + " -> " + sdk::dtype_name(y.dtype) +
             " is not implemented by the cpu backend (float<->float and i32->i32 are)";
    case PLINTH_OP_FILL:
      return sdk::is_float(y.dtype) || y.dtype == PLINTH_DTYPE_I32 ? std::string()
                                                                   : dtype_reason(call, "output", y);
    case PLINTH_OP_ADD:
    case PLINTH_OP_MUL:
    case PLINTH_OP_SCALE:
    case PLINTH_OP_RMS_NORM:
    case PLINTH_OP_LAYER_NORM:
    case PLINTH_OP_SOFTMAX:
    case PLINTH_OP_GELU:
    case PLINTH_OP_SILU:
    case PLINTH_OP_SWIGLU:
    case PLINTH_OP_L2_NORMALIZE: return all_float_inputs();
    case PLINTH_OP_MATMUL: {
      const auto* b = call.input(1);
      if (!is_float(x)) return dtype_reason(call, "a", *x);
      if (!sdk::is_float(y.dtype)) return dtype_reason(call, "c", y);
      if (b != nullptr && !sdk::is_float(b->dtype) && !sdk::is_quantized(b->dtype))
        return dtype_reason(call, "b", *b);
      return {};
    }
    case PLINTH_OP_GET_ROWS:
      if (x != nullptr && !sdk::is_float(x->dtype) && !sdk::is_quantized(x->dtype))
        return dtype_reason(call, "table", *x);
      if (!is_i32(call.input(1))) return dtype_reason(call, "indices", call.inputs[1]);
      return sdk::is_float(y.dtype) ? std::string() : dtype_reason(call, "output", y);
    case PLINTH_OP_SET_ROWS:
      if (!is_float(x)) return dtype_reason(call, "src", *x);
      if (!is_i32(call.input(1))) return dtype_reason(call, "indices", call.inputs[1]);
      return sdk::is_float(y.dtype) ? std::string() : dtype_reason(call, "dst", y);
    case PLINTH_OP_PAGED_ATTENTION: {
      static constexpr const char* kFloatNames[] = {"q", "k_cache", "v_cache"};
      static constexpr const char* kIndexNames[] = {"block_table", "query_start", "context_lens"};
      for (int i = 0; i < 3; ++i) {
        if (!is_float(call.input(i)))
          return dtype_reason(call, kFloatNames[i], call.inputs[static_cast<size_t>(i)]);
        if (!is_i32(call.input(3 + i)))
          return dtype_reason(call, kIndexNames[i], call.inputs[static_cast<size_t>(3 + i)]);
      }
      return sdk::is_float(y.dtype) ? std::string() : dtype_reason(call, "o", y);
    }
    case PLINTH_OP_ROPE:
      if (!is_float(x)) return dtype_reason(call, "x", *x);
      if (!is_i32(call.input(1))) return dtype_reason(call, "positions", call.inputs[1]);
      return sdk::is_float(y.dtype) ? std::string() : dtype_reason(call, "output", y);
    case PLINTH_OP_ATTENTION:
      for (int i = 0; i < 4; ++i) {
        if (!is_float(call.input(i))) return dtype_reason(call, "input", call.inputs[static_cast<size_t>(i)]);
      }
      if (!is_i32(call.input(4))) return dtype_reason(call, "kv_lens", call.inputs[4]);
      return sdk::is_float(y.dtype) ? std::string() : dtype_reason(call, "output", y);
    case PLINTH_OP_MEAN_POOL: {
      const auto* mask = call.input(1);
      if (!is_float(x)) return dtype_reason(call, "x", *x);
      if (mask != nullptr && !sdk::is_float(mask->dtype) && mask->dtype != PLINTH_DTYPE_I32) {
        return dtype_reason(call, "mask", *mask);
      }
      return sdk::is_float(y.dtype) ? std::string() : dtype_reason(call, "output", y);
    }
    case PLINTH_OP_TOP_K:
      if (!is_float(x)) return dtype_reason(call, "x", *x);
      if (!sdk::is_float(y.dtype)) return dtype_reason(call, "values", y);
      if (call.outputs[1].dtype != PLINTH_DTYPE_I32) return dtype_reason(call, "indices", call.outputs[1]);
      return {};
    case PLINTH_OP_ARGMAX:
      if (!is_float(x)) return dtype_reason(call, "x", *x);
      return y.dtype == PLINTH_DTYPE_I32 ? std::string() : dtype_reason(call, "indices", y);
    default: return "op " + std::to_string(call.op) + " is not in the catalogue this plugin implements";
  }
}

void run_op(OpContext& ctx) {
  switch (ctx.call.op) {
    case PLINTH_OP_COPY: op_copy(ctx); break;
    case PLINTH_OP_FILL: op_fill(ctx); break;
    case PLINTH_OP_ADD:
    case PLINTH_OP_MUL: op_binary(ctx); break;
    case PLINTH_OP_SCALE:
    case PLINTH_OP_GELU:
    case PLINTH_OP_SILU: op_unary(ctx); break;
    case PLINTH_OP_SWIGLU: op_swiglu(ctx); break;
    case PLINTH_OP_RMS_NORM: op_rms_norm(ctx); break;
    case PLINTH_OP_LAYER_NORM: op_layer_norm(ctx); break;
    case PLINTH_OP_L2_NORMALIZE: op_l2_normalize(ctx); break;
    case PLINTH_OP_SOFTMAX: op_softmax(ctx); break;
    case PLINTH_OP_ROPE: op_rope(ctx); break;
    case PLINTH_OP_ATTENTION: op_attention(ctx); break;
    case PLINTH_OP_MATMUL:
      if (sdk::is_quantized(ctx.in[1].dtype)) {
        op_quant_matmul(ctx);
      } else {
        op_matmul(ctx);
      }
      break;
    case PLINTH_OP_GET_ROWS: op_get_rows(ctx); break;
    case PLINTH_OP_SET_ROWS: op_set_rows(ctx); break;
    case PLINTH_OP_PAGED_ATTENTION: op_paged_attention(ctx); break;
    case PLINTH_OP_MEAN_POOL: op_mean_pool(ctx); break;
    case PLINTH_OP_TOP_K: op_top_k(ctx); break;
    case PLINTH_OP_ARGMAX: op_argmax(ctx); break;
    default: sdk::fail(PLINTH_ERROR_UNSUPPORTED, "unknown op");
  }
}

}  // namespace plinth::cpu
