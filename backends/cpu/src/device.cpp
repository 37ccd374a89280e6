#include "device.hpp"

#include "parallel.hpp"
#include "plinth/sdk/structs.hpp"

namespace plinth::cpu {

CpuDevice::CpuDevice(std::optional<uint64_t> lose_after)
    : info_(read_cpu_info()),
      isa_(detect_isa()),
      kernels_(&select_kernels(isa_)),
      engine_(dnnl::engine::kind::cpu, 0),
      threads_(max_threads()),
      loss_(lose_after) {}

std::string CpuDevice::arch() const {
  switch (isa_) {
    case IsaLevel::kAvx512: return "x86-64-avx512";
    case IsaLevel::kAvx2: return "x86-64-avx2";
    case IsaLevel::kGeneric: break;
  }
  return "x86-64";
}

void CpuDevice::fill_properties(plinth_device_properties_t& props) const {
  props.device_type = PLINTH_DEVICE_TYPE_CPU;
  sdk::copy_string(props.name, info_.model_name);
  sdk::copy_string(props.vendor, info_.vendor);
  sdk::copy_string(props.arch, arch());
  const dnnl_version_t* v = dnnl_version();
  sdk::copy_string(props.driver_version, "oneDNN " + std::to_string(v->major) + "." +
                                             std::to_string(v->minor) + "." + std::to_string(v->patch));
  props.total_memory = info_.physical_memory;
  props.max_allocation = info_.physical_memory;
  props.max_op_range = info_.physical_memory;
  props.features = PLINTH_FEATURE_F16 | PLINTH_FEATURE_BF16 | PLINTH_FEATURE_INT8 |
                   PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_SHARED_MEMORY | PLINTH_FEATURE_TIMESTAMPS |
                   PLINTH_FEATURE_UNIFIED_MEMORY;
  props.compute_units = static_cast<uint32_t>(threads_);
  props.min_alignment = kMinAlignment;
  props.subgroup_size = 1;
  props.vendor_id = 0;
  props.device_id = 0;
  props.reserved0 = 0;
}

}  // namespace plinth::cpu
