// Turns runtime-API error codes into sdk::Error with the vendor's error name and string and the raw
// code as the vendor code, and the right plinth status (out of memory, device lost, ...).
#pragma once

#include <string>

#include "gpu_port.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::gpu {

plinth_status_t status_for(gpuError_t error) noexcept;
std::string describe(gpuError_t error);

// Throws sdk::Error unless `error` is gpuSuccess. `what` names the call that failed.
inline void check(gpuError_t error, const char* what) {
  if (error != gpuSuccess) {
    (void)gpuGetLastError();  // clear a non-sticky error so the next call does not see it again
    sdk::fail(status_for(error), std::string(what) + ": " + describe(error), static_cast<int64_t>(error));
  }
}

}  // namespace plinth::gpu
