// The plugin entry point and its function table: every ABI entry of the GPU backends, written once
// for CUDA and HIP through gpu_port.hpp. Each entry runs inside sdk::guard, so errors leave as status
// codes with the runtime's own error string and code.
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gpu_error.hpp"
#include "gpu_objects.hpp"
#include "gpu_ops.hpp"
#include "plinth/abi.h"
#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/handles.hpp"
#include "plinth/sdk/log.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/probe.hpp"
#include "plinth/sdk/status.hpp"
#include "plinth/sdk/structs.hpp"

#ifndef PLINTH_GPU_PLUGIN_NAME
#error "PLINTH_GPU_PLUGIN_NAME must name the plugin (cuda or rocm)"
#endif
#ifndef PLINTH_GPU_PLUGIN_VERSION
#define PLINTH_GPU_PLUGIN_VERSION "0.0.0"
#endif

namespace plinth::gpu {
namespace {

#if defined(PLINTH_GPU_CUDA)
// Freed stream-ordered scratch the device's memory pool keeps mapped across synchronizations.
constexpr uint64_t kPoolKeepBytes = 256ull << 20;
#endif

#if defined(PLINTH_GPU_HIP)
constexpr const char* kApiName = "ROCm";
#else
constexpr const char* kApiName = "CUDA";
#endif
constexpr uint32_t kMinAlignment = 256;  // what the runtime allocators guarantee

struct PluginState {
  sdk::HostLog log;
  sdk::HandleTable<plinth_device_t, Device> devices{"device"};
  sdk::HandleTable<plinth_buffer_t, Buffer> buffers{"buffer"};
  sdk::HandleTable<plinth_stream_t, Stream> streams{"stream"};
  sdk::HandleTable<plinth_event_t, Event> events{"event"};
  sdk::HandleTable<plinth_graph_t, Graph> graphs{"graph"};
};

// The one plugin-state object behind the entry point (abi.h: init after shutdown re-initializes).
std::unique_ptr<PluginState>& state_slot() {
  static std::unique_ptr<PluginState> slot;
  return slot;
}

PluginState& state() {
  auto& slot = state_slot();
  if (!slot) sdk::fail(PLINTH_ERROR_INVALID_STATE, "plugin is not initialized (call plinth_plugin_init)");
  return *slot;
}

// ---- Discovery ---------------------------------------------------------------------------------

std::string arch_of(const gpuDeviceProp& prop) {
#if defined(PLINTH_GPU_HIP)
  std::string arch = prop.gcnArchName;
  return arch.substr(0, arch.find(':'));  // "gfx90a:sramecc+:xnack-" -> "gfx90a"
#else
  return "sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
#endif
}

// Why the kernels built into this plugin cannot run on `prop`, or "".
std::string arch_problem(const gpuDeviceProp& prop) {
#if defined(PLINTH_GPU_HIP)
  const std::string arch = arch_of(prop);
  const std::string built = PLINTH_GPU_ARCHS;  // "gfx90a,gfx908,gfx1030"
  std::string_view rest = built;
  while (!rest.empty()) {
    const auto end = rest.find(',');
    if (rest.substr(0, end) == arch) return "";
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  }
  return arch + " is not among the architectures this plugin was built for (" + built + ")";
#else
  const int cc = prop.major * 10 + prop.minor;
  if (cc < PLINTH_GPU_MIN_CC) {
    return "compute capability " + std::to_string(prop.major) + "." + std::to_string(prop.minor) +
           " is older than the oldest architecture this plugin was built for (sm_" + std::to_string(PLINTH_GPU_MIN_CC) + ")";
  }
  return "";
#endif
}

std::string plugin_wide_reason(gpuError_t error) {
  if (error == gpuErrorInsufficientDriver) {
    return std::string(kApiName) + " driver not found or too old (" + gpuGetErrorName(error) + ")";
  }
  if (error == gpuErrorNoDevice) return std::string("no ") + kApiName + " device (" + gpuGetErrorName(error) + ")";
  return std::string(kApiName) + " runtime unavailable: " + describe(error);
}

std::string version_string(int v) {
  // Both runtimes encode versions as major*1000 + minor*10 (HIP: major*10^7 + minor*10^5 + patch).
#if defined(PLINTH_GPU_HIP)
  return std::to_string(v / 10000000) + "." + std::to_string((v / 100000) % 100);
#else
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
#endif
}

plinth_status_t api_probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  return sdk::guard([&] {
    sdk::require(out_count != nullptr, "probe: out_count is NULL");
    sdk::require(entries != nullptr || capacity == 0, "probe: entries is NULL but capacity > 0");
    std::vector<plinth_probe_entry_t> found;
    int count = 0;
    const gpuError_t error = gpuGetDeviceCount(&count);
    (void)gpuGetLastError();
    if (error != gpuSuccess || count <= 0) {
      plinth_probe_entry_t e{};
      e.index = UINT32_MAX;
      sdk::copy_string(e.reason, plugin_wide_reason(error == gpuSuccess ? gpuErrorNoDevice : error));
      found.push_back(e);
    } else {
      for (int i = 0; i < count; ++i) {
        plinth_probe_entry_t e{};
        e.index = static_cast<uint32_t>(i);
        gpuDeviceProp prop{};
        const gpuError_t perr = gpuGetDeviceProperties(&prop, i);
        if (perr != gpuSuccess) {
          (void)gpuGetLastError();
          sdk::copy_string(e.reason, "cannot read device properties: " + describe(perr));
        } else {
          sdk::copy_string(e.name, prop.name);
          const std::string problem = arch_problem(prop);
          sdk::copy_string(e.reason, problem);
          e.usable = problem.empty() ? 1 : 0;
        }
        found.push_back(e);
      }
    }
    for (uint32_t i = 0; i < capacity && i < found.size(); ++i) {
      found[i].struct_size = sizeof(plinth_probe_entry_t);
      sdk::write_probe_entry(entries, i, found[i]);
    }
    *out_count = static_cast<uint32_t>(found.size());
  });
}

// ---- Devices -----------------------------------------------------------------------------------

plinth_status_t api_device_open(uint32_t index, plinth_device_t* out_device) {
  return sdk::guard([&] {
    sdk::require(out_device != nullptr, "device_open: out_device is NULL");
    int count = 0;
    const gpuError_t error = gpuGetDeviceCount(&count);
    if (error != gpuSuccess) {
      (void)gpuGetLastError();
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "device_open: no device " + std::to_string(index) + ": " +
                                               plugin_wide_reason(error), static_cast<int64_t>(error));
    }
    if (index >= static_cast<uint32_t>(count)) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "device_open: index " + std::to_string(index) + " but " +
                                               std::to_string(count) + " device(s)");
    }
    auto device = std::make_unique<Device>(sdk::DeviceLoss::hook_from_environment());
    device->ordinal = static_cast<int>(index);
    check(gpuGetDeviceProperties(&device->prop, device->ordinal), "device_open: get properties");
    const std::string problem = arch_problem(device->prop);
    if (!problem.empty()) sdk::fail(PLINTH_ERROR_UNSUPPORTED, "device_open: " + problem);
    device->arch = arch_of(device->prop);
    int driver = 0;
    int runtime = 0;
    (void)gpuDriverGetVersion(&driver);
    (void)gpuRuntimeGetVersion(&runtime);
    device->driver = "driver " + version_string(driver) + ", runtime " + version_string(runtime);
#if defined(PLINTH_GPU_CUDA)
    // The tiled kernel can be selected instead of cuBLAS so that it stays tested on CUDA.
    if (const char* env = std::getenv("PLINTH_CUDA_MATMUL"); env != nullptr && std::string_view(env) == "tiled") {
      device->matmul = MatmulPath::kTiled;
    }
    // The exact f32-activation decode kernel stays selectable for comparison and tests.
    if (const char* env = std::getenv("PLINTH_CUDA_DECODE"); env != nullptr && std::string_view(env) == "f32") {
      device->quant_decode = QuantDecodePath::kF32;
    }
#else
    device->matmul = MatmulPath::kTiled;
#endif
    check(gpuSetDevice(device->ordinal), "device_open: set device");
    check(gpuFree(nullptr), "device_open: create context");  // surfaces a busy or broken device now
#if defined(PLINTH_GPU_CUDA)
    // Ops take their scratch (quantized matmul) from the stream-ordered pool. With its default release
    // threshold of 0 the pool unmaps freed memory at every synchronize, so each op after one (a decode
    // step) would map its scratch afresh; keeping up to kPoolKeepBytes makes that a pool hit.
    cudaMemPool_t pool = nullptr;
    if (cudaDeviceGetDefaultMemPool(&pool, device->ordinal) == cudaSuccess) {
      uint64_t keep = kPoolKeepBytes;
      check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep), "device_open: memory pool");
    }
#endif
    state().log(PLINTH_LOG_INFO, std::string(PLINTH_GPU_PLUGIN_NAME) + ": opened device " + std::to_string(index) +
                                     " (" + device->prop.name + ", " + device->arch + ", " + device->driver + ")" +
                                     (device->matmul == MatmulPath::kTiled ? ", tiled matmul" : "") +
                                     (device->quant_decode == QuantDecodePath::kF32 ? ", f32 decode" : ""));
    *out_device = state().devices.insert(std::move(device));
  });
}

plinth_status_t api_device_close(plinth_device_t device) {
  return sdk::guard([&] {
    PluginState& s = state();
    Device* d = &s.devices.get(device);
    // Reclaim what the host leaked; the destructors wait for queued work.
    s.graphs.erase_if([d](const Graph& g) { return g.device == d; });
    s.events.erase_if([d](const Event& e) { return e.device == d; });
    s.streams.erase_if([d](const Stream& st) { return st.device == d; });
    s.buffers.erase_if([d](const Buffer& b) { return b.device == d; });
    s.devices.erase(device);
  });
}

plinth_status_t api_device_get_properties(plinth_device_t device, plinth_device_properties_t* props) {
  return sdk::guard([&] {
    const Device& d = state().devices.get(device);
    sdk::require(props != nullptr, "device_get_properties: props is NULL");
    plinth_device_properties_t p{};
    p.struct_size = sizeof p;
    p.device_type = d.prop.integrated != 0 ? PLINTH_DEVICE_TYPE_INTEGRATED_GPU : PLINTH_DEVICE_TYPE_DISCRETE_GPU;
    sdk::copy_string(p.name, d.prop.name);
    sdk::copy_string(p.vendor, kGpuVendor);
    sdk::copy_string(p.arch, d.arch);
    sdk::copy_string(p.driver_version, d.driver);
    p.total_memory = d.prop.totalGlobalMem;
    p.max_allocation = d.prop.totalGlobalMem;
    p.max_op_range = d.prop.totalGlobalMem;
    p.features = PLINTH_FEATURE_F16 | PLINTH_FEATURE_BF16 | PLINTH_FEATURE_INT8 | PLINTH_FEATURE_SUBGROUPS |
                 PLINTH_FEATURE_GRAPHS | PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_TIMESTAMPS;
    if (d.prop.managedMemory != 0) p.features |= PLINTH_FEATURE_SHARED_MEMORY;
    p.compute_units = static_cast<uint32_t>(d.prop.multiProcessorCount);
    p.min_alignment = kMinAlignment;
    p.subgroup_size = static_cast<uint32_t>(d.prop.warpSize);
    p.vendor_id = kGpuVendorId;
    p.device_id = 0;
    sdk::write_struct(props, p, sizeof(plinth_device_properties_t), "device properties");
  });
}

plinth_status_t api_device_memory_info(plinth_device_t device, uint64_t* out_free, uint64_t* out_total) {
  return sdk::guard([&] {
    const Device& d = state().devices.get(device);
    sdk::require(out_free != nullptr && out_total != nullptr, "device_memory_info: NULL output");
    use_device(d, "device_memory_info");
    size_t free_bytes = 0;
    size_t total_bytes = 0;
    check(gpuMemGetInfo(&free_bytes, &total_bytes), "device_memory_info");
    *out_free = free_bytes;
    *out_total = total_bytes;
  });
}

// ---- Buffers -----------------------------------------------------------------------------------

plinth_status_t api_buffer_alloc(plinth_device_t device, const plinth_buffer_desc_t* desc, plinth_buffer_t* out_buffer) {
  return sdk::guard([&] {
    PluginState& s = state();
    Device& d = s.devices.get(device);
    sdk::require(out_buffer != nullptr, "buffer_alloc: out_buffer is NULL");
    const plinth_buffer_desc_t in = sdk::read_struct(desc, plinth_buffer_desc_t{}, sizeof(plinth_buffer_desc_t), "buffer desc");
    sdk::require(in.size > 0, "buffer_alloc: size is 0");
    sdk::require(in.alignment == 0 || (in.alignment & (in.alignment - 1)) == 0,
                 "buffer_alloc: alignment is not a power of two");
    if (in.memory_kind > PLINTH_MEMORY_SHARED) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "buffer_alloc: unknown memory kind " + std::to_string(in.memory_kind));
    }
    if (in.memory_kind == PLINTH_MEMORY_SHARED && d.prop.managedMemory == 0) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "buffer_alloc: this device has no managed (shared) memory");
    }
    if (in.size > d.prop.totalGlobalMem) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "buffer_alloc: " + std::to_string(in.size) +
                                               " bytes exceed max_allocation " + std::to_string(d.prop.totalGlobalMem));
    }
    const uint64_t align = in.alignment > kMinAlignment ? in.alignment : 0;  // runtime gives kMinAlignment
    if (align > UINT64_MAX - in.size) sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "buffer_alloc: size + alignment overflows");
    const size_t bytes = static_cast<size_t>(in.size + align);
    use_device(d, "buffer_alloc");
    auto buffer = std::make_unique<Buffer>();
    buffer->device = &d;
    buffer->size = in.size;
    buffer->kind = in.memory_kind;
    void* base = nullptr;
    switch (in.memory_kind) {
      case PLINTH_MEMORY_DEVICE: check(gpuMalloc(&base, bytes), "buffer_alloc (device memory)"); break;
      case PLINTH_MEMORY_HOST_PINNED: check(gpuHostAllocDefault(&base, bytes), "buffer_alloc (pinned host memory)"); break;
      default: check(gpuMallocManaged(&base, bytes), "buffer_alloc (managed memory)"); break;
    }
    buffer->base = base;
    const uintptr_t raw = reinterpret_cast<uintptr_t>(base);
    const uintptr_t aligned = align == 0 ? raw : (raw + align - 1) & ~static_cast<uintptr_t>(align - 1);
    buffer->data = reinterpret_cast<char*>(aligned);
    *out_buffer = s.buffers.insert(std::move(buffer));
  });
}

plinth_status_t api_buffer_free(plinth_buffer_t buffer) {
  return sdk::guard([&] { state().buffers.erase(buffer); });
}

plinth_status_t api_buffer_map(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr) {
  return sdk::guard([&] {
    Buffer& b = state().buffers.get(buffer);
    b.device->loss.check("buffer_map");
    sdk::require(out_ptr != nullptr, "buffer_map: out_ptr is NULL");
    if (b.kind == PLINTH_MEMORY_DEVICE) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "buffer_map: device-local memory is not host-visible; copy instead");
    }
    if (offset > b.size || size > b.size - offset) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "buffer_map: offset " + std::to_string(offset) + " + size " +
                                               std::to_string(size) + " exceeds the buffer's " + std::to_string(b.size));
    }
    std::lock_guard lock(b.mutex);
    if (b.mapped) sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer_map: buffer is already mapped");
    b.mapped = true;
    *out_ptr = b.data + offset;
  });
}

plinth_status_t api_buffer_unmap(plinth_buffer_t buffer) {
  return sdk::guard([&] {
    Buffer& b = state().buffers.get(buffer);
    std::lock_guard lock(b.mutex);
    if (!b.mapped) sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer_unmap: buffer is not mapped");
    b.mapped = false;
  });
}

// ---- Streams and copies ------------------------------------------------------------------------

bool capturing(const Stream& s) {
  gpuStreamCaptureStatus status = gpuStreamCaptureStatusNone;
  check(gpuStreamIsCapturing(s.stream, &status), "stream capture status");
  return status != gpuStreamCaptureStatusNone;
}

plinth_status_t api_stream_create(plinth_device_t device, uint32_t flags, plinth_stream_t* out_stream) {
  return sdk::guard([&] {
    PluginState& s = state();
    Device& d = s.devices.get(device);
    sdk::require(out_stream != nullptr, "stream_create: out_stream is NULL");
    sdk::require(flags == 0, "stream_create: flags must be 0 in ABI v1");
    use_device(d, "stream_create");
    auto stream = std::make_unique<Stream>();
    stream->device = &d;
    check(gpuStreamCreateNonBlocking(&stream->stream), "stream_create");
    void* flag = nullptr;
    check(gpuHostAllocMapped(&flag, sizeof(int32_t)), "stream_create (error word)");
    stream->error_flag_host = static_cast<int32_t*>(flag);
    *stream->error_flag_host = 0;
    void* device_flag = nullptr;
    check(gpuHostGetDevicePointer(&device_flag, flag, 0), "stream_create (error word address)");
    stream->error_flag = static_cast<int32_t*>(device_flag);
    *out_stream = s.streams.insert(std::move(stream));
  });
}

plinth_status_t api_stream_destroy(plinth_stream_t stream) {
  return sdk::guard([&] { state().streams.erase(stream); });
}

plinth_status_t api_stream_synchronize(plinth_stream_t stream) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    use_device(*s.device, "stream_synchronize");
    if (capturing(s)) sdk::fail(PLINTH_ERROR_INVALID_STATE, "stream_synchronize: the stream is being captured");
    check(gpuStreamSynchronize(s.stream), "stream_synchronize");
    auto* flag = reinterpret_cast<std::atomic<int32_t>*>(s.error_flag_host);
    if (flag->exchange(0) != 0) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "get_rows: an index was outside [0, rows) (detected on the device; "
                                               "those rows were written as zeros)");
    }
  });
}

void check_range(const Buffer& b, uint64_t offset, uint64_t size, const char* what) {
  if (offset > b.size || size > b.size - offset) {
    sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, std::string(what) + ": offset " + std::to_string(offset) + " + size " +
                                             std::to_string(size) + " exceeds the buffer's " + std::to_string(b.size));
  }
}

plinth_status_t api_copy_host_to_buffer(plinth_stream_t stream, const void* src, plinth_buffer_t dst, uint64_t dst_offset,
                                        uint64_t size) {
  return sdk::guard([&] {
    PluginState& st = state();
    Stream& s = st.streams.get(stream);
    Buffer& b = st.buffers.get(dst);
    sdk::require(b.device == s.device, "copy_host_to_buffer: buffer and stream are on different devices");
    check_range(b, dst_offset, size, "copy_host_to_buffer");
    sdk::require(src != nullptr || size == 0, "copy_host_to_buffer: src is NULL");
    s.device->loss.check("copy_host_to_buffer");  // before the early return: nothing works after a loss
    if (size == 0) return;
    use_device(*s.device, "copy_host_to_buffer");
    check(gpuMemcpyAsync(b.data + dst_offset, src, size, gpuMemcpyDefault, s.stream), "copy_host_to_buffer");
  });
}

plinth_status_t api_copy_buffer_to_host(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset, void* dst,
                                        uint64_t size) {
  return sdk::guard([&] {
    PluginState& st = state();
    Stream& s = st.streams.get(stream);
    Buffer& b = st.buffers.get(src);
    sdk::require(b.device == s.device, "copy_buffer_to_host: buffer and stream are on different devices");
    check_range(b, src_offset, size, "copy_buffer_to_host");
    sdk::require(dst != nullptr || size == 0, "copy_buffer_to_host: dst is NULL");
    s.device->loss.check("copy_buffer_to_host");  // before the early return: nothing works after a loss
    if (size == 0) return;
    use_device(*s.device, "copy_buffer_to_host");
    check(gpuMemcpyAsync(dst, b.data + src_offset, size, gpuMemcpyDefault, s.stream), "copy_buffer_to_host");
  });
}

plinth_status_t api_copy_buffer(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset, plinth_buffer_t dst,
                                uint64_t dst_offset, uint64_t size) {
  return sdk::guard([&] {
    PluginState& st = state();
    Stream& s = st.streams.get(stream);
    Buffer& from = st.buffers.get(src);
    Buffer& to = st.buffers.get(dst);
    sdk::require(from.device == s.device && to.device == s.device,
                 "copy_buffer: buffers and stream must be on the same device");
    check_range(from, src_offset, size, "copy_buffer (source)");
    check_range(to, dst_offset, size, "copy_buffer (destination)");
    if (&from == &to && size > 0 && src_offset < dst_offset + size && dst_offset < src_offset + size) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "copy_buffer: source and destination overlap");
    }
    s.device->loss.check("copy_buffer");  // before the early return: nothing works after a loss
    if (size == 0) return;
    use_device(*s.device, "copy_buffer");
    check(gpuMemcpyAsync(to.data + dst_offset, from.data + src_offset, size, gpuMemcpyDefault, s.stream), "copy_buffer");
  });
}

// ---- Events ------------------------------------------------------------------------------------

plinth_status_t api_event_create(plinth_device_t device, uint32_t flags, plinth_event_t* out_event) {
  return sdk::guard([&] {
    PluginState& s = state();
    Device& d = s.devices.get(device);
    sdk::require(out_event != nullptr, "event_create: out_event is NULL");
    sdk::require((flags & ~PLINTH_EVENT_FLAG_TIMING) == 0, "event_create: unknown flags");
    use_device(d, "event_create");
    auto event = std::make_unique<Event>();
    event->device = &d;
    event->timing = (flags & PLINTH_EVENT_FLAG_TIMING) != 0;
    check(gpuEventCreateWithFlags(&event->event, event->timing ? gpuEventDefault : gpuEventDisableTiming), "event_create");
    *out_event = s.events.insert(std::move(event));
  });
}

plinth_status_t api_event_destroy(plinth_event_t event) {
  return sdk::guard([&] { state().events.erase(event); });
}

plinth_status_t api_event_record(plinth_event_t event, plinth_stream_t stream) {
  return sdk::guard([&] {
    PluginState& st = state();
    Event& e = st.events.get(event);
    Stream& s = st.streams.get(stream);
    sdk::require(e.device == s.device, "event_record: event and stream are on different devices");
    use_device(*s.device, "event_record");
    check(gpuEventRecord(e.event, s.stream), "event_record");
    e.recorded = true;
  });
}

plinth_status_t api_stream_wait_event(plinth_stream_t stream, plinth_event_t event) {
  return sdk::guard([&] {
    PluginState& st = state();
    Stream& s = st.streams.get(stream);
    Event& e = st.events.get(event);
    sdk::require(e.device == s.device, "stream_wait_event: event and stream are on different devices");
    use_device(*s.device, "stream_wait_event");
    check(gpuStreamWaitEvent(s.stream, e.event), "stream_wait_event");
  });
}

plinth_status_t api_event_synchronize(plinth_event_t event) {
  return sdk::guard([&] {
    Event& e = state().events.get(event);
    use_device(*e.device, "event_synchronize");
    check(gpuEventSynchronize(e.event), "event_synchronize");
  });
}

plinth_status_t api_event_query(plinth_event_t event) {
  return sdk::guard([&] {
    Event& e = state().events.get(event);
    use_device(*e.device, "event_query");
    const gpuError_t error = gpuEventQuery(e.event);
    if (error == gpuErrorNotReady) {
      (void)gpuGetLastError();
      sdk::fail(PLINTH_ERROR_NOT_READY, "event_query: not complete");
    }
    check(error, "event_query");
  });
}

plinth_status_t api_event_elapsed_ms(plinth_event_t start, plinth_event_t end, float* out_ms) {
  return sdk::guard([&] {
    PluginState& st = state();
    Event& a = st.events.get(start);
    Event& b = st.events.get(end);
    sdk::require(out_ms != nullptr, "event_elapsed_ms: out_ms is NULL");
    sdk::require(a.timing && b.timing, "event_elapsed_ms: both events need PLINTH_EVENT_FLAG_TIMING");
    sdk::require(a.recorded && b.recorded, "event_elapsed_ms: both events must have been recorded");
    sdk::require(a.device == b.device, "event_elapsed_ms: events are on different devices");
    use_device(*a.device, "event_elapsed_ms");
    for (const Event* e : {&a, &b}) {
      const gpuError_t error = gpuEventQuery(e->event);
      if (error == gpuErrorNotReady) {
        (void)gpuGetLastError();
        sdk::fail(PLINTH_ERROR_NOT_READY, "event_elapsed_ms: an event is not complete");
      }
      check(error, "event_elapsed_ms");
    }
    check(gpuEventElapsedTime(out_ms, a.event, b.event), "event_elapsed_ms");
  });
}

// ---- Graphs ------------------------------------------------------------------------------------

plinth_status_t api_graph_begin_capture(plinth_stream_t stream) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    use_device(*s.device, "graph_begin_capture");
    if (capturing(s)) sdk::fail(PLINTH_ERROR_INVALID_STATE, "graph_begin_capture: the stream is already capturing");
    // Relaxed: other threads may keep allocating and synchronizing their own streams meanwhile.
    check(gpuStreamBeginCaptureRelaxed(s.stream), "graph_begin_capture");
  });
}

plinth_status_t api_graph_end_capture(plinth_stream_t stream, plinth_graph_t* out_graph) {
  return sdk::guard([&] {
    PluginState& st = state();
    Stream& s = st.streams.get(stream);
    sdk::require(out_graph != nullptr, "graph_end_capture: out_graph is NULL");
    use_device(*s.device, "graph_end_capture");
    if (!capturing(s)) sdk::fail(PLINTH_ERROR_INVALID_STATE, "graph_end_capture: the stream is not capturing");
    auto graph = std::make_unique<Graph>();
    graph->device = s.device;
    check(gpuStreamEndCapture(s.stream, &graph->graph), "graph_end_capture");
    if (graph->graph == nullptr) sdk::fail(PLINTH_ERROR_INVALID_STATE, "graph_end_capture: capture produced no graph");
    check(gpuGraphInstantiate(&graph->exec, graph->graph), "graph_end_capture (instantiate)");
    check(gpuEventCreateWithFlags(&graph->last_launch, gpuEventDisableTiming), "graph_end_capture (event)");
    *out_graph = st.graphs.insert(std::move(graph));
  });
}

plinth_status_t api_graph_launch(plinth_graph_t graph, plinth_stream_t stream) {
  return sdk::guard([&] {
    PluginState& st = state();
    Graph& g = st.graphs.get(graph);
    Stream& s = st.streams.get(stream);
    sdk::require(g.device == s.device, "graph_launch: graph and stream are on different devices");
    use_device(*s.device, "graph_launch");
    check(gpuGraphLaunch(g.exec, s.stream), "graph_launch");
    check(gpuEventRecord(g.last_launch, s.stream), "graph_launch (event)");
  });
}

plinth_status_t api_graph_destroy(plinth_graph_t graph) {
  return sdk::guard([&] { state().graphs.erase(graph); });
}

// ---- Ops ---------------------------------------------------------------------------------------

plinth_status_t api_op_supports(plinth_device_t device, const plinth_op_call_t* call, uint32_t* out_supported) {
  return sdk::guard([&] {
    const Device& d = state().devices.get(device);
    sdk::require(out_supported != nullptr, "op_supports: out_supported is NULL");
    *out_supported = 0;
    sdk::OpCall parsed;
    try {
      parsed = sdk::parse_op_call(call, {});
    } catch (const sdk::Error& e) {
      if (e.status() != PLINTH_ERROR_UNSUPPORTED) throw;
      sdk::set_last_error(PLINTH_ERROR_UNSUPPORTED, e.what());
      return;
    }
    const std::string reason = unsupported_reason(d, parsed);
    if (!reason.empty()) {
      sdk::set_last_error(PLINTH_ERROR_UNSUPPORTED, reason);
      return;
    }
    *out_supported = 1;
  });
}

plinth_status_t api_op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  return sdk::guard([&] {
    PluginState& st = state();
    Stream& s = st.streams.get(stream);
    const sdk::OpCall parsed = sdk::parse_op_call(call, [&](plinth_buffer_t handle) -> uint64_t {
      const Buffer& b = st.buffers.get(handle);
      sdk::require(b.device == s.device, "op_launch: a tensor's buffer is on another device");
      return b.size;
    });
    for (int i = 0; i < parsed.num_inputs; ++i) {
      sdk::require(!parsed.has_input[i] || parsed.inputs[i].buffer != nullptr, "op_launch: a tensor has a NULL buffer");
    }
    for (int i = 0; i < parsed.num_outputs; ++i) {
      sdk::require(parsed.outputs[i].buffer != nullptr, "op_launch: a tensor has a NULL buffer");
    }
    const std::string reason = unsupported_reason(*s.device, parsed);
    if (!reason.empty()) sdk::fail(PLINTH_ERROR_UNSUPPORTED, std::string(sdk::op_name(parsed.op)) + ": " + reason);
    s.device->loss.before_launch();  // counts valid launches only
    use_device(*s.device, "op_launch");
    launch_op(s, parsed, [&](plinth_buffer_t handle) { return st.buffers.get(handle).data; });
  });
}

// ---- Lifetime ----------------------------------------------------------------------------------

plinth_status_t api_shutdown() {
  return sdk::guard([&] {
    auto& slot = state_slot();
    if (!slot) return;
    // Reclaim in dependency order; devices last since every other object points at one.
    slot->graphs.erase_if([](const Graph&) { return true; });
    slot->events.erase_if([](const Event&) { return true; });
    slot->streams.erase_if([](const Stream&) { return true; });
    slot->buffers.erase_if([](const Buffer&) { return true; });
    slot->devices.erase_if([](const Device&) { return true; });
    slot.reset();
  });
}

const char* api_last_error_message() { return sdk::last_error_message(); }
int64_t api_last_error_vendor_code() { return sdk::last_error_vendor_code(); }

plinth_plugin_api_t make_api() {
  plinth_plugin_api_t api{};
  api.struct_size = sizeof(plinth_plugin_api_t);
  api.abi_major = PLINTH_ABI_VERSION_MAJOR;
  api.abi_minor = PLINTH_ABI_VERSION_MINOR;
  api.name = PLINTH_GPU_PLUGIN_NAME;
  api.version = PLINTH_GPU_PLUGIN_VERSION;
  api.last_error_message = api_last_error_message;
  api.last_error_vendor_code = api_last_error_vendor_code;
  api.shutdown = api_shutdown;
  api.probe = api_probe;
  api.device_open = api_device_open;
  api.device_close = api_device_close;
  api.device_get_properties = api_device_get_properties;
  api.device_memory_info = api_device_memory_info;
  api.buffer_alloc = api_buffer_alloc;
  api.buffer_free = api_buffer_free;
  api.buffer_map = api_buffer_map;
  api.buffer_unmap = api_buffer_unmap;
  api.stream_create = api_stream_create;
  api.stream_destroy = api_stream_destroy;
  api.stream_synchronize = api_stream_synchronize;
  api.copy_host_to_buffer = api_copy_host_to_buffer;
  api.copy_buffer_to_host = api_copy_buffer_to_host;
  api.copy_buffer = api_copy_buffer;
  api.event_create = api_event_create;
  api.event_destroy = api_event_destroy;
  api.event_record = api_event_record;
  api.stream_wait_event = api_stream_wait_event;
  api.event_synchronize = api_event_synchronize;
  api.event_query = api_event_query;
  api.event_elapsed_ms = api_event_elapsed_ms;
  api.graph_begin_capture = api_graph_begin_capture;
  api.graph_end_capture = api_graph_end_capture;
  api.graph_launch = api_graph_launch;
  api.graph_destroy = api_graph_destroy;
  api.op_supports = api_op_supports;
  api.op_launch = api_op_launch;
  return api;
}

const plinth_plugin_api_t kApi = make_api();

}  // namespace
}  // namespace plinth::gpu

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  using namespace plinth;
  if (out_api == nullptr) {
    sdk::set_last_error(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: out_api is NULL");
    return PLINTH_ERROR_INVALID_ARGUMENT;
  }
  *out_api = &gpu::kApi;
  const plinth_status_t status = sdk::check_host(host);
  if (status != PLINTH_OK) return status;
  return sdk::guard([&] {
    auto& slot = gpu::state_slot();
    if (!slot) slot = std::make_unique<gpu::PluginState>();
    slot->log.set(host);
  });
}
