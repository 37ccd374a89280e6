// BertConfig: the facts of a BERT-style model's config.json that the encoder graph needs.
#pragma once

#include <filesystem>
#include <plinth/ops.hpp>
#include <string>
#include <string_view>

namespace plinth::models {

struct BertConfig {
  int vocab_size = 0;
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int intermediate_size = 0;
  int max_position_embeddings = 0;
  int type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  ops::GeluApprox gelu = ops::GeluApprox::erf;  // hidden_act "gelu" is the erf form
  int pad_token_id = 0;
  std::string model_type{};

  int head_dim() const { return num_heads > 0 ? hidden_size / num_heads : 0; }
};

// What load() accepts, for error messages.
inline constexpr std::string_view kSupportedBertArchitectures =
    "BERT encoders (model_type \"bert\"; architectures BertModel, BertForMaskedLM, ...; "
    "absolute position embeddings; hidden_act gelu, gelu_new or gelu_pytorch_tanh)";

// Parses config.json text; `source` names the file in messages. Throws std::runtime_error with a
// one-line message for malformed JSON, a missing or non-positive size, or an architecture other than
// BERT (listing what is supported).
BertConfig parse_bert_config(std::string_view json_text, std::string_view source);
BertConfig read_bert_config(const std::filesystem::path& config_json);

}  // namespace plinth::models
