// parse_op_call: the one place where an op call's structs are read, defaulted and checked against
// the catalogue contract in plinth/ops.h. Every backend built on the SDK therefore accepts and
// rejects exactly the same calls, with the same messages.
#include "plinth/sdk/op_call.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "plinth/abi_lists.h"
#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/status.hpp"
#include "plinth/sdk/structs.hpp"

namespace plinth::sdk {
namespace {

// From the catalogue list in plinth/abi_lists.h: names, arities and slot names as ops.h writes them.
struct OpSpec {
  const char* name;
  int min_inputs;
  int max_inputs;
  int num_outputs;
  const char* inputs[kMaxOpInputs];
  const char* outputs[kMaxOpOutputs];
};

#define PLINTH_UNWRAP(...) __VA_ARGS__
#define PLINTH_OP_SPEC(ID, name, min_in, max_in, outs, ins, outnames) \
  {#name, min_in, max_in, outs, {PLINTH_UNWRAP ins}, {PLINTH_UNWRAP outnames}},
constexpr OpSpec kOpSpecs[PLINTH_OP_COUNT] = {PLINTH_OP_LIST(PLINTH_OP_SPEC)};
#undef PLINTH_OP_SPEC
#undef PLINTH_UNWRAP

const OpSpec* find_spec(plinth_op_t op) noexcept {
  return op >= 0 && op < PLINTH_OP_COUNT ? &kOpSpecs[op] : nullptr;
}

// A shape padded to PLINTH_MAX_DIMS with leading 1s, which is how broadcasting compares shapes.
using Padded = std::array<int64_t, PLINTH_MAX_DIMS>;

Padded padded(const TensorView& t, int drop_last = 0) {
  Padded p;
  p.fill(1);
  const int n = t.ndim - drop_last;
  for (int k = 0; k < n; ++k) p[PLINTH_MAX_DIMS - n + k] = t.dims[k];
  return p;
}

std::string dims_string(const Padded& p, int ndim) {
  std::string s = "[";
  for (int k = PLINTH_MAX_DIMS - ndim; k < PLINTH_MAX_DIMS; ++k) {
    if (k != PLINTH_MAX_DIMS - ndim) s += ",";
    s += std::to_string(p[k]);
  }
  return s + "]";
}

// Bytes one row of the innermost dimension occupies (elements for float/int, blocks for quantized).
uint64_t row_bytes(const TensorView& t) noexcept {
  const DtypeLayout layout = dtype_layout(t.dtype);
  if (layout.block_elems == 0) return 0;
  const int64_t inner = t.ndim == 0 ? 1 : t.dims[t.ndim - 1];
  return static_cast<uint64_t>(inner) / layout.block_elems * layout.block_bytes;
}

// Arithmetic on untrusted extents saturates instead of wrapping, so a huge tensor can never look
// like a small one.
uint64_t sat_add(uint64_t a, uint64_t b) noexcept {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}
uint64_t sat_mul(uint64_t a, uint64_t b) noexcept {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<uint64_t>::max() : r;
}

// Checks one call; each method throws with "<op>: <operand> <problem>".
class Checker {
 public:
  Checker(const OpSpec& spec, OpCall& call) : spec_(spec), call_(call) {}

  [[noreturn]] void invalid(const std::string& message) const {
    fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(spec_.name) + ": " + message);
  }

  const TensorView& in(int i) const { return call_.inputs[i]; }
  const TensorView& out(int i) const { return call_.outputs[i]; }
  const TensorView* opt(int i) const { return call_.input(i); }
  const char* in_name(int i) const { return spec_.inputs[i]; }
  const char* out_name(int i) const { return spec_.outputs[i]; }

  // Reads and checks the structural rules every tensor obeys, whatever the op.
  TensorView read_tensor(const plinth_tensor_t* t, const char* name) const {
    const std::string what = std::string(spec_.name) + ": " + name;
    const plinth_tensor_t raw = read_struct(t, plinth_tensor_t{}, sizeof(plinth_tensor_t), what.c_str());
    TensorView v;
    v.dtype = raw.dtype;
    v.buffer = raw.buffer;
    v.offset = raw.offset;
    const DtypeLayout layout = dtype_layout(raw.dtype);
    if (layout.block_bytes == 0) invalid(std::string(name) + " has unknown dtype " + std::to_string(raw.dtype));
    if (raw.ndim > PLINTH_MAX_DIMS) {
      invalid(std::string(name) + " has ndim " + std::to_string(raw.ndim) + " (at most " +
              std::to_string(PLINTH_MAX_DIMS) + ")");
    }
    v.ndim = static_cast<int>(raw.ndim);
    v.dims.fill(1);
    v.strides.fill(0);
    const bool quantized = is_quantized(raw.dtype);
    for (int k = 0; k < v.ndim; ++k) {
      if (raw.dims[k] < 0) invalid(std::string(name) + " has negative dims[" + std::to_string(k) + "]");
      // The innermost stride of a quantized tensor is ignored (its rows are packed blocks).
      const bool ignored = quantized && k == v.ndim - 1;
      if (!ignored && raw.strides[k] < 0) {
        invalid(std::string(name) + " has negative strides[" + std::to_string(k) + "]");
      }
      v.dims[k] = raw.dims[k];
      v.strides[k] = ignored ? 0 : raw.strides[k];
    }
    if (quantized) {
      if (v.ndim == 0) invalid(std::string(name) + " is a " + dtype_name(v.dtype) + " scalar; quantized tensors need ndim >= 1");
      if (v.dims[v.ndim - 1] % PLINTH_QUANT_BLOCK != 0) {
        invalid(std::string(name) + " is " + dtype_name(v.dtype) + " with innermost dim " +
                std::to_string(v.dims[v.ndim - 1]) + ", not a multiple of " + std::to_string(PLINTH_QUANT_BLOCK));
      }
    }
    int64_t n = 1;
    for (int k = 0; k < v.ndim; ++k) {
      if (__builtin_mul_overflow(n, v.dims[k], &n)) invalid(std::string(name) + " has more elements than int64 holds");
    }
    return v;
  }

  // ---- dtype classes ----
  void expect_float(const TensorView& t, const char* name) const {
    if (!is_float(t.dtype)) invalid(std::string(name) + " must be f32, f16 or bf16, not " + dtype_name(t.dtype));
  }
  void expect_i32(const TensorView& t, const char* name) const {
    if (t.dtype != PLINTH_DTYPE_I32) invalid(std::string(name) + " must be i32, not " + dtype_name(t.dtype));
  }
  void expect_float_or_quant(const TensorView& t, const char* name) const {
    if (!is_float(t.dtype) && !is_quantized(t.dtype)) {
      invalid(std::string(name) + " must be a float or block-quantized dtype, not " + dtype_name(t.dtype));
    }
  }

  // ---- shapes ----
  void expect_ndim(const TensorView& t, const char* name, int lo, int hi, const char* form) const {
    if (t.ndim < lo || t.ndim > hi) {
      invalid(std::string(name) + " must be " + form + " but is " + t.shape_string());
    }
  }
  void expect_same_shape(const TensorView& t, const char* name, const TensorView& ref, const char* ref_name) const {
    bool same = t.ndim == ref.ndim;
    for (int k = 0; same && k < t.ndim; ++k) same = t.dims[k] == ref.dims[k];
    if (!same) {
      invalid(std::string(name) + " has shape " + t.shape_string() + " but " + ref_name + " has " + ref.shape_string());
    }
  }
  // `t` broadcasts to the shape `target` (numpy rules: aligned at the last dim, extent 1 repeats).
  void expect_broadcasts(const TensorView& t, const char* name, const Padded& target, int target_ndim,
                         const char* target_what) const {
    const Padded p = padded(t);
    for (int k = 0; k < PLINTH_MAX_DIMS; ++k) {
      if (p[k] != 1 && p[k] != target[k]) {
        invalid(std::string(name) + " " + t.shape_string() + " does not broadcast to " + target_what + " " +
                dims_string(target, target_ndim));
      }
    }
  }
  int64_t last_dim(const TensorView& t, const char* name) const {
    if (t.ndim < 1) invalid(std::string(name) + " needs at least one dimension (the op works over the last)");
    return t.dims[t.ndim - 1];
  }
  void expect_vector(const TensorView& t, const char* name, int64_t length, const std::string& what) const {
    if (t.ndim != 1 || t.dims[0] != length) {
      invalid(std::string(name) + " must be [" + std::to_string(length) + "] (" + what + ") but is " + t.shape_string());
    }
  }

 private:
  const OpSpec& spec_;
  OpCall& call_;
};

// The defaults every op's parameters start from (abi.h rule 2: fields outside the caller's
// struct_size keep these).
OpParams default_params() {
  OpParams p;
  p.fill.struct_size = sizeof p.fill;
  p.scale.struct_size = sizeof p.scale;
  p.scale.scale = 1.0f;
  p.matmul.struct_size = sizeof p.matmul;
  p.matmul.alpha = 1.0f;
  p.norm.struct_size = sizeof p.norm;
  p.norm.eps = 1e-5f;
  p.softmax.struct_size = sizeof p.softmax;
  p.softmax.scale = 1.0f;
  p.gelu.struct_size = sizeof p.gelu;
  p.gelu.approximation = PLINTH_GELU_ERF;
  p.rope.struct_size = sizeof p.rope;
  p.rope.mode = PLINTH_ROPE_NORMAL;
  p.rope.freq_base = 10000.0f;
  p.rope.freq_scale = 1.0f;
  p.attention.struct_size = sizeof p.attention;
  p.top_k.struct_size = sizeof p.top_k;
  return p;
}

// Reads an op's params. The smallest accepted struct_size is the size through the struct's last
// meaningful field: trailing reserved padding may be missing, and so may fields whose documented
// default makes them optional (matmul alpha, scale bias).
template <class T>
void read_params(const void* params, T& inout, std::size_t min_size, bool required, const OpSpec& spec) {
  if (params == nullptr) {
    if (required) fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(spec.name) + ": params are required");
    return;
  }
  const std::string what = std::string(spec.name) + ": params";
  inout = read_struct(static_cast<const T*>(params), inout, min_size, what.c_str());
}

void parse_params(const OpSpec& spec, plinth_op_t op, const void* params, OpParams& p) {
  switch (op) {
    case PLINTH_OP_FILL:
      read_params(params, p.fill, PLINTH_STRUCT_SIZE_THROUGH(plinth_fill_params_t, value), true, spec);
      break;
    case PLINTH_OP_SCALE:
      read_params(params, p.scale, PLINTH_STRUCT_SIZE_THROUGH(plinth_scale_params_t, scale), true, spec);
      break;
    case PLINTH_OP_MATMUL:
      read_params(params, p.matmul, PLINTH_STRUCT_SIZE_THROUGH(plinth_matmul_params_t, transpose_b), false, spec);
      break;
    case PLINTH_OP_RMS_NORM:
    case PLINTH_OP_LAYER_NORM:
    case PLINTH_OP_L2_NORMALIZE:
      read_params(params, p.norm, PLINTH_STRUCT_SIZE_THROUGH(plinth_norm_params_t, eps), false, spec);
      break;
    case PLINTH_OP_SOFTMAX:
      read_params(params, p.softmax, PLINTH_STRUCT_SIZE_THROUGH(plinth_softmax_params_t, causal), false, spec);
      break;
    case PLINTH_OP_GELU:
      read_params(params, p.gelu, PLINTH_STRUCT_SIZE_THROUGH(plinth_gelu_params_t, approximation), false, spec);
      break;
    case PLINTH_OP_ROPE:
      read_params(params, p.rope, PLINTH_STRUCT_SIZE_THROUGH(plinth_rope_params_t, freq_scale), false, spec);
      break;
    case PLINTH_OP_ATTENTION:
    case PLINTH_OP_PAGED_ATTENTION:
      read_params(params, p.attention, PLINTH_STRUCT_SIZE_THROUGH(plinth_attention_params_t, scale), false, spec);
      break;
    case PLINTH_OP_TOP_K:
      read_params(params, p.top_k, PLINTH_STRUCT_SIZE_THROUGH(plinth_top_k_params_t, k), true, spec);
      break;
    default:
      break;  // no params; a non-NULL pointer is ignored as ops.h gives it no meaning
  }
}

void expect_flag(const Checker& c, uint32_t value, const char* field) {
  if (value > 1) c.invalid(std::string(field) + " must be 0 or 1, not " + std::to_string(value));
}

void expect_eps(const Checker& c, float eps) {
  if (!(eps > 0.0f)) c.invalid("eps must be > 0, not " + std::to_string(eps));
}

// ---- per-op rules (ops.h) ----

void check_copy(Checker& c) {
  const TensorView& x = c.in(0);
  const TensorView& y = c.out(0);
  const bool xi = x.dtype == PLINTH_DTYPE_I32;
  const bool yi = y.dtype == PLINTH_DTYPE_I32;
  if (!xi) c.expect_float(x, "x");
  if (!yi) c.expect_float(y, "y");
  if (xi != yi) {
    c.invalid(std::string("x is ") + dtype_name(x.dtype) + " and y is " + dtype_name(y.dtype) +
              "; i32 copies only to i32");
  }
  c.expect_same_shape(y, "y", x, "x");
}

void check_fill(Checker& c) {
  const TensorView& y = c.out(0);
  if (!is_float(y.dtype) && y.dtype != PLINTH_DTYPE_I32) {
    c.invalid(std::string("y must be a float dtype or i32, not ") + dtype_name(y.dtype));
  }
}

void check_binary(Checker& c) {
  const TensorView& a = c.in(0);
  const TensorView& b = c.in(1);
  const TensorView& y = c.out(0);
  c.expect_float(a, "a");
  c.expect_float(b, "b");
  c.expect_float(y, "y");
  // y must have the broadcast shape of a and b; like every shape comparison under broadcasting,
  // leading 1s do not count ([1,3] equals [3]).
  const Padded pa = padded(a);
  const Padded pb = padded(b);
  Padded shape;
  for (int k = 0; k < PLINTH_MAX_DIMS; ++k) {
    if (pa[k] != pb[k] && pa[k] != 1 && pb[k] != 1) {
      c.invalid("a " + a.shape_string() + " and b " + b.shape_string() + " do not broadcast together");
    }
    shape[k] = pa[k] == 1 ? pb[k] : pa[k];
  }
  const int ndim = std::max(a.ndim, b.ndim);
  if (padded(y) != shape) {
    c.invalid("y has shape " + y.shape_string() + " but the broadcast of a and b is " + dims_string(shape, ndim));
  }
}

void check_same_shape_unary(Checker& c) {
  c.expect_float(c.in(0), "x");
  c.expect_float(c.out(0), "y");
  c.expect_same_shape(c.out(0), "y", c.in(0), "x");
}

void check_matmul(Checker& c, const plinth_matmul_params_t& p) {
  const TensorView& a = c.in(0);
  const TensorView& b = c.in(1);
  const TensorView& out = c.out(0);
  expect_flag(c, p.transpose_a, "transpose_a");
  expect_flag(c, p.transpose_b, "transpose_b");
  c.expect_float(a, "a");
  c.expect_float_or_quant(b, "b");
  c.expect_float(out, "c");
  c.expect_ndim(a, "a", 2, 4, p.transpose_a ? "[..., K, M]" : "[..., M, K]");
  c.expect_ndim(b, "b", 2, 4, p.transpose_b ? "[..., N, K]" : "[..., K, N]");
  c.expect_ndim(out, "c", 2, 4, "[..., M, N]");
  const int64_t m = p.transpose_a ? a.dim(-1) : a.dim(-2);
  const int64_t ka = p.transpose_a ? a.dim(-2) : a.dim(-1);
  const int64_t kb = p.transpose_b ? b.dim(-1) : b.dim(-2);
  const int64_t n = p.transpose_b ? b.dim(-2) : b.dim(-1);
  if (kb != ka) c.invalid("b has K=" + std::to_string(kb) + " but a has K=" + std::to_string(ka));
  if (is_quantized(b.dtype)) {
    if (!p.transpose_b) {
      c.invalid(std::string("quantized b (") + dtype_name(b.dtype) + ") must be stored [N, K] with transpose_b = 1");
    }
    for (int k = 0; k < b.ndim - 2; ++k) {
      if (b.dims[k] != 1) c.invalid("quantized b " + b.shape_string() + " must have batch dims of extent 1");
    }
  }
  if (out.dim(-2) != m || out.dim(-1) != n) {
    c.invalid("c has shape " + out.shape_string() + " but op(a) @ op(b) is [..., " + std::to_string(m) + ", " +
              std::to_string(n) + "]");
  }
  const Padded ba = padded(a, 2);
  const Padded bb = padded(b, 2);
  Padded batch;
  for (int k = 0; k < PLINTH_MAX_DIMS; ++k) {
    if (ba[k] != bb[k] && ba[k] != 1 && bb[k] != 1) {
      c.invalid("batch dims of a " + a.shape_string() + " and b " + b.shape_string() + " do not broadcast together");
    }
    batch[k] = ba[k] == 1 ? bb[k] : ba[k];
  }
  const int batch_ndim = std::max(a.ndim, b.ndim) - 2;
  if (padded(out, 2) != batch) {
    c.invalid("c has batch dims " + dims_string(padded(out, 2), out.ndim - 2) + " but the broadcast of a's and b's is " +
              dims_string(batch, batch_ndim));
  }
}

void check_get_rows(Checker& c) {
  const TensorView& table = c.in(0);
  const TensorView& indices = c.in(1);
  const TensorView& y = c.out(0);
  c.expect_float_or_quant(table, "table");
  c.expect_i32(indices, "indices");
  c.expect_float(y, "y");
  c.expect_ndim(table, "table", 2, 2, "[R, D]");
  c.expect_ndim(indices, "indices", 1, 1, "[N]");
  const int64_t n = indices.dims[0];
  const int64_t d = table.dims[1];
  if (y.ndim != 2 || y.dims[0] != n || y.dims[1] != d) {
    c.invalid("y must be [N, D] = [" + std::to_string(n) + "," + std::to_string(d) + "] but is " + y.shape_string());
  }
}

void check_norm(Checker& c, const plinth_norm_params_t& p, int num_vectors) {
  const TensorView& x = c.in(0);
  c.expect_float(x, "x");
  c.expect_float(c.out(0), "y");
  const int64_t d = c.last_dim(x, "x");
  c.expect_same_shape(c.out(0), "y", x, "x");
  for (int i = 1; i <= num_vectors; ++i) {
    if (const TensorView* w = c.opt(i)) {
      c.expect_float(*w, c.in_name(i));
      c.expect_vector(*w, c.in_name(i), d, "D, the last dim of x");
    }
  }
  expect_eps(c, p.eps);
}

void check_softmax(Checker& c, const plinth_softmax_params_t& p) {
  const TensorView& x = c.in(0);
  c.expect_float(x, "x");
  c.expect_float(c.out(0), "y");
  c.last_dim(x, "x");
  c.expect_same_shape(c.out(0), "y", x, "x");
  if (const TensorView* mask = c.opt(1)) {
    c.expect_float(*mask, "mask");
    c.expect_broadcasts(*mask, "mask", padded(x), x.ndim, "x's shape");
  }
  expect_flag(c, p.causal, "causal");
}

void check_rope(Checker& c, plinth_rope_params_t& p) {
  const TensorView& x = c.in(0);
  const TensorView& pos = c.in(1);
  c.expect_float(x, "x");
  c.expect_float(c.out(0), "y");
  c.expect_i32(pos, "positions");
  c.expect_ndim(x, "x", 3, 4, "[B, S, H, D] or [S, H, D]");
  c.expect_same_shape(c.out(0), "y", x, "x");
  const int64_t b = x.ndim == 4 ? x.dims[0] : 1;
  const int64_t s = x.dim(-3);
  const int64_t d = x.dim(-1);
  const bool ok_pos = (pos.ndim == 1 && pos.dims[0] == s) || (pos.ndim == 2 && pos.dims[0] == b && pos.dims[1] == s);
  if (!ok_pos) {
    c.invalid("positions must be [S] = [" + std::to_string(s) + "] or [B, S] = [" + std::to_string(b) + "," +
              std::to_string(s) + "] but is " + pos.shape_string());
  }
  if (p.mode != PLINTH_ROPE_NORMAL && p.mode != PLINTH_ROPE_NEOX) {
    c.invalid("mode must be PLINTH_ROPE_NORMAL or PLINTH_ROPE_NEOX, not " + std::to_string(p.mode));
  }
  if (p.n_dims == 0) {
    if (d % 2 != 0) c.invalid("n_dims 0 means D = " + std::to_string(d) + ", which is odd");
    p.n_dims = static_cast<uint32_t>(d);
  }
  if (p.n_dims % 2 != 0) c.invalid("n_dims " + std::to_string(p.n_dims) + " is odd");
  if (static_cast<int64_t>(p.n_dims) > d) {
    c.invalid("n_dims " + std::to_string(p.n_dims) + " exceeds D = " + std::to_string(d));
  }
  if (!(p.freq_base > 0.0f) || !std::isfinite(p.freq_base)) {
    c.invalid("freq_base must be finite and > 0, not " + std::to_string(p.freq_base));
  }
  if (!std::isfinite(p.freq_scale)) c.invalid("freq_scale must be finite");
}

// The score scale shared by ATTENTION and PAGED_ATTENTION: finite; 0 means 1/sqrt(D), or 1 when D = 0
// (every score is 0 then whatever the scale; 1 avoids an infinite default).
void resolve_attention_scale(const Checker& c, plinth_attention_params_t& p, int64_t d) {
  expect_flag(c, p.causal, "causal");
  if (!std::isfinite(p.scale)) c.invalid("scale must be finite");
  if (p.scale == 0.0f) p.scale = d > 0 ? 1.0f / std::sqrt(static_cast<float>(d)) : 1.0f;
}

void check_attention(Checker& c, plinth_attention_params_t& p) {
  const TensorView& q = c.in(0);
  const TensorView& k = c.in(1);
  const TensorView& v = c.in(2);
  const TensorView& o = c.out(0);
  c.expect_float(q, "q");
  c.expect_float(k, "k");
  c.expect_float(v, "v");
  c.expect_float(o, "o");
  c.expect_ndim(q, "q", 4, 4, "[B, Hq, Sq, D]");
  c.expect_ndim(k, "k", 4, 4, "[B, Hkv, Skv, D]");
  c.expect_ndim(v, "v", 4, 4, "[B, Hkv, Skv, Dv]");
  c.expect_ndim(o, "o", 4, 4, "[B, Hq, Sq, Dv]");
  const int64_t b = q.dims[0], hq = q.dims[1], sq = q.dims[2], d = q.dims[3];
  const int64_t hkv = k.dims[1], skv = k.dims[2], dv = v.dims[3];
  if (k.dims[0] != b) c.invalid("k has B=" + std::to_string(k.dims[0]) + " but q has B=" + std::to_string(b));
  if (k.dims[3] != d) c.invalid("k has D=" + std::to_string(k.dims[3]) + " but q has D=" + std::to_string(d));
  if (v.dims[0] != b || v.dims[1] != hkv || v.dims[2] != skv) {
    c.invalid("v " + v.shape_string() + " must be [B, Hkv, Skv, Dv] with B, Hkv, Skv of k " + k.shape_string());
  }
  if (hkv == 0 ? hq != 0 : hq % hkv != 0) {
    c.invalid("q has Hq=" + std::to_string(hq) + " heads, not a multiple of k's Hkv=" + std::to_string(hkv));
  }
  if (o.dims != std::array<int64_t, PLINTH_MAX_DIMS>{b, hq, sq, dv}) {
    c.invalid("o must be [B, Hq, Sq, Dv] = " + dims_string(Padded{b, hq, sq, dv}, 4) + " but is " + o.shape_string());
  }
  if (const TensorView* mask = c.opt(3)) {
    c.expect_float(*mask, "mask");
    c.expect_broadcasts(*mask, "mask", Padded{b, hq, sq, skv}, 4, "[B, Hq, Sq, Skv]");
  }
  if (const TensorView* lens = c.opt(4)) {
    c.expect_i32(*lens, "kv_lens");
    c.expect_vector(*lens, "kv_lens", b, "B");
  }
  resolve_attention_scale(c, p, d);
}

void check_set_rows(Checker& c) {
  const TensorView& src = c.in(0);
  const TensorView& indices = c.in(1);
  const TensorView& dst = c.out(0);
  c.expect_float(src, "src");
  c.expect_i32(indices, "indices");
  c.expect_float(dst, "dst");
  c.expect_ndim(src, "src", 2, 2, "[N, W]");
  c.expect_ndim(indices, "indices", 1, 1, "[N]");
  c.expect_ndim(dst, "dst", 2, 2, "[R, W]");
  if (indices.dims[0] != src.dims[0]) {
    c.invalid("indices must be [N] = [" + std::to_string(src.dims[0]) + "] but is " + indices.shape_string());
  }
  if (dst.dims[1] != src.dims[1]) {
    c.invalid("dst must have W = " + std::to_string(src.dims[1]) + " columns like src but is " +
              dst.shape_string());
  }
}

void check_paged_attention(Checker& c, plinth_attention_params_t& p) {
  const TensorView& q = c.in(0);
  const TensorView& k = c.in(1);
  const TensorView& v = c.in(2);
  const TensorView& table = c.in(3);
  const TensorView& starts = c.in(4);
  const TensorView& lens = c.in(5);
  const TensorView& o = c.out(0);
  c.expect_float(q, "q");
  c.expect_float(k, "k_cache");
  c.expect_float(v, "v_cache");
  c.expect_float(o, "o");
  c.expect_i32(table, "block_table");
  c.expect_i32(starts, "query_start");
  c.expect_i32(lens, "context_lens");
  c.expect_ndim(q, "q", 3, 3, "[T, Hq, D]");
  c.expect_ndim(k, "k_cache", 4, 4, "[NB, BS, Hkv, D]");
  c.expect_ndim(v, "v_cache", 4, 4, "[NB, BS, Hkv, Dv]");
  c.expect_ndim(table, "block_table", 2, 2, "[S, MB]");
  c.expect_ndim(o, "o", 3, 3, "[T, Hq, Dv]");
  const int64_t t = q.dims[0], hq = q.dims[1], d = q.dims[2];
  const int64_t hkv = k.dims[2], dv = v.dims[3], s = table.dims[0];
  if (k.dims[3] != d)
    c.invalid("k_cache has D=" + std::to_string(k.dims[3]) + " but q has D=" + std::to_string(d));
  if (v.dims[0] != k.dims[0] || v.dims[1] != k.dims[1] || v.dims[2] != hkv) {
    c.invalid("v_cache " + v.shape_string() + " must be [NB, BS, Hkv, Dv] with NB, BS, Hkv of k_cache " +
              k.shape_string());
  }
  if (k.dims[1] < 1) c.invalid("k_cache must have a block size BS >= 1, not " + k.shape_string());
  if (hkv == 0 ? hq != 0 : hq % hkv != 0) {
    c.invalid("q has Hq=" + std::to_string(hq) +
              " heads, not a multiple of k_cache's Hkv=" + std::to_string(hkv));
  }
  c.expect_vector(starts, "query_start", s + 1, "S + 1");
  c.expect_vector(lens, "context_lens", s, "S");
  if (o.dims[0] != t || o.dims[1] != hq || o.dims[2] != dv) {
    c.invalid("o must be [T, Hq, Dv] = " + dims_string(Padded{t, hq, dv}, 3) + " but is " + o.shape_string());
  }
  resolve_attention_scale(c, p, d);
}

void check_mean_pool(Checker& c) {
  const TensorView& x = c.in(0);
  const TensorView& y = c.out(0);
  c.expect_float(x, "x");
  c.expect_float(y, "y");
  c.expect_ndim(x, "x", 3, 3, "[B, S, D]");
  const int64_t b = x.dims[0], s = x.dims[1], d = x.dims[2];
  if (const TensorView* mask = c.opt(1)) {
    if (!is_float(mask->dtype) && mask->dtype != PLINTH_DTYPE_I32) {
      c.invalid(std::string("mask must be a float dtype or i32, not ") + dtype_name(mask->dtype));
    }
    if (mask->ndim != 2 || mask->dims[0] != b || mask->dims[1] != s) {
      c.invalid("mask must be [B, S] = [" + std::to_string(b) + "," + std::to_string(s) + "] but is " +
                mask->shape_string());
    }
  }
  if (y.ndim != 2 || y.dims[0] != b || y.dims[1] != d) {
    c.invalid("y must be [B, D] = [" + std::to_string(b) + "," + std::to_string(d) + "] but is " + y.shape_string());
  }
}

// Rows R and row length N of a [R, N] or [N] input of top_k / argmax.
std::pair<int64_t, int64_t> rows_of(const Checker& c, const TensorView& x) {
  c.expect_float(x, "x");
  c.expect_ndim(x, "x", 1, 2, "[R, N] or [N]");
  return x.ndim == 1 ? std::pair<int64_t, int64_t>{1, x.dims[0]} : std::pair<int64_t, int64_t>{x.dims[0], x.dims[1]};
}

void check_top_k(Checker& c, const plinth_top_k_params_t& p) {
  const TensorView& x = c.in(0);
  const auto [r, n] = rows_of(c, x);
  if (p.k < 1 || static_cast<int64_t>(p.k) > n) {
    c.invalid("k=" + std::to_string(p.k) + " is outside [1, N=" + std::to_string(n) + "]");
  }
  const int64_t k = p.k;
  c.expect_float(c.out(0), "values");
  c.expect_i32(c.out(1), "indices");
  for (int i = 0; i < 2; ++i) {
    const TensorView& t = c.out(i);
    // An [N] input yields [k] (or [1, k]); an [R, N] input yields [R, k].
    const bool ok = (t.ndim == 2 && t.dims[0] == r && t.dims[1] == k) || (x.ndim == 1 && t.ndim == 1 && t.dims[0] == k);
    if (!ok) {
      c.invalid(std::string(c.out_name(i)) + " must be [R, k] = [" + std::to_string(r) + "," + std::to_string(k) +
                "] but is " + t.shape_string());
    }
  }
}

void check_argmax(Checker& c) {
  const TensorView& x = c.in(0);
  const auto [r, n] = rows_of(c, x);
  if (n == 0 && r > 0) c.invalid("x has rows of N=0 elements, which have no maximum");
  c.expect_i32(c.out(0), "indices");
  c.expect_vector(c.out(0), "indices", r, "R");
}

}  // namespace

// ---- TensorView ----

int64_t TensorView::numel() const noexcept {
  int64_t n = 1;
  for (int k = 0; k < ndim; ++k) n *= dims[k];
  return n;
}

bool TensorView::contiguous() const noexcept {
  const DtypeLayout layout = dtype_layout(dtype);
  if (layout.block_elems == 0) return false;
  if (numel() == 0) return true;
  // Quantized rows are packed blocks: density starts one dim further out, at the row stride.
  const bool blocks = layout.block_elems > 1;
  int64_t expected = blocks ? static_cast<int64_t>(row_bytes(*this)) : layout.block_bytes;
  // Extent-1 dims never step, so their strides do not matter for density.
  for (int k = blocks ? ndim - 2 : ndim - 1; k >= 0; --k) {
    if (dims[k] != 1 && strides[k] != expected) return false;
    expected *= dims[k];
  }
  return true;
}

uint64_t TensorView::end_byte() const noexcept {
  if (numel() == 0) return 0;
  const DtypeLayout layout = dtype_layout(dtype);
  const bool blocks = layout.block_elems > 1;
  uint64_t end = offset;
  const int strided = blocks ? ndim - 1 : ndim;
  for (int k = 0; k < strided; ++k) {
    end = sat_add(end, sat_mul(static_cast<uint64_t>(dims[k] - 1), static_cast<uint64_t>(strides[k])));
  }
  return sat_add(end, blocks ? row_bytes(*this) : layout.block_bytes);
}

std::string TensorView::shape_string() const {
  std::string s = std::string(dtype_name(dtype)) + "[";
  for (int k = 0; k < ndim; ++k) {
    if (k != 0) s += ",";
    s += std::to_string(dims[k]);
  }
  return s + "]";
}

// ---- catalogue facts ----

const char* op_name(plinth_op_t op) noexcept {
  const OpSpec* spec = find_spec(op);
  return spec != nullptr ? spec->name : "?";
}

bool op_arity(plinth_op_t op, int* min_inputs, int* max_inputs, int* outputs) noexcept {
  const OpSpec* spec = find_spec(op);
  if (spec == nullptr) return false;
  if (min_inputs != nullptr) *min_inputs = spec->min_inputs;
  if (max_inputs != nullptr) *max_inputs = spec->max_inputs;
  if (outputs != nullptr) *outputs = spec->num_outputs;
  return true;
}

// ---- parse_op_call ----

namespace {

// An extension op's spec in the catalogue's shape, with slot names for messages.
OpSpec extension_spec(const ExtensionSpec& ext) {
  static constexpr const char* kIn[kMaxOpInputs] = {"in0", "in1", "in2", "in3", "in4", "in5", "in6", "in7"};
  static constexpr const char* kOut[kMaxOpOutputs] = {"out0", "out1", "out2", "out3"};
  OpSpec spec{ext.name,
              ext.min_inputs,
              std::min(ext.max_inputs, kMaxOpInputs),
              std::min(ext.num_outputs, kMaxOpOutputs),
              {},
              {}};
  std::copy(std::begin(kIn), std::end(kIn), spec.inputs);
  std::copy(std::begin(kOut), std::end(kOut), spec.outputs);
  return spec;
}

// Arity and the structure of every tensor: what holds for any op, catalogue or extension.
void read_operands(const plinth_op_call_t& raw, const OpSpec& spec, Checker& c, OpCall& out) {
  // Arity: optional slots are trailing and may be omitted or passed as NULL.
  if (static_cast<int64_t>(raw.num_inputs) < spec.min_inputs ||
      static_cast<int64_t>(raw.num_inputs) > spec.max_inputs) {
    c.invalid("takes " +
              (spec.min_inputs == spec.max_inputs
                   ? std::to_string(spec.min_inputs)
                   : std::to_string(spec.min_inputs) + ".." + std::to_string(spec.max_inputs)) +
              " inputs, not " + std::to_string(raw.num_inputs));
  }
  if (static_cast<int64_t>(raw.num_outputs) != spec.num_outputs) {
    c.invalid("takes " + std::to_string(spec.num_outputs) + " output" + (spec.num_outputs == 1 ? "" : "s") +
              ", not " + std::to_string(raw.num_outputs));
  }
  out.num_inputs = static_cast<int>(raw.num_inputs);
  out.num_outputs = static_cast<int>(raw.num_outputs);
  if (out.num_inputs > 0 && raw.inputs == nullptr) c.invalid("inputs array is NULL");
  if (raw.outputs == nullptr) c.invalid("outputs array is NULL");
  for (int i = 0; i < out.num_inputs; ++i) {
    const plinth_tensor_t* t = raw.inputs[i];
    if (t == nullptr) {
      if (i < spec.min_inputs) c.invalid(std::string("input ") + spec.inputs[i] + " is NULL but required");
      continue;
    }
    out.inputs[i] = c.read_tensor(t, spec.inputs[i]);
    out.has_input[i] = true;
  }
  for (int i = 0; i < out.num_outputs; ++i) {
    if (raw.outputs[i] == nullptr) c.invalid(std::string("output ") + spec.outputs[i] + " is NULL");
    out.outputs[i] = c.read_tensor(raw.outputs[i], spec.outputs[i]);
  }
}

// An extension's params: a header like the catalogue's (struct_size, reserved0, next), then the
// vendor's fields, kept as bytes cut or zero-padded to the plugin's size (abi.h rule 2).
void read_extension_params(const void* params, const ExtensionSpec& ext, Checker& c, OpCall& out) {
  if (params == nullptr) return;  // left empty, so a backend can tell "no params" from zeros
  if (ext.params_size == 0) c.invalid("takes no params, but params are set");
  uint32_t size = 0;
  std::memcpy(&size, params, sizeof size);
  if (size < PLINTH_STRUCT_SIZE_THROUGH(plinth_fill_params_t, next)) {
    c.invalid("params struct_size " + std::to_string(size) + " is below its 16-byte header");
  }
  out.extension_params.assign(ext.params_size, std::byte{0});
  std::memcpy(out.extension_params.data(), params, std::min<std::size_t>(size, ext.params_size));
}

// Range checks last, so a malformed call is INVALID_ARGUMENT even when it also overruns.
void check_ranges(const OpSpec& spec, const OpCall& out, const BufferSizeFn& buffer_size) {
  if (!buffer_size) return;
  auto check_range = [&](const TensorView& t, const char* name) {
    if (t.buffer == nullptr) return;
    const uint64_t size = buffer_size(t.buffer);
    const uint64_t end = t.end_byte();
    if (end > size) {
      fail(PLINTH_ERROR_OUT_OF_RANGE,
           std::string(spec.name) + ": " + name + " " + t.shape_string() + " at offset " +
               std::to_string(t.offset) + " reaches byte " +
               (end == std::numeric_limits<uint64_t>::max() ? std::string("beyond 2^64")
                                                            : std::to_string(end)) +
               " but its buffer holds " + std::to_string(size) + " bytes");
    }
  };
  for (int i = 0; i < out.num_inputs; ++i) {
    if (out.has_input[i]) check_range(out.inputs[i], spec.inputs[i]);
  }
  for (int i = 0; i < out.num_outputs; ++i) check_range(out.outputs[i], spec.outputs[i]);
}

}  // namespace

OpCall parse_op_call(const plinth_op_call_t* call, const BufferSizeFn& buffer_size,
                     std::span<const ExtensionSpec> extensions) {
  const plinth_op_call_t raw = read_struct(call, plinth_op_call_t{}, sizeof(plinth_op_call_t), "op call");
  OpCall out;
  out.op = raw.op;
  if (raw.op >= PLINTH_OP_EXTENSION_FIRST) {
    const uint64_t index = static_cast<uint64_t>(raw.op) - PLINTH_OP_EXTENSION_FIRST;
    if (index >= extensions.size()) {
      fail(PLINTH_ERROR_UNSUPPORTED, "unknown extension op id " + std::to_string(raw.op) +
                                         " (this device has " + std::to_string(extensions.size()) +
                                         " extension ops)");
    }
    out.extension = &extensions[index];
    const OpSpec spec = extension_spec(*out.extension);
    Checker c(spec, out);
    read_operands(raw, spec, c, out);
    read_extension_params(raw.params, *out.extension, c, out);
    check_ranges(spec, out, buffer_size);
    return out;
  }
  const OpSpec* spec = find_spec(raw.op);
  if (spec == nullptr) fail(PLINTH_ERROR_UNSUPPORTED, "unknown op id " + std::to_string(raw.op));
  out.params = default_params();
  Checker c(*spec, out);
  read_operands(raw, *spec, c, out);
  parse_params(*spec, raw.op, raw.params, out.params);
  OpParams& p = out.params;
  switch (raw.op) {
    case PLINTH_OP_COPY: check_copy(c); break;
    case PLINTH_OP_FILL: check_fill(c); break;
    case PLINTH_OP_ADD:
    case PLINTH_OP_MUL: check_binary(c); break;
    case PLINTH_OP_SCALE:
    case PLINTH_OP_SILU: check_same_shape_unary(c); break;
    case PLINTH_OP_GELU:
      check_same_shape_unary(c);
      if (p.gelu.approximation != PLINTH_GELU_ERF && p.gelu.approximation != PLINTH_GELU_TANH) {
        c.invalid("approximation must be PLINTH_GELU_ERF or PLINTH_GELU_TANH, not " +
                  std::to_string(p.gelu.approximation));
      }
      break;
    case PLINTH_OP_SWIGLU:
      c.expect_float(c.in(0), "gate");
      c.expect_float(c.in(1), "up");
      c.expect_float(c.out(0), "y");
      c.expect_same_shape(c.in(1), "up", c.in(0), "gate");
      c.expect_same_shape(c.out(0), "y", c.in(0), "gate");
      break;
    case PLINTH_OP_MATMUL: check_matmul(c, p.matmul); break;
    case PLINTH_OP_GET_ROWS: check_get_rows(c); break;
    case PLINTH_OP_RMS_NORM: check_norm(c, p.norm, 1); break;
    case PLINTH_OP_LAYER_NORM: check_norm(c, p.norm, 2); break;
    case PLINTH_OP_L2_NORMALIZE: check_norm(c, p.norm, 0); break;
    case PLINTH_OP_SOFTMAX:
      check_softmax(c, p.softmax);
      if (p.softmax.scale == 0.0f) p.softmax.scale = 1.0f;
      break;
    case PLINTH_OP_ROPE: check_rope(c, p.rope); break;
    case PLINTH_OP_ATTENTION: check_attention(c, p.attention); break;
    case PLINTH_OP_MEAN_POOL: check_mean_pool(c); break;
    case PLINTH_OP_TOP_K: check_top_k(c, p.top_k); break;
    case PLINTH_OP_ARGMAX: check_argmax(c); break;
    case PLINTH_OP_SET_ROWS: check_set_rows(c); break;
    case PLINTH_OP_PAGED_ATTENTION: check_paged_attention(c, p.attention); break;
    default: break;
  }

  check_ranges(*spec, out, buffer_size);
  return out;
}

}  // namespace plinth::sdk
