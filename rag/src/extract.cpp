// extract_document(): the size limit and the dispatch to one extractor per format; the plain-text
// extractor; formats by file extension.
#include "plinth/rag/extract.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

#include "document_builder.hpp"
#include "extractors.hpp"
#include "text_util.hpp"

namespace plinth::rag {

namespace {
constexpr std::array<std::pair<std::string_view, DocumentFormat>, 7> kExtensions{{
    {"txt", DocumentFormat::kText},
    {"text", DocumentFormat::kText},
    {"md", DocumentFormat::kMarkdown},
    {"markdown", DocumentFormat::kMarkdown},
    {"html", DocumentFormat::kHtml},
    {"htm", DocumentFormat::kHtml},
    {"pdf", DocumentFormat::kPdf},
}};
}  // namespace

std::optional<DocumentFormat> format_from_path(std::string_view path) {
  const auto slash = path.find_last_of("/\\");
  const auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return std::nullopt;
  std::string ext(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [known, format] : kExtensions) {
    if (ext == known) return format;
  }
  return std::nullopt;
}

std::string_view format_name(DocumentFormat format) noexcept {
  switch (format) {
    case DocumentFormat::kText: return "text";
    case DocumentFormat::kMarkdown: return "markdown";
    case DocumentFormat::kHtml: return "html";
    case DocumentFormat::kPdf: return "pdf";
  }
  return "unknown";
}

ExtractedDocument extract_document(DocumentFormat format, std::string_view bytes) {
  if (bytes.size() > kMaxDocumentBytes) {
    throw ExtractError(std::string(format_name(format)) + " document of " + std::to_string(bytes.size()) +
                       " bytes is over the limit of " + std::to_string(kMaxDocumentBytes >> 20) + " MiB");
  }
  switch (format) {
    case DocumentFormat::kText: return detail::extract_text(bytes);
    case DocumentFormat::kMarkdown: return detail::extract_markdown(bytes);
    case DocumentFormat::kHtml: return detail::extract_html(bytes);
    case DocumentFormat::kPdf: return detail::extract_pdf(bytes);
  }
  throw ExtractError("unknown document format");
}

namespace detail {

ExtractedDocument extract_text(std::string_view bytes) {
  const std::string text = sanitize_utf8(bytes);
  DocumentBuilder builder;
  add_paragraphs(builder, text);
  return std::move(builder).finish(first_line_title(text));
}

}  // namespace detail
}  // namespace plinth::rag
