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
  bool subgroup_arithmetic = false;  // subgroupAdd in compute shaders (and not disabled by env)
  bool native_f16 = false;           // shaderFloat16 + storageBuffer16BitAccess (reported, not needed)
  // matmul_coopmat.comp runs here: VK_NV_cooperative_matrix with a subgroup-scope 16x16x16
  // f16*f16+f32 configuration in compute, 32-wide subgroups, shaderFloat16, vulkanMemoryModel and
  // kCoopmatSharedBytes of shared memory, and PLINTH_VULKAN_COOPMAT is not 0. Device creation
  // enables the extension only then (and clears this if that fails).
  bool coopmat_nv = false;
  bool coopmat_narrow = false;         // PLINTH_VULKAN_COOPMAT=narrow: the 128x64-tile build
  std::string coopmat_status;          // why it is on or off, for the summary
  std::string arch_base;               // props.arch without the " coopmat-nv" marker
  std::string summary;                 // heaps, limits and features, for the host's log
  plinth_device_properties_t props{};  // the fully filled plinth view
};

// Shared memory matmul_coopmat.comp declares (its tiles, double-buffered, plus the epilogue staging).
inline constexpr uint32_t kCoopmatSharedBytes = 46080;

// Every physical device of `instance`, in enumeration order (the plinth device index). Optional
// capabilities that need instance entry points beyond InstanceFunctions (device extensions, the
// cooperative matrix configurations) are looked up through the loader `lib`.
std::vector<PhysicalInfo> enumerate_physical_devices(const VulkanLibrary& lib, const Instance& instance);

// Turns the cooperative-matrix path off after the fact (the device could not be created with it),
// keeping props.arch and the summary consistent.
void drop_coopmat(PhysicalInfo& info, const std::string& why);

}  // namespace plinth::vulkan
