#include "gpu_error.hpp"

namespace plinth::gpu {

plinth_status_t status_for(gpuError_t error) noexcept {
  switch (error) {
    case gpuSuccess: return PLINTH_OK;
    case gpuErrorMemoryAllocation: return PLINTH_ERROR_OUT_OF_MEMORY;
    case gpuErrorNotReady: return PLINTH_ERROR_NOT_READY;
    case gpuErrorInvalidValue: return PLINTH_ERROR_INVALID_ARGUMENT;
#if defined(PLINTH_GPU_HIP)
    case hipErrorIllegalAddress:
    case hipErrorLaunchFailure:
    case hipErrorECCNotCorrectable:
    case hipErrorAssert:
      return PLINTH_ERROR_DEVICE_LOST;
    case hipErrorStreamCaptureUnsupported:
    case hipErrorStreamCaptureInvalidated:
    case hipErrorStreamCaptureUnmatched:
    case hipErrorStreamCaptureWrongThread:
      return PLINTH_ERROR_INVALID_STATE;
#else
    // Sticky errors: the context is unusable until the process ends.
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorECCUncorrectable:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorDevicesUnavailable:
      return PLINTH_ERROR_DEVICE_LOST;
    case cudaErrorStreamCaptureUnsupported:
    case cudaErrorStreamCaptureInvalidated:
    case cudaErrorStreamCaptureUnmatched:
    case cudaErrorStreamCaptureUnjoined:
    case cudaErrorStreamCaptureWrongThread:
    case cudaErrorStreamCaptureImplicit:
      return PLINTH_ERROR_INVALID_STATE;
    case cudaErrorNoKernelImageForDevice:
      return PLINTH_ERROR_UNSUPPORTED;
#endif
    default: return PLINTH_ERROR_INTERNAL;
  }
}

std::string describe(gpuError_t error) {
  return std::string(gpuGetErrorString(error)) + " (" + gpuGetErrorName(error) + ")";
}

}  // namespace plinth::gpu
