// GPT-2's reversible byte <-> printable-code-point mapping, in which byte-level BPE vocabularies are
// written: printable Latin-1 bytes stand for themselves, the other 68 map to U+0100 onwards.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::models {

class ByteLevelMap {
 public:
  ByteLevelMap();

  [[nodiscard]] char32_t to_char(std::uint8_t byte) const { return byte_to_char_[byte]; }
  [[nodiscard]] std::optional<std::uint8_t> to_byte(char32_t cp) const;
  /// Each byte of raw as its mapped code point, UTF-8 encoded.
  [[nodiscard]] std::string encode(std::string_view raw) const;
  /// Inverse of encode; code points outside the mapping are kept as their UTF-8.
  [[nodiscard]] std::string decode(std::string_view mapped) const;

 private:
  std::array<char32_t, 256> byte_to_char_{};
  std::array<std::string, 256> byte_to_utf8_{};
  std::array<std::uint8_t, 68> remapped_bytes_{};  // byte of U+0100 + i
};

}  // namespace plinth::models
