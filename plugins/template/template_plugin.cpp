// The Plinth template backend: a complete core-level plugin whose "device" is ordinary host memory.
//
// Copy this file to start a backend. It has every part a real device needs in its simplest honest
// form: probe, properties, buffers of all three memory kinds, in-order streams, events with timing,
// copies, a few ops (COPY, FILL, ADD, SCALE on f32) and a vendor extension op (template_extensions.h).
// The SDK adapter (plinth/sdk/plugin.hpp) builds the ABI table around these hooks and does every
// argument, range, same-device and lifetime check; what is left here is what a vendor replaces with
// driver calls. Work runs synchronously at submission under the stream's lock, so every recorded
// event is complete at once; a real device enqueues and tracks completion (docs/plugin-guide.md).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/host_tensor.hpp"  // elementwise loops over host memory
#include "plinth/sdk/plugin.hpp"       // the adapter, with abi.h, op_call.hpp, status.hpp and structs.hpp
#include "template_extensions.h"

namespace {

namespace sdk = plinth::sdk;
using Clock = std::chrono::steady_clock;

// What the pretend device reports. Each probe index has a memory budget shared by every open of it
// (enforced, so out-of-memory paths can be tested); the bytes are allocated lazily by the host.
constexpr const char* kDeviceName = "template host device";
constexpr uint64_t kTotalMemory = uint64_t{1} << 30;
constexpr uint64_t kMaxAllocation = uint64_t{1} << 28;
constexpr uint32_t kMinAlignment = 64;

struct AlignedDelete {
  std::size_t alignment;
  void operator()(std::byte* p) const noexcept { ::operator delete (p, std::align_val_t{alignment}); }
};

// Bytes held against one device's budget until destroyed, also when a later step of an allocation
// throws. Reserving before allocating keeps concurrent allocations from overshooting the budget.
struct Reservation {
  Reservation(std::atomic<uint64_t>& counter, uint64_t n) : used(counter), bytes(n) {
    if (used.fetch_add(n) + n > kTotalMemory) {
      used.fetch_sub(n);
      sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY, std::to_string(n) + " bytes exceed the free device memory");
    }
  }
  Reservation(const Reservation&) = delete;
  ~Reservation() { used.fetch_sub(bytes); }
  std::atomic<uint64_t>& used;  // the device's counter; the adapter frees buffers before devices
  const uint64_t bytes;
};

struct Buffer {
  Buffer(std::atomic<uint64_t>& used, uint64_t size, std::size_t alignment)
      : reservation(used, size),
        bytes(static_cast<std::byte*>(::operator new (size, std::align_val_t{alignment})), {alignment}) {}
  Reservation reservation;  // first: given back only after the bytes are freed
  std::unique_ptr<std::byte, AlignedDelete> bytes;
};

struct Stream {
  std::mutex order;  // held while work runs: work submitted from many threads runs one at a time
};

struct Event {
  std::atomic<Clock::rep> recorded{0};  // ticks of the last record; read only once one was made
};

// One opened device: two opens of index 0 are two Device objects sharing the index's budget.
class Device {
 public:
  explicit Device(std::atomic<uint64_t>& used) : used_(used) {}
  void properties(plinth_device_properties_t& out) const {
    out.device_type = PLINTH_DEVICE_TYPE_VIRTUAL;
    sdk::copy_string(out.name, kDeviceName);
    sdk::copy_string(out.vendor, "Plinth template");
    sdk::copy_string(out.arch, "host");
    out.total_memory = kTotalMemory;
    out.max_allocation = kMaxAllocation;
    out.max_op_range = kMaxAllocation;
    // Host memory is reachable from the host in every kind, so everything is mappable.
    out.features = PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_SHARED_MEMORY | PLINTH_FEATURE_TIMESTAMPS |
                   PLINTH_FEATURE_UNIFIED_MEMORY;
    out.compute_units = 1;
    out.min_alignment = kMinAlignment;
    out.subgroup_size = 1;
  }

  sdk::MemoryInfo memory_info() const {
    return {kTotalMemory - std::min(used_.load(), kTotalMemory), kTotalMemory};
  }
  std::unique_ptr<Buffer> alloc(const plinth_buffer_desc_t& desc) {
    if (desc.size > kMaxAllocation)
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, std::to_string(desc.size) + " bytes exceed max_allocation");
    // A failing host allocation throws std::bad_alloc, which the adapter reports as OUT_OF_MEMORY.
    return std::make_unique<Buffer>(used_, desc.size, std::max<std::size_t>(desc.alignment, kMinAlignment));
  }
  void* map(Buffer& b, uint64_t offset, uint64_t) { return b.bytes.get() + offset; }

  std::unique_ptr<Stream> create_stream() { return std::make_unique<Stream>(); }
  std::unique_ptr<Event> create_event(bool) { return std::make_unique<Event>(); }

  // Copies run at once under the stream's lock. A real device enqueues them and returns.
  void copy_to_buffer(Stream& s, const void* src, Buffer& dst, uint64_t offset, uint64_t size) {
    std::lock_guard lock(s.order);
    std::memcpy(dst.bytes.get() + offset, src, size);
  }
  void copy_to_host(Stream& s, Buffer& src, uint64_t offset, void* dst, uint64_t size) {
    std::lock_guard lock(s.order);
    std::memcpy(dst, src.bytes.get() + offset, size);
  }
  void copy_buffer(Stream& s, Buffer& src, uint64_t src_off, Buffer& dst, uint64_t dst_off, uint64_t size) {
    std::lock_guard lock(s.order);
    std::memcpy(dst.bytes.get() + dst_off, src.bytes.get() + src_off, size);
  }

  // Work ran when it was submitted and its errors were returned then, so waits have nothing to do.
  // A real device waits here (and returns a stream's first asynchronous error).
  void synchronize(Stream&) {}
  void synchronize(Event&) {}
  void wait(Stream&, Event&) {}
  bool query(Event&) { return true; }

  void record(Event& e, Stream& s) {
    // Taking the stream's lock places the timestamp after all work submitted before this call.
    std::lock_guard order(s.order);
    e.recorded = Clock::now().time_since_epoch().count();
  }
  float elapsed_ms(Event& start, Event& end) {
    return std::chrono::duration<float, std::milli>(Clock::duration(end.recorded - start.recorded)).count();
  }

  // Extension ops get ids from PLINTH_OP_EXTENSION_FIRST in this order; supports() checks their rules.
  static constexpr sdk::ExtensionSpec kExtensions[] = {
      {TEMPLATE_SCALED_ADD_NAME, TEMPLATE_SCALED_ADD_VERSION, sizeof(template_scaled_add_params_t), 2, 2, 1,
       "y = a + alpha * b in one pass (f32, one shape)"},
  };
  std::span<const sdk::ExtensionSpec> extensions() const { return kExtensions; }

  // Why this device does not run a valid call ("" if it does); the adapter asks it for op_supports
  // and before op_launch, so the two always agree. A malformed extension call is an error.
  std::string supports(const sdk::OpCall& call) const {
    if (call.extension) {  // template.scaled_add
      if (call.extension_params.empty() ||
          sdk::padded_dims(call.inputs[0]) != sdk::padded_dims(call.outputs[0]) ||
          sdk::padded_dims(call.inputs[1]) != sdk::padded_dims(call.outputs[0]))
        sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "scaled_add needs params, and a, b and y of one shape");
    } else if (call.op != PLINTH_OP_COPY && call.op != PLINTH_OP_FILL && call.op != PLINTH_OP_ADD &&
               call.op != PLINTH_OP_SCALE) {
      return std::string("the template implements only copy, fill, add and scale; ") + sdk::op_name(call.op) +
             " is left to a real backend";
    }
    for (int i = -1; i < call.num_inputs; ++i) {  // -1: the output
      if (const sdk::TensorView* t = i < 0 ? &call.outputs[0] : call.input(i);
          t && t->dtype != PLINTH_DTYPE_F32) {
        return std::string(call.extension ? call.extension->name : sdk::op_name(call.op)) +
               " is implemented for f32 only, not " + sdk::dtype_name(t->dtype);
      }
    }
    return {};
  }

  // The kernels. Elementwise in one pass, so y aliasing an input exactly (allowed for add and scale)
  // reads each element before writing it.
  void launch(Stream& s, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
    std::lock_guard lock(s.order);
    const sdk::HostTensor y = sdk::host_tensor(call.outputs[0], buffers.outputs[0]->bytes.get());
    const sdk::HostIndex dims = sdk::padded_dims(call.outputs[0]);
    auto in = [&](int i) { return sdk::host_tensor(call.inputs[i], buffers.inputs[i]->bytes.get()); };
    switch (call.op) {
      case PLINTH_OP_COPY:
        sdk::for_each_index(dims, [&, x = in(0)](const sdk::HostIndex& i) { y.store(i, x.load(i)); });
        break;
      case PLINTH_OP_FILL:
        sdk::for_each_index(dims, [&, v = static_cast<float>(call.params.fill.value)](
                                      const sdk::HostIndex& i) { y.store(i, v); });
        break;
      case PLINTH_OP_ADD:
      case PLINTH_OP_EXTENSION_FIRST: {  // template.scaled_add; add is the same with alpha 1
        const float alpha =
            call.extension ? call.extension_params_as<template_scaled_add_params_t>().alpha : 1;
        sdk::for_each_index(dims, [&, a = in(0), b = in(1)](const sdk::HostIndex& i) {
          y.store(i, a.load(i) + alpha * b.load(i));
        });
        break;
      }
      case PLINTH_OP_SCALE: {
        const plinth_scale_params_t p = call.params.scale;
        sdk::for_each_index(
            dims, [&, x = in(0)](const sdk::HostIndex& i) { y.store(i, x.load(i) * p.scale + p.bias); });
        break;
      }
      default: sdk::fail(PLINTH_ERROR_INTERNAL, "op was not screened by supports()");
    }
  }

 private:
  std::atomic<uint64_t>& used_;  // bytes of the hardware's live buffers, over every open of it
};

// The plugin-wide part: discovery and opening. The adapter keeps one per initialization.
struct TemplatePlugin {
  static constexpr const char* kName = "template";
  static constexpr const char* kVersion = "0.1.0";
  using Device = ::Device;  // the adapter takes Buffer, Stream and Event from its hooks
  std::vector<sdk::ProbeInfo> probe() const { return {{0, kDeviceName, ""}}; }  // or {i, name, why not}
  std::unique_ptr<Device> open(uint32_t index) { return std::make_unique<Device>(used_[index]); }
  // One budget per probe index (the hardware's memory), not per plugin; outlives every buffer.
  std::array<std::atomic<uint64_t>, 1> used_{};
};

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return sdk::plugin_init<TemplatePlugin>(host, out_api);
}
