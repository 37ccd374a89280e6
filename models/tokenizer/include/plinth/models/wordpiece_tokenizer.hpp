#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <plinth/models/tokenizer.hpp>

namespace plinth::models {

/// Everything a BERT WordPiece tokenizer needs; the defaults are BERT uncased.
struct WordPieceConfig {
  std::vector<std::string> vocab;  // id = index
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  std::string continuing_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
  // Normalizer (BertNormalizer).
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool lowercase = true;
  bool strip_accents = true;
  /// Strings recognised literally in raw text before normalizing (added tokens); defaults to the five
  /// specials above when empty.
  std::vector<std::string> special_tokens;
  /// The model's own limit when the file declares one (tokenizer.json truncation); informational.
  std::optional<std::size_t> model_max_length;
  /// Name used in error messages.
  std::string source = "<memory>";
};

/// The settings of an HF tokenizers tokenizer.json with a WordPiece model (BertNormalizer,
/// BertPreTokenizer, TemplateProcessing/BertProcessing); anything else is an error. source names the
/// file in error messages ("<source>: <problem>", one line).
[[nodiscard]] WordPieceConfig wordpiece_config_from_json(std::string_view json_text, std::string source);
/// One token per line (a trailing '\r' is dropped), BERT-uncased defaults.
[[nodiscard]] WordPieceConfig wordpiece_config_from_vocab_txt(std::string_view text, std::string source);

/// Throws std::runtime_error "<source>: <problem>" when a required token is missing from the vocab.
[[nodiscard]] std::unique_ptr<Tokenizer> make_wordpiece_tokenizer(WordPieceConfig config);

}  // namespace plinth::models
