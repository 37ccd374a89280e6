// Facts about the host CPU and memory, read once at device open.
#pragma once

#include <cstdint>
#include <string>

namespace plinth::cpu {

struct CpuInfo {
  std::string model_name;  // /proc/cpuinfo "model name", or "CPU"
  std::string vendor;      // "Intel", "AMD", or the raw vendor id
  bool avx512_bf16 = false;
  uint64_t physical_memory = 0;  // bytes
};

CpuInfo read_cpu_info();
// MemAvailable from /proc/meminfo, falling back to free physical pages.
uint64_t available_memory();

}  // namespace plinth::cpu
