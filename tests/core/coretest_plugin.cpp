// coretest: a small host-memory plugin for the core's tests. What makes it useful for them:
//  - streams run their work lazily (only when something waits: synchronize, an event wait, a
//    destroy), so "not complete yet" is observable and deterministic;
//  - each device has a 64 MiB capacity, so OUT_OF_MEMORY is reachable;
//  - device 0 ("full") runs fill/scale/add/copy/matmul on contiguous f32; device 1 ("limited") has no
//    matmul; device 2 is reported unusable; there are no graph entries (the core emulates them);
//  - buffer_free refuses (INVALID_STATE) a buffer that queued work still uses: the host broke the
//    ABI's rule (abi.h, buffer_free), which a real device punishes with a crash or corrupt data;
//  - it honours PLINTH_PLUGIN_FAULT=device_lost:N (sdk/device_loss.hpp). After the loss its queued
//    work is dropped, any buffer may be freed, and a call other than a destroy is logged as an error
//    (only destroy calls are valid after DEVICE_LOST), which the core's tests look for.
#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "plinth/sdk/device_loss.hpp"
#include "plinth/sdk/log.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/status.hpp"
#include "plinth/sdk/structs.hpp"

namespace {

using plinth::sdk::fail;
using plinth::sdk::guard;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kCapacity = 64ull << 20;
constexpr uint32_t kAlignment = 64;

struct Device {
  explicit Device(std::optional<uint64_t> lose_after) : loss(lose_after) {}
  uint32_t index = 0;
  uint64_t used = 0;
  plinth::sdk::DeviceLoss loss;
};

struct Buffer {
  Device* device = nullptr;
  std::vector<std::byte> storage;
  std::byte* data = nullptr;
  uint64_t size = 0;
  uint32_t kind = 0;
  bool mapped = false;
  uint64_t queued = 0;  // queued operations that use the buffer and have not run yet
};

struct Stream {
  Device* device = nullptr;
  std::deque<std::function<void()>> queue;
  uint64_t submitted = 0;
  uint64_t completed = 0;
};

struct Event {
  Device* device = nullptr;
  Stream* stream = nullptr;  // NULL: never recorded, or its stream is gone (then complete)
  uint64_t seq = 0;
  bool timing = false;
  Clock::time_point when{};
  bool stamped = false;
};

// The one plugin-state object behind the entry point. A recursive mutex because running a stream's
// work may run another stream's work (event waits).
struct State {
  std::recursive_mutex mutex;
  plinth::sdk::HostLog log;
  std::map<void*, std::unique_ptr<Device>> devices;
  std::map<void*, std::unique_ptr<Buffer>> buffers;
  std::map<void*, std::unique_ptr<Stream>> streams;
  std::map<void*, std::unique_ptr<Event>> events;
};

State& state() {
  static State s;
  return s;
}

template <class T>
T& lookup(std::map<void*, std::unique_ptr<T>>& table, void* handle, const char* what) {
  auto it = table.find(handle);
  if (it == table.end()) fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string("unknown ") + what + " handle");
  return *it->second;
}

void run_until(Stream& s, uint64_t seq) {
  if (s.device->loss.lost()) {
    // A lost device never runs what was queued; its buffers may be gone already.
    s.queue.clear();
    s.completed = s.submitted;
    return;
  }
  while (s.completed < seq && !s.queue.empty()) {
    auto task = std::move(s.queue.front());
    s.queue.pop_front();
    task();
    ++s.completed;
  }
}

// `uses`: the buffers the task reads or writes; each counts the task until it has run.
void enqueue(Stream& s, std::function<void()> task, std::vector<Buffer*> uses = {}) {
  for (Buffer* b : uses) ++b->queued;
  s.queue.push_back([task = std::move(task), uses = std::move(uses)] {
    for (Buffer* b : uses) --b->queued;
    task();
  });
  ++s.submitted;
}

// Fails a call on a lost device with DEVICE_LOST, and logs it: the host should not have made it.
void reject_if_lost(const Device& dev, const char* call);

bool event_done(const Event& e) { return e.stream == nullptr || e.stream->completed >= e.seq; }

// --- ops ---------------------------------------------------------------------------------------

bool contiguous_f32(const plinth::sdk::TensorView& t) { return t.dtype == PLINTH_DTYPE_F32 && t.contiguous(); }

// Returns "" when the device runs `call`, else the reason.
std::string unsupported_reason(const Device& dev, const plinth::sdk::OpCall& c) {
  for (int i = 0; i < c.num_inputs; ++i) {
    if (c.input(i) && !contiguous_f32(*c.input(i))) return "coretest runs contiguous f32 tensors only";
  }
  for (int i = 0; i < c.num_outputs; ++i) {
    if (!contiguous_f32(c.outputs[i])) return "coretest runs contiguous f32 tensors only";
  }
  switch (c.op) {
    case PLINTH_OP_FILL:
    case PLINTH_OP_SCALE:
    case PLINTH_OP_COPY: return "";
    case PLINTH_OP_ADD:
      if (c.inputs[0].numel() != c.outputs[0].numel() || c.inputs[1].numel() != c.outputs[0].numel()) {
        return "coretest add does not broadcast";
      }
      return "";
    case PLINTH_OP_MATMUL:
      if (dev.index != 0) return "the coretest limited device has no matmul";
      if (c.inputs[0].ndim != 2 || c.inputs[1].ndim != 2 || c.params.matmul.transpose_a) {
        return "coretest matmul is 2-d without transpose_a";
      }
      return "";
    default: return std::string("coretest does not implement ") + plinth::sdk::op_name(c.op);
  }
}

plinth::sdk::OpCall parse(const plinth_op_call_t* call) {
  return plinth::sdk::parse_op_call(call, [](plinth_buffer_t b) -> uint64_t {
    if (b == nullptr) return UINT64_MAX;
    return lookup(state().buffers, b, "buffer").size;
  });
}

float* ptr(const plinth::sdk::TensorView& t) {
  auto& b = lookup(state().buffers, t.buffer, "buffer");
  return reinterpret_cast<float*>(b.data + t.offset);
}

void execute(const plinth::sdk::OpCall& c) {
  const int64_t n = c.outputs[0].numel();
  float* y = ptr(c.outputs[0]);
  switch (c.op) {
    case PLINTH_OP_FILL:
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(c.params.fill.value);
      break;
    case PLINTH_OP_SCALE: {
      const float* x = ptr(c.inputs[0]);
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * c.params.scale.scale + c.params.scale.bias;
      break;
    }
    case PLINTH_OP_COPY: {
      const float* x = ptr(c.inputs[0]);
      std::memmove(y, x, static_cast<std::size_t>(n) * sizeof(float));
      break;
    }
    case PLINTH_OP_ADD: {
      const float* a = ptr(c.inputs[0]);
      const float* b = ptr(c.inputs[1]);
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
      break;
    }
    case PLINTH_OP_MATMUL: {
      const auto& A = c.inputs[0];
      const auto& B = c.inputs[1];
      const bool tb = c.params.matmul.transpose_b != 0;
      const int64_t M = A.dims[0], K = A.dims[1], N = tb ? B.dims[0] : B.dims[1];
      const float* a = ptr(A);
      const float* b = ptr(B);
      for (int64_t i = 0; i < M; ++i) {
        for (int64_t j = 0; j < N; ++j) {
          double acc = 0;
          for (int64_t k = 0; k < K; ++k) acc += double(a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
          y[i * N + j] = static_cast<float>(acc * c.params.matmul.alpha);
        }
      }
      break;
    }
    default: break;
  }
}

// --- entries -----------------------------------------------------------------------------------

void reject_if_lost(const Device& dev, const char* call) {
  if (!dev.loss.lost()) return;
  state().log(PLINTH_LOG_ERROR, std::string("coretest: ") + call + " called after DEVICE_LOST (only destroy calls are valid)");
  dev.loss.check(call);
}

const char* last_error_message() { return plinth::sdk::last_error_message(); }
int64_t last_error_vendor_code() { return plinth::sdk::last_error_vendor_code(); }

plinth_status_t shutdown() {
  return guard([] {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    s.events.clear();
    s.streams.clear();
    s.buffers.clear();
    s.devices.clear();
  });
}

plinth_status_t probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  return guard([&] {
    plinth::sdk::require(out_count != nullptr, "out_count is NULL");
    plinth::sdk::require(entries != nullptr || capacity == 0, "entries is NULL");
    const char* names[] = {"coretest full", "coretest limited", "coretest broken"};
    for (uint32_t i = 0; i < 3 && i < capacity; ++i) {
      plinth_probe_entry_t e{};
      e.struct_size = sizeof e;
      e.index = i;
      e.usable = i < 2 ? 1 : 0;
      plinth::sdk::copy_string(e.name, names[i]);
      plinth::sdk::copy_string(e.reason, i < 2 ? "" : "simulated: driver not installed");
      plinth::sdk::write_struct(&entries[i], e, PLINTH_STRUCT_SIZE_THROUGH(plinth_probe_entry_t, reason), "entry");
    }
    *out_count = 3;
  });
}

plinth_status_t device_open(uint32_t index, plinth_device_t* out) {
  return guard([&] {
    if (index > 2) fail(PLINTH_ERROR_OUT_OF_RANGE, "no such device");
    if (index == 2) fail(PLINTH_ERROR_UNSUPPORTED, "simulated: driver not installed");
    auto d = std::make_unique<Device>(plinth::sdk::DeviceLoss::hook_from_environment());
    d->index = index;
    std::lock_guard lock(state().mutex);
    *out = reinterpret_cast<plinth_device_t>(d.get());
    state().devices.emplace(d.get(), std::move(d));
  });
}

plinth_status_t device_close(plinth_device_t device) {
  return guard([&] {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    auto* dev = &lookup(s.devices, device, "device");
    for (auto& [h, st] : s.streams) {
      if (st->device == dev) run_until(*st, st->submitted);
    }
    std::erase_if(s.events, [&](auto& kv) { return kv.second->device == dev; });
    std::erase_if(s.streams, [&](auto& kv) { return kv.second->device == dev; });
    std::erase_if(s.buffers, [&](auto& kv) { return kv.second->device == dev; });
    s.devices.erase(device);
  });
}

plinth_status_t device_get_properties(plinth_device_t device, plinth_device_properties_t* props) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& dev = lookup(state().devices, device, "device");
    plinth_device_properties_t p{};
    p.struct_size = sizeof p;
    p.device_type = PLINTH_DEVICE_TYPE_VIRTUAL;
    plinth::sdk::copy_string(p.name, dev.index == 0 ? "coretest full" : "coretest limited");
    plinth::sdk::copy_string(p.vendor, "Plinth tests");
    plinth::sdk::copy_string(p.arch, "host");
    p.total_memory = kCapacity;
    p.max_allocation = kCapacity;
    p.max_op_range = kCapacity;
    p.features = PLINTH_FEATURE_TIMESTAMPS | PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_SHARED_MEMORY |
                 (dev.index == 0 ? PLINTH_FEATURE_UNIFIED_MEMORY : 0);
    p.compute_units = 1;
    p.min_alignment = kAlignment;
    p.subgroup_size = 1;
    plinth::sdk::write_struct(props, p, PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, reserved0), "props");
  });
}

plinth_status_t buffer_alloc(plinth_device_t device, const plinth_buffer_desc_t* desc, plinth_buffer_t* out) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& dev = lookup(state().devices, device, "device");
    reject_if_lost(dev, "buffer_alloc");
    plinth_buffer_desc_t defaults{};
    const auto d = plinth::sdk::read_struct(desc, defaults, PLINTH_STRUCT_SIZE_THROUGH(plinth_buffer_desc_t, alignment), "desc");
    plinth::sdk::require(d.size > 0, "size is 0");
    if (dev.used + d.size > kCapacity) {
      fail(PLINTH_ERROR_OUT_OF_MEMORY, "coretest: " + std::to_string(d.size) + " bytes requested, " +
                                           std::to_string(kCapacity - dev.used) + " free");
    }
    const uint64_t align = std::max<uint64_t>(kAlignment, d.alignment);
    auto b = std::make_unique<Buffer>();
    b->device = &dev;
    b->storage.resize(d.size + align);
    const auto addr = reinterpret_cast<uintptr_t>(b->storage.data());
    b->data = b->storage.data() + ((align - addr % align) % align);
    b->size = d.size;
    b->kind = d.memory_kind;
    dev.used += d.size;
    *out = reinterpret_cast<plinth_buffer_t>(b.get());
    state().buffers.emplace(b.get(), std::move(b));
  });
}

plinth_status_t buffer_free(plinth_buffer_t buffer) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& b = lookup(state().buffers, buffer, "buffer");
    if (b.queued > 0 && !b.device->loss.lost()) {
      fail(PLINTH_ERROR_INVALID_STATE, "coretest: buffer_free while " + std::to_string(b.queued) +
                                           " queued operation(s) still use the buffer (the host must wait for them)");
    }
    b.device->used -= b.size;
    state().buffers.erase(buffer);
  });
}

plinth_status_t buffer_map(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& b = lookup(state().buffers, buffer, "buffer");
    reject_if_lost(*b.device, "buffer_map");
    if (b.kind == PLINTH_MEMORY_DEVICE && b.device->index != 0) fail(PLINTH_ERROR_UNSUPPORTED, "device memory is not mappable");
    if (offset > b.size || size > b.size - offset) fail(PLINTH_ERROR_OUT_OF_RANGE, "map range outside the buffer");
    if (b.mapped) fail(PLINTH_ERROR_INVALID_STATE, "already mapped");
    b.mapped = true;
    *out = b.data + offset;
  });
}

plinth_status_t buffer_unmap(plinth_buffer_t buffer) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& b = lookup(state().buffers, buffer, "buffer");
    reject_if_lost(*b.device, "buffer_unmap");
    if (!b.mapped) fail(PLINTH_ERROR_INVALID_STATE, "not mapped");
    b.mapped = false;
  });
}

plinth_status_t stream_create(plinth_device_t device, uint32_t, plinth_stream_t* out) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto s = std::make_unique<Stream>();
    s->device = &lookup(state().devices, device, "device");
    reject_if_lost(*s->device, "stream_create");
    *out = reinterpret_cast<plinth_stream_t>(s.get());
    state().streams.emplace(s.get(), std::move(s));
  });
}

plinth_status_t stream_destroy(plinth_stream_t stream) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& s = lookup(state().streams, stream, "stream");
    run_until(s, s.submitted);
    for (auto& [h, e] : state().events) {
      if (e->stream == &s) e->stream = nullptr;
    }
    state().streams.erase(stream);
  });
}

plinth_status_t stream_synchronize(plinth_stream_t stream) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& s = lookup(state().streams, stream, "stream");
    reject_if_lost(*s.device, "stream_synchronize");
    run_until(s, s.submitted);
  });
}

plinth_status_t copy_host_to_buffer(plinth_stream_t stream, const void* src, plinth_buffer_t dst, uint64_t off,
                                    uint64_t size) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& s = lookup(state().streams, stream, "stream");
    auto& b = lookup(state().buffers, dst, "buffer");
    reject_if_lost(*s.device, "copy_host_to_buffer");
    if (off > b.size || size > b.size - off) fail(PLINTH_ERROR_OUT_OF_RANGE, "copy outside the destination buffer");
    std::byte* d = b.data + off;
    enqueue(s, [=] { std::memcpy(d, src, size); }, {&b});
  });
}

plinth_status_t copy_buffer_to_host(plinth_stream_t stream, plinth_buffer_t src, uint64_t off, void* dst,
                                    uint64_t size) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& s = lookup(state().streams, stream, "stream");
    auto& b = lookup(state().buffers, src, "buffer");
    reject_if_lost(*s.device, "copy_buffer_to_host");
    if (off > b.size || size > b.size - off) fail(PLINTH_ERROR_OUT_OF_RANGE, "copy outside the source buffer");
    const std::byte* p = b.data + off;
    enqueue(s, [=] { std::memcpy(dst, p, size); }, {&b});
  });
}

plinth_status_t copy_buffer(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_off, plinth_buffer_t dst,
                            uint64_t dst_off, uint64_t size) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& s = lookup(state().streams, stream, "stream");
    auto& a = lookup(state().buffers, src, "buffer");
    auto& b = lookup(state().buffers, dst, "buffer");
    reject_if_lost(*s.device, "copy_buffer");
    if (src_off > a.size || size > a.size - src_off || dst_off > b.size || size > b.size - dst_off) {
      fail(PLINTH_ERROR_OUT_OF_RANGE, "copy outside a buffer");
    }
    const std::byte* p = a.data + src_off;
    std::byte* d = b.data + dst_off;
    enqueue(s, [=] { std::memmove(d, p, size); }, {&a, &b});
  });
}

plinth_status_t event_create(plinth_device_t device, uint32_t flags, plinth_event_t* out) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto e = std::make_unique<Event>();
    e->device = &lookup(state().devices, device, "device");
    reject_if_lost(*e->device, "event_create");
    e->timing = (flags & PLINTH_EVENT_FLAG_TIMING) != 0;
    *out = reinterpret_cast<plinth_event_t>(e.get());
    state().events.emplace(e.get(), std::move(e));
  });
}

plinth_status_t event_destroy(plinth_event_t event) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    lookup(state().events, event, "event");
    state().events.erase(event);
  });
}

plinth_status_t event_record(plinth_event_t event, plinth_stream_t stream) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& e = lookup(state().events, event, "event");
    auto& s = lookup(state().streams, stream, "stream");
    reject_if_lost(*s.device, "event_record");
    e.stream = &s;
    e.seq = s.submitted + 1;
    e.stamped = false;
    const uint64_t seq = e.seq;
    enqueue(s, [event, seq] {
      auto it = state().events.find(event);
      if (it != state().events.end() && it->second->seq == seq) {
        it->second->when = Clock::now();
        it->second->stamped = true;
      }
    });
  });
}

plinth_status_t stream_wait_event(plinth_stream_t stream, plinth_event_t event) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& s = lookup(state().streams, stream, "stream");
    auto& e = lookup(state().events, event, "event");
    reject_if_lost(*s.device, "stream_wait_event");
    Stream* other = e.stream;
    const uint64_t seq = e.seq;
    enqueue(s, [other, seq] {
      for (auto& [h, st] : state().streams) {
        if (st.get() == other) run_until(*st, seq);
      }
    });
  });
}

plinth_status_t event_synchronize(plinth_event_t event) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& e = lookup(state().events, event, "event");
    reject_if_lost(*e.device, "event_synchronize");
    if (e.stream != nullptr) run_until(*e.stream, e.seq);
  });
}

plinth_status_t event_query(plinth_event_t event) {
  std::lock_guard lock(state().mutex);
  const plinth_status_t status =
      guard([&] { reject_if_lost(*lookup(state().events, event, "event").device, "event_query"); });
  if (status != PLINTH_OK) return status;
  return event_done(*state().events.at(event)) ? PLINTH_OK : PLINTH_ERROR_NOT_READY;
}

plinth_status_t event_elapsed_ms(plinth_event_t start, plinth_event_t end, float* out_ms) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& a = lookup(state().events, start, "event");
    auto& b = lookup(state().events, end, "event");
    reject_if_lost(*a.device, "event_elapsed_ms");
    if (!a.timing || !b.timing) fail(PLINTH_ERROR_INVALID_ARGUMENT, "not timing events");
    if (!event_done(a) || !event_done(b)) fail(PLINTH_ERROR_NOT_READY, "events not complete");
    if (!a.stamped || !b.stamped) fail(PLINTH_ERROR_INVALID_ARGUMENT, "event never recorded");
    *out_ms = std::chrono::duration<float, std::milli>(b.when - a.when).count();
  });
}

plinth_status_t op_supports(plinth_device_t device, const plinth_op_call_t* call, uint32_t* out) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& dev = lookup(state().devices, device, "device");
    const auto c = plinth::sdk::parse_op_call(call, nullptr);
    const std::string reason = unsupported_reason(dev, c);
    *out = reason.empty() ? 1 : 0;
    if (!reason.empty()) plinth::sdk::set_last_error(PLINTH_OK, reason);
  });
}

plinth_status_t op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  return guard([&] {
    std::lock_guard lock(state().mutex);
    auto& s = lookup(state().streams, stream, "stream");
    reject_if_lost(*s.device, "op_launch");
    const auto c = parse(call);
    const std::string reason = unsupported_reason(*s.device, c);
    if (!reason.empty()) fail(PLINTH_ERROR_UNSUPPORTED, reason);
    s.device->loss.before_launch();
    std::vector<Buffer*> uses;
    for (int i = 0; i < c.num_inputs; ++i) {
      if (c.input(i)) uses.push_back(&lookup(state().buffers, c.input(i)->buffer, "buffer"));
    }
    for (int i = 0; i < c.num_outputs; ++i) uses.push_back(&lookup(state().buffers, c.outputs[i].buffer, "buffer"));
    enqueue(s, [c] { execute(c); }, std::move(uses));
  });
}

const plinth_plugin_api_t kApi = [] {
  plinth_plugin_api_t a{};
  a.struct_size = sizeof a;
  a.abi_major = PLINTH_ABI_VERSION_MAJOR;
  a.abi_minor = PLINTH_ABI_VERSION_MINOR;
  a.name = "coretest";
  a.version = "1.0-test";
  a.last_error_message = last_error_message;
  a.last_error_vendor_code = last_error_vendor_code;
  a.shutdown = shutdown;
  a.probe = probe;
  a.device_open = device_open;
  a.device_close = device_close;
  a.device_get_properties = device_get_properties;
  a.buffer_alloc = buffer_alloc;
  a.buffer_free = buffer_free;
  a.buffer_map = buffer_map;
  a.buffer_unmap = buffer_unmap;
  a.stream_create = stream_create;
  a.stream_destroy = stream_destroy;
  a.stream_synchronize = stream_synchronize;
  a.copy_host_to_buffer = copy_host_to_buffer;
  a.copy_buffer_to_host = copy_buffer_to_host;
  a.copy_buffer = copy_buffer;
  a.event_create = event_create;
  a.event_destroy = event_destroy;
  a.event_record = event_record;
  a.stream_wait_event = stream_wait_event;
  a.event_synchronize = event_synchronize;
  a.event_query = event_query;
  a.event_elapsed_ms = event_elapsed_ms;
  a.op_supports = op_supports;
  a.op_launch = op_launch;
  return a;
}();

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  if (out_api == nullptr) return PLINTH_ERROR_INVALID_ARGUMENT;
  *out_api = &kApi;
  const plinth_status_t status = plinth::sdk::check_host(host);
  if (status != PLINTH_OK) return status;
  state().log.set(host);
  state().log(PLINTH_LOG_INFO, "coretest plugin initialized");
  return PLINTH_OK;
}
