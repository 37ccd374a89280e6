// Vendor BLAS matmul for float operands (cuBLAS on CUDA). Answers whether a call fits its layout
// rules; the tiled kernel takes everything else.
#pragma once

#include <memory>

#include "gpu_kernels.hpp"
#include "gpu_objects.hpp"

namespace plinth::gpu {

class BlasHandle {
 public:
  BlasHandle();
  ~BlasHandle();
  BlasHandle(const BlasHandle&) = delete;
  BlasHandle& operator=(const BlasHandle&) = delete;
  void* handle() const noexcept { return handle_; }
  void* workspace() const noexcept { return workspace_; }

 private:
  void* handle_ = nullptr;
  void* workspace_ = nullptr;
};

// True when a vendor BLAS is built in.
bool blas_available() noexcept;

// Runs c = alpha * a @ b through the vendor BLAS if the operands fit (same float dtype for a and b,
// c that dtype or f32, unit inner strides); returns false without enqueuing anything otherwise.
bool blas_matmul(Stream& stream, const MatmulArgs& args);

}  // namespace plinth::gpu
