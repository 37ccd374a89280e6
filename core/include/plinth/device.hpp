// Device: one opened device of one plugin, owned by the Runtime (referenced as Device&; it lives as
// long as the Runtime). Its id is "<plugin-name>:<index>", e.g. "cpu:0". It creates buffers (through
// its caching allocator), streams and events, and answers whether it supports an op call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/abi.h"
#include "plinth/allocator.hpp"
#include "plinth/buffer.hpp"
#include "plinth/event.hpp"
#include "plinth/export.hpp"
#include "plinth/extension.hpp"
#include "plinth/stream.hpp"
#include "plinth/validation.hpp"

namespace plinth {

struct OpCall;
namespace detail {
struct DeviceState;
}

enum class DeviceType { cpu, discrete_gpu, integrated_gpu, accelerator, virtual_device, unknown };
PLINTH_CORE_API const char* to_string(DeviceType type) noexcept;  // "cpu", "discrete-gpu", ...

struct DeviceProperties {
  std::string name{};
  std::string vendor{};
  std::string arch{};
  std::string driver_version{};
  DeviceType type = DeviceType::unknown;
  uint64_t total_memory = 0;
  uint64_t max_allocation = 0;
  uint64_t max_op_range = 0;
  uint64_t features = 0;  // PLINTH_FEATURE_* bits
  uint32_t compute_units = 0;
  uint32_t min_alignment = 0;
  uint32_t subgroup_size = 1;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;

  bool has(uint64_t feature) const noexcept { return (features & feature) == feature; }
};

// Names of the PLINTH_FEATURE_* bits set in `features`: {"f16", "graphs", ...}.
PLINTH_CORE_API std::vector<std::string> feature_names(uint64_t features);

struct MemoryInfo {
  uint64_t free = 0;
  uint64_t total = 0;
  bool from_plugin = false;  // false: estimated from total_memory minus the allocator's use
};

struct SupportResult {
  bool supported = false;
  std::string reason{};  // the plugin's reason when not supported
  explicit operator bool() const noexcept { return supported; }
};

class PLINTH_CORE_API Device {
 public:
  explicit Device(std::shared_ptr<detail::DeviceState> state) noexcept;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  ~Device();

  const std::string& id() const noexcept;           // "cpu:0"
  const std::string& plugin_name() const noexcept;  // "cpu"
  uint32_t index() const noexcept;                  // the plugin's device index
  const DeviceProperties& properties() const noexcept;
  MemoryInfo memory_info() const;

  SupportResult supports(const OpCall& call) const;

  // The vendor extension ops the plugin offers on this device (extension.hpp), read at open; empty
  // for plugins without any, or built against ABI 1.0.
  const std::vector<ExtensionOp>& extension_ops() const noexcept;
  // The extension op `name` at min_version or later, or nullptr.
  const ExtensionOp* find_extension(std::string_view name, uint32_t min_version = 1) const noexcept;

  Buffer allocate(uint64_t size, const AllocOptions& options = {});
  Stream create_stream(const StreamOptions& options = {});
  Event create_event(const EventOptions& options = {});

  // Caching allocator.
  AllocatorStats allocator_stats() const;
  void reset_peak_stats();
  void empty_cache();                   // returns every cached block to the plugin
  void trim_cache(uint64_t max_cached);  // frees cached blocks until at most max_cached bytes remain

  // Op calls this device did not support that ran on a fallback device instead.
  uint64_t fallback_count() const noexcept;

  LeakReport live_objects() const noexcept;
  bool lost() const noexcept;  // DEVICE_LOST was reported (or injected)

  // Validation layer and fault injection.
  bool validation_enabled() const noexcept;
  void inject_fault(const Fault& fault);  // fault.device is ignored here
  void clear_faults();
  ValidationStats validation_stats() const;

  const std::shared_ptr<detail::DeviceState>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<detail::DeviceState> state_;
};

}  // namespace plinth
