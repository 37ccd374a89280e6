// The plugin entry point and its function table: handle bookkeeping, memory, streams and events.
// Ops are parsed by the SDK and run by op_dispatch.cpp.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "buffer.hpp"
#include "cpu_info.hpp"
#include "device.hpp"
#include "event.hpp"
#include "ops.hpp"
#include "plinth/ops.h"
#include "plinth/sdk/handles.hpp"
#include "plinth/sdk/log.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/status.hpp"
#include "plinth/sdk/structs.hpp"
#include "stream.hpp"

#ifndef PLINTH_VERSION_STRING
#define PLINTH_VERSION_STRING "0.1.0"
#endif

namespace plinth::cpu {
namespace {

// The one plugin-state object: everything the plugin owns between init and shutdown.
struct PluginState {
  sdk::HostLog log;
  // Bytes held by live buffers of every device handle. The kernel overcommits memory, so without
  // this count allocations far beyond physical memory would "succeed" and fail only when touched.
  // Declared before the tables so it outlives the buffers that decrement it.
  std::atomic<uint64_t> allocated{0};
  sdk::HandleTable<plinth_device_t, CpuDevice> devices{"device"};
  sdk::HandleTable<plinth_buffer_t, CpuBuffer> buffers{"buffer"};
  sdk::HandleTable<plinth_stream_t, CpuStream> streams{"stream"};
  sdk::HandleTable<plinth_event_t, CpuEvent> events{"event"};
};

std::mutex g_state_mutex;
std::unique_ptr<PluginState> g_state;  // NOLINT: the single plugin-state object the ABI allows

PluginState& state() {
  PluginState* s = nullptr;
  {
    std::lock_guard lock(g_state_mutex);
    s = g_state.get();
  }
  if (s == nullptr)
    sdk::fail(PLINTH_ERROR_INVALID_STATE, "the cpu plugin is not initialized (or was shut down)");
  return *s;
}

void reclaim_device_objects(PluginState& s, const CpuDevice* device) {
  // Streams first: waiting on their mutex lets an in-flight launch finish before buffers go away.
  for (auto& stream : s.streams.erase_if([&](const CpuStream& x) { return x.device == device; })) {
    std::lock_guard lock(stream->mutex);
  }
  s.events.erase_if([&](const CpuEvent& x) { return x.device == device; });
  s.buffers.erase_if([&](const CpuBuffer& x) { return x.device == device; });
}

void check_range(const CpuBuffer& b, uint64_t offset, uint64_t size, const char* what) {
  if (offset > b.size || size > b.size - offset) {
    sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, std::string(what) + ": range [" + std::to_string(offset) + ", +" +
                                             std::to_string(size) + ") lies outside a buffer of " +
                                             std::to_string(b.size) + " bytes");
  }
}

// ---- Errors and lifetime -------------------------------------------------------------------------

const char* api_last_error_message() { return sdk::last_error_message(); }
int64_t api_last_error_vendor_code() { return sdk::last_error_vendor_code(); }

plinth_status_t api_shutdown() {
  return sdk::guard([] {
    std::unique_ptr<PluginState> old;
    {
      std::lock_guard lock(g_state_mutex);
      old = std::move(g_state);
    }
    if (old) {
      for (auto& d : old->devices.erase_if([](const CpuDevice&) { return true; }))
        reclaim_device_objects(*old, d.get());
    }
  });
}

plinth_status_t api_probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  return sdk::guard([&] {
    sdk::require(out_count != nullptr, "probe: out_count is NULL");
    sdk::require(entries != nullptr || capacity == 0, "probe: entries is NULL with capacity > 0");
    *out_count = 1;
    if (capacity == 0) return;
    plinth_probe_entry_t e{};
    e.struct_size = sizeof e;
    e.index = 0;
    e.usable = 1;
    sdk::copy_string(e.name, read_cpu_info().model_name);
    sdk::write_struct(&entries[0], e, PLINTH_STRUCT_SIZE_THROUGH(plinth_probe_entry_t, reason),
                      "probe entry");
  });
}

plinth_status_t api_device_open(uint32_t index, plinth_device_t* out_device) {
  return sdk::guard([&] {
    sdk::require(out_device != nullptr, "device_open: out_device is NULL");
    if (index != 0)
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "device_open: the cpu plugin has one device, index 0");
    auto& st = state();
    auto device = std::make_unique<CpuDevice>(sdk::DeviceLoss::hook_from_environment());
    st.log(PLINTH_LOG_DEBUG, "cpu: opened '" + device->info().model_name + "' with " + device->kernels().isa +
                                 " kernels and " + std::to_string(device->threads()) + " threads");
    *out_device = st.devices.insert(std::move(device));
  });
}

plinth_status_t api_device_close(plinth_device_t device) {
  return sdk::guard([&] {
    auto& s = state();
    auto d = s.devices.erase(device);
    reclaim_device_objects(s, d.get());
  });
}

plinth_status_t api_device_get_properties(plinth_device_t device, plinth_device_properties_t* props) {
  return sdk::guard([&] {
    const CpuDevice& d = state().devices.get(device);
    sdk::require(props != nullptr, "device_get_properties: props is NULL");
    plinth_device_properties_t p{};
    p.struct_size = sizeof p;
    d.fill_properties(p);
    sdk::write_struct(props, p, PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, reserved0),
                      "device properties");
  });
}

plinth_status_t api_device_memory_info(plinth_device_t device, uint64_t* out_free, uint64_t* out_total) {
  return sdk::guard([&] {
    const CpuDevice& d = state().devices.get(device);
    d.loss().check("device_memory_info");
    sdk::require(out_free != nullptr && out_total != nullptr, "device_memory_info: NULL output");
    *out_total = d.info().physical_memory;
    *out_free = std::min(available_memory(), *out_total);
  });
}

// ---- Buffers -------------------------------------------------------------------------------------

plinth_status_t api_buffer_alloc(plinth_device_t device, const plinth_buffer_desc_t* desc,
                                 plinth_buffer_t* out) {
  return sdk::guard([&] {
    const CpuDevice& d = state().devices.get(device);
    d.loss().check("buffer_alloc");
    sdk::require(out != nullptr, "buffer_alloc: out_buffer is NULL");
    plinth_buffer_desc_t defaults{};
    const auto r = sdk::read_struct(
        desc, defaults, PLINTH_STRUCT_SIZE_THROUGH(plinth_buffer_desc_t, alignment), "buffer_alloc desc");
    sdk::require(r.size > 0, "buffer_alloc: size must be > 0");
    sdk::require(r.alignment == 0 || (r.alignment & (r.alignment - 1)) == 0,
                 "buffer_alloc: alignment must be a power of two");
    if (r.memory_kind > PLINTH_MEMORY_SHARED) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED,
                "buffer_alloc: unknown memory kind " + std::to_string(r.memory_kind));
    }
    if (r.size > d.max_allocation()) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE,
                "buffer_alloc: " + std::to_string(r.size) + " bytes exceeds max_allocation (" +
                    std::to_string(d.max_allocation()) + " bytes of physical memory)");
    }
    auto& st = state();
    uint64_t held = st.allocated.load();
    do {
      if (r.size > d.max_allocation() - std::min(held, d.max_allocation())) {
        sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY, "buffer_alloc: " + std::to_string(r.size) +
                                                  " more bytes would exceed " + "physical memory (" +
                                                  std::to_string(held) + " bytes already allocated)");
      }
    } while (!st.allocated.compare_exchange_weak(held, held + r.size));
    auto b = std::make_unique<CpuBuffer>();
    b->size = r.size;
    b->accounting = &st.allocated;  // from here on, b's destructor gives the bytes back
    const uint64_t align = std::max<uint64_t>(r.alignment, kMinAlignment);
    if (align > (uint64_t{1} << 30))
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "buffer_alloc: alignment above 1 GiB");
    // aligned_alloc wants a size that is a multiple of the alignment.
    const uint64_t rounded = (r.size + align - 1) / align * align;
    void* p = std::aligned_alloc(static_cast<size_t>(align), static_cast<size_t>(rounded));
    if (p == nullptr) {
      sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY,
                "buffer_alloc: cannot allocate " + std::to_string(r.size) + " bytes");
    }
    b->device = &d;
    b->memory.reset(p);
    b->kind = r.memory_kind;
    *out = st.buffers.insert(std::move(b));
  });
}

plinth_status_t api_buffer_free(plinth_buffer_t buffer) {
  return sdk::guard([&] { state().buffers.erase(buffer); });
}

plinth_status_t api_buffer_map(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr) {
  return sdk::guard([&] {
    CpuBuffer& b = state().buffers.get(buffer);
    b.device->loss().check("buffer_map");
    sdk::require(out_ptr != nullptr, "buffer_map: out_ptr is NULL");
    check_range(b, offset, size, "buffer_map");
    bool expected = false;
    if (!b.mapped.compare_exchange_strong(expected, true)) {
      sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer_map: buffer is already mapped");
    }
    *out_ptr = b.data() + offset;
  });
}

plinth_status_t api_buffer_unmap(plinth_buffer_t buffer) {
  return sdk::guard([&] {
    CpuBuffer& b = state().buffers.get(buffer);
    bool expected = true;
    if (!b.mapped.compare_exchange_strong(expected, false)) {
      sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer_unmap: buffer is not mapped");
    }
  });
}

// ---- Streams -------------------------------------------------------------------------------------

plinth_status_t api_stream_create(plinth_device_t device, uint32_t flags, plinth_stream_t* out) {
  return sdk::guard([&] {
    const CpuDevice& d = state().devices.get(device);
    d.loss().check("stream_create");
    sdk::require(out != nullptr, "stream_create: out_stream is NULL");
    sdk::require(flags == 0, "stream_create: flags must be 0 in ABI v1");
    *out = state().streams.insert(std::make_unique<CpuStream>(&d, d.engine()));
  });
}

plinth_status_t api_stream_destroy(plinth_stream_t stream) {
  return sdk::guard([&] {
    auto s = state().streams.erase(stream);
    std::lock_guard lock(s->mutex);  // let a launch in flight on another thread finish
  });
}

plinth_status_t api_stream_synchronize(plinth_stream_t stream) {
  return sdk::guard([&] {
    CpuStream& s = state().streams.get(stream);
    s.device->loss().check("stream_synchronize");
    std::lock_guard lock(s.mutex);
  });
}

void check_same_device(const CpuStream& s, const CpuBuffer& b, const char* what) {
  if (s.device != b.device)
    sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + ": buffer belongs to another device");
}

plinth_status_t api_copy_host_to_buffer(plinth_stream_t stream, const void* src, plinth_buffer_t dst,
                                        uint64_t dst_offset, uint64_t size) {
  return sdk::guard([&] {
    auto& st = state();
    CpuStream& s = st.streams.get(stream);
    CpuBuffer& b = st.buffers.get(dst);
    s.device->loss().check("copy_host_to_buffer");
    check_same_device(s, b, "copy_host_to_buffer");
    sdk::require(src != nullptr || size == 0, "copy_host_to_buffer: src is NULL");
    check_range(b, dst_offset, size, "copy_host_to_buffer");
    std::lock_guard lock(s.mutex);
    if (size > 0) std::memcpy(b.data() + dst_offset, src, size);
  });
}

plinth_status_t api_copy_buffer_to_host(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                        void* dst, uint64_t size) {
  return sdk::guard([&] {
    auto& st = state();
    CpuStream& s = st.streams.get(stream);
    CpuBuffer& b = st.buffers.get(src);
    s.device->loss().check("copy_buffer_to_host");
    check_same_device(s, b, "copy_buffer_to_host");
    sdk::require(dst != nullptr || size == 0, "copy_buffer_to_host: dst is NULL");
    check_range(b, src_offset, size, "copy_buffer_to_host");
    std::lock_guard lock(s.mutex);
    if (size > 0) std::memcpy(dst, b.data() + src_offset, size);
  });
}

plinth_status_t api_copy_buffer(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                plinth_buffer_t dst, uint64_t dst_offset, uint64_t size) {
  return sdk::guard([&] {
    auto& st = state();
    CpuStream& s = st.streams.get(stream);
    CpuBuffer& a = st.buffers.get(src);
    CpuBuffer& b = st.buffers.get(dst);
    s.device->loss().check("copy_buffer");
    check_same_device(s, a, "copy_buffer");
    check_same_device(s, b, "copy_buffer");
    check_range(a, src_offset, size, "copy_buffer (source)");
    check_range(b, dst_offset, size, "copy_buffer (destination)");
    if (&a == &b && size > 0 && src_offset < dst_offset + size && dst_offset < src_offset + size) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "copy_buffer: source and destination overlap");
    }
    std::lock_guard lock(s.mutex);
    if (size > 0) std::memcpy(b.data() + dst_offset, a.data() + src_offset, size);
  });
}

// ---- Events --------------------------------------------------------------------------------------

plinth_status_t api_event_create(plinth_device_t device, uint32_t flags, plinth_event_t* out) {
  return sdk::guard([&] {
    const CpuDevice& d = state().devices.get(device);
    d.loss().check("event_create");
    sdk::require(out != nullptr, "event_create: out_event is NULL");
    sdk::require((flags & ~PLINTH_EVENT_FLAG_TIMING) == 0, "event_create: unknown flags");
    auto e = std::make_unique<CpuEvent>();
    e->device = &d;
    e->flags = flags;
    *out = state().events.insert(std::move(e));
  });
}

plinth_status_t api_event_destroy(plinth_event_t event) {
  return sdk::guard([&] { state().events.erase(event); });
}

plinth_status_t api_event_record(plinth_event_t event, plinth_stream_t stream) {
  return sdk::guard([&] {
    auto& st = state();
    CpuEvent& e = st.events.get(event);
    CpuStream& s = st.streams.get(stream);
    sdk::require(e.device == s.device, "event_record: event and stream belong to different devices");
    s.device->loss().check("event_record");
    // Taking the stream's lock orders the record after any launch in flight on another thread.
    std::lock_guard stream_lock(s.mutex);
    std::lock_guard lock(e.mutex);
    e.recorded = true;
    e.when = std::chrono::steady_clock::now();
  });
}

plinth_status_t api_stream_wait_event(plinth_stream_t stream, plinth_event_t event) {
  return sdk::guard([&] {
    auto& st = state();
    CpuStream& s = st.streams.get(stream);
    CpuEvent& e = st.events.get(event);
    sdk::require(e.device == s.device, "stream_wait_event: event and stream belong to different devices");
    s.device->loss().check("stream_wait_event");
    // Every recorded event is already complete: work runs at submission.
  });
}

plinth_status_t api_event_synchronize(plinth_event_t event) {
  return sdk::guard([&] { state().events.get(event).device->loss().check("event_synchronize"); });
}

plinth_status_t api_event_query(plinth_event_t event) {
  return sdk::guard([&] { state().events.get(event).device->loss().check("event_query"); });
}

plinth_status_t api_event_elapsed_ms(plinth_event_t start, plinth_event_t end, float* out_ms) {
  return sdk::guard([&] {
    auto& st = state();
    CpuEvent& a = st.events.get(start);
    CpuEvent& b = st.events.get(end);
    sdk::require(out_ms != nullptr, "event_elapsed_ms: out_ms is NULL");
    sdk::require((a.flags & PLINTH_EVENT_FLAG_TIMING) && (b.flags & PLINTH_EVENT_FLAG_TIMING),
                 "event_elapsed_ms: both events need PLINTH_EVENT_FLAG_TIMING");
    sdk::require(a.device == b.device, "event_elapsed_ms: events of different devices");
    a.device->loss().check("event_elapsed_ms");
    std::chrono::steady_clock::time_point ta;
    std::chrono::steady_clock::time_point tb;
    {
      std::lock_guard lock(a.mutex);
      sdk::require(a.recorded, "event_elapsed_ms: start event was never recorded");
      ta = a.when;
    }
    {
      std::lock_guard lock(b.mutex);
      sdk::require(b.recorded, "event_elapsed_ms: end event was never recorded");
      tb = b.when;
    }
    *out_ms = std::chrono::duration<float, std::milli>(tb - ta).count();
  });
}

// ---- Ops -----------------------------------------------------------------------------------------

plinth_status_t api_op_supports(plinth_device_t device, const plinth_op_call_t* call,
                                uint32_t* out_supported) {
  return sdk::guard([&] {
    const CpuDevice& d = state().devices.get(device);
    sdk::require(out_supported != nullptr, "op_supports: out_supported is NULL");
    sdk::require(call != nullptr, "op_supports: call is NULL");
    *out_supported = 0;
    int min_in = 0;
    int max_in = 0;
    int outs = 0;
    if (!sdk::op_arity(call->op, &min_in, &max_in, &outs)) {
      sdk::set_last_error(PLINTH_OK, "op " + std::to_string(call->op) + " is not in the catalogue");
      return;
    }
    sdk::OpCall parsed;
    try {
      parsed = sdk::parse_op_call(call, nullptr);
    } catch (const sdk::Error& e) {
      if (e.status() == PLINTH_ERROR_UNSUPPORTED) {
        sdk::set_last_error(PLINTH_OK, e.what());
        return;
      }
      throw;
    }
    const std::string reason = unsupported_reason(d, parsed);
    if (!reason.empty()) {
      sdk::set_last_error(PLINTH_OK, reason);
      return;
    }
    *out_supported = 1;
  });
}

plinth_status_t api_op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  return sdk::guard([&] {
    auto& st = state();
    CpuStream& s = st.streams.get(stream);
    const CpuDevice& d = *s.device;
    d.loss().check("op_launch");
    auto buffer_size = [&](plinth_buffer_t b) -> uint64_t {
      const CpuBuffer& buf = st.buffers.get(b);
      if (buf.device != &d)
        sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "a tensor's buffer belongs to another device");
      return buf.size;
    };
    const sdk::OpCall parsed = sdk::parse_op_call(call, buffer_size);
    if (const std::string reason = unsupported_reason(d, parsed); !reason.empty()) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, reason);
    }
    OpContext ctx{d, s, d.kernels(), parsed, {}, {}, {}};
    for (int i = 0; i < parsed.num_inputs; ++i) {
      const auto* v = parsed.input(i);
      if (v == nullptr) continue;
      sdk::require(v->buffer != nullptr, "op_launch: an input tensor has a NULL buffer");
      ctx.in[static_cast<size_t>(i)] = resolve(*v, st.buffers.get(v->buffer).data());
      ctx.has_in[static_cast<size_t>(i)] = true;
    }
    for (int i = 0; i < parsed.num_outputs; ++i) {
      const auto& v = parsed.outputs[static_cast<size_t>(i)];
      sdk::require(v.buffer != nullptr, "op_launch: an output tensor has a NULL buffer");
      ctx.out[static_cast<size_t>(i)] = resolve(v, st.buffers.get(v.buffer).data());
    }
    d.loss().before_launch();  // counts valid launches only
    std::lock_guard lock(s.mutex);
    run_op(ctx);
  });
}

const plinth_plugin_api_t kApi = [] {
  plinth_plugin_api_t api{};
  api.struct_size = sizeof(plinth_plugin_api_t);
  api.abi_major = PLINTH_ABI_VERSION_MAJOR;
  api.abi_minor = PLINTH_ABI_VERSION_MINOR;
  api.name = "cpu";
  api.version = PLINTH_VERSION_STRING;
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
  // Graph entries stay NULL: the core emulates capture and replay.
  api.op_supports = api_op_supports;
  api.op_launch = api_op_launch;
  return api;
}();

}  // namespace
}  // namespace plinth::cpu

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  using namespace plinth;
  return sdk::guard([&] {
    sdk::require(out_api != nullptr, "plinth_plugin_init: out_api is NULL");
    *out_api = &cpu::kApi;
    const plinth_status_t status = sdk::check_host(host);
    if (status != PLINTH_OK) sdk::fail(status, sdk::last_error_message());
    auto fresh = std::make_unique<cpu::PluginState>();
    fresh->log.set(host);
    // The cap only lowers the kernel choice; a value it does not know must not pass unnoticed.
    if (const char* isa = std::getenv("PLINTH_CPU_ISA");
        isa != nullptr && *isa != '\0' && std::strcmp(isa, "avx2") != 0 && std::strcmp(isa, "generic") != 0) {
      fresh->log(PLINTH_LOG_WARN, std::string("PLINTH_CPU_ISA='") + isa +
                                      "' is not one of avx2|generic; the widest supported kernels are used");
    }
    std::lock_guard lock(cpu::g_state_mutex);
    if (!cpu::g_state) cpu::g_state = std::move(fresh);
  });
}
