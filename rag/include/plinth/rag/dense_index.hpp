// DenseIndex: one collection's chunk vectors resident on a device, searched exactly with catalogue
// ops (MATMUL of the queries against every stored row, an additive mask, TOP_K), so dense retrieval
// runs on whatever device the runtime offers and moves to new hardware with the plugins.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plinth/buffer.hpp"
#include "plinth/device.hpp"
#include "plinth/dtype.hpp"
#include "plinth/stream.hpp"

namespace plinth::rag {

struct DenseHit {
  int64_t id = 0;      // the chunk id given to add()
  float score = 0.0f;  // inner product of the query and the stored vector (cosine for unit vectors)
};

struct DenseIndexOptions {
  // How rows are stored on the device: f16 halves the memory and the bytes each search reads; f32
  // keeps the vectors exact.
  DType storage = DType::f16;
  // Rows reserved up front; the store grows by doubling past it.
  int64_t initial_capacity = 1024;
};

// Not thread-safe: one owner (a collection's retriever) calls it, under its own lock if shared.
class DenseIndex {
 public:
  // Throws std::invalid_argument for dim <= 0 or a storage dtype other than f32/f16.
  DenseIndex(Device& device, int64_t dim, DenseIndexOptions options = {});
  DenseIndex(const DenseIndex&) = delete;
  DenseIndex& operator=(const DenseIndex&) = delete;

  int64_t dim() const noexcept { return dim_; }
  int64_t size() const noexcept { return live_; }  // rows that searches can return
  bool contains(int64_t id) const { return slot_of_.contains(id); }
  std::vector<int64_t> ids() const;  // the live rows' ids, in insertion order

  // Appends rows: ids [n] and vectors [n, dim] row-major. An id already present, or a vectors span
  // of the wrong size, is std::invalid_argument and nothing is added.
  void add(std::span<const int64_t> ids, std::span<const float> vectors);
  // Removes rows by id (unknown ids are ignored). Removed rows are masked at once and their slots
  // compacted away once they are the majority.
  void remove(std::span<const int64_t> ids);

  // The k best rows for each of the queries [nq, dim] (row-major), best first; ties by insertion
  // order. With `allowed`, only rows whose id is in it take part: the filter is a mask applied before
  // TOP_K on the device, so a filtered search still returns up to k rows. A query gets fewer than k
  // hits only when fewer rows qualify.
  std::vector<std::vector<DenseHit>> search(std::span<const float> queries, std::size_t k,
                                            const std::unordered_set<int64_t>* allowed = nullptr);

 private:
  void reserve(int64_t rows);
  void compact();
  void upload_rows(int64_t first_slot, std::span<const float> vectors);

  Device& device_;
  Stream stream_;
  int64_t dim_;
  DenseIndexOptions options_;
  Buffer rows_;                // [capacity_, dim_] in options_.storage
  int64_t capacity_ = 0;
  std::vector<int64_t> ids_;   // slot -> id, or -1 for a removed row
  std::unordered_map<int64_t, int64_t> slot_of_;
  int64_t live_ = 0;
  std::vector<uint16_t> half_;  // conversion scratch for f16 uploads
};

}  // namespace plinth::rag
