#include "vk_api.hpp"

#include <dlfcn.h>

#include "vk_error.hpp"

namespace plinth::vulkan {

std::unique_ptr<VulkanLibrary> VulkanLibrary::open(std::string& reason) {
  void* handle = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    reason = std::string("Vulkan loader libvulkan.so.1 not found") + (err ? std::string(": ") + err : "");
    return nullptr;
  }
  std::unique_ptr<VulkanLibrary> lib(new VulkanLibrary());
  lib->handle_ = handle;
  lib->vkGetInstanceProcAddr =
      reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(handle, "vkGetInstanceProcAddr"));
  if (lib->vkGetInstanceProcAddr == nullptr) {
    reason = "libvulkan.so.1 has no vkGetInstanceProcAddr";
    return nullptr;
  }
  lib->vkCreateInstance =
      reinterpret_cast<PFN_vkCreateInstance>(lib->vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkCreateInstance"));
  lib->vkEnumerateInstanceVersion = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
      lib->vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
  if (lib->vkCreateInstance == nullptr) {
    reason = "Vulkan loader does not provide vkCreateInstance";
    return nullptr;
  }
  return lib;
}

VulkanLibrary::~VulkanLibrary() {
  if (handle_ != nullptr) dlclose(handle_);
}

void InstanceFunctions::load(const VulkanLibrary& lib, VkInstance instance) {
#define PLINTH_VK_LOAD_INSTANCE(name)                                              \
  name = reinterpret_cast<PFN_##name>(lib.vkGetInstanceProcAddr(instance, #name)); \
  if (name == nullptr) sdk::fail(PLINTH_ERROR_UNSUPPORTED, "Vulkan instance lacks " #name);
  PLINTH_VK_INSTANCE_FUNCTIONS(PLINTH_VK_LOAD_INSTANCE)
#undef PLINTH_VK_LOAD_INSTANCE
}

void DeviceFunctions::load(const InstanceFunctions& fi, VkDevice device) {
#define PLINTH_VK_LOAD_DEVICE(name)                                           \
  name = reinterpret_cast<PFN_##name>(fi.vkGetDeviceProcAddr(device, #name)); \
  if (name == nullptr) sdk::fail(PLINTH_ERROR_UNSUPPORTED, "Vulkan device lacks " #name);
  PLINTH_VK_DEVICE_FUNCTIONS(PLINTH_VK_LOAD_DEVICE)
#undef PLINTH_VK_LOAD_DEVICE
}

Instance::Instance(const VulkanLibrary& lib) {
  uint32_t version = VK_API_VERSION_1_0;
  if (lib.vkEnumerateInstanceVersion != nullptr) lib.vkEnumerateInstanceVersion(&version);
  if (version < VK_API_VERSION_1_2) {
    sdk::fail(PLINTH_ERROR_UNSUPPORTED, "Vulkan loader is older than 1.2");
  }
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "plinth";
  app.pEngineName = "plinth";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  check(lib.vkCreateInstance(&info, nullptr, &instance_), "vkCreateInstance");
  try {
    fn_.load(lib, instance_);
  } catch (...) {
    auto destroy =
        reinterpret_cast<PFN_vkDestroyInstance>(lib.vkGetInstanceProcAddr(instance_, "vkDestroyInstance"));
    if (destroy != nullptr) destroy(instance_, nullptr);
    throw;
  }
}

Instance::~Instance() {
  if (instance_ != VK_NULL_HANDLE) fn_.vkDestroyInstance(instance_, nullptr);
}

}  // namespace plinth::vulkan
