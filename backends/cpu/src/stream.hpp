// A stream. Work executes synchronously on the submitting thread at submission, under the stream's
// mutex, which makes it a valid in-order queue: submission order is execution order.
#pragma once

#include <mutex>
#include <vector>

#include "onednn_matmul.hpp"

namespace plinth::cpu {

class CpuDevice;

struct CpuStream {
  explicit CpuStream(const CpuDevice* d, const dnnl::engine& engine) : device(d), matmul(engine) {}

  const CpuDevice* device;
  std::mutex mutex;
  OneDnnMatmul matmul;  // guarded by mutex
  // Staging for operands that must be converted or packed (guarded by mutex; only grows).
  std::vector<float> stage_a;
  std::vector<float> stage_b;
  std::vector<float> stage_c;
  // Task tables of ops that split ragged work (guarded by mutex; only grows).
  std::vector<int64_t> stage_tasks;
};

}  // namespace plinth::cpu
