// The device-side weights of a LlamaModel, shared by every LlamaSession of it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include <plinth/buffer.hpp>
#include <plinth/models/llama_model.hpp>
#include <plinth/tensor.hpp>

namespace plinth::models {

struct LlamaModel::Weights {
  struct Layer {
    Tensor attn_norm;  // [d_model] float
    // q, k and v stacked as one [(n_heads + 2 n_kv_heads) * head_dim, d_model] weight when all three
    // have the same dtype: one matmul launch instead of three (wq, wk, wv then view its parts).
    std::optional<Tensor> w_qkv;
    Tensor wq;         // [n_heads * head_dim, d_model]     (rows of the output, as GGUF stores them)
    Tensor wk;         // [n_kv_heads * head_dim, d_model]
    Tensor wv;         // [n_kv_heads * head_dim, d_model]
    Tensor wo;         // [d_model, n_heads * head_dim]
    Tensor ffn_norm;   // [d_model] float
    // gate and up stacked as one [2 * ffn_dim, d_model] weight when both have the same dtype (one
    // matmul instead of two); gate and up then view its two halves.
    std::optional<Tensor> w_gate_up;
    Tensor w_gate;     // [ffn_dim, d_model]
    Tensor w_up;       // [ffn_dim, d_model]
    Tensor w_down;     // [d_model, ffn_dim]
  };

  Tensor token_embd;   // [vocab, d_model]
  Tensor output_norm;  // [d_model]
  Tensor output;       // [vocab, d_model]: output.weight, or token_embd when tied
  std::vector<Layer> layers;
  std::vector<Buffer> buffers;  // owns the memory every tensor above views
  uint64_t bytes = 0;
};

// Views of `rows` rows of a [rows, q_dim + 2 kv_dim] f32 buffer holding [q | k | v] per token: the
// matmul outputs when q, k and v are separate weights; q and k as [rows, Hq + Hkv, D] heads for rope
// (adjacent, so one launch); k and v together as the rows a cache receives.
struct QkvViews {
  Tensor q, k, v, qk_heads, kv;

  QkvViews(const Buffer& qkv, int64_t rows, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim) {
    constexpr int64_t f32 = 4;
    const int64_t q_dim = n_heads * head_dim, kv_dim = n_kv_heads * head_dim;
    const int64_t row = (q_dim + 2 * kv_dim) * f32;
    const std::array<int64_t, 2> row_strides = {row, f32};
    const std::array<int64_t, 3> head_strides = {row, head_dim * f32, f32};
    const auto k_off = static_cast<uint64_t>(q_dim * f32);
    const auto v_off = static_cast<uint64_t>((q_dim + kv_dim) * f32);
    q = Tensor::strided(qkv, DType::f32, {rows, q_dim}, row_strides);
    k = Tensor::strided(qkv, DType::f32, {rows, kv_dim}, row_strides, k_off);
    v = Tensor::strided(qkv, DType::f32, {rows, kv_dim}, row_strides, v_off);
    qk_heads = Tensor::strided(qkv, DType::f32, {rows, n_heads + n_kv_heads, head_dim}, head_strides);
    kv = Tensor::strided(qkv, DType::f32, {rows, 2 * kv_dim}, row_strides, k_off);
  }
};

}  // namespace plinth::models
