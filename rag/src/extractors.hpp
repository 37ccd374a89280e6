// One extractor per format, behind extract_document() (which checks the size limit first). Each
// takes the raw file bytes. Private to plinth::rag_ingest.
#pragma once

#include <string>
#include <string_view>

#include "plinth/rag/extract.hpp"

namespace plinth::rag::detail {

ExtractedDocument extract_text(std::string_view bytes);
ExtractedDocument extract_markdown(std::string_view bytes);
ExtractedDocument extract_html(std::string_view bytes);
ExtractedDocument extract_pdf(std::string_view bytes);

// The text an HTML fragment such as "&amp;" or "&NotEqualTilde;" stands for (the HTML5 named
// character references, decoded by the HTML parser); empty when it is none.
std::string decode_html_fragment(std::string_view fragment);

}  // namespace plinth::rag::detail
