// DocumentBuilder: what every extractor writes into. Extractors report structure as they walk their
// input (an element opens and closes, text arrives, a table row or cell starts); the builder owns the
// rules that make ExtractedDocument's promises true: blocks separated by "\n\n" with exact spans,
// prose whitespace folded, code verbatim, no empty block. Private to plinth::rag_ingest.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/rag/extract.hpp"

namespace plinth::rag::detail {

class DocumentBuilder {
 public:
  // A block-level element starts (kParagraph also stands for a plain container: div, ul, section).
  // Inside a heading, code or table everything stays in that one block and the element only
  // separates words; elsewhere the open block ends and the text that follows starts a block of
  // `kind`, except that a paragraph inside a list item or quote keeps the item's or quote's kind.
  void open(BlockKind kind, int level = 0);
  // The element opened last ends.
  void close();

  // Text of the current element, valid UTF-8: whitespace folded in prose, verbatim in code.
  void text(std::string_view utf8);
  // A line break: a new line in code, a new row in a table or a new line of a heading (several
  // signatures of one API entry); a space elsewhere.
  void line_break();
  // A new table cell: " | " between cells in a table, a space elsewhere.
  void cell_break();

  // The document so far: its text and the blocks closed so far.
  const ExtractedDocument& document() const noexcept { return doc_; }

  // The document, with `title` cleaned by make_title(). Throws ExtractError("no text") when no block
  // has any text.
  ExtractedDocument finish(std::string_view title) &&;

 private:
  struct Frame {
    BlockKind kind;
    int level;
    bool absorbed;  // opened inside a heading, code or table: no block of its own
  };
  // What separates the next visible text from the last, strongest wins; dropped at a block's end.
  enum class Pending { kNone, kSpace, kCell, kLine };

  BlockKind current_kind() const noexcept;
  void end_block();
  void start_block();
  void prose(std::string_view s);
  void code(std::string_view s);
  void separate(Pending p) noexcept;

  std::vector<Frame> frames_;
  ExtractedDocument doc_;
  std::optional<Block> open_block_;  // begin set; end filled when it closes
  Pending pending_ = Pending::kNone;
  // Whitespace before a code block's first visible character: only the first line's indentation of
  // it is kept.
  std::string code_lead_;
};

// Adds `text` (valid UTF-8) as paragraphs split at blank lines (plain text and PDF pages).
void add_paragraphs(DocumentBuilder& builder, std::string_view text);

}  // namespace plinth::rag::detail
