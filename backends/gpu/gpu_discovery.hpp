// What the runtime reports about its devices, put into words for the probe and device properties:
// architecture names, whether this build's kernels run on a device, and why there is no device.
#pragma once

#include <string>

#include "gpu_port.hpp"

namespace plinth::gpu {

// "sm_90" (CUDA) or "gfx90a" (ROCm).
std::string arch_of(const gpuDeviceProp& prop);
// Why the kernels built into this plugin cannot run on `prop`, or "".
std::string arch_problem(const gpuDeviceProp& prop);
// The plugin-wide probe reason for a failed device count (no driver, no device, ...).
std::string plugin_wide_reason(gpuError_t error);
// A runtime or driver version number as "major.minor".
std::string version_string(int v);

}  // namespace plinth::gpu
