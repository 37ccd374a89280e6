// Page-aligned host memory for the baselines, so they get the same alignment a device allocator
// gives Plinth's buffers. Move-only RAII.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

namespace plinth::bench {

class HostMemory {
 public:
  HostMemory() = default;
  explicit HostMemory(std::size_t size);

  std::byte* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::span<std::byte> bytes() const noexcept { return {data_.get(), size_}; }
  template <class T>
  T* as() const noexcept {
    return reinterpret_cast<T*>(data_.get());
  }

 private:
  struct Free {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace plinth::bench
