// The per-device caching allocator: every Buffer a Device allocates comes from it, so every backend
// gets pooling without writing any.
//
// Size classes: requests are rounded up to a power of two from 256 B to 1 MiB (small buffers are
// numerous and short-lived, so a few classes give high reuse; the waste is bounded by 2x of a small
// amount), and to a multiple of 1 MiB above that (large buffers are weights and activations whose
// sizes repeat exactly; 1 MiB granularity keeps waste under 1 MiB per buffer). A cached block is reused
// only for a request of the same class, memory kind and alignment.
//
// Stream-ordered reuse: the core notes every stream that used a buffer (copies and op launches).
// When the buffer is freed, an event is recorded on each of those streams. A cached block is reusable
// at once by the stream it was allocated on when that is the only stream that used it, and by any
// stream once all its events have completed. The memory never goes back to the plugin while queued
// work may still touch it.
//
// When the plugin reports OUT_OF_MEMORY, the allocator frees its whole cache (waiting for pending
// events) and retries once before failing.
#pragma once

#include <cstdint>

#include "plinth/export.hpp"

namespace plinth {

class Stream;

// Memory kinds of plinth/abi.h.
enum class MemoryKind : uint32_t {
  device = 0,       // device-local
  host_pinned = 1,  // host memory the device reaches fast; mappable
  shared = 2,       // visible to host and device; mappable
};

struct AllocOptions {
  MemoryKind kind = MemoryKind::device;
  uint64_t alignment = 0;          // power of two, or 0 for the device's minimum
  const Stream* stream = nullptr;  // the stream the buffer will be used on first (for ordered reuse)
  bool pooled = true;              // false: a dedicated plugin allocation, returned to the plugin on free
};

struct AllocatorStats {
  uint64_t bytes_in_use = 0;         // bytes of blocks handed out (size-class rounded)
  uint64_t bytes_requested = 0;      // bytes asked for by live buffers
  uint64_t bytes_cached = 0;         // bytes of free blocks kept for reuse
  uint64_t peak_bytes_in_use = 0;    // high-water mark of bytes_in_use
  uint64_t allocations = 0;          // allocate calls that succeeded
  uint64_t frees = 0;                // buffers released
  uint64_t cache_hits = 0;           // allocations served from the cache
  uint64_t cache_misses = 0;         // allocations that went to the plugin
  uint64_t plugin_allocations = 0;   // buffer_alloc calls that succeeded
  uint64_t plugin_frees = 0;         // buffer_free calls
  uint64_t oom_retries = 0;          // OUT_OF_MEMORY answered by freeing the cache and retrying
};

// The rounded size a request of `bytes` is served with (see the size classes above).
PLINTH_CORE_API uint64_t allocator_size_class(uint64_t bytes) noexcept;

}  // namespace plinth
