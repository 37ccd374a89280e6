// What probe and device_open learn about one physical device: whether it is usable by this plugin
// (and why not), and the plinth properties it reports.
#pragma once

#include <string>
#include <vector>

#include "plinth/abi.h"
#include "vk_api.hpp"

namespace plinth::vulkan {

struct PhysicalInfo {
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  bool usable = false;
  std::string reason;                 // why not usable; empty when usable
  uint32_t queue_family = 0;          // a queue family with compute
  uint32_t timestamp_valid_bits = 0;  // of that family
  float timestamp_period_ns = 1.0f;
  uint64_t max_storage_buffer_range = 0;
  uint32_t max_workgroup_count_x = 65535;
  uint32_t max_shared_memory = 0;
  bool subgroup_arithmetic = false;    // subgroupAdd in compute shaders (and not disabled by env)
  bool native_f16 = false;             // shaderFloat16 + storageBuffer16BitAccess (reported, not needed)
  std::string summary;                 // heaps, limits and features, for the host's log
  plinth_device_properties_t props{};  // the fully filled plinth view
};

// Every physical device of `instance`, in enumeration order (the plinth device index).
std::vector<PhysicalInfo> enumerate_physical_devices(const Instance& instance);

}  // namespace plinth::vulkan
