#include "plinth/rag/fusion.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace plinth::rag {
namespace {

void check(const Ranking& r, const char* name) {
  if (!r.scores.empty() && r.scores.size() != r.ids.size()) {
    throw std::invalid_argument(std::string("fusion: the ") + name + " ranking has " +
                                std::to_string(r.ids.size()) + " ids but " + std::to_string(r.scores.size()) +
                                " scores");
  }
}

int best_rank(const FusedHit& h) {
  const int a = h.bm25_rank == 0 ? 1 << 30 : h.bm25_rank;
  const int b = h.dense_rank == 0 ? 1 << 30 : h.dense_rank;
  return std::min(a, b);
}

}  // namespace

std::vector<FusedHit> fuse_rankings(const Ranking& bm25, const Ranking& dense, const FusionOptions& options,
                                    std::size_t limit) {
  if (!(options.k > 0.0)) throw std::invalid_argument("fusion: k must be positive");
  if (options.bm25_weight < 0.0 || options.dense_weight < 0.0) {
    throw std::invalid_argument("fusion: weights must not be negative");
  }
  check(bm25, "BM25");
  check(dense, "dense");

  std::vector<FusedHit> hits;
  std::unordered_map<int64_t, std::size_t> at;
  auto hit_for = [&](int64_t id) -> FusedHit& {
    const auto [it, added] = at.try_emplace(id, hits.size());
    if (added) hits.push_back({.id = id});
    return hits[it->second];
  };
  for (std::size_t i = 0; i < bm25.ids.size(); ++i) {
    FusedHit& h = hit_for(bm25.ids[i]);
    if (h.bm25_rank != 0) continue;
    h.bm25_rank = static_cast<int>(i) + 1;
    h.bm25_score = bm25.scores.empty() ? 0.0f : bm25.scores[i];
    h.score += options.bm25_weight / (options.k + h.bm25_rank);
  }
  for (std::size_t i = 0; i < dense.ids.size(); ++i) {
    FusedHit& h = hit_for(dense.ids[i]);
    if (h.dense_rank != 0) continue;
    h.dense_rank = static_cast<int>(i) + 1;
    h.dense_score = dense.scores.empty() ? 0.0f : dense.scores[i];
    h.score += options.dense_weight / (options.k + h.dense_rank);
  }
  std::sort(hits.begin(), hits.end(), [](const FusedHit& a, const FusedHit& b) {
    if (a.score != b.score) return a.score > b.score;
    if (best_rank(a) != best_rank(b)) return best_rank(a) < best_rank(b);
    return a.id < b.id;
  });
  if (hits.size() > limit) hits.resize(limit);
  return hits;
}

}  // namespace plinth::rag
