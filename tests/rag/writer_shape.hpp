// The documents plinth_rag_store_writer puts, shared with the crash test that checks them: document d
// of generation g has chunk_count(d, g) chunks whose texts say (document, chunk index, chunk count,
// generation), so a partial or mixed document is visible in any single chunk.
#pragma once

#include <cstdio>
#include <string>

#include "plinth/rag/store.hpp"

namespace plinth::rag::writer_shape {

constexpr std::size_t kDim = 16;
constexpr const char* kModel = "writer-test-model";

inline std::string source(int doc) { return "doc-" + std::to_string(doc); }
inline int chunk_count(int doc, int generation) { return 1 + (doc * 7 + generation * 5) % 13; }
inline std::string content_hash(int doc, int generation) {
  return "g" + std::to_string(generation) + "-d" + std::to_string(doc);
}
// What every chunk's text starts with.
inline std::string chunk_prefix(int doc, int index, int count, int generation) {
  return "doc " + std::to_string(doc) + " chunk " + std::to_string(index) + " of " + std::to_string(count) +
         " generation " + std::to_string(generation) + ".";
}

inline DocumentInput document(int doc, int generation) {
  // Enough words per chunk that indexing takes a while, so kills land inside transactions.
  static const std::string filler =
      " Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
      "et "
      "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
      "aliquip "
      "ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum "
      "dolore.";
  DocumentInput d;
  d.source = source(doc);
  d.content_hash = content_hash(doc, generation);
  d.title = "Document " + std::to_string(doc);
  d.format = "text";
  d.metadata = {{"generation", std::to_string(generation)}};
  const int count = chunk_count(doc, generation);
  std::int64_t at = 0;
  for (int i = 0; i < count; ++i) {
    ChunkInput c;
    c.text = chunk_prefix(doc, i, count, generation) + filler + filler;
    c.heading_path = "Document " + std::to_string(doc);
    c.begin = at;
    c.end = at + static_cast<std::int64_t>(c.text.size());
    at = c.end;
    c.tokens = static_cast<std::int64_t>(c.text.size() / 4);
    for (std::size_t k = 0; k < kDim; ++k)
      c.embedding.push_back(static_cast<float>(doc) + 0.01f * static_cast<float>(k));
    d.chunks.push_back(std::move(c));
  }
  d.bytes = at;
  return d;
}

}  // namespace plinth::rag::writer_shape
