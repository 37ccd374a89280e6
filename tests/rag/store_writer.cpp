// plinth_rag_store_writer STORE GENERATION DOCUMENTS: puts documents 0..DOCUMENTS-1 of the given
// generation (writer_shape.hpp) into the collection store, skipping those already stored unchanged,
// so a run killed half-way is resumed by the next. Prints "written N skipped M" and exits 0 when done.
#include <charconv>
#include <cstdio>
#include <exception>
#include <string_view>

#include "plinth/rag/store.hpp"
#include "writer_shape.hpp"

namespace {

int parse_positive(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value > 0 ? value : -1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace shape = plinth::rag::writer_shape;
  if (argc != 4 || parse_positive(argv[2]) < 0 || parse_positive(argv[3]) < 0) {
    std::fprintf(stderr, "usage: %s STORE GENERATION DOCUMENTS\n", argv[0]);
    return 2;
  }
  const int generation = parse_positive(argv[2]);
  const int documents = parse_positive(argv[3]);
  try {
    auto store =
        plinth::rag::CollectionStore::open(argv[1], {.dim = shape::kDim, .embedding_model = shape::kModel});
    int written = 0, skipped = 0;
    for (int doc = 0; doc < documents; ++doc) {
      if (store.unchanged(shape::source(doc), shape::content_hash(doc, generation))) {
        ++skipped;
        continue;
      }
      store.put_document(shape::document(doc, generation));
      ++written;
    }
    std::printf("written %d skipped %d\n", written, skipped);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plinth_rag_store_writer: %s\n", e.what());
    return 1;
  }
}
