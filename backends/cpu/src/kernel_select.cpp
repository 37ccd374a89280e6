#include <cstdlib>
#include <string_view>

#include "kernels.hpp"

namespace plinth::cpu {

IsaLevel detect_isa() noexcept {
  IsaLevel level = IsaLevel::kGeneric;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    level = IsaLevel::kAvx2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
      level = IsaLevel::kAvx512;
    }
  }
#endif
  // A cap for testing the narrower paths on a wide machine; it can only lower the level.
  if (const char* cap = std::getenv("PLINTH_CPU_ISA"); cap != nullptr) {
    const std::string_view c(cap);
    if (c == "generic") level = IsaLevel::kGeneric;
    if (c == "avx2" && level == IsaLevel::kAvx512) level = IsaLevel::kAvx2;
  }
  return level;
}

const KernelTable& select_kernels(IsaLevel level) noexcept {
  switch (level) {
    case IsaLevel::kAvx512: return avx512::kernel_table();
    case IsaLevel::kAvx2: return avx2::kernel_table();
    case IsaLevel::kGeneric: break;
  }
  return generic::kernel_table();
}

}  // namespace plinth::cpu
