// A plinth buffer: one VkBuffer bound to its own memory allocation, addressable from shaders by
// device address. Host-visible kinds stay persistently mapped. Also used for the plugin's internal
// staging, argument and status buffers.
#pragma once

#include <cstdint>

#include "device.hpp"

namespace plinth::vulkan {

class Buffer {
 public:
  Buffer(Device& device, uint64_t size, uint32_t kind, uint64_t alignment);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer vk() const noexcept { return buffer_; }
  uint64_t size() const noexcept { return size_; }
  // Byte offset of the plinth buffer's first byte inside the VkBuffer (non-zero only to honour an
  // alignment above what Vulkan gives).
  uint64_t base() const noexcept { return base_; }
  VkDeviceAddress address() const noexcept { return address_ + base_; }
  bool host_visible() const noexcept { return mapped_ != nullptr; }
  // Host address of the buffer's first byte, or nullptr when not host-visible.
  uint8_t* host() const noexcept { return mapped_ == nullptr ? nullptr : mapped_ + base_; }

 private:
  Device* device_;
  uint64_t size_;
  uint64_t base_ = 0;
  uint64_t accounted_ = 0;  // bytes charged to heap_
  uint32_t heap_ = 0;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkDeviceAddress address_ = 0;
  uint8_t* mapped_ = nullptr;
};

}  // namespace plinth::vulkan
