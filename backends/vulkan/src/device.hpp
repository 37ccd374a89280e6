// One opened Vulkan device: its own instance, logical device, compute queue, memory types and the
// lazily created compute pipelines. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

#include "gpu_args.hpp"
#include "physical_info.hpp"
#include "plinth/sdk/device_loss.hpp"
#include "vk_api.hpp"

namespace plinth::vulkan {

class Device {
 public:
  // `lose_after`: the PLINTH_PLUGIN_FAULT=device_lost:N test hook (sdk/device_loss.hpp), if set.
  // `index` is a usable one of the plugin's probe.
  Device(const VulkanLibrary& lib, uint32_t index, std::optional<uint64_t> lose_after = std::nullopt);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceFunctions& fn() const noexcept { return fn_; }
  VkDevice get() const noexcept { return device_; }
  const PhysicalInfo& info() const noexcept { return info_; }
  uint32_t queue_family() const noexcept { return info_.queue_family; }

  // Submits to the device's single compute queue (queue access is externally synchronized in Vulkan).
  // Fails with DEVICE_LOST, submitting nothing, once the device is lost.
  void submit(const VkSubmitInfo& submit_info);
  void wait_idle();

  // Lost (VK_ERROR_DEVICE_LOST from any call, or the test hook): every use of the device fails, and
  // destroying its objects submits nothing (sdk/device_loss.hpp).
  sdk::DeviceLoss& loss() noexcept { return loss_; }
  // Like vulkan::check, and a VK_ERROR_DEVICE_LOST marks the device lost first.
  void check(VkResult result, const char* what);
  // For destroy paths after a loss: waits until the queue has no submitted work left, however that
  // ends (after a real loss the driver abandons it; Vulkan bounds every wait then). Never throws.
  void drain() noexcept;

  // A memory type for a buffer with `type_bits` and a known plinth memory kind; throws UNSUPPORTED if
  // none fits.
  uint32_t memory_type(uint32_t type_bits, uint32_t kind, bool* host_visible) const;

  VkPipelineLayout pipeline_layout() const noexcept { return layout_; }
  VkPipeline pipeline(Shader shader);

  // Accounting per memory heap, so that an allocation beyond a heap's size is OUT_OF_MEMORY even on
  // drivers that over-commit (lavapipe). reserve() throws OUT_OF_MEMORY; release() undoes it.
  uint32_t heap_of(uint32_t memory_type) const noexcept { return memory_.memoryTypes[memory_type].heapIndex; }
  void reserve(uint32_t heap, uint64_t bytes);
  void release(uint32_t heap, uint64_t bytes) noexcept;
  // Bytes allocated from device-local heaps (what device_memory_info reports as used).
  uint64_t device_local_used() const noexcept;

 private:
  std::unique_ptr<Instance> instance_;
  PhysicalInfo info_;
  DeviceFunctions fn_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties memory_{};
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  std::mutex queue_mutex_;
  std::mutex pipeline_mutex_;
  std::array<VkPipeline, static_cast<size_t>(Shader::kCount)> pipelines_{};
  std::array<std::atomic<uint64_t>, VK_MAX_MEMORY_HEAPS> heap_used_{};
  sdk::DeviceLoss loss_;
};

}  // namespace plinth::vulkan
