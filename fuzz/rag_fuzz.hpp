// The body of the rag fuzz targets (fuzz_html.cpp, fuzz_markdown.cpp, fuzz_pdf.cpp): extract the
// bytes as one format, then chunk the document with a word counter and a tight budget. The input is
// either refused with an ExtractError that says why, or becomes a document and chunks that keep every
// promise of extract.hpp and chunker.hpp (tests/rag/rag_invariants.hpp: exact spans, valid UTF-8,
// blocks separated by "\n\n", chunks within budget and sections, nothing lost). Anything else (a
// crash, a sanitizer report, another exception, a broken invariant) is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <plinth/rag/chunker.hpp>
#include <plinth/rag/extract.hpp>
#include <string>
#include <string_view>

#include "rag_invariants.hpp"

namespace plinth::rag::fuzzing {

inline void fail(const std::string& violation) {
  std::fprintf(stderr, "invariant broken: %s\n", violation.c_str());
  std::abort();
}

inline int fuzz_document(DocumentFormat format, const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ExtractedDocument doc;
  try {
    doc = extract_document(format, bytes);
  } catch (const ExtractError& e) {
    if (std::string_view(e.what()).empty()) fail("an ExtractError without a message");
    return 0;
  }
  if (auto violation = testing::document_violation(doc); !violation.empty()) fail(violation);
  const ChunkOptions options{.max_tokens = 12, .overlap_tokens = 4};
  const auto chunks = chunk_document(doc, options, testing::count_words);
  if (chunks.empty()) fail("a document with text gave no chunks");
  if (auto violation = testing::chunks_violation(doc, chunks, options, testing::count_words);
      !violation.empty()) {
    fail(violation);
  }
  return 0;
}

}  // namespace plinth::rag::fuzzing
