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
// The SDK adapter (plinth/sdk/plugin.hpp) builds the ABI table and does the argument checks.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/sdk/device_loss.hpp"
#include "plinth/sdk/plugin.hpp"

namespace {

namespace sdk = plinth::sdk;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kCapacity = 64ull << 20;
constexpr uint32_t kAlignment = 64;

class Device;

struct Buffer {
  Buffer(Device& d, const plinth_buffer_desc_t& desc);
  Buffer(const Buffer&) = delete;
  ~Buffer();
  Device& device;
  std::vector<std::byte> storage;
  std::byte* data = nullptr;
  uint64_t size = 0;
  uint32_t kind = 0;
  uint64_t queued = 0;  // queued operations that use the buffer and have not run yet
};

// A stream's work not run yet. Events and waits hold it weakly: a destroyed stream has run all of it.
struct Queue {
  explicit Queue(Device& d) : device(d) {}
  void run_until(uint64_t seq);
  Device& device;
  std::deque<std::function<void()>> tasks;
  uint64_t submitted = 0;
  uint64_t completed = 0;
};

struct Stream {
  explicit Stream(Device& d) : queue(std::make_shared<Queue>(d)) {}
  Stream(const Stream&) = delete;
  ~Stream();
  std::shared_ptr<Queue> queue;
};

struct Event {
  bool timing = false;
  std::weak_ptr<Queue> stream;  // expired: never recorded, or its stream is gone (then complete)
  uint64_t seq = 0;
  std::shared_ptr<std::optional<Clock::time_point>> stamp;  // set when the record runs
  bool done() const {
    const auto q = stream.lock();
    return q == nullptr || q->completed >= seq;
  }
};

// The PLINTH_PLUGIN_FAULT hook, and a log line for every call the host makes after the loss.
class Loss {
 public:
  explicit Loss(const sdk::HostLog& log) : loss_(sdk::DeviceLoss::hook_from_environment()), log_(log) {}
  bool lost() const { return loss_.lost(); }
  void check(std::string_view call) const {
    if (lost()) {
      log_(PLINTH_LOG_ERROR,
           "coretest: " + std::string(call) + " called after DEVICE_LOST (only destroy calls are valid)");
    }
    loss_.check(call);
  }
  void before_launch() { loss_.before_launch(); }

 private:
  sdk::DeviceLoss loss_;
  const sdk::HostLog& log_;
};

bool contiguous_f32(const sdk::TensorView& t) { return t.dtype == PLINTH_DTYPE_F32 && t.contiguous(); }

float* ptr(const sdk::TensorView& t, Buffer* b) { return reinterpret_cast<float*>(b->data + t.offset); }

void execute(const sdk::OpCall& c, const sdk::OpBuffers<Buffer>& bufs) {
  const int64_t n = c.outputs[0].numel();
  float* y = ptr(c.outputs[0], bufs.outputs[0]);
  auto in = [&](int i) { return ptr(c.inputs[i], bufs.inputs[static_cast<std::size_t>(i)]); };
  switch (c.op) {
    case PLINTH_OP_FILL:
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(c.params.fill.value);
      break;
    case PLINTH_OP_SCALE: {
      const float* x = in(0);
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] * c.params.scale.scale + c.params.scale.bias;
      break;
    }
    case PLINTH_OP_COPY: std::memmove(y, in(0), static_cast<std::size_t>(n) * sizeof(float)); break;
    case PLINTH_OP_ADD: {
      const float* a = in(0);
      const float* b = in(1);
      for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
      break;
    }
    case PLINTH_OP_MATMUL: {
      const auto& A = c.inputs[0];
      const auto& B = c.inputs[1];
      const bool tb = c.params.matmul.transpose_b != 0;
      const int64_t M = A.dims[0], K = A.dims[1], N = tb ? B.dims[0] : B.dims[1];
      const float* a = in(0);
      const float* b = in(1);
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

// One opened device. Every hook holds the plugin's one recursive mutex: running a stream's work may
// run another stream's work (event waits).
class Device {
 public:
  Device(std::recursive_mutex& m, const sdk::HostLog& log, uint32_t i) : mutex(m), index(i), loss_(log) {}
  std::recursive_mutex& mutex;
  const uint32_t index;
  uint64_t used = 0;

  Loss& loss() { return loss_; }

  void properties(plinth_device_properties_t& p) const {
    p.device_type = PLINTH_DEVICE_TYPE_VIRTUAL;
    sdk::copy_string(p.name, index == 0 ? "coretest full" : "coretest limited");
    sdk::copy_string(p.vendor, "Plinth tests");
    sdk::copy_string(p.arch, "host");
    p.total_memory = kCapacity;
    p.max_allocation = kCapacity;
    p.max_op_range = kCapacity;
    p.features = PLINTH_FEATURE_TIMESTAMPS | PLINTH_FEATURE_HOST_PINNED | PLINTH_FEATURE_SHARED_MEMORY |
                 (index == 0 ? PLINTH_FEATURE_UNIFIED_MEMORY : 0);
    p.compute_units = 1;
    p.min_alignment = kAlignment;
    p.subgroup_size = 1;
  }

  std::unique_ptr<Buffer> alloc(const plinth_buffer_desc_t& d) {
    std::lock_guard lock(mutex);
    if (used + d.size > kCapacity) {
      sdk::fail(PLINTH_ERROR_OUT_OF_MEMORY, "coretest: " + std::to_string(d.size) + " bytes requested, " +
                                                std::to_string(kCapacity - used) + " free");
    }
    return std::make_unique<Buffer>(*this, d);
  }
  void before_free(Buffer& b) {
    std::lock_guard lock(mutex);
    if (b.queued > 0 && !loss_.lost()) {
      sdk::fail(PLINTH_ERROR_INVALID_STATE,
                "coretest: buffer_free while " + std::to_string(b.queued) +
                    " queued operation(s) still use the buffer (the host must wait for them)");
    }
  }
  void* map(Buffer& b, uint64_t offset, uint64_t) {
    if (b.kind == PLINTH_MEMORY_DEVICE && index != 0)
      sdk::fail(PLINTH_ERROR_UNSUPPORTED, "device memory is not mappable");
    return b.data + offset;
  }

  std::unique_ptr<Stream> create_stream() { return std::make_unique<Stream>(*this); }
  std::unique_ptr<Event> create_event(bool timing) {
    auto e = std::make_unique<Event>();
    e->timing = timing;
    return e;
  }

  void copy_to_buffer(Stream& s, const void* src, Buffer& dst, uint64_t offset, uint64_t size) {
    std::byte* d = dst.data + offset;
    enqueue(s, [=] { std::memcpy(d, src, size); }, {&dst});
  }
  void copy_to_host(Stream& s, Buffer& src, uint64_t offset, void* dst, uint64_t size) {
    const std::byte* p = src.data + offset;
    enqueue(s, [=] { std::memcpy(dst, p, size); }, {&src});
  }
  void copy_buffer(Stream& s, Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset,
                   uint64_t size) {
    const std::byte* p = src.data + src_offset;
    std::byte* d = dst.data + dst_offset;
    enqueue(s, [=] { std::memmove(d, p, size); }, {&src, &dst});
  }

  void synchronize(Stream& s) {
    std::lock_guard lock(mutex);
    s.queue->run_until(s.queue->submitted);
  }
  void record(Event& e, Stream& s) {
    std::lock_guard lock(mutex);
    e.stream = s.queue;
    e.seq = s.queue->submitted + 1;
    e.stamp = std::make_shared<std::optional<Clock::time_point>>();  // an older record stamps its own
    enqueue(s, [stamp = e.stamp] { *stamp = Clock::now(); });
  }
  // Lazy: the wait runs the other stream when this one reaches it.
  void wait(Stream& s, Event& e) {
    std::lock_guard lock(mutex);
    enqueue(s, [other = e.stream, seq = e.seq] {
      if (const auto q = other.lock()) q->run_until(seq);
    });
  }
  void synchronize(Event& e) {
    std::lock_guard lock(mutex);
    if (const auto q = e.stream.lock()) q->run_until(e.seq);
  }
  bool query(Event& e) {
    std::lock_guard lock(mutex);
    return e.done();
  }
  float elapsed_ms(Event& a, Event& b) {
    std::lock_guard lock(mutex);
    if (!a.done() || !b.done()) sdk::fail(PLINTH_ERROR_NOT_READY, "events not complete");
    if (!*a.stamp || !*b.stamp) sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "event never recorded");
    return std::chrono::duration<float, std::milli>(**b.stamp - **a.stamp).count();
  }

  // Returns "" when the device runs `call`, else the reason.
  std::string supports(const sdk::OpCall& c) const {
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
        if (index != 0) return "the coretest limited device has no matmul";
        if (c.inputs[0].ndim != 2 || c.inputs[1].ndim != 2 || c.params.matmul.transpose_a) {
          return "coretest matmul is 2-d without transpose_a";
        }
        return "";
      default: return std::string("coretest does not implement ") + sdk::op_name(c.op);
    }
  }
  void launch(Stream& s, const sdk::OpCall& c, const sdk::OpBuffers<Buffer>& bufs) {
    std::vector<Buffer*> uses;
    for (int i = 0; i < c.num_inputs; ++i) {
      if (c.input(i)) uses.push_back(bufs.inputs[static_cast<std::size_t>(i)]);
    }
    for (int i = 0; i < c.num_outputs; ++i) uses.push_back(bufs.outputs[static_cast<std::size_t>(i)]);
    enqueue(
        s, [c, bufs] { execute(c, bufs); }, std::move(uses));
  }

 private:
  // `uses`: the buffers the task reads or writes; each counts the task until it has run.
  void enqueue(Stream& s, std::function<void()> task, std::vector<Buffer*> uses = {}) {
    std::lock_guard lock(mutex);
    for (Buffer* b : uses) ++b->queued;
    s.queue->tasks.push_back([task = std::move(task), uses = std::move(uses)] {
      for (Buffer* b : uses) --b->queued;
      task();
    });
    ++s.queue->submitted;
  }

  Loss loss_;
};

Buffer::Buffer(Device& d, const plinth_buffer_desc_t& desc)
    : device(d), size(desc.size), kind(desc.memory_kind) {
  const uint64_t align = std::max<uint64_t>(kAlignment, desc.alignment);
  storage.resize(desc.size + align);
  const auto addr = reinterpret_cast<uintptr_t>(storage.data());
  data = storage.data() + ((align - addr % align) % align);
  device.used += size;  // under the device's lock (alloc)
}

Buffer::~Buffer() {
  std::lock_guard lock(device.mutex);
  device.used -= size;
}

void Queue::run_until(uint64_t seq) {
  if (device.loss().lost()) {
    // A lost device never runs what was queued; its buffers may be gone already.
    tasks.clear();
    completed = submitted;
    return;
  }
  while (completed < seq && !tasks.empty()) {
    auto task = std::move(tasks.front());
    tasks.pop_front();
    task();
    ++completed;
  }
}

Stream::~Stream() {
  std::lock_guard lock(queue->device.mutex);
  queue->run_until(queue->submitted);
}

struct CoretestPlugin {
  static constexpr const char* kName = "coretest";
  static constexpr const char* kVersion = "1.0-test";
  using Device = ::Device;
  explicit CoretestPlugin(const sdk::HostLog& host_log) : log(host_log) {
    log(PLINTH_LOG_INFO, "coretest plugin initialized");
  }
  std::vector<sdk::ProbeInfo> probe() const {
    return {{0, "coretest full", ""},
            {1, "coretest limited", ""},
            {2, "coretest broken", "simulated: driver not installed"}};
  }
  std::unique_ptr<Device> open(uint32_t index) { return std::make_unique<Device>(mutex, log, index); }
  std::recursive_mutex mutex;
  const sdk::HostLog& log;
};

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return sdk::plugin_init<CoretestPlugin>(host, out_api);
}
