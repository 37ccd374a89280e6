#include "gpu_discovery.hpp"

#include <string_view>

#include "gpu_error.hpp"

namespace plinth::gpu {
namespace {

#if defined(PLINTH_GPU_HIP)
constexpr const char* kApiName = "ROCm";
#else
constexpr const char* kApiName = "CUDA";
#endif

}  // namespace

std::string arch_of(const gpuDeviceProp& prop) {
#if defined(PLINTH_GPU_HIP)
  std::string arch = prop.gcnArchName;
  return arch.substr(0, arch.find(':'));  // "gfx90a:sramecc+:xnack-" -> "gfx90a"
#else
  return "sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
#endif
}

// The probe lists a problem as the device's reason, so the adapter refuses to open such a device.
std::string arch_problem(const gpuDeviceProp& prop) {
#if defined(PLINTH_GPU_HIP)
  const std::string arch = arch_of(prop);
  const std::string built = PLINTH_GPU_ARCHS;  // "gfx90a,gfx908,gfx1030"
  std::string_view rest = built;
  while (!rest.empty()) {
    const auto end = rest.find(',');
    if (rest.substr(0, end) == arch) return "";
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  }
  return arch + " is not among the architectures this plugin was built for (" + built + ")";
#else
  if (prop.major * 10 + prop.minor < PLINTH_GPU_MIN_CC) {
    return "compute capability " + std::to_string(prop.major) + "." + std::to_string(prop.minor) +
           " is older than the oldest architecture this plugin was built for (sm_" +
           std::to_string(PLINTH_GPU_MIN_CC) + ")";
  }
  return "";
#endif
}

std::string plugin_wide_reason(gpuError_t error) {
  if (error == gpuErrorInsufficientDriver) {
    return std::string(kApiName) + " driver not found or too old (" + gpuGetErrorName(error) + ")";
  }
  if (error == gpuErrorNoDevice)
    return std::string("no ") + kApiName + " device (" + gpuGetErrorName(error) + ")";
  return std::string(kApiName) + " runtime unavailable: " + describe(error);
}

std::string version_string(int v) {
  // CUDA encodes versions as major*1000 + minor*10, HIP as major*10^7 + minor*10^5 + patch.
#if defined(PLINTH_GPU_HIP)
  return std::to_string(v / 10000000) + "." + std::to_string((v / 100000) % 100);
#else
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
#endif
}

}  // namespace plinth::gpu
