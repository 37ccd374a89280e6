// libFuzzer entry point for rag/'s Markdown extraction (md4c, entities, tables, code),
// followed by chunking. See rag_fuzz.hpp for what counts as a bug.
#include <cstddef>
#include <cstdint>

#include "rag_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return plinth::rag::fuzzing::fuzz_document(plinth::rag::DocumentFormat::kMarkdown, data, size);
}
