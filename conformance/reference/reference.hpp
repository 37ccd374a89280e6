// Reference kernels for every op of the catalogue (plinth/ops.h: v1 and the ABI 1.2 ops): plain C++ over
// dense row-major double tensors, accumulating in double. They are the oracle the CTS compares plugins
// against, so they favour the most literal reading of the semantics over speed.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "plinth/ops.h"

namespace plinth::cts::ref {

struct Tensor {
  std::vector<int64_t> shape;  // outermost first; empty = scalar
  std::vector<double> data;    // row-major, numel() values

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s, double fill = 0.0);
  int64_t numel() const noexcept;
  int64_t dim(int i) const noexcept { return i < 0 ? shape[shape.size() + static_cast<std::size_t>(i)] : shape[static_cast<std::size_t>(i)]; }
};

// numpy-style broadcast of two shapes (aligned at the last dimension); nullopt when incompatible.
std::optional<std::vector<int64_t>> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// Value of `t` at output multi-index `index` of a broadcast shape.
double broadcast_at(const Tensor& t, const std::vector<int64_t>& index);

Tensor add(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double scale, double bias);
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b, double alpha);
Tensor get_rows(const Tensor& table, const std::vector<int64_t>& indices);
Tensor rms_norm(const Tensor& x, const Tensor* weight, double eps);
Tensor layer_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps);
Tensor softmax(const Tensor& x, const Tensor* mask, double scale, bool causal);
Tensor gelu(const Tensor& x, bool tanh_approximation);
Tensor silu(const Tensor& x);
Tensor swiglu(const Tensor& gate, const Tensor& up);
// x [B,S,H,D] or [S,H,D]; positions [S] or [B,S].
Tensor rope(const Tensor& x, const Tensor& positions, int mode, int n_dims, double freq_base, double freq_scale);
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Tensor* kv_lens,
                 double scale, bool causal);
Tensor mean_pool(const Tensor& x, const Tensor* mask);
Tensor l2_normalize(const Tensor& x, double eps);
// Returns {values, indices}.
std::pair<Tensor, Tensor> top_k(const Tensor& x, int k);
Tensor argmax(const Tensor& x);

// ---- ABI 1.2: the paged KV cache ----
// dst [R, W] with rows indices[i] replaced by src [N, W] row i (dst is read: other rows are kept).
// Throws std::invalid_argument for an index outside [0, R).
Tensor set_rows(const Tensor& dst, const Tensor& src, const std::vector<int64_t>& indices);
// q [T, Hq, D], k_cache [NB, BS, Hkv, D], v_cache [NB, BS, Hkv, Dv], block_table [S, MB],
// query_start [S + 1], context_lens [S] -> o [T, Hq, Dv]. Throws std::invalid_argument for the
// data-dependent errors of plinth/ops.h (block id outside [0, NB) among the blocks of [0, L_s),
// L_s < n_s, L_s > MB * BS, query_start not 0 .. T and non-decreasing).
Tensor paged_attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                       const Tensor& block_table, const Tensor& query_start, const Tensor& context_lens,
                       double scale, bool causal);

}  // namespace plinth::cts::ref
