// LlamaModel: the weights and hyper-parameters of a Llama-style decoder (RMSNorm, RoPE, grouped-query
// attention, SwiGLU), read from a GGUF file and uploaded once to a Device. Quantized weights (Q8_0,
// Q4_0, Q4_1) stay quantized on the device; the catalogue's MATMUL reads them directly. Sequences are
// run by LlamaSession (one per sequence; many sessions may share one model).
//
//   plinth::Runtime runtime;
//   auto model = plinth::models::LlamaModel::load(runtime.device("cpu:0"), "model.gguf");
//   plinth::models::LlamaSession session(model, 2048);
//   std::span<const float> logits = session.prefill(prompt_tokens);
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <plinth/device.hpp>
#include <plinth/formats/gguf_file.hpp>

namespace plinth::models {

// Hyper-parameters, from the GGUF metadata ("<arch>.block_count", ...).
struct LlamaConfig {
  std::string architecture{};  // general.architecture, e.g. "llama"
  int n_layers = 0;
  int d_model = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;  // d_model / n_heads unless the file says otherwise
  int ffn_dim = 0;
  int vocab_size = 0;
  int context_length = 0;  // the longest context the model was trained for
  float rms_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // position multiplier (1 / linear scaling factor)
  int rope_dims = 0;             // rotated dims per head (== head_dim unless the file says otherwise)
  bool tied_output = false;      // logits use token_embd.weight (no output.weight in the file)
  int bos_token = -1;            // tokenizer.ggml.bos_token_id, -1 when absent
  int eos_token = -1;            // tokenizer.ggml.eos_token_id, -1 when absent
};

// The architectures LlamaModel::load accepts (general.architecture).
std::span<const std::string_view> supported_decoder_architectures() noexcept;

class LlamaModel {
 public:
  // Maps the file, checks the architecture and every tensor's presence, dtype and shape, and uploads
  // the weights to `device`. Errors are std::runtime_error with a one-line message; an unsupported
  // general.architecture names the supported ones ("llama").
  static LlamaModel load(Device& device, const std::filesystem::path& gguf_path);

  LlamaModel(LlamaModel&&) noexcept;
  LlamaModel& operator=(LlamaModel&&) noexcept;
  LlamaModel(const LlamaModel&) = delete;
  LlamaModel& operator=(const LlamaModel&) = delete;
  ~LlamaModel();

  const LlamaConfig& config() const;
  const formats::GgufFile& file() const;  // tokenizer and chat template come from here
  Device& device() const;
  uint64_t weight_bytes() const;  // device memory the weights occupy

  struct Weights;
  const Weights& weights() const;  // for LlamaSession

 private:
  struct Impl;
  explicit LlamaModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::models
