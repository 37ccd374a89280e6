#include "buffer.hpp"

#include <string>

#include "vk_error.hpp"

namespace plinth::vulkan {

Buffer::Buffer(Device& device, uint64_t size, uint32_t kind, uint64_t alignment)
    : device_(&device), size_(size) {
  const auto& fn = device.fn();
  const auto& props = device.info().props;
  if (size > props.max_allocation) {
    sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "buffer of " + std::to_string(size) +
                                             " bytes exceeds max_allocation " +
                                             std::to_string(props.max_allocation));
  }
  if (alignment < props.min_alignment) alignment = props.min_alignment;
  // Whole words, so that shaders' 32-bit accesses to a trailing 16-bit element stay inside.
  const uint64_t padded = (size + 3) & ~uint64_t(3);
  // Device addresses are only guaranteed the memory requirement's alignment: reserve room to align.
  const uint64_t buffer_bytes = padded + alignment;
  if (buffer_bytes > props.max_allocation) {
    sdk::fail(PLINTH_ERROR_OUT_OF_RANGE,
              "buffer with alignment " + std::to_string(alignment) + " exceeds max_allocation");
  }
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = buffer_bytes;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
               VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(fn.vkCreateBuffer(device.get(), &info, nullptr, &buffer_), "vkCreateBuffer");
  try {
    VkMemoryRequirements req{};
    fn.vkGetBufferMemoryRequirements(device.get(), buffer_, &req);
    bool host_visible = false;
    const uint32_t type = device.memory_type(req.memoryTypeBits, kind, &host_visible);
    // Respect the heap size ourselves: some drivers (lavapipe) over-commit host memory instead of
    // failing, which would turn a host's out-of-memory handling into a process kill.
    heap_ = device.heap_of(type);
    device.reserve(heap_, req.size);
    accounted_ = req.size;
    VkMemoryAllocateFlagsInfo flags{};
    flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
    flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
    VkMemoryAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
    alloc.pNext = &flags;
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = type;
    check(fn.vkAllocateMemory(device.get(), &alloc, nullptr, &memory_), "vkAllocateMemory");
    check(fn.vkBindBufferMemory(device.get(), buffer_, memory_, 0), "vkBindBufferMemory");
    if (host_visible) {
      void* p = nullptr;
      check(fn.vkMapMemory(device.get(), memory_, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
      mapped_ = static_cast<uint8_t*>(p);
    }
    VkBufferDeviceAddressInfo addr{};
    addr.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO;
    addr.buffer = buffer_;
    address_ = fn.vkGetBufferDeviceAddress(device.get(), &addr);
    base_ = ((address_ + alignment - 1) & ~(alignment - 1)) - address_;
  } catch (...) {
    if (memory_ != VK_NULL_HANDLE) fn.vkFreeMemory(device.get(), memory_, nullptr);
    fn.vkDestroyBuffer(device.get(), buffer_, nullptr);
    if (accounted_ > 0) device.release(heap_, accounted_);
    throw;
  }
}

Buffer::~Buffer() {
  // After a loss the host frees buffers without waiting for the work that uses them (it cannot);
  // what was submitted must be over before the memory goes.
  if (device_->loss().lost()) device_->drain();
  const auto& fn = device_->fn();
  fn.vkDestroyBuffer(device_->get(), buffer_, nullptr);
  if (mapped_ != nullptr) fn.vkUnmapMemory(device_->get(), memory_);
  fn.vkFreeMemory(device_->get(), memory_, nullptr);
  device_->release(heap_, accounted_);
}

}  // namespace plinth::vulkan
