#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <plinth/models/tokenizer.hpp>

namespace plinth::models {

/// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : std::int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6,
};

/// A byte-level BPE vocabulary as GGUF stores it: token texts use GPT-2's byte-to-unicode mapping,
/// merges are "left right" in rank order.
struct BpeConfig {
  std::vector<std::string> tokens;
  std::vector<TokenType> token_types;  // empty: all normal
  std::vector<std::string> merges;
  /// tokenizer.ggml.pre; see supported_bpe_pre_tokenizers().
  std::string pre = "default";
  std::optional<std::int32_t> bos_id;
  std::optional<std::int32_t> eos_id;
  std::optional<std::int32_t> unk_id;
  std::optional<std::int32_t> pad_id;
  bool add_bos = false;
  /// Name used in error messages.
  std::string source = "<memory>";
};

/// The tokenizer.ggml.* metadata of a GGUF file (model "gpt2"), unvalidated: load_gguf_tokenizer is
/// make_bpe_tokenizer(bpe_config_from_gguf(file)). Throws when the metadata is missing or mistyped.
[[nodiscard]] BpeConfig bpe_config_from_gguf(const formats::GgufFile& file);

/// The tokenizer.ggml.pre values understood (llama.cpp names).
[[nodiscard]] std::vector<std::string_view> supported_bpe_pre_tokenizers();

/// Throws std::runtime_error "<source>: <problem>" on an unknown pre-tokenizer, a malformed merge or
/// an out-of-range special id.
[[nodiscard]] std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeConfig config);

}  // namespace plinth::models
