// The splitting of text into words that byte-level BPE runs before merging, per tokenizer.ggml.pre.
// Each pattern is matched by hand over code points (std::regex has no \p{L}); the behaviour follows
// the regular expressions llama.cpp assigns to each pre-tokenizer name.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plinth::models {

enum class BpePreTokenizer {
  kDefault,  // llama.cpp "default": punctuation runs, GPT-2 pattern, digit runs, digit triples
  kGpt2,     // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kSmollm,   // each \p{N} alone, then the GPT-2 pattern (also starcoder, refact, ...)
  kLlama3,   // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
};

struct BpePreTokenizerInfo {
  std::string_view name;
  BpePreTokenizer kind;
  bool ignore_merges;  // a word that is itself a token is not merged (llama3)
  bool add_bos;        // default of tokenizer.ggml.add_bos_token
};

[[nodiscard]] std::span<const BpePreTokenizerInfo> bpe_pre_tokenizers();
[[nodiscard]] std::optional<BpePreTokenizerInfo> find_bpe_pre_tokenizer(std::string_view name);

/// Half-open [begin, end) code-point ranges of the words of cps, in order, covering all of cps.
[[nodiscard]] std::vector<std::pair<std::size_t, std::size_t>> pre_tokenize(BpePreTokenizer kind,
                                                                            std::u32string_view cps);

}  // namespace plinth::models
