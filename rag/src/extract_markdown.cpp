// Markdown through md4c's SAX-style parser (CommonMark plus GitHub tables, strikethrough, task lists
// and autolinks): its block events become DocumentBuilder elements, its text events text.
#include <md4c.h>

#include <string>
#include <unordered_map>

#include "document_builder.hpp"
#include "extractors.hpp"
#include "text_util.hpp"

namespace plinth::rag::detail {

namespace {

// md4c hands entities over verbatim ("&amp;", "&#x1F600;"). Numeric ones are decoded here; named
// ones by the HTML parser's table of HTML5 references, remembered per document since a document
// repeats the same few.
class EntityDecoder {
 public:
  std::string_view decode(std::string_view entity) {
    if (entity.size() >= 3 && entity[1] == '#') return numeric(entity);
    auto [it, inserted] = named_.try_emplace(std::string(entity));
    if (inserted) {
      it->second = decode_html_fragment(entity);
      if (it->second.empty()) it->second = entity;  // not a known name: literal text, as CommonMark says
    }
    return it->second;
  }

 private:
  std::string_view numeric(std::string_view entity) {
    // "&#123;" or "&#x1F;": md4c allows at most 7 decimal or 6 hex digits, so this cannot overflow.
    const bool hex = entity[2] == 'x' || entity[2] == 'X';
    char32_t cp = 0;
    for (std::size_t i = hex ? 3 : 2; i < entity.size() && entity[i] != ';'; ++i) {
      const char c = entity[i];
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
      if (digit < 0 || digit >= (hex ? 16 : 10) || cp > 0x10FFFF) {
        cp = 0x110000;  // malformed: U+FFFD
        break;
      }
      cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(digit);
    }
    scratch_.clear();
    append_utf8(scratch_, cp == 0 ? 0xFFFD : cp);
    return scratch_;
  }

  std::unordered_map<std::string, std::string> named_;
  std::string scratch_;
};

class MarkdownReader {
 public:
  ExtractedDocument read(const std::string& text) {
    MD_PARSER parser{};
    parser.flags = MD_DIALECT_GITHUB;
    parser.enter_block = &MarkdownReader::enter_block;
    parser.leave_block = &MarkdownReader::leave_block;
    parser.enter_span = [](MD_SPANTYPE, void*, void*) { return 0; };
    parser.leave_span = [](MD_SPANTYPE, void*, void*) { return 0; };
    parser.text = &MarkdownReader::on_text;
    if (md_parse(text.data(), static_cast<MD_SIZE>(text.size()), &parser, this) != 0) {
      throw ExtractError("the Markdown parser failed (out of memory?)");
    }
    std::string title;
    for (const auto& block : builder_.document().blocks) {
      if (block.kind == BlockKind::kHeading) {
        title = builder_.document().text.substr(block.begin, block.end - block.begin);
        break;
      }
    }
    if (title.empty()) title = first_line_title(builder_.document().text);
    return std::move(builder_).finish(title);
  }

 private:
  static int enter_block(MD_BLOCKTYPE type, void* detail, void* self) {
    auto& r = *static_cast<MarkdownReader*>(self);
    switch (type) {
      case MD_BLOCK_QUOTE: r.builder_.open(BlockKind::kQuote); break;
      case MD_BLOCK_LI: r.builder_.open(BlockKind::kListItem); break;
      case MD_BLOCK_H:
        r.builder_.open(BlockKind::kHeading,
                        static_cast<int>(static_cast<MD_BLOCK_H_DETAIL*>(detail)->level));
        break;
      case MD_BLOCK_CODE: r.builder_.open(BlockKind::kCode); break;
      case MD_BLOCK_TABLE: r.builder_.open(BlockKind::kTable); break;
      case MD_BLOCK_UL:
      case MD_BLOCK_OL:
      case MD_BLOCK_HR:
      case MD_BLOCK_P: r.builder_.open(BlockKind::kParagraph); break;
      case MD_BLOCK_HTML: ++r.raw_html_; break;
      case MD_BLOCK_TR: r.builder_.line_break(); break;
      case MD_BLOCK_TH:
      case MD_BLOCK_TD: r.builder_.cell_break(); break;
      case MD_BLOCK_DOC:
      case MD_BLOCK_THEAD:
      case MD_BLOCK_TBODY: break;
    }
    return 0;
  }

  static int leave_block(MD_BLOCKTYPE type, void*, void* self) {
    auto& r = *static_cast<MarkdownReader*>(self);
    switch (type) {
      case MD_BLOCK_QUOTE:
      case MD_BLOCK_LI:
      case MD_BLOCK_H:
      case MD_BLOCK_CODE:
      case MD_BLOCK_TABLE:
      case MD_BLOCK_UL:
      case MD_BLOCK_OL:
      case MD_BLOCK_HR:
      case MD_BLOCK_P: r.builder_.close(); break;
      case MD_BLOCK_HTML: --r.raw_html_; break;
      case MD_BLOCK_DOC:
      case MD_BLOCK_THEAD:
      case MD_BLOCK_TBODY:
      case MD_BLOCK_TR:
      case MD_BLOCK_TH:
      case MD_BLOCK_TD: break;
    }
    return 0;
  }

  static int on_text(MD_TEXTTYPE type, const MD_CHAR* data, MD_SIZE size, void* self) {
    auto& r = *static_cast<MarkdownReader*>(self);
    const std::string_view s(data, size);
    switch (type) {
      case MD_TEXT_NORMAL:
      case MD_TEXT_CODE:
      case MD_TEXT_LATEXMATH:
        if (r.raw_html_ == 0) r.builder_.text(s);
        break;
      case MD_TEXT_NULLCHAR: r.builder_.text("\xEF\xBF\xBD"); break;
      case MD_TEXT_BR: r.builder_.line_break(); break;
      case MD_TEXT_SOFTBR: r.builder_.text(" "); break;
      case MD_TEXT_ENTITY: r.builder_.text(r.entities_.decode(s)); break;
      case MD_TEXT_HTML: break;  // raw HTML is markup, not text
    }
    return 0;
  }

  DocumentBuilder builder_;
  EntityDecoder entities_;
  int raw_html_ = 0;
};

}  // namespace

ExtractedDocument extract_markdown(std::string_view bytes) {
  return MarkdownReader{}.read(sanitize_utf8(bytes));
}

}  // namespace plinth::rag::detail
