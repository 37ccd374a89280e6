// Reciprocal rank fusion of the lexical (BM25) and dense rankings of one query: each list adds
// weight / (k + rank) to the chunks it ranks (Cormack, Clarke and Buettcher, SIGIR 2009), so the
// scores of the two methods, which live on unrelated scales, never have to be calibrated.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace plinth::rag {

// One method's ranking, best first: ids[i] has rank i + 1 and the method's own score scores[i].
struct Ranking {
  std::span<const int64_t> ids;
  std::span<const float> scores;  // empty, or one per id
};

struct FusionOptions {
  double k = 60.0;  // the constant of the original paper; larger flattens the head of each list
  double bm25_weight = 1.0;
  double dense_weight = 1.0;
};

struct FusedHit {
  int64_t id = 0;
  double score = 0.0;      // sum of weight / (k + rank) over the lists that rank the chunk
  int bm25_rank = 0;       // 1-based; 0 when BM25 did not return the chunk
  int dense_rank = 0;      // 1-based; 0 when dense search did not return it
  float bm25_score = 0.0f;
  float dense_score = 0.0f;
};

// The fused ranking, best first, at most `limit` hits. Ties (equal fused score) go to the better
// best single rank, then to the lower id, so the order is deterministic. An id repeated within one
// list counts at its first rank. Throws std::invalid_argument for k <= 0, a negative weight, or
// scores whose size is neither 0 nor the ids' size.
std::vector<FusedHit> fuse_rankings(const Ranking& bm25, const Ranking& dense, const FusionOptions& options,
                                    std::size_t limit);

}  // namespace plinth::rag
