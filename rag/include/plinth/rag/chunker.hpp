// Structural chunking of an extracted document (extract.hpp) into the pieces that are embedded,
// indexed and cited. Each chunk is a span of ExtractedDocument::text, so `text` is exactly
// doc.text.substr(begin, end - begin) and a citation can point at it.
//
//   const auto chunks = plinth::rag::chunk_document(doc, {.max_tokens = 200, .overlap_tokens = 32},
//                                                   [&](std::string_view s) { return tok.count(s); });
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/rag/extract.hpp"

namespace plinth::rag {

struct ChunkOptions {
  std::size_t max_tokens = 200;     // > 0: the budget of one chunk
  std::size_t overlap_tokens = 32;  // < max_tokens: how much of a chunk's tail the next one repeats
};

// Counts the tokens of a piece of text: the encoder's tokenizer in production (without special
// tokens), anything monotone enough in tests (words). Called per block, per sentence of a block that
// is too large, per word of an overlap and once per finished chunk: never on growing prefixes.
using TokenCounter = std::function<std::size_t(std::string_view)>;

struct Chunk {
  std::string text;          // == doc.text.substr(begin, end - begin)
  std::string heading_path;  // "Title > Section > Subsection" (whitespace folded)
  std::size_t begin = 0;     // span in ExtractedDocument::text
  std::size_t end = 0;
  std::size_t tokens = 0;  // count(text)
};

// Cuts `doc` into chunks, in document order:
// - A chunk never spans two sections: each heading starts a new one. A heading's text goes into the
//   heading path of the chunks below it, not into their text, except for a section with no body of its
//   own (a heading followed directly by a sub-heading), which becomes a chunk of the heading itself.
// - The blocks of one section are packed while they fit max_tokens. A block larger than the budget
//   is split at sentence ends, then line breaks (code: line breaks first), then spaces, and a single
//   over-long word between UTF-8 characters.
// - Consecutive chunks of one section overlap: the next one starts with up to overlap_tokens of the
//   previous one's tail, at a word start (less when the budget needs the room).
// - Every chunk has count(text) <= max_tokens, unless one character alone counts more. No chunk is
//   empty or ends with whitespace (one may start with the indentation of a line of code).
// Throws std::invalid_argument when max_tokens is 0 or overlap_tokens >= max_tokens.
std::vector<Chunk> chunk_document(const ExtractedDocument& doc, const ChunkOptions& options,
                                  const TokenCounter& count);

}  // namespace plinth::rag
