// Text helpers shared by the extractors and the chunker (private to plinth::rag_ingest).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plinth::rag::detail {

// The whitespace that prose folds and the chunker splits at (ASCII only: U+00A0 is a character).
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// `bytes` as valid UTF-8: every byte that does not start a well-formed sequence (and NUL) becomes
// U+FFFD, and CR LF or a lone CR becomes LF, so everything after reads one line ending.
std::string sanitize_utf8(std::string_view bytes);

// Appends the UTF-8 encoding of `codepoint` (U+FFFD for a surrogate or anything past U+10FFFF).
void append_utf8(std::string& out, char32_t codepoint);

// The largest UTF-8 character boundary <= pos in valid UTF-8 `s` (pos <= s.size()).
std::size_t utf8_floor(std::string_view s, std::size_t pos) noexcept;

std::string_view trim(std::string_view s) noexcept;

// Whitespace runs folded into one space, trimmed.
std::string fold_whitespace(std::string_view s);

// A title: whitespace folded and cut to at most kMaxTitleBytes at a word (else character) boundary.
inline constexpr std::size_t kMaxTitleBytes = 200;
std::string make_title(std::string_view s);

// The first line of `text` with anything visible on it, as a title (empty when there is none).
std::string first_line_title(std::string_view text);

}  // namespace plinth::rag::detail
