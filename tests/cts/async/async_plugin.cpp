// A test plugin for the CTS stress suite: the template plugin (plugins/template) changed so that each
// stream executes its work later, on a worker thread of its own, in submission order, as a real
// device does. Events complete when the worker reaches their record; stream_wait_event enqueues a
// wait for the event's record. Races between streams are therefore real.
//
// PLINTH_ASYNC_DEFECT selects one deliberate ordering bug (0: none, a correct plugin):
//   1  stream_wait_event enqueues nothing: a consumer stream does not wait for its producer;
//   2  event_record completes the event at once, before the work recorded ahead of it has run.
// Only the CTS tests build it (tests/cts/CMakeLists.txt); it is no example to copy.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>

#include "plinth/abi.h"
#include "plinth/ops.h"
#include "plinth/sdk/dtype.hpp"
#include "plinth/sdk/handles.hpp"
#include "plinth/sdk/log.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/status.hpp"
#include "plinth/sdk/structs.hpp"

namespace {

namespace sdk = plinth::sdk;
using Clock = std::chrono::steady_clock;

// What the pretend device reports. The memory budget is enforced so that out-of-memory paths can be
// tested; the bytes themselves are allocated lazily by the host's allocator.
#ifndef PLINTH_ASYNC_DEFECT
#define PLINTH_ASYNC_DEFECT 0
#endif
constexpr int kDefect = PLINTH_ASYNC_DEFECT;
constexpr const char* kPluginName = kDefect == 0 ? "async" : kDefect == 1 ? "racy-wait" : "racy-event";
constexpr const char* kPluginVersion = "0.1.0";
constexpr const char* kDeviceName = "async host device";
constexpr uint64_t kTotalMemory = uint64_t{1} << 30;
constexpr uint64_t kMaxAllocation = uint64_t{1} << 28;
constexpr uint32_t kMinAlignment = 64;

// ---- objects behind the opaque handles ----------------------------------------------------------

struct Device {};  // one host "device"; two opens of index 0 give two independent Device objects

struct AlignedDelete {
  std::size_t alignment;
  void operator()(std::byte* p) const noexcept { ::operator delete (p, std::align_val_t{alignment}); }
};

struct Buffer {
  const Device* device;
  uint64_t size;
  uint32_t memory_kind;
  std::unique_ptr<std::byte, AlignedDelete> bytes;
  std::atomic<bool> mapped{false};
  std::atomic<uint64_t>* used;  // the device's allocated-bytes counter, released on destruction

  Buffer(const Device* d, uint64_t n, uint32_t kind, std::unique_ptr<std::byte, AlignedDelete> b,
         std::atomic<uint64_t>* counter)
      : device(d), size(n), memory_kind(kind), bytes(std::move(b)), used(counter) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { used->fetch_sub(size); }
};

// Runs a stream's work on a thread of its own, in submission order.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void submit(std::function<void()> work) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(work));
      ++submitted_;
    }
    cv_.notify_all();
  }
  // Waits until everything submitted before the call has run.
  void wait_idle() {
    std::unique_lock lock(mutex_);
    const uint64_t target = submitted_;
    cv_.wait(lock, [&] { return done_ >= target; });
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ with nothing left
      auto work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
      lock.lock();
      ++done_;
      cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  uint64_t submitted_ = 0, done_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

struct Stream {
  const Device* device;
  std::mutex submit;  // submissions from many threads enter the queue one at a time
  Worker worker;
};

// An event's records, shared with the waits enqueued on it (they outlive event_destroy).
struct EventState {
  std::mutex mutex;
  std::condition_variable cv;
  uint64_t recorded = 0;   // generation of the latest record (0: never recorded)
  uint64_t completed = 0;  // highest generation whose record has completed
  std::optional<Clock::time_point> time;

  void complete(uint64_t generation) {
    {
      std::lock_guard lock(mutex);
      if (generation > completed) {
        completed = generation;
        time = Clock::now();
      }
    }
    cv.notify_all();
  }
  uint64_t latest() {
    std::lock_guard lock(mutex);
    return recorded;
  }
  void wait(uint64_t generation) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return completed >= generation; });
  }
};

struct Event {
  const Device* device;
  bool timing;
  std::shared_ptr<EventState> state = std::make_shared<EventState>();
};

// The one plugin-state object (the only mutable state the plugin keeps; created by
// plinth_plugin_init, destroyed by shutdown). Member order matters: the counter outlives the buffers.
struct Plugin {
  sdk::HostLog log;
  std::atomic<uint64_t> used_bytes{0};
  sdk::HandleTable<plinth_device_t, Device> devices{"device"};
  sdk::HandleTable<plinth_buffer_t, Buffer> buffers{"buffer"};
  sdk::HandleTable<plinth_stream_t, Stream> streams{"stream"};
  sdk::HandleTable<plinth_event_t, Event> events{"event"};
};

std::unique_ptr<Plugin>& plugin_slot() {
  static std::unique_ptr<Plugin> plugin;
  return plugin;
}

Plugin& plugin() {
  std::unique_ptr<Plugin>& p = plugin_slot();
  if (!p) sdk::fail(PLINTH_ERROR_INVALID_STATE, "template plugin is not initialized (or already shut down)");
  return *p;
}

void expect_same_device(const Device* a, const Device* b, const char* what) {
  if (a != b) sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + " belong to different devices");
}

// offset + size inside [0, limit), without overflow.
void check_range(uint64_t offset, uint64_t size, uint64_t limit, const char* what) {
  if (offset > limit || size > limit - offset) {
    sdk::fail(PLINTH_ERROR_OUT_OF_RANGE,
              std::string(what) + ": bytes [" + std::to_string(offset) + ", " + std::to_string(offset) + "+" +
                  std::to_string(size) + ") lie outside the buffer of " + std::to_string(limit) + " bytes");
  }
}

// ---- errors, lifetime and discovery -------------------------------------------------------------

plinth_status_t shutdown() {
  return sdk::guard([] { plugin_slot().reset(); });  // reclaims anything the host leaked
}

plinth_status_t probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  return sdk::guard([&] {
    sdk::require(out_count != nullptr, "probe: out_count is NULL");
    sdk::require(entries != nullptr || capacity == 0, "probe: entries is NULL but capacity > 0");
    *out_count = 1;
    if (capacity == 0) return;
    plinth_probe_entry_t entry{};
    entry.index = 0;
    entry.usable = 1;  // a real plugin says 0 here, with a reason, when the driver or device is missing
    sdk::copy_string(entry.name, kDeviceName);
    // With several devices, remember that a newer host's entries are larger: entry i starts at
    // reinterpret_cast<std::byte*>(entries) + i * entries[0].struct_size, not at &entries[i].
    sdk::write_struct(&entries[0], entry, sizeof(plinth_probe_entry_t), "probe entry");
  });
}

plinth_status_t device_open(uint32_t index, plinth_device_t* out_device) {
  return sdk::guard([&] {
    sdk::require(out_device != nullptr, "device_open: out_device is NULL");
    if (index != 0) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE,
                "device_open: no device " + std::to_string(index) + " (the template has one)");
    }
    *out_device = plugin().devices.insert(std::make_unique<Device>());
  });
}

plinth_status_t device_close(plinth_device_t device) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    const Device* d = &p.devices.get(device);
    // Destroying a stream waits for its work; reclaim what the host leaked on this device.
    p.events.erase_if([d](const Event& e) { return e.device == d; });
    p.streams.erase_if([d](const Stream& s) { return s.device == d; });
    p.buffers.erase_if([d](const Buffer& b) { return b.device == d; });
    p.devices.erase(device);
  });
}

plinth_status_t device_get_properties(plinth_device_t device, plinth_device_properties_t* props) {
  return sdk::guard([&] {
    plugin().devices.get(device);
    plinth_device_properties_t out{};
    out.device_type = PLINTH_DEVICE_TYPE_VIRTUAL;
    sdk::copy_string(out.name, kDeviceName);
    sdk::copy_string(out.vendor, "Plinth template");
    sdk::copy_string(out.arch, "host");
    sdk::copy_string(out.driver_version, "");
    out.total_memory = kTotalMemory;
    out.max_allocation = kMaxAllocation;
    out.max_op_range = kMaxAllocation;
    // Host memory is reachable from the host in every kind, so everything is mappable.
    out.features = PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_SHARED_MEMORY | PLINTH_FEATURE_TIMESTAMPS |
                   PLINTH_FEATURE_UNIFIED_MEMORY;
    out.compute_units = 1;
    out.min_alignment = kMinAlignment;
    out.subgroup_size = 1;
    sdk::write_struct(props, out, sizeof(plinth_device_properties_t), "device properties");
  });
}

plinth_status_t device_memory_info(plinth_device_t device, uint64_t* out_free, uint64_t* out_total) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    p.devices.get(device);
    sdk::require(out_free != nullptr && out_total != nullptr, "device_memory_info: NULL output pointer");
    const uint64_t used = p.used_bytes.load();
    *out_total = kTotalMemory;
    *out_free = used < kTotalMemory ? kTotalMemory - used : 0;
  });
}

// ---- buffers --------------------------------------------------------------------------------------

plinth_status_t buffer_alloc(plinth_device_t device, const plinth_buffer_desc_t* desc,
                             plinth_buffer_t* out_buffer) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    const Device* d = &p.devices.get(device);
    sdk::require(out_buffer != nullptr, "buffer_alloc: out_buffer is NULL");
    const plinth_buffer_desc_t in =
        sdk::read_struct(desc, plinth_buffer_desc_t{}, sizeof(plinth_buffer_desc_t), "buffer desc");
    sdk::require(in.size > 0, "buffer_alloc: size is 0");
    sdk::require((in.alignment & (in.alignment - 1)) == 0, "buffer_alloc: alignment is not a power of two");
    if (in.memory_kind > PLINTH_MEMORY_SHARED) {
      sdk::fail(PLINTH_ERROR_UNSUPPORTED,
                "buffer_alloc: unknown memory kind " + std::to_string(in.memory_kind));
    }
    if (in.size > kMaxAllocation) {
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "buffer_alloc: " + std::to_string(in.size) +
                                               " bytes exceed max_allocation " +
                                               std::to_string(kMaxAllocation));
    }
    // Reserve the bytes against the budget first, so concurrent allocations cannot overshoot it.
    if (p.used_bytes.fetch_add(in.size) + in.size > kTotalMemory) {
      p.used_bytes.fetch_sub(in.size);
      sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY,
                "buffer_alloc: " + std::to_string(in.size) + " bytes exceed the free device memory");
    }
    const std::size_t alignment = std::max<std::size_t>(in.alignment, kMinAlignment);
    auto* raw = static_cast<std::byte*>(::operator new (in.size, std::align_val_t{alignment}, std::nothrow));
    if (raw == nullptr) {
      p.used_bytes.fetch_sub(in.size);
      sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY,
                "buffer_alloc: host allocation of " + std::to_string(in.size) + " bytes failed");
    }
    std::unique_ptr<std::byte, AlignedDelete> bytes(raw, AlignedDelete{alignment});
    *out_buffer = p.buffers.insert(
        std::make_unique<Buffer>(d, in.size, in.memory_kind, std::move(bytes), &p.used_bytes));
  });
}

plinth_status_t buffer_free(plinth_buffer_t buffer) {
  return sdk::guard([&] { plugin().buffers.erase(buffer); });
}

plinth_status_t buffer_map(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr) {
  return sdk::guard([&] {
    Buffer& b = plugin().buffers.get(buffer);
    sdk::require(out_ptr != nullptr, "buffer_map: out_ptr is NULL");
    check_range(offset, size, b.size, "buffer_map");
    if (b.mapped.exchange(true))
      sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer_map: buffer is already mapped");
    *out_ptr = b.bytes.get() + offset;
  });
}

plinth_status_t buffer_unmap(plinth_buffer_t buffer) {
  return sdk::guard([&] {
    Buffer& b = plugin().buffers.get(buffer);
    if (!b.mapped.exchange(false))
      sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer_unmap: buffer is not mapped");
  });
}

// ---- streams and copies ---------------------------------------------------------------------------

plinth_status_t stream_create(plinth_device_t device, uint32_t flags, plinth_stream_t* out_stream) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    const Device* d = &p.devices.get(device);
    sdk::require(out_stream != nullptr, "stream_create: out_stream is NULL");
    sdk::require(flags == 0, "stream_create: flags must be 0 in ABI v1");
    auto stream = std::make_unique<Stream>();
    stream->device = d;
    *out_stream = p.streams.insert(std::move(stream));
  });
}

plinth_status_t stream_destroy(plinth_stream_t stream) {
  // The worker finishes the queue before its thread ends.
  return sdk::guard([&] { plugin().streams.erase(stream); });
}

plinth_status_t stream_synchronize(plinth_stream_t stream) {
  // No work of this plugin fails while it runs, so there is never an asynchronous error to return.
  return sdk::guard([&] { plugin().streams.get(stream).worker.wait_idle(); });
}

plinth_status_t copy_host_to_buffer(plinth_stream_t stream, const void* src, plinth_buffer_t dst,
                                    uint64_t dst_offset, uint64_t size) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    Stream& s = p.streams.get(stream);
    Buffer& b = p.buffers.get(dst);
    expect_same_device(s.device, b.device, "copy_host_to_buffer: stream and dst");
    sdk::require(src != nullptr || size == 0, "copy_host_to_buffer: src is NULL");
    check_range(dst_offset, size, b.size, "copy_host_to_buffer: dst");
    std::byte* to = b.bytes.get() + dst_offset;
    std::lock_guard lock(s.submit);
    s.worker.submit([to, src, size] {
      if (size > 0) std::memcpy(to, src, size);
    });
  });
}

plinth_status_t copy_buffer_to_host(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                    void* dst, uint64_t size) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    Stream& s = p.streams.get(stream);
    Buffer& b = p.buffers.get(src);
    expect_same_device(s.device, b.device, "copy_buffer_to_host: stream and src");
    sdk::require(dst != nullptr || size == 0, "copy_buffer_to_host: dst is NULL");
    check_range(src_offset, size, b.size, "copy_buffer_to_host: src");
    const std::byte* from = b.bytes.get() + src_offset;
    std::lock_guard lock(s.submit);
    s.worker.submit([from, dst, size] {
      if (size > 0) std::memcpy(dst, from, size);
    });
  });
}

plinth_status_t copy_buffer(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                            plinth_buffer_t dst, uint64_t dst_offset, uint64_t size) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    Stream& s = p.streams.get(stream);
    Buffer& from = p.buffers.get(src);
    Buffer& to = p.buffers.get(dst);
    expect_same_device(s.device, from.device, "copy_buffer: stream and src");
    expect_same_device(s.device, to.device, "copy_buffer: stream and dst");
    check_range(src_offset, size, from.size, "copy_buffer: src");
    check_range(dst_offset, size, to.size, "copy_buffer: dst");
    if (&from == &to && size > 0 && src_offset < dst_offset + size && dst_offset < src_offset + size) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "copy_buffer: source and destination regions overlap");
    }
    std::byte* out = to.bytes.get() + dst_offset;
    const std::byte* in = from.bytes.get() + src_offset;
    std::lock_guard lock(s.submit);
    s.worker.submit([out, in, size] {
      if (size > 0) std::memcpy(out, in, size);
    });
  });
}

// ---- events ---------------------------------------------------------------------------------------

plinth_status_t event_create(plinth_device_t device, uint32_t flags, plinth_event_t* out_event) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    const Device* d = &p.devices.get(device);
    sdk::require(out_event != nullptr, "event_create: out_event is NULL");
    sdk::require((flags & ~PLINTH_EVENT_FLAG_TIMING) == 0, "event_create: unknown flags");
    auto event = std::make_unique<Event>();
    event->device = d;
    event->timing = (flags & PLINTH_EVENT_FLAG_TIMING) != 0;
    *out_event = p.events.insert(std::move(event));
  });
}

plinth_status_t event_destroy(plinth_event_t event) {
  return sdk::guard([&] { plugin().events.erase(event); });
}

plinth_status_t event_record(plinth_event_t event, plinth_stream_t stream) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    Event& e = p.events.get(event);
    Stream& s = p.streams.get(stream);
    expect_same_device(e.device, s.device, "event_record: event and stream");
    std::lock_guard order(s.submit);
    std::shared_ptr<EventState> state = e.state;
    uint64_t generation;
    {
      std::lock_guard lock(state->mutex);
      generation = ++state->recorded;
    }
    if constexpr (kDefect == 2) {
      state->complete(generation);  // the defect: complete before the work ahead of the record ran
    } else {
      s.worker.submit([state, generation] { state->complete(generation); });
    }
  });
}

plinth_status_t stream_wait_event(plinth_stream_t stream, plinth_event_t event) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    Stream& s = p.streams.get(stream);
    Event& e = p.events.get(event);
    expect_same_device(e.device, s.device, "stream_wait_event: event and stream");
    std::shared_ptr<EventState> state = e.state;
    const uint64_t generation = state->latest();
    if (generation == 0) return;         // never recorded: no wait
    if constexpr (kDefect == 1) return;  // the defect: the wait is never enqueued
    std::lock_guard order(s.submit);
    s.worker.submit([state, generation] { state->wait(generation); });
  });
}

plinth_status_t event_synchronize(plinth_event_t event) {
  return sdk::guard([&] {
    std::shared_ptr<EventState> state = plugin().events.get(event).state;
    const uint64_t generation = state->latest();
    state->wait(generation);
  });
}

plinth_status_t event_query(plinth_event_t event) {
  bool done = true;
  const plinth_status_t st = sdk::guard([&] {
    std::shared_ptr<EventState> state = plugin().events.get(event).state;
    std::lock_guard lock(state->mutex);
    done = state->completed >= state->recorded;
  });
  return st == PLINTH_OK && !done ? PLINTH_ERROR_NOT_READY : st;
}

plinth_status_t event_elapsed_ms(plinth_event_t start, plinth_event_t end, float* out_ms) {
  bool not_ready = false;
  const plinth_status_t st = sdk::guard([&] {
    Plugin& p = plugin();
    Event& a = p.events.get(start);
    Event& b = p.events.get(end);
    sdk::require(out_ms != nullptr, "event_elapsed_ms: out_ms is NULL");
    expect_same_device(a.device, b.device, "event_elapsed_ms: events");
    sdk::require(a.timing && b.timing, "event_elapsed_ms: both events need PLINTH_EVENT_FLAG_TIMING");
    std::optional<Clock::time_point> t0, t1;
    bool done = true;
    for (auto [e, t] : {std::pair{&a, &t0}, std::pair{&b, &t1}}) {
      std::lock_guard lock(e->state->mutex);
      sdk::require(e->state->recorded > 0, "event_elapsed_ms: an event was never recorded");
      done = done && e->state->completed >= e->state->recorded;
      *t = e->state->time;
    }
    if (!done) {
      not_ready = true;
      return;
    }
    *out_ms = std::chrono::duration<float, std::milli>(*t1 - *t0).count();
  });
  return st == PLINTH_OK && not_ready ? PLINTH_ERROR_NOT_READY : st;
}

// ---- ops ------------------------------------------------------------------------------------------

// Why this plugin does not run a valid call, or nothing if it does. Shared by op_supports and
// op_launch so the two always agree.
std::optional<std::string> unsupported_reason(const sdk::OpCall& call) {
  switch (call.op) {
    case PLINTH_OP_COPY:
    case PLINTH_OP_FILL:
    case PLINTH_OP_ADD:
    case PLINTH_OP_SCALE: break;
    default:
      return std::string("the template implements only copy, fill, add and scale; ") + sdk::op_name(call.op) +
             " is left to a real backend";
  }
  auto check = [&](const sdk::TensorView& t) -> std::optional<std::string> {
    if (t.dtype == PLINTH_DTYPE_F32) return std::nullopt;
    return std::string(sdk::op_name(call.op)) + " is implemented for f32 only, not " +
           sdk::dtype_name(t.dtype);
  };
  for (int i = 0; i < call.num_inputs; ++i) {
    if (const sdk::TensorView* t = call.input(i)) {
      if (auto reason = check(*t)) return reason;
    }
  }
  for (int i = 0; i < call.num_outputs; ++i) {
    if (auto reason = check(call.outputs[i])) return reason;
  }
  return std::nullopt;
}

// A tensor resolved to host memory, padded to 4 dims with leading 1s. Broadcast dims (extent 1 where
// the output is larger) get stride 0, so one 4-deep loop over the output serves every operand.
struct Strided {
  std::byte* base = nullptr;
  std::array<int64_t, PLINTH_MAX_DIMS> strides{};

  float load(const std::array<int64_t, PLINTH_MAX_DIMS>& i) const noexcept {
    float v;  // memcpy: a tensor's offset need not be 4-byte aligned
    std::memcpy(&v, at(i), sizeof v);
    return v;
  }
  void store(const std::array<int64_t, PLINTH_MAX_DIMS>& i, float v) const noexcept {
    std::memcpy(at(i), &v, sizeof v);
  }
  std::byte* at(const std::array<int64_t, PLINTH_MAX_DIMS>& i) const noexcept {
    int64_t off = 0;
    for (int k = 0; k < PLINTH_MAX_DIMS; ++k) off += i[k] * strides[k];
    return base + off;
  }
};

std::array<int64_t, PLINTH_MAX_DIMS> padded_dims(const sdk::TensorView& t) {
  std::array<int64_t, PLINTH_MAX_DIMS> d;
  d.fill(1);
  for (int k = 0; k < t.ndim; ++k) d[PLINTH_MAX_DIMS - t.ndim + k] = t.dims[k];
  return d;
}

Strided resolve(Plugin& p, const sdk::TensorView& t) {
  Strided s;
  s.base = p.buffers.get(t.buffer).bytes.get() + t.offset;
  const auto dims = padded_dims(t);
  for (int k = 0; k < t.ndim; ++k) {
    const int j = PLINTH_MAX_DIMS - t.ndim + k;
    s.strides[j] = dims[j] == 1 ? 0 : t.strides[k];  // extent 1 never steps (and broadcasts)
  }
  return s;
}

template <class F>
void for_each_index(const std::array<int64_t, PLINTH_MAX_DIMS>& dims, F&& f) {
  std::array<int64_t, PLINTH_MAX_DIMS> i{};
  for (i[0] = 0; i[0] < dims[0]; ++i[0])
    for (i[1] = 0; i[1] < dims[1]; ++i[1])
      for (i[2] = 0; i[2] < dims[2]; ++i[2])
        for (i[3] = 0; i[3] < dims[3]; ++i[3]) f(i);
}

// The kernels, bound at submission (buffers resolved now) and run later on the stream's worker.
// Elementwise in one pass, so y aliasing an input exactly (allowed for add and scale) reads each
// element before writing it.
std::function<void()> prepare(Plugin& p, const sdk::OpCall& call) {
  const Strided y = resolve(p, call.outputs[0]);
  const auto dims = padded_dims(call.outputs[0]);
  switch (call.op) {
    case PLINTH_OP_COPY: {
      const Strided x = resolve(p, call.inputs[0]);
      return [=] { for_each_index(dims, [&](const auto& i) { y.store(i, x.load(i)); }); };
    }
    case PLINTH_OP_FILL: {
      const auto value = static_cast<float>(call.params.fill.value);
      return [=] { for_each_index(dims, [&](const auto& i) { y.store(i, value); }); };
    }
    case PLINTH_OP_ADD: {
      const Strided a = resolve(p, call.inputs[0]);
      const Strided b = resolve(p, call.inputs[1]);
      return [=] { for_each_index(dims, [&](const auto& i) { y.store(i, a.load(i) + b.load(i)); }); };
    }
    case PLINTH_OP_SCALE: {
      const Strided x = resolve(p, call.inputs[0]);
      const float scale = call.params.scale.scale;
      const float bias = call.params.scale.bias;
      return [=] { for_each_index(dims, [&](const auto& i) { y.store(i, x.load(i) * scale + bias); }); };
    }
    default: sdk::fail(PLINTH_ERROR_INTERNAL, "prepare: op was not screened by unsupported_reason");
  }
}

plinth_status_t op_supports(plinth_device_t device, const plinth_op_call_t* call, uint32_t* out_supported) {
  return sdk::guard([&] {
    plugin().devices.get(device);
    sdk::require(out_supported != nullptr, "op_supports: out_supported is NULL");
    *out_supported = 0;
    std::optional<std::string> reason;
    try {
      const sdk::OpCall parsed = sdk::parse_op_call(call, {});  // no buffers in a query
      reason = unsupported_reason(parsed);
    } catch (const sdk::Error& e) {
      if (e.status() != PLINTH_ERROR_UNSUPPORTED) throw;  // a malformed call is an error
      reason = e.what();                                  // an unknown op id is "not supported"
    }
    if (reason) {
      sdk::set_last_error(PLINTH_ERROR_UNSUPPORTED, *reason);  // the answer's reason; status stays OK
      return;
    }
    *out_supported = 1;
  });
}

plinth_status_t op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  return sdk::guard([&] {
    Plugin& p = plugin();
    Stream& s = p.streams.get(stream);
    // Every buffer must be live and on the stream's device; parse_op_call checks each tensor's range.
    const sdk::OpCall parsed = sdk::parse_op_call(call, [&](plinth_buffer_t handle) {
      const Buffer& b = p.buffers.get(handle);
      expect_same_device(s.device, b.device, "op_launch: stream and tensor buffer");
      return b.size;
    });
    if (auto reason = unsupported_reason(parsed)) sdk::fail(PLINTH_ERROR_UNSUPPORTED, *reason);
    auto work = prepare(p, parsed);
    std::lock_guard lock(s.submit);
    s.worker.submit(std::move(work));
  });
}

// ---- the function table ---------------------------------------------------------------------------

// Immutable; entries left NULL are optional ones the core emulates (graphs).
const plinth_plugin_api_t kApi = {
    .struct_size = sizeof(plinth_plugin_api_t),
    .abi_major = PLINTH_ABI_VERSION_MAJOR,
    .next = nullptr,
    .abi_minor = PLINTH_ABI_VERSION_MINOR,
    .reserved0 = 0,
    .name = kPluginName,
    .version = kPluginVersion,
    .last_error_message = sdk::last_error_message,
    .last_error_vendor_code = sdk::last_error_vendor_code,
    .shutdown = shutdown,
    .probe = probe,
    .device_open = device_open,
    .device_close = device_close,
    .device_get_properties = device_get_properties,
    .device_memory_info = device_memory_info,
    .buffer_alloc = buffer_alloc,
    .buffer_free = buffer_free,
    .buffer_map = buffer_map,
    .buffer_unmap = buffer_unmap,
    .stream_create = stream_create,
    .stream_destroy = stream_destroy,
    .stream_synchronize = stream_synchronize,
    .copy_host_to_buffer = copy_host_to_buffer,
    .copy_buffer_to_host = copy_buffer_to_host,
    .copy_buffer = copy_buffer,
    .event_create = event_create,
    .event_destroy = event_destroy,
    .event_record = event_record,
    .stream_wait_event = stream_wait_event,
    .event_synchronize = event_synchronize,
    .event_query = event_query,
    .event_elapsed_ms = event_elapsed_ms,
    .graph_begin_capture = nullptr,
    .graph_end_capture = nullptr,
    .graph_launch = nullptr,
    .graph_destroy = nullptr,
    .op_supports = op_supports,
    .op_launch = op_launch,
};

}  // namespace

// The single exported symbol. The table is returned even on a version mismatch so the host can name
// the plugin in its message (abi.h); no entry is usable then.
extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  if (out_api == nullptr) {
    sdk::set_last_error(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: out_api is NULL");
    return PLINTH_ERROR_INVALID_ARGUMENT;
  }
  *out_api = &kApi;
  const plinth_status_t status = sdk::check_host(host);
  if (status != PLINTH_OK) return status;
  return sdk::guard([&] {
    std::unique_ptr<Plugin>& p = plugin_slot();
    if (!p) p = std::make_unique<Plugin>();  // a second init without shutdown keeps the state
    p->log.set(host);
    p->log(PLINTH_LOG_DEBUG, std::string("template plugin ") + kPluginVersion + " initialized");
  });
}
