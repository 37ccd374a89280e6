// The Vulkan entry points this plugin uses, resolved at run time from libvulkan.so.1 so that a
// machine without a loader still loads the plugin (and probe says why it has no device).
#pragma once

#include <vulkan/vulkan.h>

#include <memory>
#include <string>

namespace plinth::vulkan {

#define PLINTH_VK_INSTANCE_FUNCTIONS(X)       \
  X(vkDestroyInstance)                        \
  X(vkEnumeratePhysicalDevices)               \
  X(vkGetPhysicalDeviceProperties)            \
  X(vkGetPhysicalDeviceProperties2)           \
  X(vkGetPhysicalDeviceFeatures2)             \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkCreateDevice)                           \
  X(vkGetDeviceProcAddr)

#define PLINTH_VK_DEVICE_FUNCTIONS(X) \
  X(vkDestroyDevice)                  \
  X(vkGetDeviceQueue)                 \
  X(vkQueueSubmit)                    \
  X(vkDeviceWaitIdle)                 \
  X(vkAllocateMemory)                 \
  X(vkFreeMemory)                     \
  X(vkMapMemory)                      \
  X(vkUnmapMemory)                    \
  X(vkCreateBuffer)                   \
  X(vkDestroyBuffer)                  \
  X(vkGetBufferMemoryRequirements)    \
  X(vkBindBufferMemory)               \
  X(vkGetBufferDeviceAddress)         \
  X(vkCreateShaderModule)             \
  X(vkDestroyShaderModule)            \
  X(vkCreatePipelineLayout)           \
  X(vkDestroyPipelineLayout)          \
  X(vkCreateComputePipelines)         \
  X(vkDestroyPipeline)                \
  X(vkCreateCommandPool)              \
  X(vkDestroyCommandPool)             \
  X(vkAllocateCommandBuffers)         \
  X(vkFreeCommandBuffers)             \
  X(vkBeginCommandBuffer)             \
  X(vkEndCommandBuffer)               \
  X(vkCmdBindPipeline)                \
  X(vkCmdPushConstants)               \
  X(vkCmdDispatch)                    \
  X(vkCmdPipelineBarrier)             \
  X(vkCmdCopyBuffer)                  \
  X(vkCmdWriteTimestamp)              \
  X(vkCmdResetQueryPool)              \
  X(vkCreateQueryPool)                \
  X(vkDestroyQueryPool)               \
  X(vkGetQueryPoolResults)            \
  X(vkCreateSemaphore)                \
  X(vkDestroySemaphore)               \
  X(vkWaitSemaphores)                 \
  X(vkGetSemaphoreCounterValue)

#define PLINTH_VK_DECLARE(name) PFN_##name name = nullptr;

// The loader library and its global entry points. One per plugin state; immutable after load().
class VulkanLibrary {
 public:
  // Opens the loader; returns nullptr and sets `reason` when it cannot.
  static std::unique_ptr<VulkanLibrary> open(std::string& reason);
  ~VulkanLibrary();
  VulkanLibrary(const VulkanLibrary&) = delete;
  VulkanLibrary& operator=(const VulkanLibrary&) = delete;

  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
  PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;

 private:
  VulkanLibrary() = default;
  void* handle_ = nullptr;
};

// Instance-level functions of one VkInstance.
struct InstanceFunctions {
  PLINTH_VK_INSTANCE_FUNCTIONS(PLINTH_VK_DECLARE)
  void load(const VulkanLibrary& lib, VkInstance instance);
};

// Device-level functions of one VkDevice.
struct DeviceFunctions {
  PLINTH_VK_DEVICE_FUNCTIONS(PLINTH_VK_DECLARE)
  void load(const InstanceFunctions& fi, VkDevice device);
};

// An instance with its functions; destroyed with its owner. Throws sdk::Error on failure.
class Instance {
 public:
  explicit Instance(const VulkanLibrary& lib);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;
  VkInstance get() const noexcept { return instance_; }
  const InstanceFunctions& fn() const noexcept { return fn_; }

 private:
  VkInstance instance_ = VK_NULL_HANDLE;
  InstanceFunctions fn_;
};

}  // namespace plinth::vulkan
