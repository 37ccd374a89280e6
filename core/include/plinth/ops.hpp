// Typed front end for every op of the catalogue (plinth/ops.h). Each function builds the OpCall with
// the current parameter struct sizes and launches it on `stream`; semantics, shapes and dtypes are
// those of plinth/ops.h. make_* functions build the OpCall without launching (for supports() queries,
// benchmarks, graphs).
//   plinth::ops::matmul(stream, a, b, c, {.transpose_b = true});
#pragma once

#include <cstdint>
#include <optional>

#include "plinth/export.hpp"
#include "plinth/op_call.hpp"
#include "plinth/tensor.hpp"

namespace plinth {

class Stream;

namespace ops {

using OptTensor = std::optional<Tensor>;

struct MatmulOptions {
  bool transpose_a = false;
  bool transpose_b = false;
  float alpha = 1.0f;
};
struct ScaleOptions {
  float scale = 1.0f;
  float bias = 0.0f;
};
struct NormOptions {
  float eps = 1e-5f;
};
struct SoftmaxOptions {
  float scale = 1.0f;
  bool causal = false;
};
enum class GeluApprox : uint32_t { erf = PLINTH_GELU_ERF, tanh = PLINTH_GELU_TANH };
struct GeluOptions {
  GeluApprox approximation = GeluApprox::erf;
};
enum class RopeMode : uint32_t { normal = PLINTH_ROPE_NORMAL, neox = PLINTH_ROPE_NEOX };
struct RopeOptions {
  RopeMode mode = RopeMode::normal;
  uint32_t n_dims = 0;  // 0: all of D
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
};
struct AttentionOptions {
  bool causal = false;
  float scale = 0.0f;  // 0: 1/sqrt(D)
};

// ---- OpCall builders ----------------------------------------------------------------------------
PLINTH_CORE_API OpCall make_copy(const Tensor& x, const Tensor& y);
PLINTH_CORE_API OpCall make_fill(const Tensor& y, double value);
PLINTH_CORE_API OpCall make_add(const Tensor& a, const Tensor& b, const Tensor& y);
PLINTH_CORE_API OpCall make_mul(const Tensor& a, const Tensor& b, const Tensor& y);
PLINTH_CORE_API OpCall make_scale(const Tensor& x, const Tensor& y, const ScaleOptions& options);
PLINTH_CORE_API OpCall make_matmul(const Tensor& a, const Tensor& b, const Tensor& c,
                                   const MatmulOptions& options = {});
PLINTH_CORE_API OpCall make_get_rows(const Tensor& table, const Tensor& indices, const Tensor& y);
PLINTH_CORE_API OpCall make_rms_norm(const Tensor& x, const OptTensor& weight, const Tensor& y,
                                     const NormOptions& options = {});
PLINTH_CORE_API OpCall make_layer_norm(const Tensor& x, const OptTensor& gamma, const OptTensor& beta,
                                       const Tensor& y, const NormOptions& options = {});
PLINTH_CORE_API OpCall make_softmax(const Tensor& x, const OptTensor& mask, const Tensor& y,
                                    const SoftmaxOptions& options = {});
PLINTH_CORE_API OpCall make_gelu(const Tensor& x, const Tensor& y, const GeluOptions& options = {});
PLINTH_CORE_API OpCall make_silu(const Tensor& x, const Tensor& y);
PLINTH_CORE_API OpCall make_swiglu(const Tensor& gate, const Tensor& up, const Tensor& y);
PLINTH_CORE_API OpCall make_rope(const Tensor& x, const Tensor& positions, const Tensor& y,
                                 const RopeOptions& options = {});
PLINTH_CORE_API OpCall make_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                      const OptTensor& mask, const OptTensor& kv_lens, const Tensor& o,
                                      const AttentionOptions& options = {});
PLINTH_CORE_API OpCall make_mean_pool(const Tensor& x, const OptTensor& mask, const Tensor& y);
PLINTH_CORE_API OpCall make_l2_normalize(const Tensor& x, const Tensor& y, const NormOptions& options = {});
PLINTH_CORE_API OpCall make_top_k(const Tensor& x, const Tensor& values, const Tensor& indices, uint32_t k);
PLINTH_CORE_API OpCall make_argmax(const Tensor& x, const Tensor& indices);
// ABI 1.2: the paged KV cache.
PLINTH_CORE_API OpCall make_set_rows(const Tensor& src, const Tensor& indices, const Tensor& dst);
PLINTH_CORE_API OpCall make_paged_attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                                            const Tensor& block_table, const Tensor& query_start,
                                            const Tensor& context_lens, const Tensor& o,
                                            const AttentionOptions& options = {});

// ---- Launchers ----------------------------------------------------------------------------------
PLINTH_CORE_API void copy(Stream& stream, const Tensor& x, const Tensor& y);
PLINTH_CORE_API void fill(Stream& stream, const Tensor& y, double value);
PLINTH_CORE_API void add(Stream& stream, const Tensor& a, const Tensor& b, const Tensor& y);
PLINTH_CORE_API void mul(Stream& stream, const Tensor& a, const Tensor& b, const Tensor& y);
PLINTH_CORE_API void scale(Stream& stream, const Tensor& x, const Tensor& y, const ScaleOptions& options);
PLINTH_CORE_API void matmul(Stream& stream, const Tensor& a, const Tensor& b, const Tensor& c,
                            const MatmulOptions& options = {});
PLINTH_CORE_API void get_rows(Stream& stream, const Tensor& table, const Tensor& indices, const Tensor& y);
PLINTH_CORE_API void rms_norm(Stream& stream, const Tensor& x, const OptTensor& weight, const Tensor& y,
                              const NormOptions& options = {});
PLINTH_CORE_API void layer_norm(Stream& stream, const Tensor& x, const OptTensor& gamma,
                                const OptTensor& beta, const Tensor& y, const NormOptions& options = {});
PLINTH_CORE_API void softmax(Stream& stream, const Tensor& x, const OptTensor& mask, const Tensor& y,
                             const SoftmaxOptions& options = {});
PLINTH_CORE_API void gelu(Stream& stream, const Tensor& x, const Tensor& y, const GeluOptions& options = {});
PLINTH_CORE_API void silu(Stream& stream, const Tensor& x, const Tensor& y);
PLINTH_CORE_API void swiglu(Stream& stream, const Tensor& gate, const Tensor& up, const Tensor& y);
PLINTH_CORE_API void rope(Stream& stream, const Tensor& x, const Tensor& positions, const Tensor& y,
                          const RopeOptions& options = {});
PLINTH_CORE_API void attention(Stream& stream, const Tensor& q, const Tensor& k, const Tensor& v,
                               const OptTensor& mask, const OptTensor& kv_lens, const Tensor& o,
                               const AttentionOptions& options = {});
PLINTH_CORE_API void mean_pool(Stream& stream, const Tensor& x, const OptTensor& mask, const Tensor& y);
PLINTH_CORE_API void l2_normalize(Stream& stream, const Tensor& x, const Tensor& y,
                                  const NormOptions& options = {});
PLINTH_CORE_API void top_k(Stream& stream, const Tensor& x, const Tensor& values, const Tensor& indices,
                           uint32_t k);
PLINTH_CORE_API void argmax(Stream& stream, const Tensor& x, const Tensor& indices);
PLINTH_CORE_API void set_rows(Stream& stream, const Tensor& src, const Tensor& indices, const Tensor& dst);
PLINTH_CORE_API void paged_attention(Stream& stream, const Tensor& q, const Tensor& k_cache,
                                     const Tensor& v_cache, const Tensor& block_table,
                                     const Tensor& query_start, const Tensor& context_lens, const Tensor& o,
                                     const AttentionOptions& options = {});

}  // namespace ops
}  // namespace plinth
