// BertEncoder: a BERT-style sentence encoder (MiniLM, BERT base, ...) run on any plinth Device through
// catalogue ops only. Token ids in, one mean-pooled, L2-normalized embedding per sequence out.
//
//   plinth::Runtime runtime;
//   auto encoder = plinth::models::BertEncoder::load(runtime.device("cpu:0"), "all-MiniLM-L6-v2/");
//   std::vector<float> rows = encoder.embed(texts);  // [texts.size(), hidden_size()] row-major
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <plinth/device.hpp>
#include <plinth/dtype.hpp>
#include <plinth/models/bert_config.hpp>
#include <span>
#include <string>
#include <vector>

namespace plinth::models {

struct EncoderOptions {
  // Longer sequences are truncated. Capped at the model's positions and, when the model directory
  // has a sentence_bert_config.json, at its max_seq_length (as sentence-transformers truncates).
  int max_tokens = 512;
  int batch_size = 32;  // sequences per launch
  // Storage dtype of the matmul weights on the device; nullopt: f32. f16/bf16 halve the memory and
  // are used only when the device supports matmul and get_rows with them; otherwise f32
  // (BertEncoder::weight_dtype() tells which was used).
  std::optional<DType> weight_dtype{};
};

class BertEncoder {
 public:
  // `path` is a directory holding config.json and model.safetensors (and tokenizer.json or vocab.txt
  // for embed(texts)), or a .safetensors file with config.json beside it. Errors (missing files,
  // architectures other than BERT, missing or mis-shaped weights) throw std::runtime_error with a
  // one-line message.
  static BertEncoder load(Device& device, const std::filesystem::path& path, EncoderOptions options = {});

  BertEncoder(BertEncoder&&) noexcept;
  BertEncoder& operator=(BertEncoder&&) noexcept;
  BertEncoder(const BertEncoder&) = delete;
  BertEncoder& operator=(const BertEncoder&) = delete;
  ~BertEncoder();

  // Token-id sequences (special tokens included, as the tokenizer produces them) -> one L2-normalized,
  // mean-pooled embedding per sequence, row-major [sequences.size(), hidden_size()]. Sequences longer
  // than max_tokens are truncated. An empty sequence yields a zero row; an id outside the vocabulary
  // is an error. Not thread-safe: one call at a time per encoder.
  std::vector<float> embed_tokens(std::span<const std::vector<int32_t>> sequences);
  // Tokenizes with the model's tokenizer (tokenizer.json or vocab.txt beside the weights).
  std::vector<float> embed(std::span<const std::string> texts);
  // Token ids of `text` as embed() would see them (after truncation to max_tokens).
  std::vector<int32_t> tokenize(const std::string& text);

  int hidden_size() const;
  const BertConfig& config() const;
  Device& device() const;
  DType weight_dtype() const;  // what the matmul weights are stored as
  int max_tokens() const;      // the truncation length in effect
  // Floating-point operations (multiply and add counted separately) of the padded batches embed_tokens
  // would run for `sequences`; for GFLOP/s reporting.
  double flops(std::span<const std::vector<int32_t>> sequences) const;

 private:
  struct Impl;
  explicit BertEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::models
