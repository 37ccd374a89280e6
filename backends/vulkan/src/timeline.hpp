// A timeline semaphore: one per stream, shared with the events recorded on it so that an event
// outlives the stream it was recorded on.
#pragma once

#include <cstdint>

#include "device.hpp"

namespace plinth::vulkan {

class Timeline {
 public:
  explicit Timeline(Device& device);
  ~Timeline();
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  VkSemaphore get() const noexcept { return semaphore_; }
  uint64_t completed() const;
  void wait(uint64_t value) const;

 private:
  Device* device_;
  VkSemaphore semaphore_ = VK_NULL_HANDLE;
};

}  // namespace plinth::vulkan
