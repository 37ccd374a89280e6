// Hybrid retrieval over one or more collections: BM25 from each collection's FTS5 index, exact dense
// search on the device over each collection's resident vectors, both under the same filter, fused by
// reciprocal rank. The caller embeds the query (the encoder runs behind the engine, not here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/rag/dense_index.hpp"
#include "plinth/rag/fusion.hpp"
#include "plinth/rag/store.hpp"

namespace plinth::rag {

enum class RetrievalMode { hybrid, bm25, dense };

struct RetrievalOptions {
  RetrievalMode mode = RetrievalMode::hybrid;
  std::size_t limit = 10;   // fused hits returned
  std::size_t depth = 50;   // candidates each method contributes before fusion
  FusionOptions fusion{};
  Bm25Weights bm25_weights{};
  MetadataFilter filter{};  // applied inside both searches, never after them
};

// A collection's store with its vectors resident on a device, kept in step with the store.
class CollectionIndex {
 public:
  // Loads every vector of `store` into a DenseIndex on `device`.
  CollectionIndex(std::string name, CollectionStore store, Device& device, DenseIndexOptions options = {});

  const std::string& name() const noexcept { return name_; }
  CollectionStore& store() noexcept { return store_; }
  const CollectionStore& store() const noexcept { return store_; }
  DenseIndex& dense() noexcept { return dense_; }

  // Brings the dense index up to the store's revision (another connection may have written):
  // removed chunks leave it, new ones are added. A no-op while the revision is unchanged.
  void sync();

 private:
  std::string name_;
  CollectionStore store_;
  DenseIndex dense_;
  std::int64_t revision_ = -1;
};

struct RetrievedChunk {
  std::string collection;  // CollectionIndex::name()
  ChunkRecord chunk;
  FusedHit rank;           // fused score, and each method's rank (0 = not found by it) and score
};

// The best chunks for `query` (its words for BM25) and `query_vector` (its embedding, the collections'
// dimension) across `collections`, which the caller has already restricted to what the tenant may
// read. Each collection is synced first. BM25 lists of several collections merge by score, dense
// lists by similarity. Throws std::invalid_argument when a dense search is asked for with a vector of
// the wrong size.
std::vector<RetrievedChunk> retrieve(std::span<CollectionIndex* const> collections, std::string_view query,
                                     std::span<const float> query_vector, const RetrievalOptions& options);

}  // namespace plinth::rag
