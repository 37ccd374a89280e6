// The device-side weights of a LlamaModel, shared by every LlamaSession of it.
#pragma once

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

}  // namespace plinth::models
