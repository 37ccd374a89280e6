#include "timeline.hpp"

#include "vk_error.hpp"

namespace plinth::vulkan {

Timeline::Timeline(Device& device) : device_(&device) {
  VkSemaphoreTypeCreateInfo type{};
  type.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO;
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  type.initialValue = 0;
  VkSemaphoreCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO;
  info.pNext = &type;
  check(device.fn().vkCreateSemaphore(device.get(), &info, nullptr, &semaphore_), "vkCreateSemaphore");
}

Timeline::~Timeline() { device_->fn().vkDestroySemaphore(device_->get(), semaphore_, nullptr); }

uint64_t Timeline::completed() const {
  uint64_t value = 0;
  device_->check(device_->fn().vkGetSemaphoreCounterValue(device_->get(), semaphore_, &value),
                "vkGetSemaphoreCounterValue");
  return value;
}

void Timeline::wait(uint64_t value) const {
  VkSemaphoreWaitInfo info{};
  info.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
  info.semaphoreCount = 1;
  info.pSemaphores = &semaphore_;
  info.pValues = &value;
  device_->check(device_->fn().vkWaitSemaphores(device_->get(), &info, UINT64_MAX), "vkWaitSemaphores");
}

}  // namespace plinth::vulkan
