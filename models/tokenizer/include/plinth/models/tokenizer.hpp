#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::formats {
class GgufFile;
}

namespace plinth::models {

/// Text <-> token ids. Implementations are immutable after loading, so one instance may be shared by
/// threads. Errors while loading throw std::runtime_error (or formats::FormatError) whose what() is
/// one line naming the file and the problem; encode/decode never throw on odd input (invalid UTF-8
/// is replaced by U+FFFD before tokenizing).
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// add_special: WordPiece wraps the ids in [CLS] ... [SEP]; BPE prepends BOS only when the model
  /// asks for it (tokenizer.ggml.add_bos_token). Special-token strings inside text (e.g.
  /// "<|im_start|>") are always recognised as the special token.
  [[nodiscard]] virtual std::vector<std::int32_t> encode(std::string_view text, bool add_special = true) const = 0;
  /// skip_special drops control tokens ([CLS], <|im_end|>, ...) from the text.
  [[nodiscard]] virtual std::string decode(std::span<const std::int32_t> ids, bool skip_special = true) const = 0;
  /// The raw bytes one token stands for. Byte-level BPE pieces may be partial UTF-8: callers that
  /// stream concatenate pieces and flush complete UTF-8 sequences. Specials give their text; an id
  /// out of range gives an empty string.
  [[nodiscard]] virtual std::string token_to_piece(std::int32_t id) const = 0;
  [[nodiscard]] virtual std::int32_t vocab_size() const = 0;
  [[nodiscard]] virtual std::optional<std::int32_t> bos_id() const = 0;
  [[nodiscard]] virtual std::optional<std::int32_t> eos_id() const = 0;
  [[nodiscard]] virtual std::optional<std::int32_t> pad_id() const = 0;
  /// Control tokens, never printed when streaming.
  [[nodiscard]] virtual bool is_special(std::int32_t id) const = 0;
  /// The input length the model was set up for when the tokenizer file says (tokenizer.json's
  /// truncation.max_length); truncating is the caller's choice, see truncate_ids.
  [[nodiscard]] virtual std::optional<std::size_t> max_length() const { return std::nullopt; }
};

/// A BERT-uncased WordPiece tokenizer from a tokenizer.json (HF tokenizers format, model WordPiece)
/// or a vocab.txt (one token per line; BERT-uncased defaults). A directory means its tokenizer.json,
/// else its vocab.txt.
[[nodiscard]] std::unique_ptr<Tokenizer> load_wordpiece(const std::filesystem::path& path);

/// The tokenizer described by a GGUF file's tokenizer.ggml.* metadata (model "gpt2": byte-level BPE).
[[nodiscard]] std::unique_ptr<Tokenizer> load_gguf_tokenizer(const formats::GgufFile& file);

/// Truncates encoder input to max_length ids, keeping a trailing special (e.g. [SEP]) when the ids
/// end with one: the caller decides the length, the tokenizer only knows which ids are special.
[[nodiscard]] std::vector<std::int32_t> truncate_ids(const Tokenizer& tokenizer, std::vector<std::int32_t> ids,
                                                     std::size_t max_length);

}  // namespace plinth::models
