// load_gguf_tokenizer: the tokenizer.ggml.* metadata of a GGUF file.
#include <stdexcept>

#include <plinth/formats/gguf_file.hpp>
#include <plinth/models/bpe_tokenizer.hpp>

#include "message_text.hpp"
#include "pre_tokenizer.hpp"

namespace plinth::models {
namespace {

std::optional<std::int32_t> optional_id(const formats::GgufFile& file, std::string_view key) {
  if (!file.contains(key)) return std::nullopt;
  const std::uint64_t id = file.get_uint(key);
  if (id > 0x7FFFFFFF) throw std::runtime_error(file.name() + ": " + std::string(key) + " is out of range");
  return static_cast<std::int32_t>(id);
}

std::vector<std::string> strings(const formats::GgufFile& file, std::string_view key) {
  std::vector<std::string> out;
  const auto views = file.get_array<std::string_view>(key);
  out.reserve(views.size());
  for (std::string_view v : views) out.emplace_back(v);
  return out;
}

}  // namespace

BpeConfig bpe_config_from_gguf(const formats::GgufFile& file) {
  if (!file.contains("tokenizer.ggml.model")) {
    throw std::runtime_error(file.name() + ": no tokenizer (metadata key 'tokenizer.ggml.model' not found)");
  }
  const auto model = std::string(file.get<std::string_view>("tokenizer.ggml.model"));
  if (model != "gpt2") {
    throw std::runtime_error(file.name() + ": tokenizer model '" + one_line(model) +
                             "' is not supported (supported: gpt2, byte-level BPE)");
  }
  BpeConfig config;
  config.source = file.name();
  config.tokens = strings(file, "tokenizer.ggml.tokens");
  config.merges = strings(file, "tokenizer.ggml.merges");
  if (file.contains("tokenizer.ggml.token_type")) {
    for (std::int32_t t : file.get_array<std::int32_t>("tokenizer.ggml.token_type")) {
      config.token_types.push_back(t >= 0 && t <= 6 ? static_cast<TokenType>(t) : TokenType::kUndefined);
    }
  }
  if (file.contains("tokenizer.ggml.pre")) config.pre = std::string(file.get<std::string_view>("tokenizer.ggml.pre"));
  const auto pre = find_bpe_pre_tokenizer(config.pre);  // unknown names fail in make_bpe_tokenizer
  config.bos_id = optional_id(file, "tokenizer.ggml.bos_token_id");
  config.eos_id = optional_id(file, "tokenizer.ggml.eos_token_id");
  config.unk_id = optional_id(file, "tokenizer.ggml.unknown_token_id");
  config.pad_id = optional_id(file, "tokenizer.ggml.padding_token_id");
  config.add_bos = file.contains("tokenizer.ggml.add_bos_token") ? file.get<bool>("tokenizer.ggml.add_bos_token") : pre && pre->add_bos;
  return config;
}

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const formats::GgufFile& file) {
  return make_bpe_tokenizer(bpe_config_from_gguf(file));
}

}  // namespace plinth::models
