#include <bit>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "plinth/error.hpp"
#include "state.hpp"

namespace plinth {

uint64_t allocator_size_class(uint64_t bytes) noexcept {
  constexpr uint64_t kMinClass = 256;
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  if (bytes <= kMinClass) return kMinClass;
  if (bytes <= kMiB) return std::bit_ceil(bytes);
  return (bytes + kMiB - 1) / kMiB * kMiB;
}

namespace detail {

bool Allocator::reusable(const Block& block, uint64_t stream_id) const {
  for (const auto& p : block.pending) {
    if (stream_id != 0 && p.stream_id == stream_id) continue;  // same stream: ordered after the old work
    if (device_.api().event_query(p.event) != PLINTH_OK) return false;
  }
  return true;
}

std::unique_ptr<Block> Allocator::allocate(uint64_t size, const AllocOptions& options, uint64_t stream_id) {
  if (size == 0) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "buffer size must be > 0", "allocate", device_.id);
  }
  if (options.alignment != 0 && !std::has_single_bit(options.alignment)) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, fmt::format("alignment {} is not a power of two", options.alignment),
                "allocate", device_.id);
  }
  const uint64_t rounded = options.pooled ? allocator_size_class(size) : size;
  const auto key = std::make_tuple(static_cast<uint32_t>(options.kind), options.alignment, rounded);
  if (options.pooled) {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      auto& blocks = it->second;
      for (auto b = blocks.begin(); b != blocks.end(); ++b) {
        if (!reusable(**b, stream_id)) continue;
        std::unique_ptr<Block> block = std::move(*b);
        blocks.erase(b);
        for (const auto& p : block->pending) device_.api().event_destroy(p.event);
        block->pending.clear();
        stats_.bytes_cached -= block->size;
        stats_.cache_hits += 1;
        stats_.allocations += 1;
        stats_.bytes_in_use += block->size;
        stats_.bytes_requested += size;
        stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
        return block;
      }
    }
  }

  plinth_buffer_desc_t desc{};
  desc.struct_size = sizeof desc;
  desc.memory_kind = static_cast<uint32_t>(options.kind);
  desc.size = rounded;
  desc.alignment = options.alignment;
  plinth_buffer_t handle = nullptr;
  plinth_status_t status = device_.api().buffer_alloc(device_.handle, &desc, &handle);
  if (status == PLINTH_ERROR_OUT_OF_MEMORY) {
    // Cached blocks are memory the plugin could use: give them back and try once more.
    device_.logger->debug("{}: out of memory allocating {} bytes; freeing the cache and retrying", device_.id, rounded);
    empty_cache();
    {
      std::lock_guard lock(mutex_);
      stats_.oom_retries += 1;
    }
    status = device_.api().buffer_alloc(device_.handle, &desc, &handle);
  }
  device_.check(status, fmt::format("buffer_alloc({} bytes)", rounded));
  auto block = std::make_unique<Block>();
  block->handle = handle;
  block->size = rounded;
  block->kind = options.kind;
  block->alignment = options.alignment;
  block->pooled = options.pooled;
  std::lock_guard lock(mutex_);
  stats_.cache_misses += 1;
  stats_.plugin_allocations += 1;
  stats_.allocations += 1;
  stats_.bytes_in_use += rounded;
  stats_.bytes_requested += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  return block;
}

void Allocator::release(std::unique_ptr<Block> block, const std::vector<std::shared_ptr<StreamState>>& used,
                        uint64_t requested) {
  {
    std::lock_guard lock(mutex_);
    stats_.bytes_in_use -= block->size;
    stats_.bytes_requested -= requested;
    stats_.frees += 1;
  }
  if (device_.closed) return;  // the plugin reclaimed everything at device_close
  const auto& api = device_.api();
  // After the plugin reported the loss only destroy calls are valid, and the work queued on the
  // block will never run: free it at once. An injected loss is not such a loss (state.hpp): the
  // plugin still runs the queued work, so the block is freed only after it, as on a healthy device.
  if (device_.plugin_lost) {
    destroy_block(std::move(block), false);
    return;
  }
  bool ordered = true;
  for (const auto& stream : used) {
    plinth_event_t event = nullptr;
    plinth_status_t status = api.event_create(device_.handle, 0, &event);
    if (status == PLINTH_OK) {
      status = api.event_record(event, stream->handle);
      if (status != PLINTH_OK) api.event_destroy(event);
    }
    if (device_.reported_lost(status, "event_record (buffer release)")) {
      destroy_block(std::move(block), false);
      return;
    }
    if (status != PLINTH_OK) {
      ordered = false;
      break;
    }
    block->pending.push_back({stream->id, event});
  }
  if (!ordered) {
    // Without events we cannot tell when the memory is free again: wait for the streams instead.
    for (const auto& stream : used) {
      const plinth_status_t status = api.stream_synchronize(stream->handle);
      if (device_.reported_lost(status, "stream_synchronize (buffer release)")) break;
    }
  }
  // A lost device allocates nothing any more: its blocks are not worth caching.
  if (block->pooled && !device_.lost) {
    std::lock_guard lock(mutex_);
    stats_.bytes_cached += block->size;
    cache_[std::make_tuple(static_cast<uint32_t>(block->kind), block->alignment, block->size)].push_back(std::move(block));
    return;
  }
  destroy_block(std::move(block), true);
}

void Allocator::destroy_block(std::unique_ptr<Block> block, bool wait) {
  const auto& api = device_.api();
  for (const auto& p : block->pending) {
    // Only a loss the plugin reported ends the wait for the work on the block: with an injected
    // one the work still runs and must finish before buffer_free.
    if (wait && !device_.plugin_lost) {
      device_.reported_lost(api.event_synchronize(p.event), "event_synchronize (buffer release)");
    }
    api.event_destroy(p.event);
  }
  const plinth_status_t status = api.buffer_free(block->handle);
  if (status != PLINTH_OK) {
    device_.logger->error("{}: buffer_free failed: {}: {}", device_.id, status_name(status),
                          device_.plugin->last_error_message());
  }
  std::lock_guard lock(mutex_);
  stats_.plugin_frees += 1;
}

void Allocator::trim(uint64_t max_cached) {
  std::vector<std::unique_ptr<Block>> victims;
  {
    std::lock_guard lock(mutex_);
    // Oldest blocks of the largest classes go first: they free the most memory per plugin call.
    for (auto it = cache_.rbegin(); it != cache_.rend() && stats_.bytes_cached > max_cached; ++it) {
      auto& blocks = it->second;
      while (!blocks.empty() && stats_.bytes_cached > max_cached) {
        stats_.bytes_cached -= blocks.front()->size;
        victims.push_back(std::move(blocks.front()));
        blocks.erase(blocks.begin());
      }
    }
    std::erase_if(cache_, [](const auto& kv) { return kv.second.empty(); });
  }
  if (device_.closed) return;
  for (auto& b : victims) destroy_block(std::move(b), true);
}

void Allocator::empty_cache() { trim(0); }

AllocatorStats Allocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Allocator::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

void Allocator::abandon() {
  std::lock_guard lock(mutex_);
  cache_.clear();
  stats_.bytes_cached = 0;
}

}  // namespace detail
}  // namespace plinth
