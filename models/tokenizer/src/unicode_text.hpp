// Code-point level helpers over utf8proc, shared by both tokenizers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::models::unicode {

inline constexpr char32_t kReplacement = 0xFFFD;

/// Decodes UTF-8; every byte that does not start a well-formed sequence becomes one U+FFFD, so any
/// byte string has a defined tokenization.
[[nodiscard]] std::u32string decode_utf8(std::string_view text);
void append_utf8(std::string& out, char32_t cp);
[[nodiscard]] std::string encode_utf8(std::u32string_view cps);

/// Unicode general-category groups, from utf8proc.
[[nodiscard]] bool is_letter(char32_t cp);        // L*
[[nodiscard]] bool is_number(char32_t cp);        // N*
[[nodiscard]] bool is_punctuation(char32_t cp);   // P*
[[nodiscard]] bool is_nonspacing_mark(char32_t cp);  // Mn
/// Cc, Cf, Co, Cs or unassigned.
[[nodiscard]] bool is_other(char32_t cp);
/// The White_Space property.
[[nodiscard]] bool is_whitespace(char32_t cp);
[[nodiscard]] bool is_assigned(char32_t cp);

[[nodiscard]] char32_t to_lower(char32_t cp);
/// Canonical decomposition (NFD) of a code point sequence.
[[nodiscard]] std::u32string nfd(std::u32string_view cps);

}  // namespace plinth::models::unicode
