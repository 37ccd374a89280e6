// The plugin entry point: the CPU device's hooks for the SDK adapter (plinth/sdk/plugin.hpp), which
// builds the function table and does the handle, argument, range and same-device checks. Ops are
// parsed by the SDK and run by op_dispatch.cpp.
#include "plinth/sdk/plugin.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "buffer.hpp"
#include "cpu_info.hpp"
#include "device.hpp"
#include "event.hpp"
#include "ops.hpp"
#include "stream.hpp"

#ifndef PLINTH_VERSION_STRING
#define PLINTH_VERSION_STRING "0.1.0"
#endif

namespace plinth::cpu {
namespace {

// Destroying a stream waits for a launch in flight on another thread, so its buffers outlive it.
struct Stream : CpuStream {
  using CpuStream::CpuStream;
  Stream(const Stream&) = delete;
  ~Stream() { std::lock_guard lock(mutex); }
};

// One opened device. Work runs at submission on the calling thread, under the stream's mutex, so
// waits have nothing left to wait for and every recorded event is complete at once.
class Device {
 public:
  Device(std::atomic<uint64_t>& allocated, std::optional<uint64_t> lose_after)
      : cpu_(lose_after), allocated_(allocated) {}

  sdk::DeviceLoss& loss() { return cpu_.loss(); }
  const CpuDevice& cpu() const { return cpu_; }
  void properties(plinth_device_properties_t& p) const { cpu_.fill_properties(p); }
  sdk::MemoryInfo memory_info() const {
    return {available_memory(), cpu_.info().physical_memory};  // the adapter caps free at total
  }

  std::unique_ptr<CpuBuffer> alloc(const plinth_buffer_desc_t& r) {
    const uint64_t limit = cpu_.max_allocation();
    if (r.size > limit) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, std::to_string(r.size) + " bytes exceeds max_allocation (" +
                                               std::to_string(limit) + " bytes of physical memory)");
    }
    const uint64_t align = std::max<uint64_t>(r.alignment, kMinAlignment);
    if (align > (uint64_t{1} << 30)) sdk::fail(PLINTH_ERROR_UNSUPPORTED, "alignment above 1 GiB");
    uint64_t held = allocated_.load();
    do {
      if (r.size > limit - std::min(held, limit)) {
        sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY, std::to_string(r.size) +
                                                  " more bytes would exceed physical memory (" +
                                                  std::to_string(held) + " bytes already allocated)");
      }
    } while (!allocated_.compare_exchange_weak(held, held + r.size));
    auto b = std::make_unique<CpuBuffer>();
    b->size = r.size;
    b->accounting = &allocated_;  // from here on, b's destructor gives the bytes back
    // aligned_alloc wants a size that is a multiple of the alignment.
    const uint64_t rounded = (r.size + align - 1) / align * align;
    b->memory.reset(std::aligned_alloc(static_cast<size_t>(align), static_cast<size_t>(rounded)));
    if (!b->memory)
      sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY, "cannot allocate " + std::to_string(r.size) + " bytes");
    b->device = &cpu_;
    b->kind = r.memory_kind;
    return b;
  }
  void* map(CpuBuffer& b, uint64_t offset, uint64_t) { return b.data() + offset; }

  std::unique_ptr<Stream> create_stream() { return std::make_unique<Stream>(&cpu_, cpu_.engine()); }
  std::unique_ptr<CpuEvent> create_event(bool timing) {
    auto e = std::make_unique<CpuEvent>();
    e->device = &cpu_;
    e->flags = timing ? PLINTH_EVENT_FLAG_TIMING : 0;
    return e;
  }

  void copy_to_buffer(Stream& s, const void* src, CpuBuffer& dst, uint64_t offset, uint64_t size) {
    std::lock_guard lock(s.mutex);
    std::memcpy(dst.data() + offset, src, size);
  }
  void copy_to_host(Stream& s, CpuBuffer& src, uint64_t offset, void* dst, uint64_t size) {
    std::lock_guard lock(s.mutex);
    std::memcpy(dst, src.data() + offset, size);
  }
  void copy_buffer(Stream& s, CpuBuffer& src, uint64_t src_offset, CpuBuffer& dst, uint64_t dst_offset,
                   uint64_t size) {
    std::lock_guard lock(s.mutex);
    std::memcpy(dst.data() + dst_offset, src.data() + src_offset, size);
  }

  void synchronize(Stream& s) { std::lock_guard lock(s.mutex); }  // a launch in flight elsewhere
  void synchronize(CpuEvent&) {}
  bool query(CpuEvent&) { return true; }
  void wait(Stream&, CpuEvent&) {}
  void record(CpuEvent& e, Stream& s) {
    // Taking the stream's lock orders the record after any launch in flight on another thread.
    std::lock_guard stream_lock(s.mutex);
    std::lock_guard lock(e.mutex);
    e.recorded = true;
    e.when = std::chrono::steady_clock::now();
  }
  float elapsed_ms(CpuEvent& a, CpuEvent& b) {
    std::chrono::steady_clock::time_point ta, tb;
    {
      std::lock_guard lock(a.mutex);
      ta = a.when;
    }
    {
      std::lock_guard lock(b.mutex);
      tb = b.when;
    }
    return std::chrono::duration<float, std::milli>(tb - ta).count();
  }

  std::string supports(const sdk::OpCall& call) const { return unsupported_reason(cpu_, call); }
  void launch(Stream& s, const sdk::OpCall& call, const sdk::OpBuffers<CpuBuffer>& buffers) {
    OpContext ctx{cpu_, s, cpu_.kernels(), call, {}, {}, {}};
    for (int i = 0; i < call.num_inputs; ++i) {
      const auto k = static_cast<size_t>(i);
      if (const sdk::TensorView* v = call.input(i)) {
        ctx.in[k] = resolve(*v, buffers.inputs[k]->data());
        ctx.has_in[k] = true;
      }
    }
    for (size_t k = 0; k < static_cast<size_t>(call.num_outputs); ++k) {
      ctx.out[k] = resolve(call.outputs[k], buffers.outputs[k]->data());
    }
    std::lock_guard lock(s.mutex);
    run_op(ctx);
  }

 private:
  CpuDevice cpu_;
  std::atomic<uint64_t>& allocated_;
};

struct CpuPlugin {
  static constexpr const char* kName = "cpu";
  static constexpr const char* kVersion = PLINTH_VERSION_STRING;
  using Device = cpu::Device;

  explicit CpuPlugin(const sdk::HostLog& host_log) : log(host_log) {
    // The cap only lowers the kernel choice; a value it does not know must not pass unnoticed.
    if (const char* isa = std::getenv("PLINTH_CPU_ISA");
        isa != nullptr && *isa != '\0' && std::strcmp(isa, "avx2") != 0 && std::strcmp(isa, "generic") != 0) {
      log(PLINTH_LOG_WARN, std::string("PLINTH_CPU_ISA='") + isa +
                               "' is not one of avx2|generic; the widest supported kernels are used");
    }
    if (const char* n = std::getenv("PLINTH_CPU_DEVICES"); n != nullptr && *n != '\0') {
      char* end = nullptr;
      const unsigned long v = std::strtoul(n, &end, 10);
      if (*end != '\0' || v < 1 || v > kMaxDevices) {
        log(PLINTH_LOG_WARN, std::string("PLINTH_CPU_DEVICES='") + n + "' is not a count in [1, " +
                                 std::to_string(kMaxDevices) + "]; one device is offered");
      } else {
        device_count = static_cast<uint32_t>(v);
      }
    }
  }

  // One device, or PLINTH_CPU_DEVICES of them: identical views of the host (same memory, same cores),
  // so multi-device logic (replicas, failover, cross-device checks) can be exercised on any machine.
  std::vector<sdk::ProbeInfo> probe() const {
    std::vector<sdk::ProbeInfo> out;
    const std::string name = read_cpu_info().model_name;
    for (uint32_t i = 0; i < device_count; ++i) out.push_back({i, name, ""});
    return out;
  }

  std::unique_ptr<Device> open(uint32_t) {
    auto d = std::make_unique<Device>(allocated, sdk::DeviceLoss::hook_from_environment());
    log(PLINTH_LOG_DEBUG, "cpu: opened '" + d->cpu().info().model_name + "' with " + d->cpu().kernels().isa +
                              " kernels and " + std::to_string(d->cpu().threads()) + " threads");
    return d;
  }

  static constexpr unsigned long kMaxDevices = 64;
  const sdk::HostLog& log;
  uint32_t device_count = 1;
  // Bytes held by live buffers of every device handle. The kernel overcommits memory, so without
  // this count allocations far beyond physical memory would "succeed" and fail only when touched.
  // The adapter frees every buffer before this plugin state.
  std::atomic<uint64_t> allocated{0};
};

}  // namespace
}  // namespace plinth::cpu

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::sdk::plugin_init<plinth::cpu::CpuPlugin>(host, out_api);
}
