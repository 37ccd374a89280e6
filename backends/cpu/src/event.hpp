// An event. Work runs at submission, so an event is complete as soon as it is recorded; it only
// keeps the time it was reached.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace plinth::cpu {

class CpuDevice;

struct CpuEvent {
  const CpuDevice* device = nullptr;
  uint32_t flags = 0;
  mutable std::mutex mutex;
  bool recorded = false;
  std::chrono::steady_clock::time_point when{};
};

}  // namespace plinth::cpu
