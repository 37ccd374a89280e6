// The plugin's objects behind the opaque ABI handles. Each owns its runtime resource (RAII) and
// remembers its device so the calling thread can make that device current first.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "gpu_port.hpp"
#include "plinth/abi.h"
#include "plinth/sdk/device_loss.hpp"

namespace plinth::gpu {

class BlasHandle;  // cuBLAS state of one stream (CUDA only; defined in gpu_blas.cpp)

enum class MatmulPath { kBlas, kTiled };
// Decode-shaped quantized matmul: integer activations with integer dot products, or exact f32 activations.
enum class QuantDecodePath { kInt8, kF32 };

struct Device {
  // `lose_after`: the PLINTH_PLUGIN_FAULT=device_lost:N test hook (sdk/device_loss.hpp), if set.
  explicit Device(std::optional<uint64_t> lose_after = std::nullopt) : loss(lose_after) {}
  int ordinal = 0;
  gpuDeviceProp prop{};
  std::string arch;
  std::string driver;
  MatmulPath matmul = MatmulPath::kBlas;
  QuantDecodePath quant_decode = QuantDecodePath::kInt8;
  // Set by the test hook only: a real loss is a sticky runtime error, which fails every later
  // runtime call by itself. Either way the destructors below submit nothing: they free, destroy and
  // wait for work already queued (the runtime ends those waits at once after a sticky error).
  sdk::DeviceLoss loss;
};

struct Buffer {
  Device* device = nullptr;
  void* base = nullptr;  // what the allocator returned (freed)
  char* data = nullptr;  // base rounded up to the requested alignment
  uint64_t size = 0;
  uint32_t kind = PLINTH_MEMORY_DEVICE;
  bool mapped = false;
  std::mutex mutex;  // guards `mapped`
  ~Buffer();
};

struct Stream {
  Device* device = nullptr;
  gpuStream_t stream = nullptr;
  // A host-mapped word the kernels raise on a data-dependent error (a get_rows index out of range);
  // stream_synchronize reports and clears it.
  int32_t* error_flag_host = nullptr;
  int32_t* error_flag = nullptr;  // the same word as the device addresses it
  std::mutex blas_mutex;
  std::unique_ptr<BlasHandle> blas;  // created on the first cuBLAS matmul
  Stream();  // out of line: BlasHandle is complete only in the .cpp
  ~Stream();
};

struct Event {
  Device* device = nullptr;
  gpuEvent_t event = nullptr;
  bool timing = false;
  std::atomic<bool> recorded{false};
  ~Event();
};

struct Graph {
  Device* device = nullptr;
  gpuGraph_t graph = nullptr;
  gpuGraphExec_t exec = nullptr;
  gpuEvent_t last_launch = nullptr;  // recorded after each replay so destroy can wait for it
  ~Graph();
};

// Makes `device` current on the calling thread (runtime calls act on the current device). Every
// entry that uses a device calls it first: it fails with DEVICE_LOST, naming `call`, once the
// device is lost.
void use_device(const Device& device, const char* call);

}  // namespace plinth::gpu
