// The plugin entry point of the GPU backends, one source for CUDA and HIP (gpu_port.hpp, with the
// PLINTH_GPU_* definitions of backends/cuda or backends/rocm): the device's hooks for the SDK adapter
// (plinth/sdk/plugin.hpp), which builds the function table and does the handle, argument, range,
// same-device, map, record-state and device-loss checks. What is left is the runtime calls, whose
// errors check() throws with the runtime's error string and code. Ops run in gpu_ops.cpp.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpu_discovery.hpp"
#include "gpu_error.hpp"
#include "gpu_kernels.hpp"
#include "gpu_objects.hpp"
#include "gpu_ops.hpp"
#include "plinth/sdk/device_loss.hpp"
#include "plinth/sdk/plugin.hpp"

namespace plinth::gpu {
namespace {

#if defined(PLINTH_GPU_CUDA)
// Freed stream-ordered scratch the device's memory pool keeps mapped across synchronizations.
constexpr uint64_t kPoolKeepBytes = 256ull << 20;
#endif
constexpr uint32_t kMinAlignment = 256;  // what the runtime allocators guarantee

[[maybe_unused]] bool env_is(const char* name, std::string_view value) {
  const char* env = std::getenv(name);
  return env != nullptr && env == value;
}

// What the kernels found wrong in the data, from the bits they raised in the stream's error word.
std::string device_error_message(int32_t bits) {
  std::string message;
  const auto add = [&](const char* part) { message += (message.empty() ? "" : "; ") + std::string(part); };
  if ((bits & kErrorGetRowsIndex) != 0) {
    add("get_rows: an index was outside [0, rows) "
        "(detected on the device; those rows were written as zeros)");
  }
  if ((bits & kErrorSetRowsIndex) != 0) {
    add("set_rows: an index was outside [0, rows) of dst "
        "(detected on the device; those source rows were not written)");
  }
  if ((bits & kErrorAttentionKvLens) != 0) {
    add("attention: a kv_lens value outside [0, Skv] (detected on the device; o is undefined)");
  }
  if ((bits & kErrorPagedAttention) != 0) {
    add("paged_attention: a block id outside [0, NB), a context length below its query count or above "
        "MB * BS, or query_start not running from 0 to T without decreasing "
        "(detected on the device; o is undefined)");
  }
  return message;
}

bool capturing(const Stream& s) {
  gpuStreamCaptureStatus status = gpuStreamCaptureStatusNone;
  check(gpuStreamIsCapturing(s.stream, &status), "stream capture status");
  return status != gpuStreamCaptureStatusNone;
}

// One opened device and its hooks; two opens of one ordinal are two of these, which the adapter keeps
// apart. Runtime calls act on the calling thread's current device, so every hook that calls the
// runtime makes this one current first (the adapter has already checked the device is not lost).
class GpuDevice : public Device {
 public:
  explicit GpuDevice(std::optional<uint64_t> lose_after) : loss_(lose_after) {}

  sdk::DeviceLoss& loss() { return loss_; }
  void current() const { check(gpuSetDevice(ordinal), "set device"); }

  void properties(plinth_device_properties_t& p) const {
    p.device_type =
        prop.integrated != 0 ? PLINTH_DEVICE_TYPE_INTEGRATED_GPU : PLINTH_DEVICE_TYPE_DISCRETE_GPU;
    sdk::copy_string(p.name, prop.name);
    sdk::copy_string(p.vendor, kGpuVendor);
    sdk::copy_string(p.arch, arch);
    sdk::copy_string(p.driver_version, driver);
    p.total_memory = p.max_allocation = p.max_op_range = prop.totalGlobalMem;
    p.features = PLINTH_FEATURE_F16 | PLINTH_FEATURE_BF16 | PLINTH_FEATURE_INT8 | PLINTH_FEATURE_SUBGROUPS |
                 PLINTH_FEATURE_GRAPHS | PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_TIMESTAMPS;
    if (prop.managedMemory != 0) p.features |= PLINTH_FEATURE_SHARED_MEMORY;
    p.compute_units = static_cast<uint32_t>(prop.multiProcessorCount);
    p.min_alignment = kMinAlignment;
    p.subgroup_size = static_cast<uint32_t>(prop.warpSize);
    p.vendor_id = kGpuVendorId;
  }

  sdk::MemoryInfo memory_info() const {
    current();
    size_t free_bytes = 0, total_bytes = 0;
    check(gpuMemGetInfo(&free_bytes, &total_bytes), "device_memory_info");
    return {free_bytes, total_bytes};
  }

  std::unique_ptr<Buffer> alloc(const plinth_buffer_desc_t& in) {
    if (in.memory_kind == PLINTH_MEMORY_SHARED && prop.managedMemory == 0) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "this device has no managed (shared) memory");
    }
    if (in.size > prop.totalGlobalMem) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, std::to_string(in.size) + " bytes exceed max_allocation " +
                                               std::to_string(prop.totalGlobalMem));
    }
    // The runtime gives kMinAlignment; a larger alignment over-allocates and rounds the address up.
    const uint64_t align = in.alignment > kMinAlignment ? in.alignment : 0;
    if (align > UINT64_MAX - in.size) sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "size + alignment overflows");
    const size_t bytes = static_cast<size_t>(in.size + align);
    current();
    auto buffer = std::make_unique<Buffer>();
    buffer->device = this;
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
    return buffer;
  }
  // Pinned and managed memory are host-visible as they are, so mapping is pointer arithmetic and
  // unmapping (the adapter's state alone) has no hook.
  void* map(Buffer& b, uint64_t offset, uint64_t) {
    if (b.kind == PLINTH_MEMORY_DEVICE)
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "device memory is not host-visible");
    return b.data + offset;
  }

  std::unique_ptr<Stream> create_stream() {
    current();
    auto stream = std::make_unique<Stream>();  // frees what was made if a later step throws
    stream->device = this;
    check(gpuStreamCreateNonBlocking(&stream->stream), "stream_create");
    void* flag = nullptr;
    check(gpuHostAllocMapped(&flag, sizeof(int32_t)), "stream_create (error word)");
    stream->error_flag_host = static_cast<int32_t*>(flag);
    *stream->error_flag_host = 0;
    void* device_flag = nullptr;
    check(gpuHostGetDevicePointer(&device_flag, flag, 0), "stream_create (error word address)");
    stream->error_flag = static_cast<int32_t*>(device_flag);
    return stream;
  }
  std::unique_ptr<Event> create_event(bool timing) {
    current();
    auto event = std::make_unique<Event>();
    event->device = this;
    check(gpuEventCreateWithFlags(&event->event, timing ? gpuEventDefault : gpuEventDisableTiming),
          "event_create");
    return event;
  }

  // Copies are enqueued; the adapter has checked ranges and overlap and skips empty ones.
  void copy_to_buffer(Stream& s, const void* src, Buffer& dst, uint64_t offset, uint64_t size) {
    current();
    check(gpuMemcpyAsync(dst.data + offset, src, size, gpuMemcpyDefault, s.stream), "copy_host_to_buffer");
  }
  void copy_to_host(Stream& s, Buffer& src, uint64_t offset, void* dst, uint64_t size) {
    current();
    check(gpuMemcpyAsync(dst, src.data + offset, size, gpuMemcpyDefault, s.stream), "copy_buffer_to_host");
  }
  void copy_buffer(Stream& s, Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset,
                   uint64_t size) {
    current();
    check(gpuMemcpyAsync(dst.data + dst_offset, src.data + src_offset, size, gpuMemcpyDefault, s.stream),
          "copy_buffer");
  }

  void synchronize(Stream& s) {
    current();
    if (capturing(s)) sdk::fail(PLINTH_ERROR_INVALID_STATE, "the stream is being captured");
    check(gpuStreamSynchronize(s.stream), "stream_synchronize");
    if (const int32_t bits = reinterpret_cast<std::atomic<int32_t>*>(s.error_flag_host)->exchange(0);
        bits != 0) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, device_error_message(bits));
    }
  }

  // The event hooks run for recorded events only (the adapter answers for the others).
  void record(Event& e, Stream& s) {
    current();
    check(gpuEventRecord(e.event, s.stream), "event_record");
  }
  void wait(Stream& s, Event& e) {
    current();
    check(gpuStreamWaitEvent(s.stream, e.event), "stream_wait_event");
  }
  void synchronize(Event& e) {
    current();
    check(gpuEventSynchronize(e.event), "event_synchronize");
  }
  bool query(Event& e) {
    current();
    return complete(e.event, "event_query");
  }
  float elapsed_ms(Event& start, Event& end) {
    current();
    for (const Event* e : {&start, &end}) {
      if (!complete(e->event, "event_elapsed_ms"))
        sdk::fail(PLINTH_ERROR_NOT_READY, "an event is not complete");
    }
    float ms = 0.0f;
    check(gpuEventElapsedTime(&ms, start.event, end.event), "event_elapsed_ms");
    return ms;
  }

  // Graphs are the runtime's stream capture, instantiated at the end of it.
  void begin_capture(Stream& s) {
    current();
    if (capturing(s)) sdk::fail(PLINTH_ERROR_INVALID_STATE, "the stream is already capturing");
    // Relaxed: other threads may keep allocating and synchronizing their own streams meanwhile.
    check(gpuStreamBeginCaptureRelaxed(s.stream), "graph_begin_capture");
  }
  std::unique_ptr<Graph> end_capture(Stream& s) {
    current();
    if (!capturing(s)) sdk::fail(PLINTH_ERROR_INVALID_STATE, "the stream is not capturing");
    auto graph = std::make_unique<Graph>();
    graph->device = this;
    check(gpuStreamEndCapture(s.stream, &graph->graph), "graph_end_capture");
    if (graph->graph == nullptr) sdk::fail(PLINTH_ERROR_INVALID_STATE, "capture produced no graph");
    check(gpuGraphInstantiate(&graph->exec, graph->graph), "graph_end_capture (instantiate)");
    check(gpuEventCreateWithFlags(&graph->last_launch, gpuEventDisableTiming), "graph_end_capture (event)");
    return graph;
  }
  void launch_graph(Graph& g, Stream& s) {
    current();
    check(gpuGraphLaunch(g.exec, s.stream), "graph_launch");
    check(gpuEventRecord(g.last_launch, s.stream), "graph_launch (event)");
  }

  std::string supports(const sdk::OpCall& call) const { return unsupported_reason(*this, call); }
  void launch(Stream& s, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
    current();
    launch_op(s, call, buffers);
  }

 private:
  // Whether the event's work has finished; any error but "not ready" is thrown.
  static bool complete(gpuEvent_t event, const char* what) {
    const gpuError_t error = gpuEventQuery(event);
    if (error == gpuErrorNotReady) {
      (void)gpuGetLastError();
      return false;
    }
    check(error, what);
    return true;
  }

  // Set by the PLINTH_PLUGIN_FAULT=device_lost:N test hook only: a real loss is a sticky runtime
  // error, which fails every later runtime call by itself.
  sdk::DeviceLoss loss_;
};

struct GpuPlugin {
  static constexpr const char* kName = PLINTH_GPU_PLUGIN_NAME;
  static constexpr const char* kVersion = PLINTH_GPU_PLUGIN_VERSION;
  using Device = GpuDevice;

  explicit GpuPlugin(const sdk::HostLog& host_log) : log(host_log) {}

  // One entry per runtime device, or one plugin-wide reason without a driver or a device.
  std::vector<sdk::ProbeInfo> probe() const {
    int count = 0;
    const gpuError_t error = gpuGetDeviceCount(&count);
    (void)gpuGetLastError();
    if (error != gpuSuccess || count <= 0) {
      return {{UINT32_MAX, "", plugin_wide_reason(error == gpuSuccess ? gpuErrorNoDevice : error)}};
    }
    std::vector<sdk::ProbeInfo> found;
    for (int i = 0; i < count; ++i) {
      gpuDeviceProp prop{};
      const gpuError_t perr = gpuGetDeviceProperties(&prop, i);
      if (perr != gpuSuccess) {
        (void)gpuGetLastError();
        found.push_back({static_cast<uint32_t>(i), "", "cannot read device properties: " + describe(perr)});
      } else {
        found.push_back({static_cast<uint32_t>(i), prop.name, arch_problem(prop)});
      }
    }
    return found;
  }

  std::unique_ptr<GpuDevice> open(uint32_t index) {
    auto device = std::make_unique<GpuDevice>(sdk::DeviceLoss::hook_from_environment());
    device->ordinal = static_cast<int>(index);
    check(gpuGetDeviceProperties(&device->prop, device->ordinal), "device_open: get properties");
    device->arch = arch_of(device->prop);
    int driver = 0, runtime = 0;
    (void)gpuDriverGetVersion(&driver);
    (void)gpuRuntimeGetVersion(&runtime);
    device->driver = "driver " + version_string(driver) + ", runtime " + version_string(runtime);
#if defined(PLINTH_GPU_CUDA)
    // The tiled kernel can be selected instead of cuBLAS so that it stays tested on CUDA.
    if (env_is("PLINTH_CUDA_MATMUL", "tiled")) device->matmul = MatmulPath::kTiled;
    // The exact f32-activation decode kernel stays selectable for comparison and tests.
    if (env_is("PLINTH_CUDA_DECODE", "f32")) device->quant_decode = QuantDecodePath::kF32;
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
      check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep),
            "device_open: memory pool");
    }
#endif
    log(PLINTH_LOG_INFO, std::string(PLINTH_GPU_PLUGIN_NAME) + ": opened device " + std::to_string(index) +
                             " (" + device->prop.name + ", " + device->arch + ", " + device->driver + ")" +
                             (device->matmul == MatmulPath::kTiled ? ", tiled matmul" : "") +
                             (device->quant_decode == QuantDecodePath::kF32 ? ", f32 decode" : ""));
    return device;
  }

  const sdk::HostLog& log;
};

}  // namespace
}  // namespace plinth::gpu

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::sdk::plugin_init<plinth::gpu::GpuPlugin>(host, out_api);
}
