#include "physical_info.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "plinth/sdk/structs.hpp"
#include "vk_error.hpp"

namespace plinth::vulkan {
namespace {

std::string vendor_name(uint32_t id) {
  switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x106B: return "Apple";
    case 0x10005: return "Mesa";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "vendor 0x%x", id);
      return buf;
    }
  }
}

uint32_t device_type(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return PLINTH_DEVICE_TYPE_DISCRETE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return PLINTH_DEVICE_TYPE_INTEGRATED_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return PLINTH_DEVICE_TYPE_VIRTUAL;
    default: return PLINTH_DEVICE_TYPE_ACCELERATOR;
  }
}

PhysicalInfo describe(const InstanceFunctions& fn, VkPhysicalDevice pd) {
  PhysicalInfo info;
  info.handle = pd;

  VkPhysicalDeviceMaintenance3Properties maint3{};
  maint3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
  VkPhysicalDeviceSubgroupProperties subgroup{};
  subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
  subgroup.pNext = &maint3;
  VkPhysicalDeviceDriverProperties driver{};
  driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
  driver.pNext = &subgroup;
  VkPhysicalDeviceProperties2 props2{};
  props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  props2.pNext = &driver;
  fn.vkGetPhysicalDeviceProperties2(pd, &props2);
  const VkPhysicalDeviceProperties& p = props2.properties;

  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceVulkan11Features f11{};
  f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  f11.pNext = &f12;
  VkPhysicalDeviceFeatures2 feats{};
  feats.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  feats.pNext = &f11;
  if (p.apiVersion >= VK_API_VERSION_1_2) fn.vkGetPhysicalDeviceFeatures2(pd, &feats);

  uint32_t nfam = 0;
  fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &nfam, nullptr);
  std::vector<VkQueueFamilyProperties> fams(nfam);
  fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &nfam, fams.data());
  bool has_compute = false;
  for (uint32_t i = 0; i < nfam; ++i) {
    if (fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      // Prefer a compute family (dedicated compute queues come first on most drivers anyway).
      if (!has_compute) {
        info.queue_family = i;
        info.timestamp_valid_bits = fams[i].timestampValidBits;
      }
      has_compute = true;
    }
  }

  VkPhysicalDeviceMemoryProperties mem{};
  fn.vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  uint64_t device_local = 0;
  for (uint32_t h = 0; h < mem.memoryHeapCount; ++h) {
    if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) device_local += mem.memoryHeaps[h].size;
  }
  if (device_local == 0 && mem.memoryHeapCount > 0) device_local = mem.memoryHeaps[0].size;
  bool unified = true;
  for (uint32_t t = 0; t < mem.memoryTypeCount; ++t) {
    const auto flags = mem.memoryTypes[t].propertyFlags;
    if ((flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && !(flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
      unified = false;
  }

  if (p.apiVersion < VK_API_VERSION_1_2) {
    info.reason = "Vulkan 1.2 required (device reports " +
                  std::to_string(VK_API_VERSION_MAJOR(p.apiVersion)) + "." +
                  std::to_string(VK_API_VERSION_MINOR(p.apiVersion)) + ")";
  } else if (!has_compute) {
    info.reason = "no queue family with compute";
  } else if (!f12.bufferDeviceAddress) {
    info.reason = "bufferDeviceAddress feature missing";
  } else if (!f12.timelineSemaphore) {
    info.reason = "timelineSemaphore feature missing";
  } else if (!feats.features.shaderInt64) {
    info.reason = "shaderInt64 feature missing";
  } else {
    info.usable = true;
  }

  info.timestamp_period_ns = p.limits.timestampPeriod;
  info.max_storage_buffer_range = p.limits.maxStorageBufferRange;
  info.max_workgroup_count_x = p.limits.maxComputeWorkGroupCount[0];
  info.max_shared_memory = p.limits.maxComputeSharedMemorySize;
  info.native_f16 = f12.shaderFloat16 && f11.storageBuffer16BitAccess;
  // PLINTH_VULKAN_NO_SUBGROUPS=1 forces the portable kernels (to test them, or to work around a driver).
  const char* no_subgroups = std::getenv("PLINTH_VULKAN_NO_SUBGROUPS");
  info.subgroup_arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                             (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                             (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) &&
                             !(no_subgroups != nullptr && no_subgroups[0] == '1');

  std::string heaps;
  for (uint32_t h = 0; h < mem.memoryHeapCount; ++h) {
    heaps += (h ? ", " : "") + std::to_string(mem.memoryHeaps[h].size >> 20) + " MiB" +
             ((mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? " device-local" : " host");
  }
  info.summary = std::string(p.deviceName) + ": heaps [" + heaps + "], maxStorageBufferRange " +
                 std::to_string(p.limits.maxStorageBufferRange) +
                 " (not a limit here: buffer device addresses)" + ", subgroup size " +
                 std::to_string(subgroup.subgroupSize) +
                 (info.subgroup_arithmetic ? " with arithmetic" : "") + ", shaderFloat16+storage16 " +
                 (info.native_f16 ? "yes" : "no") +
                 " (f16 runs through 32-bit words either way), shaderInt8 " + (f12.shaderInt8 ? "yes" : "no");

  plinth_device_properties_t& out = info.props;
  out.struct_size = sizeof(plinth_device_properties_t);
  out.device_type = device_type(p.deviceType);
  sdk::copy_string(out.name, p.deviceName);
  sdk::copy_string(out.vendor, vendor_name(p.vendorID));
  std::string arch = "vulkan-" + std::to_string(VK_API_VERSION_MAJOR(p.apiVersion)) + "." +
                     std::to_string(VK_API_VERSION_MINOR(p.apiVersion));
  if (driver.driverName[0] != '\0') arch += std::string(" ") + driver.driverName;
  sdk::copy_string(out.arch, arch);
  sdk::copy_string(out.driver_version, driver.driverInfo[0] != '\0' ? std::string(driver.driverInfo)
                                                                    : std::to_string(p.driverVersion));
  out.total_memory = device_local;
  const uint64_t max_alloc = std::max<uint64_t>(maint3.maxMemoryAllocationSize, 1ull << 30);
  out.max_allocation = maint3.maxMemoryAllocationSize != 0 ? maint3.maxMemoryAllocationSize : max_alloc;
  // Shaders address tensors through buffer device addresses, so maxStorageBufferRange (a descriptor
  // limit) does not bound an op: any tensor inside one buffer works.
  out.max_op_range = out.max_allocation;
  uint64_t features = PLINTH_FEATURE_F16 | PLINTH_FEATURE_BF16 | PLINTH_FEATURE_HOST_PINNED |
                      PLINTH_FEATURE_SHARED_MEMORY | PLINTH_FEATURE_GRAPHS;
  if (f12.shaderInt8) features |= PLINTH_FEATURE_INT8;
  if (info.subgroup_arithmetic) features |= PLINTH_FEATURE_SUBGROUPS;
  if (p.limits.timestampComputeAndGraphics && info.timestamp_valid_bits > 0)
    features |= PLINTH_FEATURE_TIMESTAMPS;
  if (unified) features |= PLINTH_FEATURE_UNIFIED_MEMORY;
  out.features = features;
  out.compute_units =
      p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? std::max(1u, std::thread::hardware_concurrency()) : 1u;
  out.min_alignment = 256;
  out.subgroup_size = std::max(1u, subgroup.subgroupSize);
  out.vendor_id = p.vendorID;
  out.device_id = p.deviceID;
  return info;
}

}  // namespace

std::vector<PhysicalInfo> enumerate_physical_devices(const Instance& instance) {
  const auto& fn = instance.fn();
  uint32_t count = 0;
  check(fn.vkEnumeratePhysicalDevices(instance.get(), &count, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> handles(count);
  if (count > 0) {
    VkResult r = fn.vkEnumeratePhysicalDevices(instance.get(), &count, handles.data());
    if (r != VK_INCOMPLETE) check(r, "vkEnumeratePhysicalDevices");
    handles.resize(count);
  }
  std::vector<PhysicalInfo> out;
  out.reserve(handles.size());
  for (VkPhysicalDevice pd : handles) out.push_back(describe(fn, pd));
  return out;
}

}  // namespace plinth::vulkan
