#include "device.hpp"

#include <string>

#include "shader_blobs.hpp"
#include "vk_error.hpp"

namespace plinth::vulkan {

Device::Device(const VulkanLibrary& lib, uint32_t index, std::optional<uint64_t> lose_after)
    : instance_(std::make_unique<Instance>(lib)), loss_(lose_after) {
  // The SDK adapter opens only an index its probe listed as usable. This instance enumerates again,
  // so a device removed in between must not be read past the end.
  auto all = enumerate_physical_devices(lib, *instance_);
  if (index >= all.size()) {
    sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "no Vulkan device with index " + std::to_string(index));
  }
  info_ = all[index];
  const auto& fi = instance_->fn();
  fi.vkGetPhysicalDeviceMemoryProperties(info_.handle, &memory_);

  // The tensor-core matmul needs its extension, shaderFloat16 (f16 matrices) and the Vulkan memory
  // model (glslang declares it for cooperative-matrix shaders); enabled only where describe() found all.
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat{};
  coopmat.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
  coopmat.cooperativeMatrix = VK_TRUE;
  const char* const coopmat_ext = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  f12.bufferDeviceAddress = VK_TRUE;
  f12.timelineSemaphore = VK_TRUE;
  VkPhysicalDeviceFeatures2 feats{};
  feats.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  feats.pNext = &f12;
  feats.features.shaderInt64 = VK_TRUE;
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{};
  queue.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue.queueFamilyIndex = info_.queue_family;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo create{};
  create.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  create.pNext = &feats;
  create.queueCreateInfoCount = 1;
  create.pQueueCreateInfos = &queue;
  if (info_.coopmat_nv) {
    f12.pNext = &coopmat;
    f12.shaderFloat16 = VK_TRUE;
    f12.vulkanMemoryModel = VK_TRUE;
    create.enabledExtensionCount = 1;
    create.ppEnabledExtensionNames = &coopmat_ext;
    const VkResult r = fi.vkCreateDevice(info_.handle, &create, nullptr, &device_);
    if (r != VK_SUCCESS) {
      // The portable kernels need none of it: fall back to the plain device.
      device_ = VK_NULL_HANDLE;
      drop_coopmat(info_, "vkCreateDevice with VK_NV_cooperative_matrix returned " + std::to_string(r));
      f12.pNext = nullptr;
      f12.shaderFloat16 = VK_FALSE;
      f12.vulkanMemoryModel = VK_FALSE;
      create.enabledExtensionCount = 0;
      create.ppEnabledExtensionNames = nullptr;
    }
  }
  if (device_ == VK_NULL_HANDLE)
    check(fi.vkCreateDevice(info_.handle, &create, nullptr, &device_), "vkCreateDevice");
  try {
    fn_.load(fi, device_);
    fn_.vkGetDeviceQueue(device_, info_.queue_family, 0, &queue_);
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(uint64_t)};
    VkPipelineLayoutCreateInfo layout{};
    layout.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    layout.pushConstantRangeCount = 1;
    layout.pPushConstantRanges = &range;
    check(fn_.vkCreatePipelineLayout(device_, &layout, nullptr, &layout_), "vkCreatePipelineLayout");
    if (info_.coopmat_nv) {
      // Built now rather than at the first matmul, so that a driver rejecting it costs the fast path
      // (matmuls keep the portable kernels) instead of failing an op later.
      try {
        pipeline(info_.coopmat_narrow ? Shader::kMatmulCoopmatNarrow : Shader::kMatmulCoopmat);
      } catch (const sdk::Error& e) {
        drop_coopmat(info_, e.what());
      }
    }
  } catch (...) {
    if (fn_.vkDestroyDevice != nullptr)
      fn_.vkDestroyDevice(device_, nullptr);
    else if (auto destroy =
                 reinterpret_cast<PFN_vkDestroyDevice>(fi.vkGetDeviceProcAddr(device_, "vkDestroyDevice")))
      destroy(device_, nullptr);
    throw;
  }
}

Device::~Device() {
  fn_.vkDeviceWaitIdle(device_);
  for (VkPipeline p : pipelines_) {
    if (p != VK_NULL_HANDLE) fn_.vkDestroyPipeline(device_, p, nullptr);
  }
  fn_.vkDestroyPipelineLayout(device_, layout_, nullptr);
  fn_.vkDestroyDevice(device_, nullptr);
}

void Device::submit(const VkSubmitInfo& submit_info) {
  loss_.check("vkQueueSubmit");
  std::lock_guard lock(queue_mutex_);
  check(fn_.vkQueueSubmit(queue_, 1, &submit_info, VK_NULL_HANDLE), "vkQueueSubmit");
}

void Device::wait_idle() {
  std::lock_guard lock(queue_mutex_);
  check(fn_.vkDeviceWaitIdle(device_), "vkDeviceWaitIdle");
}

void Device::check(VkResult result, const char* what) {
  if (result == VK_ERROR_DEVICE_LOST) loss_.mark_lost(std::string(what) + " returned VK_ERROR_DEVICE_LOST");
  vulkan::check(result, what);
}

void Device::drain() noexcept {
  std::lock_guard lock(queue_mutex_);
  (void)fn_.vkDeviceWaitIdle(device_);
}

uint32_t Device::memory_type(uint32_t type_bits, uint32_t kind, bool* host_visible) const {
  constexpr VkMemoryPropertyFlags kHost =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  constexpr VkMemoryPropertyFlags kLocal = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  // Candidate property sets in order of preference per kind.
  std::array<VkMemoryPropertyFlags, 3> wants{};
  size_t n = 0;
  if (kind == PLINTH_MEMORY_DEVICE) {
    wants = {kLocal, 0, 0};
    n = 2;
  } else if (kind == PLINTH_MEMORY_HOST_PINNED) {
    wants = {kHost | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, kHost, 0};
    n = 2;
  } else {  // PLINTH_MEMORY_SHARED: the SDK adapter rejects unknown kinds
    wants = {kHost | kLocal, kHost, 0};
    n = 2;
  }
  for (size_t w = 0; w < n; ++w) {
    for (uint32_t t = 0; t < memory_.memoryTypeCount; ++t) {
      const auto flags = memory_.memoryTypes[t].propertyFlags;
      if ((type_bits & (1u << t)) && (flags & wants[w]) == wants[w]) {
        *host_visible = (flags & kHost) == kHost;
        return t;
      }
    }
  }
  sdk::fail(PLINTH_ERROR_UNSUPPORTED, "no Vulkan memory type fits memory kind " + std::to_string(kind));
}

void Device::reserve(uint32_t heap, uint64_t bytes) {
  const uint64_t size = memory_.memoryHeaps[heap].size;
  uint64_t used = heap_used_[heap].load();
  do {
    if (used + bytes > size) {
      sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY, "allocating " + std::to_string(bytes) +
                                                " bytes would exceed memory heap " + std::to_string(heap) +
                                                " (" + std::to_string(used) + " of " + std::to_string(size) +
                                                " bytes in use)");
    }
  } while (!heap_used_[heap].compare_exchange_weak(used, used + bytes));
}

void Device::release(uint32_t heap, uint64_t bytes) noexcept { heap_used_[heap] -= bytes; }

uint64_t Device::device_local_used() const noexcept {
  uint64_t used = 0;
  bool any_local = false;
  for (uint32_t h = 0; h < memory_.memoryHeapCount; ++h) {
    if (memory_.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
      used += heap_used_[h].load();
      any_local = true;
    }
  }
  return any_local ? used : heap_used_[0].load();
}

VkPipeline Device::pipeline(Shader shader) {
  std::lock_guard lock(pipeline_mutex_);
  VkPipeline& slot = pipelines_[static_cast<size_t>(shader)];
  if (slot != VK_NULL_HANDLE) return slot;
  const std::string_view name = kShaderNames[static_cast<size_t>(shader)];
  std::span<const uint32_t> words;
  for (const auto& blob : shader_blobs()) {
    if (blob.name == name) words = blob.words;
  }
  if (words.empty()) sdk::fail(PLINTH_ERROR_INTERNAL, "shader " + std::string(name) + " is not embedded");
  VkShaderModuleCreateInfo module_info{};
  module_info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  module_info.codeSize = words.size_bytes();
  module_info.pCode = words.data();
  VkShaderModule module = VK_NULL_HANDLE;
  check(fn_.vkCreateShaderModule(device_, &module_info, nullptr, &module), "vkCreateShaderModule");
  VkComputePipelineCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module;
  info.stage.pName = "main";
  info.layout = layout_;
  VkResult r = fn_.vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &info, nullptr, &slot);
  fn_.vkDestroyShaderModule(device_, module, nullptr);
  check(r, "vkCreateComputePipelines");
  return slot;
}

}  // namespace plinth::vulkan
