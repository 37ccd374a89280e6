#pragma once
// Small in-memory vocabularies for the tokenizer tests and the fuzz target.

#include <cstdint>
#include <string>
#include <vector>

#include <plinth/models/bpe_tokenizer.hpp>
#include <plinth/models/wordpiece_tokenizer.hpp>

namespace plinth::models::testing {

// GPT-2's byte-to-character mapping, written out independently of the library.
inline std::string byte_char(std::uint8_t b) {
  int n = 0;
  for (int x = 0; x < 256; ++x) {
    const bool printable = (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE;
    if (x == b) {
      const std::uint32_t cp = printable ? static_cast<std::uint32_t>(x) : 256u + static_cast<std::uint32_t>(n);
      std::string s;
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
      return s;
    }
    if (!printable) ++n;
  }
  return {};
}

inline constexpr std::int32_t kTinyEndOfText = 0;
inline constexpr std::int32_t kTinyImStart = 1;
inline constexpr std::int32_t kTinyImEnd = 2;
inline constexpr std::int32_t kTinyTool = 3;  // user-defined: matched in text, printed
inline constexpr std::int32_t kTinyFirstByte = 4;

inline std::int32_t tiny_byte_id(std::uint8_t b) { return kTinyFirstByte + b; }

// Specials, the 256 byte characters, then one token per merge result except "xy" (a merge whose
// result is no token, so its bytes fall back to byte tokens).
inline BpeConfig tiny_bpe_config(std::string pre = "gpt-2") {
  BpeConfig c;
  c.source = "tiny-bpe";
  c.pre = std::move(pre);
  c.tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool>"};
  c.token_types = {TokenType::kControl, TokenType::kControl, TokenType::kControl, TokenType::kUserDefined};
  for (int b = 0; b < 256; ++b) {
    c.tokens.push_back(byte_char(static_cast<std::uint8_t>(b)));
    c.token_types.push_back(TokenType::kNormal);
  }
  c.merges = {"h e", "l l", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "he ll", "hell o",
              "b c", "a b", "ab c", "x y", "1 2", "Ġ Ġ"};
  for (const std::string& m : c.merges) {
    const std::string merged = m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1);
    if (merged == "xy") continue;
    c.tokens.push_back(merged);
    c.token_types.push_back(TokenType::kNormal);
  }
  c.bos_id = kTinyEndOfText;
  c.eos_id = kTinyImEnd;
  c.pad_id = kTinyEndOfText;
  return c;
}

inline std::int32_t tiny_token_id(const BpeConfig& c, const std::string& text) {
  for (std::size_t i = 0; i < c.tokens.size(); ++i) {
    if (c.tokens[i] == text) return static_cast<std::int32_t>(i);
  }
  return -1;
}

inline WordPieceConfig tiny_wordpiece_config() {
  WordPieceConfig c;
  c.source = "tiny-wordpiece";
  c.vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "un", "##aff", "##able",
             ",", "!", ".", "cafe", "日", "本", "a", "##a", "'", "t", "don"};
  return c;
}

}  // namespace plinth::models::testing
