// A buffer: aligned host memory (every memory kind is host memory on the CPU device).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace plinth::cpu {

class CpuDevice;

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

struct CpuBuffer {
  CpuBuffer() = default;
  CpuBuffer(const CpuBuffer&) = delete;
  CpuBuffer& operator=(const CpuBuffer&) = delete;
  ~CpuBuffer() {
    if (accounting != nullptr) accounting->fetch_sub(size);
  }

  const CpuDevice* device = nullptr;
  std::unique_ptr<void, FreeDeleter> memory;
  uint64_t size = 0;
  uint32_t kind = 0;
  std::atomic<bool> mapped{false};
  // The plugin-wide count of allocated bytes this buffer is part of (see buffer_alloc).
  std::atomic<uint64_t>* accounting = nullptr;

  std::byte* data() const noexcept { return static_cast<std::byte*>(memory.get()); }
};

}  // namespace plinth::cpu
