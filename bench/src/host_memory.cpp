#include "host_memory.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace plinth::bench {
namespace {
constexpr std::size_t kAlignment = 4096;
}

HostMemory::HostMemory(std::size_t size) : size_(size) {
  const std::size_t rounded = (std::max<std::size_t>(size, 1) + kAlignment - 1) / kAlignment * kAlignment;
  data_.reset(static_cast<std::byte*>(std::aligned_alloc(kAlignment, rounded)));
  if (!data_) throw std::bad_alloc();
  // Touch every page now so first-touch faults never land in a timed repetition.
  std::memset(data_.get(), 0, rounded);
}

}  // namespace plinth::bench
