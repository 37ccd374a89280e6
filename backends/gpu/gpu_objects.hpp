// The plugin's objects behind the opaque ABI handles. Each owns its runtime resource (RAII) and
// remembers its device so the calling thread can make that device current first. Sizes, map and
// record state, and device identity are the SDK adapter's (plinth/sdk/plugin.hpp), not kept here.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "gpu_port.hpp"
#include "plinth/abi.h"

namespace plinth::gpu {

class BlasHandle;  // cuBLAS state of one stream (CUDA only; defined in gpu_blas.cpp)

enum class MatmulPath { kBlas, kTiled };
// Decode-shaped quantized matmul: integer activations with integer dot products, or exact f32 activations.
enum class QuantDecodePath { kInt8, kF32 };

// What the ops read of an opened device. The destructors below submit nothing, also after a device
// loss: they free, destroy and wait for work already queued (the runtime ends those waits at once
// after a sticky error).
struct Device {
  int ordinal = 0;
  gpuDeviceProp prop{};
  std::string arch;
  std::string driver;
  MatmulPath matmul = MatmulPath::kBlas;
  QuantDecodePath quant_decode = QuantDecodePath::kInt8;
};

struct Buffer {
  const Device* device = nullptr;
  void* base = nullptr;  // what the allocator returned (freed)
  char* data = nullptr;  // base rounded up to the requested alignment
  uint32_t kind = PLINTH_MEMORY_DEVICE;
  ~Buffer();
};

struct Stream {
  const Device* device = nullptr;
  gpuStream_t stream = nullptr;
  // A host-mapped word the kernels raise bits of (kError* in gpu_kernels.hpp) on a data-dependent error;
  // stream_synchronize reports and clears it.
  int32_t* error_flag_host = nullptr;
  int32_t* error_flag = nullptr;  // the same word as the device addresses it
  std::mutex blas_mutex;
  std::unique_ptr<BlasHandle> blas;  // created on the first cuBLAS matmul
  Stream();  // out of line: BlasHandle is complete only in the .cpp
  ~Stream();
};

struct Event {
  const Device* device = nullptr;
  gpuEvent_t event = nullptr;
  ~Event();
};

struct Graph {
  const Device* device = nullptr;
  gpuGraph_t graph = nullptr;
  gpuGraphExec_t exec = nullptr;
  gpuEvent_t last_launch = nullptr;  // recorded after each replay so destroy can wait for it
  ~Graph();
};

}  // namespace plinth::gpu
