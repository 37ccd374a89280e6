#include "physical_info.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
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

// Instance entry points that only the loader-aware enumeration resolves (InstanceFunctions is fixed).
struct OptionalFunctions {
  PFN_vkEnumerateDeviceExtensionProperties enumerate_extensions = nullptr;
  PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV coopmat_properties = nullptr;
};

bool has_extension(const OptionalFunctions& opt, VkPhysicalDevice pd, std::string_view name) {
  if (opt.enumerate_extensions == nullptr) return false;
  uint32_t n = 0;
  if (opt.enumerate_extensions(pd, nullptr, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> exts(n);
  const VkResult r = opt.enumerate_extensions(pd, nullptr, &n, exts.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) return false;
  exts.resize(std::min<size_t>(n, exts.size()));
  for (const auto& e : exts) {
    if (name == e.extensionName) return true;
  }
  return false;
}

// The configuration matmul_coopmat.comp is written for: 16x16x16, f16 A and B, f32 C and D, subgroup scope.
bool has_coopmat_config(const OptionalFunctions& opt, VkPhysicalDevice pd) {
  if (opt.coopmat_properties == nullptr) return false;
  uint32_t n = 0;
  if (opt.coopmat_properties(pd, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkCooperativeMatrixPropertiesNV> configs(n);
  for (auto& c : configs) c.sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
  const VkResult r = opt.coopmat_properties(pd, &n, configs.data());
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) return false;
  configs.resize(std::min<size_t>(n, configs.size()));
  for (const auto& c : configs) {
    if (c.MSize == 16 && c.NSize == 16 && c.KSize == 16 && c.AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
        c.BType == VK_COMPONENT_TYPE_FLOAT16_NV && c.CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
        c.DType == VK_COMPONENT_TYPE_FLOAT32_NV && c.scope == VK_SCOPE_SUBGROUP_NV)
      return true;
  }
  return false;
}

constexpr const char* kCoopmatArchMarker = " coopmat-nv";

PhysicalInfo describe(const InstanceFunctions& fn, const OptionalFunctions* opt, VkPhysicalDevice pd) {
  PhysicalInfo info;
  info.handle = pd;
  // Structures of an extension may only be chained when the device has it.
  const bool coopmat_ext = opt != nullptr && has_extension(*opt, pd, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);

  // The vendors' own compute-unit counts: NVIDIA's SMs, AMD's compute units.
  const bool sm_ext = opt != nullptr && has_extension(*opt, pd, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);
  const bool amd_cores_ext = opt != nullptr && has_extension(*opt, pd, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME);

  VkPhysicalDeviceCooperativeMatrixPropertiesNV coopmat_props{};
  coopmat_props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV;
  VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm_props{};
  sm_props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV;
  VkPhysicalDeviceShaderCorePropertiesAMD amd_cores{};
  amd_cores.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD;
  VkPhysicalDeviceMaintenance3Properties maint3{};
  maint3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
  const auto chain_after_maint3 = [&maint3](auto& props) {
    props.pNext = maint3.pNext;
    maint3.pNext = &props;
  };
  if (coopmat_ext) chain_after_maint3(coopmat_props);
  if (sm_ext) chain_after_maint3(sm_props);
  if (amd_cores_ext) chain_after_maint3(amd_cores);
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

  VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat_feats{};
  coopmat_feats.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  if (coopmat_ext) f12.pNext = &coopmat_feats;
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
  // PLINTH_VULKAN_COOPMAT=0 keeps the tensor-core matmul (and its extension) off, to compare with the
  // portable kernels or to avoid a misbehaving driver; =narrow selects its 128x64-tile build.
  const char* coopmat_env = std::getenv("PLINTH_VULKAN_COOPMAT");
  const bool coopmat_off = coopmat_env != nullptr && coopmat_env[0] == '0';
  const bool coopmat_narrow = coopmat_env != nullptr && std::string_view(coopmat_env) == "narrow";
  if (opt == nullptr) {
    info.coopmat_status = "not checked";
  } else if (!coopmat_ext) {
    info.coopmat_status = "no (no VK_NV_cooperative_matrix)";
  } else if (!coopmat_feats.cooperativeMatrix) {
    info.coopmat_status = "no (cooperativeMatrix feature absent)";
  } else if (!(coopmat_props.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT)) {
    info.coopmat_status = "no (not supported in compute shaders)";
  } else if (!has_coopmat_config(*opt, pd)) {
    info.coopmat_status = "no (no subgroup 16x16x16 f16*f16+f32 configuration)";
  } else if (subgroup.subgroupSize != 32) {
    info.coopmat_status = "no (subgroup size " + std::to_string(subgroup.subgroupSize) + ", needs 32)";
  } else if (!(subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
             !(subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT)) {
    info.coopmat_status = "no (basic subgroup operations absent in compute)";
  } else if (!f12.shaderFloat16 || !f12.vulkanMemoryModel) {
    info.coopmat_status = "no (shaderFloat16 or vulkanMemoryModel absent)";
  } else if (p.limits.maxComputeSharedMemorySize < kCoopmatSharedBytes) {
    info.coopmat_status = "no (maxComputeSharedMemorySize " +
                          std::to_string(p.limits.maxComputeSharedMemorySize) + " < " +
                          std::to_string(kCoopmatSharedBytes) + ")";
  } else if (coopmat_off) {
    info.coopmat_status = "off (PLINTH_VULKAN_COOPMAT=0)";
  } else {
    info.coopmat_nv = info.usable;
    info.coopmat_narrow = coopmat_narrow;
    info.coopmat_status = coopmat_narrow ? "yes (128x64 tiles, PLINTH_VULKAN_COOPMAT=narrow)" : "yes";
  }

  std::string heaps;
  for (uint32_t h = 0; h < mem.memoryHeapCount; ++h) {
    heaps += (h ? ", " : "") + std::to_string(mem.memoryHeaps[h].size >> 20) + " MiB" +
             ((mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? " device-local" : " host");
  }
  info.summary =
      std::string(p.deviceName) + ": heaps [" + heaps + "], maxStorageBufferRange " +
      std::to_string(p.limits.maxStorageBufferRange) + " (not a limit here: buffer device addresses)" +
      ", subgroup size " + std::to_string(subgroup.subgroupSize) +
      (info.subgroup_arithmetic ? " with arithmetic" : "") + ", shaderFloat16+storage16 " +
      (info.native_f16 ? "yes" : "no") + " (f16 runs through 32-bit words either way), shaderInt8 " +
      (f12.shaderInt8 ? "yes" : "no") + ", f16 tensor-core matmul (VK_NV_cooperative_matrix) " +
      info.coopmat_status;

  plinth_device_properties_t& out = info.props;
  out.struct_size = sizeof(plinth_device_properties_t);
  out.device_type = device_type(p.deviceType);
  sdk::copy_string(out.name, p.deviceName);
  sdk::copy_string(out.vendor, vendor_name(p.vendorID));
  std::string arch = "vulkan-" + std::to_string(VK_API_VERSION_MAJOR(p.apiVersion)) + "." +
                     std::to_string(VK_API_VERSION_MINOR(p.apiVersion));
  if (driver.driverName[0] != '\0') arch += std::string(" ") + driver.driverName;
  info.arch_base = arch;
  // The marker tells a host (and the tests) which f16 matmul kernel this device runs.
  sdk::copy_string(out.arch, info.coopmat_nv ? arch + kCoopmatArchMarker : arch);
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
  // Where no extension reports the count, a CPU implementation counts host threads and anything
  // else reports 1 (unknown).
  const uint32_t amd_units = amd_cores.shaderEngineCount * amd_cores.shaderArraysPerEngineCount *
                             amd_cores.computeUnitsPerShaderArray;
  if (sm_ext && sm_props.shaderSMCount > 0) {
    out.compute_units = sm_props.shaderSMCount;
  } else if (amd_cores_ext && amd_units > 0) {
    out.compute_units = amd_units;
  } else {
    out.compute_units =
        p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? std::max(1u, std::thread::hardware_concurrency()) : 1u;
  }
  out.min_alignment = 256;
  out.subgroup_size = std::max(1u, subgroup.subgroupSize);
  out.vendor_id = p.vendorID;
  out.device_id = p.deviceID;
  return info;
}

}  // namespace

void drop_coopmat(PhysicalInfo& info, const std::string& why) {
  if (!info.coopmat_nv) return;
  info.coopmat_nv = false;
  info.coopmat_status = "no (" + why + ")";
  info.summary += "; f16 tensor-core matmul not used: " + why;
  sdk::copy_string(info.props.arch, info.arch_base);
}

namespace {

std::vector<PhysicalInfo> enumerate(const Instance& instance, const OptionalFunctions* opt) {
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
  for (VkPhysicalDevice pd : handles) out.push_back(describe(fn, opt, pd));
  return out;
}

}  // namespace

std::vector<PhysicalInfo> enumerate_physical_devices(const VulkanLibrary& lib, const Instance& instance) {
  OptionalFunctions opt;
  opt.enumerate_extensions = reinterpret_cast<PFN_vkEnumerateDeviceExtensionProperties>(
      lib.vkGetInstanceProcAddr(instance.get(), "vkEnumerateDeviceExtensionProperties"));
  opt.coopmat_properties = reinterpret_cast<PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV>(
      lib.vkGetInstanceProcAddr(instance.get(), "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV"));
  return enumerate(instance, &opt);
}

}  // namespace plinth::vulkan
