#include "plinth/device.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <algorithm>

#include "plinth/error.hpp"
#include "state.hpp"

namespace plinth {
namespace detail {
namespace {

DeviceType device_type_from_abi(uint32_t type) {
  switch (type) {
    case PLINTH_DEVICE_TYPE_CPU: return DeviceType::cpu;
    case PLINTH_DEVICE_TYPE_DISCRETE_GPU: return DeviceType::discrete_gpu;
    case PLINTH_DEVICE_TYPE_INTEGRATED_GPU: return DeviceType::integrated_gpu;
    case PLINTH_DEVICE_TYPE_ACCELERATOR: return DeviceType::accelerator;
    case PLINTH_DEVICE_TYPE_VIRTUAL: return DeviceType::virtual_device;
    default: return DeviceType::unknown;
  }
}

template <std::size_t N>
std::string fixed_string(const char (&s)[N]) {
  std::size_t n = 0;
  while (n < N && s[n] != '\0') ++n;
  return std::string(s, n);
}

// abi.h's rules for an extension op's name: "<vendor>.<op>" in lowercase ASCII letters, digits,
// '_' and '.', outside the reserved namespace "plinth".
bool valid_extension_name(std::string_view name) {
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return false;
  if (name.substr(0, dot) == "plinth") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

// The device's extension ops, read once at open (the list is fixed while the device is open). A
// malformed entry is logged and left out rather than failing the open: the catalogue still works.
std::vector<ExtensionOp> read_extension_ops(const DeviceState& dev) {
  std::vector<ExtensionOp> ops;
  const auto get = dev.api().extension_op_get;  // NULL past a 1.0 plugin's table (zero-filled)
  if (get == nullptr) return ops;
  constexpr uint32_t kLimit = 4096;  // a plugin that never says OUT_OF_RANGE cannot hang the open
  for (uint32_t i = 0; i < kLimit; ++i) {
    plinth_extension_op_t e{};
    e.struct_size = sizeof e;
    const plinth_status_t status = get(dev.handle, i, &e);
    if (status == PLINTH_ERROR_OUT_OF_RANGE) break;
    if (status != PLINTH_OK) {
      dev.logger->warn("{}: extension_op_get({}) failed ({}): {}; using the {} extension ops read so far",
                       dev.id, i, status_name(status), dev.plugin->last_error_message(), ops.size());
      break;
    }
    ExtensionOp op{fixed_string(e.name), e.version,    e.op,          e.params_size,
                   e.min_inputs,         e.max_inputs, e.num_outputs, fixed_string(e.description)};
    const bool duplicate = std::any_of(
        ops.begin(), ops.end(), [&](const ExtensionOp& o) { return o.name == op.name || o.op == op.op; });
    if (!valid_extension_name(op.name) || op.op < PLINTH_OP_EXTENSION_FIRST || op.version == 0 || duplicate ||
        op.min_inputs > op.max_inputs || op.max_inputs > 8 || op.num_outputs == 0 || op.num_outputs > 4) {
      dev.logger->warn(
          "{}: ignoring malformed extension op {} '{}' (id {}, version {}, {}..{} inputs, {} outputs)",
          dev.id, i, op.name, op.op, op.version, op.min_inputs, op.max_inputs, op.num_outputs);
      continue;
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

}  // namespace

DeviceState::DeviceState(std::shared_ptr<PluginLibrary> plugin_library, plinth_device_t device_handle,
                         uint32_t device_index, std::shared_ptr<spdlog::logger> log,
                         std::shared_ptr<std::atomic<uint64_t>> id_counter, bool validation)
    : plugin(std::move(plugin_library)),
      handle(device_handle),
      index(device_index),
      id(fmt::format("{}:{}", plugin->name(), device_index)),
      logger(std::move(log)),
      ids(std::move(id_counter)),
      validate(validation) {
  plinth_device_properties_t p{};
  p.struct_size = sizeof p;
  check(api().device_get_properties(handle, &p), "device_get_properties");
  props.name = fixed_string(p.name);
  props.vendor = fixed_string(p.vendor);
  props.arch = fixed_string(p.arch);
  props.driver_version = fixed_string(p.driver_version);
  props.type = device_type_from_abi(p.device_type);
  props.total_memory = p.total_memory;
  props.max_allocation = p.max_allocation;
  props.max_op_range = p.max_op_range;
  props.features = p.features;
  props.compute_units = p.compute_units;
  props.min_alignment = p.min_alignment;
  props.subgroup_size = p.subgroup_size;
  props.vendor_id = p.vendor_id;
  props.device_id = p.device_id;
  extensions = read_extension_ops(*this);
}

DeviceState::~DeviceState() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; close() already logged.
  }
}

void DeviceState::fail(plinth_status_t status, std::string_view call, std::string message) const {
  throw Error(status, std::move(message), std::string(call), id);
}

void DeviceState::misuse(plinth_status_t status, std::string_view call, std::string message) const {
  {
    std::lock_guard lock(fault_mutex);
    fault_state.stats.errors_caught += 1;
  }
  logger->error("validation: {} on {}: {}", call, id, message);
  throw Error(status, "validation: " + message, std::string(call), id);
}

void DeviceState::check(plinth_status_t status, std::string_view call) const {
  if (status == PLINTH_OK) return;
  std::string message = plugin->last_error_message();
  const int64_t vendor = plugin->last_error_vendor_code();
  if (status == PLINTH_ERROR_DEVICE_LOST) {
    plugin_lost = true;
    if (!lost.exchange(true)) logger->error("{}: device lost during {}: {}", id, call, message);
  }
  throw Error(status, std::move(message), std::string(call), id, vendor);
}

bool DeviceState::reported_lost(plinth_status_t status, std::string_view call) const {
  if (status != PLINTH_ERROR_DEVICE_LOST) return false;
  plugin_lost = true;
  if (!lost.exchange(true)) logger->error("{}: device lost during {}: {}", id, call, plugin->last_error_message());
  return true;
}

void DeviceState::ensure_usable(std::string_view call) const {
  if (closed) fail(PLINTH_ERROR_INVALID_STATE, call, "the device was closed (its Runtime was closed or destroyed)");
  if (lost) fail(PLINTH_ERROR_DEVICE_LOST, call, "the device was lost earlier; only destroying objects is possible");
}

void DeviceState::on_allocation() {
  if (!faults_enabled) return;
  std::lock_guard lock(fault_mutex);
  auto& fs = fault_state;
  fs.stats.allocations_seen += 1;
  for (const auto& [f, base] : fs.faults) {
    if (f.kind == FaultKind::alloc && base + f.n == fs.stats.allocations_seen) {
      fs.stats.faults_injected += 1;
      logger->warn("{}: injecting fault {}", id, to_string(f));
      fail(PLINTH_ERROR_OUT_OF_MEMORY, "allocate", fmt::format("injected fault {}", to_string(f)));
    }
  }
}

void DeviceState::on_launch() {
  if (!faults_enabled) return;
  std::lock_guard lock(fault_mutex);
  auto& fs = fault_state;
  fs.stats.launches_seen += 1;
  for (const auto& [f, base] : fs.faults) {
    if (f.kind == FaultKind::launch && base + f.n == fs.stats.launches_seen) {
      fs.stats.faults_injected += 1;
      logger->warn("{}: injecting fault {}", id, to_string(f));
      fail(PLINTH_ERROR_INTERNAL, "op_launch", fmt::format("injected fault {}", to_string(f)));
    }
  }
}

void DeviceState::after_launch() {
  if (!faults_enabled) return;
  std::lock_guard lock(fault_mutex);
  auto& fs = fault_state;
  fs.successful_launches += 1;
  for (const auto& [f, base] : fs.faults) {
    if (f.kind == FaultKind::device_lost && fs.successful_launches >= base + f.n && !lost) {
      fs.stats.faults_injected += 1;
      lost = true;
      logger->warn("{}: injecting fault {}: the device is now lost", id, to_string(f));
    }
  }
}

void DeviceState::track(uint64_t object_id, std::string description) {
  if (!validate) return;
  std::lock_guard lock(registry_mutex);
  registry.emplace(object_id, std::move(description));
}

void DeviceState::untrack(uint64_t object_id) {
  if (!validate) return;
  std::lock_guard lock(registry_mutex);
  registry.erase(object_id);
}

std::shared_ptr<StreamState> DeviceState::helper_stream() {
  std::lock_guard lock(helper_mutex);
  if (!helper) helper = create_stream_state(shared_from_this(), true);
  return helper;
}

LeakReport DeviceState::close() {
  if (closed) return {};
  {
    std::lock_guard lock(helper_mutex);
    helper.reset();
  }
  try {
    if (!lost) allocator.empty_cache();
  } catch (const std::exception& e) {
    logger->error("{}: emptying the allocator cache at close failed: {}", id, e.what());
  }
  LeakReport leaks;
  leaks.buffers = live_buffers;
  leaks.streams = live_streams;
  leaks.events = live_events;
  leaks.graphs = live_graphs;
  if (leaks.total() > 0) {
    logger->warn("{}: {} object(s) still alive at close: {} buffer(s), {} stream(s), {} event(s), {} graph(s)", id,
                 leaks.total(), leaks.buffers, leaks.streams, leaks.events, leaks.graphs);
    std::lock_guard lock(registry_mutex);
    for (const auto& [object_id, what] : registry) logger->warn("{}: leaked {}", id, what);
  }
  closed = true;
  allocator.abandon();
  const plinth_status_t status = api().device_close(handle);
  if (status != PLINTH_OK) {
    logger->error("{}: device_close failed: {}: {}", id, status_name(status), plugin->last_error_message());
  }
  owner = nullptr;
  return leaks;
}

}  // namespace detail

const char* to_string(DeviceType type) noexcept {
  switch (type) {
    case DeviceType::cpu: return "cpu";
    case DeviceType::discrete_gpu: return "discrete-gpu";
    case DeviceType::integrated_gpu: return "integrated-gpu";
    case DeviceType::accelerator: return "accelerator";
    case DeviceType::virtual_device: return "virtual";
    case DeviceType::unknown: return "unknown";
  }
  return "unknown";
}

std::vector<std::string> feature_names(uint64_t features) {
  static constexpr std::pair<uint64_t, const char*> kNames[] = {
      {PLINTH_FEATURE_F16, "f16"},
      {PLINTH_FEATURE_BF16, "bf16"},
      {PLINTH_FEATURE_INT8, "int8"},
      {PLINTH_FEATURE_SUBGROUPS, "subgroups"},
      {PLINTH_FEATURE_GRAPHS, "graphs"},
      {PLINTH_FEATURE_HOST_PINNED, "host-pinned"},
      {PLINTH_FEATURE_SHARED_MEMORY, "shared-memory"},
      {PLINTH_FEATURE_TIMESTAMPS, "timestamps"},
      {PLINTH_FEATURE_UNIFIED_MEMORY, "unified-memory"},
  };
  std::vector<std::string> out;
  uint64_t known = 0;
  for (const auto& [bit, name] : kNames) {
    known |= bit;
    if (features & bit) out.emplace_back(name);
  }
  if (features & ~known) out.push_back(fmt::format("0x{:x}", features & ~known));
  return out;
}

Device::Device(std::shared_ptr<detail::DeviceState> state) noexcept : state_(std::move(state)) {
  state_->owner = this;
}

Device::~Device() {
  if (state_ && state_->owner == this) state_->owner = nullptr;
}

const std::string& Device::id() const noexcept { return state_->id; }
const std::string& Device::plugin_name() const noexcept { return state_->plugin->name(); }
uint32_t Device::index() const noexcept { return state_->index; }
const DeviceProperties& Device::properties() const noexcept { return state_->props; }

MemoryInfo Device::memory_info() const {
  state_->ensure_usable("device_memory_info");
  MemoryInfo info;
  if (state_->api().device_memory_info != nullptr) {
    state_->check(state_->api().device_memory_info(state_->handle, &info.free, &info.total), "device_memory_info");
    info.from_plugin = true;
    return info;
  }
  const auto stats = state_->allocator.stats();
  info.total = state_->props.total_memory;
  const uint64_t used = stats.bytes_in_use + stats.bytes_cached;
  info.free = info.total > used ? info.total - used : 0;
  return info;
}

SupportResult Device::supports(const OpCall& call) const {
  state_->ensure_usable("op_supports");
  if (std::string unknown = state_->plugin->op_unknown_reason(call.op); !unknown.empty()) {
    return SupportResult{.supported = false, .reason = std::move(unknown)};
  }
  AbiOpCall abi(call);
  uint32_t supported = 0;
  const std::string what = fmt::format("op_supports({})", op_name(call.op));
  state_->check(state_->api().op_supports(state_->handle, abi.get(), &supported), what);
  SupportResult result;
  result.supported = supported != 0;
  if (!result.supported) {
    result.reason = state_->plugin->last_error_message();
    if (result.reason.empty()) result.reason = "the plugin gave no reason";
  }
  return result;
}

const std::vector<ExtensionOp>& Device::extension_ops() const noexcept { return state_->extensions; }

const ExtensionOp* Device::find_extension(std::string_view name, uint32_t min_version) const noexcept {
  for (const auto& op : state_->extensions) {
    if (op.name == name && op.version >= min_version) return &op;
  }
  return nullptr;
}

bool try_launch_extension(Stream& stream, std::string_view name, uint32_t min_version, OpCall call) {
  const ExtensionOp* ext = stream.device().find_extension(name, min_version);
  if (ext == nullptr) return false;
  call.op = ext->op;
  if (!stream.device().supports(call)) return false;
  stream.launch(call);
  return true;
}

Buffer Device::allocate(uint64_t size, const AllocOptions& options) {
  return Buffer(detail::allocate_buffer(state_, size, options));
}

Stream Device::create_stream(const StreamOptions& options) {
  auto s = detail::create_stream_state(state_, false);
  s->fallback = options.fallback;
  return Stream(std::move(s));
}

AllocatorStats Device::allocator_stats() const { return state_->allocator.stats(); }
void Device::reset_peak_stats() { state_->allocator.reset_peak(); }
void Device::empty_cache() {
  if (!state_->closed) state_->allocator.empty_cache();
}
void Device::trim_cache(uint64_t max_cached) {
  if (!state_->closed) state_->allocator.trim(max_cached);
}
uint64_t Device::fallback_count() const noexcept { return state_->fallbacks; }

LeakReport Device::live_objects() const noexcept {
  LeakReport r;
  r.buffers = state_->live_buffers;
  r.streams = state_->live_streams;
  r.events = state_->live_events;
  r.graphs = state_->live_graphs;
  return r;
}

bool Device::lost() const noexcept { return state_->lost; }
bool Device::validation_enabled() const noexcept { return state_->validate; }

void Device::inject_fault(const Fault& fault) {
  std::lock_guard lock(state_->fault_mutex);
  auto& fs = state_->fault_state;
  detail::ArmedFault armed{fault, 0};
  armed.fault.device = state_->id;
  switch (fault.kind) {
    case FaultKind::alloc: armed.base = fs.stats.allocations_seen; break;
    case FaultKind::launch: armed.base = fs.stats.launches_seen; break;
    case FaultKind::device_lost: armed.base = fs.successful_launches; break;
  }
  if (fault.kind == FaultKind::device_lost && fault.n == 0) {
    state_->lost = true;
    fs.stats.faults_injected += 1;
    state_->logger->warn("{}: injecting fault {}: the device is now lost", state_->id, to_string(armed.fault));
  }
  fs.faults.push_back(std::move(armed));
  state_->faults_enabled = true;
}

void Device::clear_faults() {
  std::lock_guard lock(state_->fault_mutex);
  state_->fault_state.faults.clear();
}

ValidationStats Device::validation_stats() const {
  std::lock_guard lock(state_->fault_mutex);
  return state_->fault_state.stats;
}

}  // namespace plinth
