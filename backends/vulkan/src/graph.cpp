#include "graph.hpp"

#include <cstring>

#include "vk_error.hpp"

namespace plinth::vulkan {

Graph::Graph(Device& device) : device_(&device) {
  const auto& fn = device.fn();
  VkCommandPoolCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  info.queueFamilyIndex = device.queue_family();
  check(fn.vkCreateCommandPool(device.get(), &info, nullptr, &pool_), "vkCreateCommandPool");
  try {
    VkCommandBufferAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    alloc.commandPool = pool_;
    alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    alloc.commandBufferCount = 1;
    check(fn.vkAllocateCommandBuffers(device.get(), &alloc, &batch_.cmd), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo begin{};
    begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    begin.flags = VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT;
    check(fn.vkBeginCommandBuffer(batch_.cmd, &begin), "vkBeginCommandBuffer");
  } catch (...) {
    fn.vkDestroyCommandPool(device.get(), pool_, nullptr);
    throw;
  }
}

Graph::~Graph() {
  if (device_->loss().lost()) {
    device_->drain();  // queued replays may still run under the hook, or end in a real loss
  } else {
    try {
      wait_launches();
    } catch (...) {
      device_->drain();  // destruction cannot report; the device may have been lost meanwhile
    }
  }
  batch_.arg_chunks.clear();
  batch_.staging.clear();
  device_->fn().vkDestroyCommandPool(device_->get(), pool_, nullptr);
}

void Graph::wait_launches() {
  std::lock_guard lock(mutex_);
  for (auto& [timeline, value] : launches_) timeline->wait(value);
  launches_.clear();
}

void Graph::before_launch() {
  if (batch_.uploads.empty()) return;
  wait_launches();
  for (const auto& u : batch_.uploads) std::memcpy(u.staging->host(), u.src, u.size);
}

void Graph::launched(std::shared_ptr<Timeline> timeline, uint64_t value) {
  std::lock_guard lock(mutex_);
  // Keep one entry per timeline: a later value on the same timeline covers the earlier ones.
  for (auto& entry : launches_) {
    if (entry.first == timeline) {
      entry.second = value;
      return;
    }
  }
  launches_.emplace_back(std::move(timeline), value);
}

}  // namespace plinth::vulkan
