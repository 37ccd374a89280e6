// PDF through poppler-cpp: the text of each page in reading order (poppler's layout analysis, as
// pdftotext does without -layout, so columns are not interleaved), paragraphs at blank lines.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <memory>
#include <mutex>
#include <string>

#include "document_builder.hpp"
#include "extractors.hpp"
#include "text_util.hpp"

namespace plinth::rag::detail {

namespace {

// poppler reports every damaged object of a broken file on stderr; a document it cannot read is an
// ExtractError here, so its messages are only noise. The hook is process-wide, set once.
void silence_poppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

std::string utf8(const poppler::ustring& s) {
  const poppler::byte_array bytes = s.to_utf8();
  return sanitize_utf8(std::string_view(bytes.data(), bytes.size()));
}

}  // namespace

ExtractedDocument extract_pdf(std::string_view bytes) {
  silence_poppler();
  // poppler reads the bytes in place (no copy): they outlive `doc`.
  const std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) throw ExtractError("not a readable PDF (damaged, or not a PDF)");
  if (doc->is_locked()) throw ExtractError("the PDF is encrypted and needs a password");
  DocumentBuilder builder;
  for (int i = 0; i < doc->pages(); ++i) {
    const std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    // A page ends its last paragraph (its form feed is whitespace to the paragraph splitter).
    add_paragraphs(builder, utf8(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
  }
  std::string title = utf8(doc->get_title());
  if (trim(title).empty()) title = first_line_title(builder.document().text);
  return std::move(builder).finish(title);
}

}  // namespace plinth::rag::detail
