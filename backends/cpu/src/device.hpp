// The one CPU device: the host processor, its memory, its kernel table and oneDNN engine.
#pragma once

#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>

#include "cpu_info.hpp"
#include "kernels.hpp"
#include "plinth/abi.h"
#include "plinth/sdk/device_loss.hpp"

namespace plinth::cpu {

inline constexpr uint32_t kMinAlignment = 64;

class CpuDevice {
 public:
  // `lose_after`: the PLINTH_PLUGIN_FAULT=device_lost:N test hook (sdk/device_loss.hpp), if set.
  explicit CpuDevice(std::optional<uint64_t> lose_after = std::nullopt);

  const KernelTable& kernels() const noexcept { return *kernels_; }
  IsaLevel isa() const noexcept { return isa_; }
  const CpuInfo& info() const noexcept { return info_; }
  const dnnl::engine& engine() const noexcept { return engine_; }
  int threads() const noexcept { return threads_; }
  // oneDNN runs bf16 matmul natively (AVX-512 with BF16 instructions or their emulation).
  bool native_bf16() const noexcept { return isa_ == IsaLevel::kAvx512; }
  uint64_t max_allocation() const noexcept { return info_.physical_memory; }

  void fill_properties(plinth_device_properties_t& props) const;
  std::string arch() const;

  // The host processor is never lost, but the test hook can make the device act as if it were. Work
  // runs at submission, so nothing is ever pending: destroying objects after a loss is always safe.
  sdk::DeviceLoss& loss() const noexcept { return loss_; }

 private:
  CpuInfo info_;
  IsaLevel isa_;
  const KernelTable* kernels_;
  dnnl::engine engine_;
  int threads_;
  mutable sdk::DeviceLoss loss_;  // objects hold `const CpuDevice*`; the loss state changes under them
};

}  // namespace plinth::cpu
