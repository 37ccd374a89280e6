#include "cpu_info.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace plinth::cpu {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

uint64_t pages_to_bytes(long pages) {
  const long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

}  // namespace

CpuInfo read_cpu_info() {
  CpuInfo info;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string vendor_id;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "model name" && info.model_name.empty()) info.model_name = value;
    if (key == "vendor_id" && vendor_id.empty()) vendor_id = value;
    if (key == "flags" && !info.avx512_bf16) {
      std::istringstream flags(value);
      std::string f;
      while (flags >> f) {
        if (f == "avx512_bf16") info.avx512_bf16 = true;
      }
    }
    if (!info.model_name.empty() && !vendor_id.empty() && key == "flags") break;
  }
  if (info.model_name.empty()) info.model_name = "CPU";
  if (vendor_id == "GenuineIntel") {
    info.vendor = "Intel";
  } else if (vendor_id == "AuthenticAMD") {
    info.vendor = "AMD";
  } else {
    info.vendor = vendor_id.empty() ? "unknown" : vendor_id;
  }
  info.physical_memory = pages_to_bytes(sysconf(_SC_PHYS_PAGES));
  return info;
}

uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024;
  }
  return pages_to_bytes(sysconf(_SC_AVPHYS_PAGES));
}

}  // namespace plinth::cpu
