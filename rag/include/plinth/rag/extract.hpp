// Document extraction for RAG ingestion: the bytes of a plain-text, Markdown, HTML or PDF file become
// one plain text and the structural blocks it is made of (headings with levels, paragraphs, code,
// list items, tables, quotes). The chunker (chunker.hpp) cuts chunks along these blocks, and every
// chunk's span in `ExtractedDocument::text` is what a citation points at, so spans are exact.
//
//   const auto format = plinth::rag::format_from_path("guide.md");       // DocumentFormat::kMarkdown
//   const auto doc = plinth::rag::extract_document(*format, file_bytes);  // throws ExtractError
//   for (const auto& b : doc.blocks) use(doc.text.substr(b.begin, b.end - b.begin));
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::rag {

enum class DocumentFormat { kText, kMarkdown, kHtml, kPdf };

// The format named by a path's extension, case-insensitively: .txt .text, .md .markdown, .html .htm,
// .pdf. std::nullopt for anything else (no extension, a dot only in a directory name, ...).
std::optional<DocumentFormat> format_from_path(std::string_view path);

// "text", "markdown", "html" or "pdf".
std::string_view format_name(DocumentFormat format) noexcept;

enum class BlockKind { kHeading, kParagraph, kCode, kListItem, kTable, kQuote };

// One structural block. [begin, end) is its span in ExtractedDocument::text: never empty, never ending
// with whitespace, and starting with whitespace only where code keeps its first line's indentation.
struct Block {
  BlockKind kind = BlockKind::kParagraph;
  int level = 0;  // heading level 1..6 for kHeading, else 0
  std::size_t begin = 0;
  std::size_t end = 0;
};

// `text` is valid UTF-8 (invalid input bytes become U+FFFD): the blocks in reading order, separated by
// exactly "\n\n", nothing before the first or after the last. Prose has its whitespace runs folded
// into one space; code keeps its line breaks and indentation; a table is one block of rows
// ("cell | cell") separated by "\n". `title` is the document's title (possibly empty for a document
// without one), whitespace folded, at most about 200 bytes.
struct ExtractedDocument {
  std::string title;
  std::string text;
  std::vector<Block> blocks;
};

// Unreadable input: over the size limit, a PDF that is damaged or needs a password, HTML nested
// too deeply, or a document with no text at all. The message says what is wrong, not which file:
// the caller names the file.
class ExtractError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The largest input extract_document reads (64 MiB).
inline constexpr std::size_t kMaxDocumentBytes = std::size_t{64} << 20;

// The deepest element nesting an HTML document may have (estimated from its tags before parsing:
// the HTML parser's cost grows with depth times tags, so deeper input is refused, not parsed).
inline constexpr std::size_t kMaxHtmlDepth = 512;

// Extracts `bytes` as `format`:
// - text: paragraphs split at blank lines; title = the first non-empty line.
// - markdown (CommonMark with GitHub tables, md4c): headings, paragraphs, fenced and indented code,
//   list items, tables, block quotes; raw HTML is dropped. Title = the first heading, else the first
//   line of the text.
// - html (gumbo): only the main content when the page marks it (role="main", <main>, div.body);
//   navigation, scripts, styles, headers, footers, forms, Sphinx sidebars and permalinks are
//   skipped. h1..h6 are headings; a Sphinx API signature (<dt class="sig ...">) is a heading one level
//   below its section's (consecutive signatures of one entry form one heading, one per line).
//   Title = <title> without a trailing " — <project> documentation", else the first h1.
// - pdf (poppler): the text of each page in reading order, paragraphs split at blank lines; title =
//   the document's Title, else the first line. No headings.
// Throws ExtractError for input over kMaxDocumentBytes, a PDF that cannot be parsed or needs a
// password, HTML nested deeper than kMaxHtmlDepth, and a document without text ("no text").
ExtractedDocument extract_document(DocumentFormat format, std::string_view bytes);

}  // namespace plinth::rag
