#include "plinth/ops.hpp"

#include "plinth/stream.hpp"

namespace plinth::ops {
namespace {

template <class P>
P init_params() {
  P p{};
  p.struct_size = sizeof(P);
  p.next = nullptr;
  return p;
}

OpCall make(plinth_op_t op, std::vector<std::optional<Tensor>> inputs, std::vector<Tensor> outputs) {
  OpCall call;
  call.op = op;
  call.inputs = std::move(inputs);
  call.outputs = std::move(outputs);
  return call;
}

}  // namespace

OpCall make_copy(const Tensor& x, const Tensor& y) { return make(PLINTH_OP_COPY, {x}, {y}); }

OpCall make_fill(const Tensor& y, double value) {
  OpCall call = make(PLINTH_OP_FILL, {}, {y});
  auto p = init_params<plinth_fill_params_t>();
  p.value = value;
  call.set_params(p);
  return call;
}

OpCall make_add(const Tensor& a, const Tensor& b, const Tensor& y) { return make(PLINTH_OP_ADD, {a, b}, {y}); }
OpCall make_mul(const Tensor& a, const Tensor& b, const Tensor& y) { return make(PLINTH_OP_MUL, {a, b}, {y}); }

OpCall make_scale(const Tensor& x, const Tensor& y, const ScaleOptions& options) {
  OpCall call = make(PLINTH_OP_SCALE, {x}, {y});
  auto p = init_params<plinth_scale_params_t>();
  p.scale = options.scale;
  p.bias = options.bias;
  call.set_params(p);
  return call;
}

OpCall make_matmul(const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& options) {
  OpCall call = make(PLINTH_OP_MATMUL, {a, b}, {c});
  auto p = init_params<plinth_matmul_params_t>();
  p.transpose_a = options.transpose_a ? 1 : 0;
  p.transpose_b = options.transpose_b ? 1 : 0;
  p.alpha = options.alpha;
  call.set_params(p);
  return call;
}

OpCall make_get_rows(const Tensor& table, const Tensor& indices, const Tensor& y) {
  return make(PLINTH_OP_GET_ROWS, {table, indices}, {y});
}

OpCall make_rms_norm(const Tensor& x, const OptTensor& weight, const Tensor& y, const NormOptions& options) {
  OpCall call = make(PLINTH_OP_RMS_NORM, {x, weight}, {y});
  auto p = init_params<plinth_norm_params_t>();
  p.eps = options.eps;
  call.set_params(p);
  return call;
}

OpCall make_layer_norm(const Tensor& x, const OptTensor& gamma, const OptTensor& beta, const Tensor& y,
                       const NormOptions& options) {
  OpCall call = make(PLINTH_OP_LAYER_NORM, {x, gamma, beta}, {y});
  auto p = init_params<plinth_norm_params_t>();
  p.eps = options.eps;
  call.set_params(p);
  return call;
}

OpCall make_softmax(const Tensor& x, const OptTensor& mask, const Tensor& y, const SoftmaxOptions& options) {
  OpCall call = make(PLINTH_OP_SOFTMAX, {x, mask}, {y});
  auto p = init_params<plinth_softmax_params_t>();
  p.scale = options.scale;
  p.causal = options.causal ? 1 : 0;
  call.set_params(p);
  return call;
}

OpCall make_gelu(const Tensor& x, const Tensor& y, const GeluOptions& options) {
  OpCall call = make(PLINTH_OP_GELU, {x}, {y});
  auto p = init_params<plinth_gelu_params_t>();
  p.approximation = static_cast<uint32_t>(options.approximation);
  call.set_params(p);
  return call;
}

OpCall make_silu(const Tensor& x, const Tensor& y) { return make(PLINTH_OP_SILU, {x}, {y}); }

OpCall make_swiglu(const Tensor& gate, const Tensor& up, const Tensor& y) {
  return make(PLINTH_OP_SWIGLU, {gate, up}, {y});
}

OpCall make_rope(const Tensor& x, const Tensor& positions, const Tensor& y, const RopeOptions& options) {
  OpCall call = make(PLINTH_OP_ROPE, {x, positions}, {y});
  auto p = init_params<plinth_rope_params_t>();
  p.mode = static_cast<uint32_t>(options.mode);
  p.n_dims = options.n_dims;
  p.freq_base = options.freq_base;
  p.freq_scale = options.freq_scale;
  call.set_params(p);
  return call;
}

OpCall make_attention(const Tensor& q, const Tensor& k, const Tensor& v, const OptTensor& mask,
                      const OptTensor& kv_lens, const Tensor& o, const AttentionOptions& options) {
  OpCall call = make(PLINTH_OP_ATTENTION, {q, k, v, mask, kv_lens}, {o});
  auto p = init_params<plinth_attention_params_t>();
  p.causal = options.causal ? 1 : 0;
  p.scale = options.scale;
  call.set_params(p);
  return call;
}

OpCall make_mean_pool(const Tensor& x, const OptTensor& mask, const Tensor& y) {
  return make(PLINTH_OP_MEAN_POOL, {x, mask}, {y});
}

OpCall make_l2_normalize(const Tensor& x, const Tensor& y, const NormOptions& options) {
  OpCall call = make(PLINTH_OP_L2_NORMALIZE, {x}, {y});
  auto p = init_params<plinth_norm_params_t>();
  p.eps = options.eps;
  call.set_params(p);
  return call;
}

OpCall make_top_k(const Tensor& x, const Tensor& values, const Tensor& indices, uint32_t k) {
  OpCall call = make(PLINTH_OP_TOP_K, {x}, {values, indices});
  auto p = init_params<plinth_top_k_params_t>();
  p.k = k;
  call.set_params(p);
  return call;
}

OpCall make_argmax(const Tensor& x, const Tensor& indices) { return make(PLINTH_OP_ARGMAX, {x}, {indices}); }

OpCall make_set_rows(const Tensor& src, const Tensor& indices, const Tensor& dst) {
  return make(PLINTH_OP_SET_ROWS, {src, indices}, {dst});
}

OpCall make_paged_attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                            const Tensor& block_table, const Tensor& query_start, const Tensor& context_lens,
                            const Tensor& o, const AttentionOptions& options) {
  OpCall call =
      make(PLINTH_OP_PAGED_ATTENTION, {q, k_cache, v_cache, block_table, query_start, context_lens}, {o});
  auto p = init_params<plinth_attention_params_t>();
  p.causal = options.causal ? 1 : 0;
  p.scale = options.scale;
  call.set_params(p);
  return call;
}

void copy(Stream& s, const Tensor& x, const Tensor& y) { s.launch(make_copy(x, y)); }
void fill(Stream& s, const Tensor& y, double value) { s.launch(make_fill(y, value)); }
void add(Stream& s, const Tensor& a, const Tensor& b, const Tensor& y) { s.launch(make_add(a, b, y)); }
void mul(Stream& s, const Tensor& a, const Tensor& b, const Tensor& y) { s.launch(make_mul(a, b, y)); }
void scale(Stream& s, const Tensor& x, const Tensor& y, const ScaleOptions& o) { s.launch(make_scale(x, y, o)); }
void matmul(Stream& s, const Tensor& a, const Tensor& b, const Tensor& c, const MatmulOptions& o) {
  s.launch(make_matmul(a, b, c, o));
}
void get_rows(Stream& s, const Tensor& table, const Tensor& indices, const Tensor& y) {
  s.launch(make_get_rows(table, indices, y));
}
void rms_norm(Stream& s, const Tensor& x, const OptTensor& w, const Tensor& y, const NormOptions& o) {
  s.launch(make_rms_norm(x, w, y, o));
}
void layer_norm(Stream& s, const Tensor& x, const OptTensor& g, const OptTensor& b, const Tensor& y,
                const NormOptions& o) {
  s.launch(make_layer_norm(x, g, b, y, o));
}
void softmax(Stream& s, const Tensor& x, const OptTensor& mask, const Tensor& y, const SoftmaxOptions& o) {
  s.launch(make_softmax(x, mask, y, o));
}
void gelu(Stream& s, const Tensor& x, const Tensor& y, const GeluOptions& o) { s.launch(make_gelu(x, y, o)); }
void silu(Stream& s, const Tensor& x, const Tensor& y) { s.launch(make_silu(x, y)); }
void swiglu(Stream& s, const Tensor& gate, const Tensor& up, const Tensor& y) { s.launch(make_swiglu(gate, up, y)); }
void rope(Stream& s, const Tensor& x, const Tensor& positions, const Tensor& y, const RopeOptions& o) {
  s.launch(make_rope(x, positions, y, o));
}
void attention(Stream& s, const Tensor& q, const Tensor& k, const Tensor& v, const OptTensor& mask,
               const OptTensor& kv_lens, const Tensor& o, const AttentionOptions& options) {
  s.launch(make_attention(q, k, v, mask, kv_lens, o, options));
}
void mean_pool(Stream& s, const Tensor& x, const OptTensor& mask, const Tensor& y) {
  s.launch(make_mean_pool(x, mask, y));
}
void l2_normalize(Stream& s, const Tensor& x, const Tensor& y, const NormOptions& o) {
  s.launch(make_l2_normalize(x, y, o));
}
void top_k(Stream& s, const Tensor& x, const Tensor& values, const Tensor& indices, uint32_t k) {
  s.launch(make_top_k(x, values, indices, k));
}
void argmax(Stream& s, const Tensor& x, const Tensor& indices) { s.launch(make_argmax(x, indices)); }

void set_rows(Stream& s, const Tensor& src, const Tensor& indices, const Tensor& dst) {
  s.launch(make_set_rows(src, indices, dst));
}
void paged_attention(Stream& s, const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                     const Tensor& block_table, const Tensor& query_start, const Tensor& context_lens,
                     const Tensor& o, const AttentionOptions& options) {
  s.launch(make_paged_attention(q, k_cache, v_cache, block_table, query_start, context_lens, o, options));
}

}  // namespace plinth::ops
