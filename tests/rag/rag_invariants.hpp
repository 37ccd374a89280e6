// What every extracted document and every chunk list must satisfy, checked independently of the
// library (its own UTF-8 check, its own word counter). Shared by the unit tests and the fuzz targets:
// each function returns the first violation it finds, or an empty string.
#pragma once

#include <cstddef>
#include <plinth/rag/chunker.hpp>
#include <plinth/rag/extract.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::rag::testing {

inline bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Whitespace-separated words: the token counter of the tests and fuzz targets.
inline std::size_t count_words(std::string_view s) {
  std::size_t words = 0;
  bool in_word = false;
  for (const char c : s) {
    const bool space = ascii_space(c);
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

// Strict UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    char32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1, cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2, cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3, cp = b & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

inline bool char_boundary(std::string_view s, std::size_t pos) {
  return pos == s.size() || (static_cast<unsigned char>(s[pos]) & 0xC0) != 0x80;
}

inline bool prose(BlockKind kind) {
  return kind == BlockKind::kParagraph || kind == BlockKind::kListItem || kind == BlockKind::kQuote;
}

inline std::string document_violation(const ExtractedDocument& doc) {
  const std::string& text = doc.text;
  if (!valid_utf8(text)) return "text is not valid UTF-8";
  if (!valid_utf8(doc.title)) return "title is not valid UTF-8";
  if (doc.title.find('\n') != std::string::npos) return "title has a line break";
  if (doc.title.size() > 200) return "title longer than 200 bytes";
  if (doc.blocks.empty()) return "no blocks";
  std::size_t expected_begin = 0;
  for (std::size_t i = 0; i < doc.blocks.size(); ++i) {
    const Block& b = doc.blocks[i];
    const std::string where = "block " + std::to_string(i) + ": ";
    if (b.begin != expected_begin) return where + "does not start 2 bytes after the previous block";
    if (i > 0 && text.compare(b.begin - 2, 2, "\n\n") != 0) return where + "not separated by \"\\n\\n\"";
    if (b.end <= b.begin || b.end > text.size()) return where + "empty or past the text";
    if (!char_boundary(text, b.begin) || !char_boundary(text, b.end)) return where + "cuts a UTF-8 character";
    const std::string_view body(text.data() + b.begin, b.end - b.begin);
    if (ascii_space(body.back())) return where + "ends with whitespace";
    if (ascii_space(body.front()) && (b.kind != BlockKind::kCode || count_words(body) == 0)) {
      return where + "starts with whitespace";
    }
    if (b.kind == BlockKind::kHeading ? (b.level < 1 || b.level > 6) : b.level != 0)
      return where + "bad level";
    if (prose(b.kind) && body.find('\n') != std::string_view::npos) return where + "prose with a line break";
    if (b.kind != BlockKind::kCode && body.find("\n\n") != std::string_view::npos)
      return where + "blank line";
    if (prose(b.kind) && body.find("  ") != std::string_view::npos)
      return where + "prose whitespace not folded";
    expected_begin = b.end + 2;
  }
  if (doc.blocks.back().end != text.size()) return "text continues after the last block";
  return {};
}

inline std::string chunks_violation(const ExtractedDocument& doc, const std::vector<Chunk>& chunks,
                                    const ChunkOptions& options, const TokenCounter& count) {
  const std::string& text = doc.text;
  std::vector<bool> covered(text.size(), false);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    const std::string where = "chunk " + std::to_string(i) + ": ";
    if (c.end <= c.begin || c.end > text.size()) return where + "empty or past the text";
    if (c.text != std::string_view(text).substr(c.begin, c.end - c.begin))
      return where + "text is not its span";
    if (!char_boundary(text, c.begin) || !char_boundary(text, c.end)) return where + "cuts a UTF-8 character";
    if (ascii_space(c.text.back())) return where + "ends with whitespace";
    if (c.tokens != count(c.text)) return where + "tokens is not count(text)";
    if (c.tokens > options.max_tokens) return where + "over the budget";
    if (i > 0 && (c.begin <= chunks[i - 1].begin || c.end <= chunks[i - 1].end))
      return where + "out of order";
    // Within one section: a heading it touches must contain it (a section without a body).
    for (const Block& b : doc.blocks) {
      if (b.kind != BlockKind::kHeading || b.end <= c.begin || b.begin >= c.end) continue;
      if (c.begin < b.begin || c.end > b.end) return where + "crosses a heading";
    }
    for (std::size_t k = c.begin; k < c.end; ++k) covered[k] = true;
  }
  // Nothing is lost: every visible byte of a body block, and of a heading with no body, is in a chunk.
  for (std::size_t i = 0; i < doc.blocks.size(); ++i) {
    const Block& b = doc.blocks[i];
    const bool bodiless_heading =
        b.kind == BlockKind::kHeading &&
        (i + 1 == doc.blocks.size() || doc.blocks[i + 1].kind == BlockKind::kHeading);
    if (b.kind == BlockKind::kHeading && !bodiless_heading) continue;
    for (std::size_t k = b.begin; k < b.end; ++k) {
      if (!ascii_space(text[k]) && !covered[k]) return "block " + std::to_string(i) + " is not in any chunk";
    }
  }
  return {};
}

}  // namespace plinth::rag::testing
