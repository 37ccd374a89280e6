#include "plinth/rag/retriever.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace plinth::rag {

CollectionIndex::CollectionIndex(std::string name, CollectionStore store, Device& device,
                                 DenseIndexOptions options)
    : name_(std::move(name)),
      store_(std::move(store)),
      dense_(device, static_cast<int64_t>(store_.dim()), options) {
  sync();
}

void CollectionIndex::sync() {
  const int64_t revision = store_.revision();
  if (revision == revision_) return;
  // Chunk ids are never reused, so ids alone tell what changed.
  const std::vector<int64_t> live = store_.chunk_ids_matching({});
  const std::unordered_set<int64_t> in_store(live.begin(), live.end());
  std::vector<int64_t> stale;
  for (const int64_t id : dense_.ids()) {
    if (!in_store.contains(id)) stale.push_back(id);
  }
  dense_.remove(stale);
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  store_.for_each_vector([&](int64_t id, std::span<const float> v) {
    if (dense_.contains(id)) return;
    ids.push_back(id);
    vectors.insert(vectors.end(), v.begin(), v.end());
  });
  dense_.add(ids, vectors);
  revision_ = revision;
}

namespace {

// A chunk across collections: its collection's position in the high bits (chunk ids stay far below 2^48).
uint64_t key_of(std::size_t collection, int64_t chunk_id) {
  return (static_cast<uint64_t>(collection) << 48) ^ static_cast<uint64_t>(chunk_id);
}

// One candidate across collections: where it lives, and its rank in each method's merged list.
struct Candidate {
  std::size_t collection;
  int64_t chunk_id;
};

}  // namespace

std::vector<RetrievedChunk> retrieve(std::span<CollectionIndex* const> collections, std::string_view query,
                                     std::span<const float> query_vector, const RetrievalOptions& options) {
  const bool use_bm25 = options.mode != RetrievalMode::dense;
  const bool use_dense = options.mode != RetrievalMode::bm25;
  std::vector<Candidate> candidates;
  std::unordered_map<uint64_t, int64_t> key_to_candidate;  // (collection, chunk) -> fused id
  auto candidate_id = [&](std::size_t c, int64_t chunk) {
    const auto [it, added] = key_to_candidate.try_emplace(key_of(c, chunk), static_cast<int64_t>(candidates.size()));
    if (added) candidates.push_back({c, chunk});
    return it->second;
  };

  // Each method's list over all collections, best first.
  std::vector<std::pair<float, int64_t>> bm25_list;
  std::vector<std::pair<float, int64_t>> dense_list;
  for (std::size_t c = 0; c < collections.size(); ++c) {
    CollectionIndex& col = *collections[c];
    col.sync();
    if (use_bm25) {
      for (const Bm25Hit& h : col.store().bm25(query, options.filter, options.depth, options.bm25_weights))
        bm25_list.emplace_back(static_cast<float>(h.score), candidate_id(c, h.chunk_id));
    }
    if (use_dense) {
      if (query_vector.size() != col.store().dim()) {
        throw std::invalid_argument("retrieve: the query vector has " + std::to_string(query_vector.size()) +
                                    " values but collection '" + col.name() + "' holds vectors of " +
                                    std::to_string(col.store().dim()));
      }
      std::unordered_set<int64_t> allowed;
      const bool filtered = !options.filter.empty();
      if (filtered) {
        const std::vector<int64_t> ids = col.store().chunk_ids_matching(options.filter);
        allowed.insert(ids.begin(), ids.end());
      }
      const auto hits = col.dense().search(query_vector, options.depth, filtered ? &allowed : nullptr);
      for (const DenseHit& h : hits[0]) dense_list.emplace_back(h.score, candidate_id(c, h.id));
    }
  }
  auto best_first = [&](std::vector<std::pair<float, int64_t>>& list) {
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (list.size() > options.depth) list.resize(options.depth);
  };
  best_first(bm25_list);
  best_first(dense_list);
  auto split = [](const std::vector<std::pair<float, int64_t>>& list, std::vector<int64_t>& ids,
                  std::vector<float>& scores) {
    for (const auto& [score, id] : list) {
      ids.push_back(id);
      scores.push_back(score);
    }
  };
  std::vector<int64_t> bm25_ids, dense_ids;
  std::vector<float> bm25_scores, dense_scores;
  split(bm25_list, bm25_ids, bm25_scores);
  split(dense_list, dense_ids, dense_scores);
  const std::vector<FusedHit> fused =
      fuse_rankings({bm25_ids, bm25_scores}, {dense_ids, dense_scores}, options.fusion, options.limit);

  // Fetch the winners' records, one query per collection.
  std::vector<std::vector<int64_t>> wanted(collections.size());
  for (const FusedHit& h : fused) {
    const Candidate& c = candidates[static_cast<std::size_t>(h.id)];
    wanted[c.collection].push_back(c.chunk_id);
  }
  std::unordered_map<uint64_t, ChunkRecord> records;
  for (std::size_t c = 0; c < collections.size(); ++c) {
    if (wanted[c].empty()) continue;
    for (ChunkRecord& r : collections[c]->store().chunks(wanted[c])) {
      records.emplace(key_of(c, r.id), std::move(r));
    }
  }
  std::vector<RetrievedChunk> out;
  out.reserve(fused.size());
  for (const FusedHit& h : fused) {
    const Candidate& c = candidates[static_cast<std::size_t>(h.id)];
    const auto it = records.find(key_of(c.collection, c.chunk_id));
    if (it == records.end()) continue;  // deleted between the search and the fetch
    RetrievedChunk r{collections[c.collection]->name(), std::move(it->second), h};
    r.rank.id = c.chunk_id;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace plinth::rag
