#include "llama_config.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace plinth::models {
namespace {

constexpr std::array<std::string_view, 1> kArchitectures = {"llama"};

[[noreturn]] void fail(const formats::GgufFile& file, const std::string& problem) {
  throw std::runtime_error(file.name() + ": " + problem);
}

int read_int(const formats::GgufFile& file, const std::string& key) {
  const uint64_t v = file.get_uint(key);
  if (v == 0 || v > (1u << 30)) fail(file, "metadata key '" + key + "' = " + std::to_string(v) + " is out of range");
  return static_cast<int>(v);
}

int read_int_or(const formats::GgufFile& file, const std::string& key, int fallback) {
  return file.contains(key) ? read_int(file, key) : fallback;
}

// Writers store these as float32, but float64 is valid GGUF too.
float read_float_or(const formats::GgufFile& file, const std::string& key, float fallback) {
  const formats::GgufValue* v = file.find(key);
  if (v == nullptr) return fallback;
  if (v->type() == formats::GgufType::kFloat64) return static_cast<float>(file.get<double>(key));
  return file.get<float>(key);
}

}  // namespace

std::span<const std::string_view> supported_decoder_architectures() noexcept { return kArchitectures; }

LlamaConfig read_llama_config(const formats::GgufFile& file) {
  LlamaConfig c;
  if (!file.contains("general.architecture")) fail(file, "metadata key 'general.architecture' not found");
  c.architecture = std::string(file.get<std::string_view>("general.architecture"));
  bool known = false;
  std::string names;
  for (std::string_view a : kArchitectures) {
    known = known || a == c.architecture;
    names += (names.empty() ? "" : ", ") + std::string(a);
  }
  if (!known) {
    fail(file, "unsupported architecture '" + c.architecture + "' (general.architecture); the decoder supports: " +
                   names);
  }
  const std::string p = c.architecture + ".";
  c.n_layers = read_int(file, p + "block_count");
  c.d_model = read_int(file, p + "embedding_length");
  c.n_heads = read_int(file, p + "attention.head_count");
  c.n_kv_heads = read_int_or(file, p + "attention.head_count_kv", c.n_heads);
  c.ffn_dim = read_int(file, p + "feed_forward_length");
  c.context_length = read_int(file, p + "context_length");
  if (c.d_model % c.n_heads != 0 && !file.contains(p + "attention.key_length")) {
    fail(file, "embedding_length " + std::to_string(c.d_model) + " is not a multiple of head_count " +
                   std::to_string(c.n_heads));
  }
  c.head_dim = read_int_or(file, p + "attention.key_length", c.d_model / c.n_heads);
  if (read_int_or(file, p + "attention.value_length", c.head_dim) != c.head_dim) {
    fail(file, "attention.value_length differs from attention.key_length, which llama models do not do");
  }
  if (c.n_heads % c.n_kv_heads != 0) {
    fail(file, "head_count " + std::to_string(c.n_heads) + " is not a multiple of head_count_kv " +
                   std::to_string(c.n_kv_heads));
  }
  c.rms_eps = read_float_or(file, p + "attention.layer_norm_rms_epsilon", 1e-5f);
  c.rope_base = read_float_or(file, p + "rope.freq_base", 10000.0f);
  c.rope_dims = read_int_or(file, p + "rope.dimension_count", c.head_dim);
  if (c.rope_dims > c.head_dim || c.rope_dims % 2 != 0) {
    fail(file, "rope.dimension_count " + std::to_string(c.rope_dims) + " must be even and at most the head size " +
                   std::to_string(c.head_dim));
  }
  if (const auto* type = file.find(p + "rope.scaling.type"); type != nullptr) {
    const std::string_view kind = file.get<std::string_view>(p + "rope.scaling.type");
    if (kind == "linear") {
      const float factor = read_float_or(file, p + "rope.scaling.factor", 1.0f);
      if (!(factor > 0.0f)) fail(file, "rope.scaling.factor must be positive");
      c.rope_freq_scale = 1.0f / factor;
    } else if (kind != "none") {
      fail(file, "rope scaling '" + std::string(kind) + "' is not supported (supported: none, linear)");
    }
  }
  c.vocab_size = file.contains(p + "vocab_size") ? read_int(file, p + "vocab_size") : 0;  // else from token_embd
  if (file.contains("tokenizer.ggml.bos_token_id")) c.bos_token = static_cast<int>(file.get_uint("tokenizer.ggml.bos_token_id"));
  if (file.contains("tokenizer.ggml.eos_token_id")) c.eos_token = static_cast<int>(file.get_uint("tokenizer.ggml.eos_token_id"));
  return c;
}

}  // namespace plinth::models
