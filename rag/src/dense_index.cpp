#include "plinth/rag/dense_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>

#include "plinth/ops.hpp"
#include "plinth/tensor.hpp"

namespace plinth::rag {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

}  // namespace

DenseIndex::DenseIndex(Device& device, int64_t dim, DenseIndexOptions options)
    : device_(device), stream_(device.create_stream()), dim_(dim), options_(options) {
  if (dim <= 0) throw std::invalid_argument("dense index: dimension must be positive, got " + std::to_string(dim));
  if (options.storage != DType::f32 && options.storage != DType::f16) {
    throw std::invalid_argument("dense index: vectors are stored as f32 or f16, not " +
                                std::string(dtype_name(options.storage)));
  }
  reserve(std::max<int64_t>(options.initial_capacity, 1));
}

void DenseIndex::reserve(int64_t rows) {
  if (rows <= capacity_) return;
  const uint64_t row_bytes = dtype_bytes(options_.storage, static_cast<uint64_t>(dim_));
  Buffer grown = device_.allocate(static_cast<uint64_t>(rows) * row_bytes, {.stream = &stream_});
  if (!ids_.empty()) stream_.copy(rows_, 0, grown, 0, ids_.size() * row_bytes);
  rows_ = std::move(grown);  // the allocator keeps the old block until the stream has copied it
  capacity_ = rows;
}

void DenseIndex::upload_rows(int64_t first_slot, std::span<const float> vectors) {
  const uint64_t offset = static_cast<uint64_t>(first_slot) * dtype_bytes(options_.storage, static_cast<uint64_t>(dim_));
  if (options_.storage == DType::f32) {
    stream_.upload(vectors.data(), rows_, offset, vectors.size_bytes());
  } else {
    half_.resize(vectors.size());
    std::transform(vectors.begin(), vectors.end(), half_.begin(), f32_to_f16);
    stream_.upload(half_.data(), rows_, offset, half_.size() * sizeof(uint16_t));
  }
  stream_.synchronize();  // the host data is borrowed until the copy ran
}

void DenseIndex::add(std::span<const int64_t> ids, std::span<const float> vectors) {
  if (vectors.size() != ids.size() * static_cast<std::size_t>(dim_)) {
    throw std::invalid_argument("dense index: " + std::to_string(ids.size()) + " ids need " +
                                std::to_string(ids.size() * static_cast<std::size_t>(dim_)) + " values, got " +
                                std::to_string(vectors.size()));
  }
  if (const auto bad = std::find_if(vectors.begin(), vectors.end(), [](float v) { return !std::isfinite(v); });
      bad != vectors.end()) {
    throw std::invalid_argument("dense index: vector value " + std::to_string(bad - vectors.begin()) +
                                " is not finite");
  }
  std::unordered_set<int64_t> seen;
  for (const int64_t id : ids) {
    if (id < 0) throw std::invalid_argument("dense index: ids must be non-negative, got " + std::to_string(id));
    if (slot_of_.contains(id) || !seen.insert(id).second) {
      throw std::invalid_argument("dense index: id " + std::to_string(id) + " is already present");
    }
  }
  if (ids.empty()) return;
  const auto first = static_cast<int64_t>(ids_.size());
  const int64_t need = first + static_cast<int64_t>(ids.size());
  if (need > capacity_) reserve(std::max(need, capacity_ * 2));
  upload_rows(first, vectors);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    slot_of_.emplace(ids[i], first + static_cast<int64_t>(i));
    ids_.push_back(ids[i]);
  }
  live_ += static_cast<int64_t>(ids.size());
}

std::vector<int64_t> DenseIndex::ids() const {
  std::vector<int64_t> live;
  live.reserve(static_cast<std::size_t>(live_));
  std::copy_if(ids_.begin(), ids_.end(), std::back_inserter(live), [](int64_t id) { return id >= 0; });
  return live;
}

void DenseIndex::remove(std::span<const int64_t> ids) {
  for (const int64_t id : ids) {
    const auto it = slot_of_.find(id);
    if (it == slot_of_.end()) continue;
    ids_[static_cast<std::size_t>(it->second)] = -1;
    slot_of_.erase(it);
    --live_;
  }
  if (live_ * 2 < static_cast<int64_t>(ids_.size())) compact();
}

// Moves the live rows down over the removed ones, in order (so ties keep ordering by insertion), with
// device-side copies of each run of live rows.
void DenseIndex::compact() {
  const uint64_t row_bytes = dtype_bytes(options_.storage, static_cast<uint64_t>(dim_));
  Buffer packed = device_.allocate(std::max<uint64_t>(static_cast<uint64_t>(capacity_) * row_bytes, row_bytes),
                                   {.stream = &stream_});
  std::vector<int64_t> kept;
  kept.reserve(static_cast<std::size_t>(live_));
  std::size_t slot = 0;
  while (slot < ids_.size()) {
    if (ids_[slot] < 0) {
      ++slot;
      continue;
    }
    std::size_t end = slot;
    while (end < ids_.size() && ids_[end] >= 0) ++end;
    stream_.copy(rows_, slot * row_bytes, packed, kept.size() * row_bytes, (end - slot) * row_bytes);
    for (; slot < end; ++slot) {
      slot_of_[ids_[slot]] = static_cast<int64_t>(kept.size());
      kept.push_back(ids_[slot]);
    }
  }
  rows_ = std::move(packed);
  ids_ = std::move(kept);
  stream_.synchronize();
}

std::vector<std::vector<DenseHit>> DenseIndex::search(std::span<const float> queries, std::size_t k,
                                                      const std::unordered_set<int64_t>* allowed) {
  if (queries.size() % static_cast<std::size_t>(dim_) != 0) {
    throw std::invalid_argument("dense index: queries hold " + std::to_string(queries.size()) +
                                " values, not a multiple of the dimension " + std::to_string(dim_));
  }
  const auto nq = static_cast<int64_t>(queries.size() / static_cast<std::size_t>(dim_));
  std::vector<std::vector<DenseHit>> out(static_cast<std::size_t>(nq));
  const auto used = static_cast<int64_t>(ids_.size());
  if (nq == 0 || k == 0 || live_ == 0 || (allowed != nullptr && allowed->empty())) return out;

  // Removed rows, and rows outside the filter, get -inf before TOP_K: the filter is part of the search.
  std::vector<float> mask;
  if (allowed != nullptr || live_ < used) {
    mask.resize(static_cast<std::size_t>(used));
    for (std::size_t s = 0; s < mask.size(); ++s) {
      const int64_t id = ids_[s];
      mask[s] = id >= 0 && (allowed == nullptr || allowed->contains(id)) ? 0.0f : kMasked;
    }
  }
  const auto kk = static_cast<int64_t>(std::min<std::size_t>(k, static_cast<std::size_t>(used)));

  Buffer qbuf = device_.allocate(queries.size_bytes(), {.stream = &stream_});
  Buffer sbuf = device_.allocate(static_cast<uint64_t>(nq * used) * sizeof(float), {.stream = &stream_});
  Buffer vbuf = device_.allocate(static_cast<uint64_t>(nq * kk) * sizeof(float), {.stream = &stream_});
  Buffer ibuf = device_.allocate(static_cast<uint64_t>(nq * kk) * sizeof(int32_t), {.stream = &stream_});
  const Tensor q = Tensor::contiguous(qbuf, DType::f32, {nq, dim_});
  const Tensor rows = Tensor::contiguous(rows_, options_.storage, {used, dim_});
  const Tensor scores = Tensor::contiguous(sbuf, DType::f32, {nq, used});
  const Tensor values = Tensor::contiguous(vbuf, DType::f32, {nq, kk});
  const Tensor indices = Tensor::contiguous(ibuf, DType::i32, {nq, kk});

  stream_.upload(queries.data(), qbuf, 0, queries.size_bytes());
  ops::matmul(stream_, q, rows, scores, {.transpose_b = true});
  Buffer mbuf;
  if (!mask.empty()) {
    mbuf = device_.allocate(mask.size() * sizeof(float), {.stream = &stream_});
    stream_.upload(mask.data(), mbuf, 0, mask.size() * sizeof(float));
    ops::add(stream_, scores, Tensor::contiguous(mbuf, DType::f32, {1, used}), scores);
  }
  ops::top_k(stream_, scores, values, indices, static_cast<uint32_t>(kk));
  std::vector<float> top_values(static_cast<std::size_t>(nq * kk));
  std::vector<int32_t> top_slots(top_values.size());
  stream_.download(vbuf, 0, top_values.data(), top_values.size() * sizeof(float));
  stream_.download(ibuf, 0, top_slots.data(), top_slots.size() * sizeof(int32_t));
  stream_.synchronize();

  for (int64_t qi = 0; qi < nq; ++qi) {
    auto& hits = out[static_cast<std::size_t>(qi)];
    for (int64_t j = 0; j < kk; ++j) {
      const auto at = static_cast<std::size_t>(qi * kk + j);
      if (top_values[at] == kMasked) break;  // only masked rows remain
      const int32_t slot = top_slots[at];
      if (slot < 0 || slot >= used || ids_[static_cast<std::size_t>(slot)] < 0) {
        throw std::runtime_error("dense index: the device's TOP_K returned slot " + std::to_string(slot) +
                                 " outside the " + std::to_string(used) + " stored rows");
      }
      hits.push_back({ids_[static_cast<std::size_t>(slot)], top_values[at]});
    }
  }
  return out;
}

}  // namespace plinth::rag
