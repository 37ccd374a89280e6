// A synthetic Llama model small enough to check against a plain host implementation: random weights
// written to a GGUF file with a mix of dtypes (Q8_0 tied embedding, Q4_1 and Q4_0 matrices, F16 and
// F32), and the reference forward pass in double precision over the exact values the file holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace plinth::decoder_test {

struct TinyLlama {
  int n_layers = 2, d = 64, n_heads = 4, n_kv_heads = 2, head_dim = 16, ffn = 96, vocab = 96, context = 64;
  float eps = 1e-5f, rope_base = 10000.0f;
  struct Layer {
    std::vector<float> attn_norm, wq, wk, wv, wo, ffn_norm, gate, up, down;
  };
  std::vector<float> embd, out_norm;
  std::vector<Layer> layers;

  // Writes the model (with general.architecture = `arch`) and keeps the decoded weights.
  void write(const std::filesystem::path& path, const std::string& arch = "llama", uint32_t seed = 7);
  // Logits of every token of `tokens` processed from position 0, row-major [tokens.size(), vocab].
  std::vector<float> reference_logits(std::span<const int32_t> tokens) const;
};

// sum((a-b)^2) / sum(b^2)
double nmse(std::span<const float> a, std::span<const float> b);

}  // namespace plinth::decoder_test
