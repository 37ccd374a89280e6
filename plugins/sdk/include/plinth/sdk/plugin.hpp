// The plugin adapter: builds a whole plinth_plugin_api_t from a backend's typed hooks.
//
// Every C++ plugin used to fill its ~30 entries by hand, each with its own guard, NULL checks,
// range checks and same-device checks, and the copies drifted apart into bugs. The adapter owns all
// of that once, in the style of IREE's HAL and ggml-backend (a small typed interface, the checking
// done around it), so a backend writes only what is particular to its hardware:
//
//   struct MyPlugin {                             // one per initialization (plugin-wide state)
//     static constexpr const char* kName = "my", *kVersion = "1.0";
//     using Device = MyDevice;  // Buffer, Stream, Event (and Graph) are what its hooks return
//     explicit MyPlugin(const sdk::HostLog& log);  // or default-constructible
//     std::vector<sdk::ProbeInfo> probe();
//     std::unique_ptr<Device> open(uint32_t index);  // only for an index probe lists as usable
//   };
//   extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* h,
//                                                                      const plinth_plugin_api_t** api) {
//     return sdk::plugin_init<MyPlugin>(h, api);
//   }
//
// The hooks live on Device, which receives the objects it works on (they are plain data to the
// adapter; destroying one is its destructor, so a Stream's destructor waits for its work). The
// adapter destroys every object before its device:
//   void properties(plinth_device_properties_t&);     // fields start zeroed
//   std::unique_ptr<Buffer> alloc(const plinth_buffer_desc_t&);  // size > 0, alignment 0 or 2^k,
//                                                                 // known memory kind: checked
//   std::unique_ptr<Stream> create_stream();
//   std::unique_ptr<Event> create_event(bool timing);
//   void copy_to_buffer(Stream&, const void* src, Buffer& dst, uint64_t offset, uint64_t size);
//   void copy_to_host(Stream&, Buffer& src, uint64_t offset, void* dst, uint64_t size);
//   void copy_buffer(Stream&, Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset,
//                    uint64_t size);                  // copies: size > 0, in range, no overlap
//   void synchronize(Stream&);  void record(Event&, Stream&);  void wait(Stream&, Event&);
//   void synchronize(Event&);   bool query(Event&);   // event hooks: only for recorded events
//   std::string supports(const sdk::OpCall&);          // "" or why not
//   void launch(Stream&, const sdk::OpCall&, const sdk::OpBuffers<Buffer>&);
// Optional hooks; when Device lacks one its table entries stay NULL:
//   sdk::MemoryInfo memory_info();
//   void* map(Buffer&, uint64_t offset, uint64_t size);  void unmap(Buffer&);  // unmap may be absent
//   float elapsed_ms(Event& start, Event& end);        // both timing events, both recorded
//   void begin_capture(Stream&);  std::unique_ptr<Graph> end_capture(Stream&);  // all three, or
//   void launch_graph(Graph&, Stream&);                                         // none of them
//   sdk::DeviceLoss& loss();  // opts into DEVICE_LOST checks on every create/submit/wait entry and
//                             // the PLINTH_PLUGIN_FAULT launch hook (any type with DeviceLoss's
//                             // check and before_launch will do, e.g. one that also logs)
//   void before_free(Buffer&);  // buffer_free asks it first; throwing refuses the free (the buffer
//                               // stays live), e.g. while queued work still uses the buffer
//   std::span<const sdk::ExtensionSpec> extensions();  // vendor extension ops (abi.h 1.1), fixed
//       // while the device is open; supports/launch then also get calls with call.extension set
// Hooks report failures by throwing sdk::Error (sdk::fail); the adapter prefixes the entry's name.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "plinth/abi.h"
#include "plinth/abi_lists.h"
#include "plinth/sdk/handles.hpp"
#include "plinth/sdk/log.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/probe.hpp"
#include "plinth/sdk/status.hpp"
#include "plinth/sdk/structs.hpp"

namespace plinth::sdk {

// One probe result. `reason` empty means usable (abi.h ties the two together, so there is one field).
struct ProbeInfo {
  uint32_t index = 0;  // UINT32_MAX for a plugin-wide reason
  std::string name;
  std::string reason;
};

struct MemoryInfo {
  uint64_t free = 0;
  uint64_t total = 0;
};

// The live buffers of an op's tensors, resolved and checked to be of the stream's device.
template <class Buffer>
struct OpBuffers {
  std::array<Buffer*, kMaxOpInputs> inputs{};  // nullptr for an optional slot passed as NULL
  std::array<Buffer*, kMaxOpOutputs> outputs{};
};

namespace detail {

// offset + size inside a buffer of `limit` bytes, computed without overflow.
inline void check_range(uint64_t offset, uint64_t size, uint64_t limit, const char* what) {
  if (offset > limit || size > limit - offset) {
    fail(PLINTH_ERROR_OUT_OF_RANGE, std::string(what) + ": bytes [" + std::to_string(offset) + ", +" +
                                        std::to_string(size) + ") lie outside the buffer of " +
                                        std::to_string(limit) + " bytes");
  }
}

// "Same device" is the identity of the opened device (abi.h rule 8): two opens of one index differ.
inline void check_same_device(const void* a, const void* b, const char* what) {
  if (a != b) fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + " belong to different devices");
}

// The object types are those the Device's hooks return, so a backend names only its Device.
struct NoGraph {};
template <class D, class S>
struct GraphOf {
  using type = NoGraph;
};
template <class D, class S>
requires requires(D& d, S& s) { d.end_capture(s); }
struct GraphOf<D, S> {
  using type = typename decltype(std::declval<D&>().end_capture(std::declval<S&>()))::element_type;
};

}  // namespace detail

template <class Impl>
class PluginAdapter {
  using Device = typename Impl::Device;
  using Buffer = typename decltype(std::declval<Device&>().alloc(plinth_buffer_desc_t{}))::element_type;
  using Stream = typename decltype(std::declval<Device&>().create_stream())::element_type;
  using Event = typename decltype(std::declval<Device&>().create_event(true))::element_type;
  using Graph = typename detail::GraphOf<Device, Stream>::type;

  static constexpr bool kHasMemoryInfo = requires(Device & d) { d.memory_info(); };
  static constexpr bool kHasMap = requires(Device & d, Buffer& b) { d.map(b, uint64_t{}, uint64_t{}); };
  static constexpr bool kHasUnmap = requires(Device & d, Buffer& b) { d.unmap(b); };
  static constexpr bool kHasElapsed = requires(Device & d, Event& e) { d.elapsed_ms(e, e); };
  static constexpr bool kHasGraphs = requires(Device & d, Stream& s, Graph& g) {
    d.begin_capture(s);
    d.end_capture(s);
    d.launch_graph(g, s);
  };
  static constexpr bool kHasLoss = requires(Device & d) { d.loss().check(std::string_view{}); };
  static constexpr bool kHasBeforeFree = requires(Device & d, Buffer& b) { d.before_free(b); };
  static constexpr bool kHasExtensions = requires(Device & d) {
    std::span<const ExtensionSpec>(d.extensions());
  };

  static std::span<const ExtensionSpec> extensions_of([[maybe_unused]] Device& d) {
    if constexpr (kHasExtensions) {
      return d.extensions();
    } else {
      return {};
    }
  }

  // The adapter's record of each object: the backend's object plus what every entry checks (its
  // device's identity, sizes, map and record state), so no backend keeps these itself.
  struct DeviceNode {
    std::unique_ptr<Device> impl;
  };
  template <class T>
  struct Node {
    Node(const DeviceNode* d, std::unique_ptr<T> object) : device(d), impl(std::move(object)) {}
    const DeviceNode* device;
    std::unique_ptr<T> impl;
  };
  using StreamNode = Node<Stream>;
  using GraphNode = Node<Graph>;
  struct BufferNode : Node<Buffer> {
    BufferNode(const DeviceNode* d, std::unique_ptr<Buffer> b, uint64_t n)
        : Node<Buffer>(d, std::move(b)), size(n) {}
    uint64_t size;
    std::atomic<bool> mapped{false};
  };
  struct EventNode : Node<Event> {
    EventNode(const DeviceNode* d, std::unique_ptr<Event> e, bool t)
        : Node<Event>(d, std::move(e)), timing(t) {}
    bool timing;
    std::atomic<bool> recorded{false};
  };

  // The one plugin-state object, created by the first plinth_plugin_init, destroyed by shutdown.
  // Members are declared so that the backend's plugin state outlives every object.
  struct State {
    HostLog log;
    Impl impl;
    HandleTable<plinth_device_t, DeviceNode> devices{"device"};
    HandleTable<plinth_buffer_t, BufferNode> buffers{"buffer"};
    HandleTable<plinth_stream_t, StreamNode> streams{"stream"};
    HandleTable<plinth_event_t, EventNode> events{"event"};
    HandleTable<plinth_graph_t, GraphNode> graphs{"graph"};

    explicit State(const plinth_host_services_t* host) : log(with_host(host)), impl(make_impl(log)) {}
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() {  // shutdown reclaims whatever the host left open
      for (auto& device : devices.erase_if([](const DeviceNode&) { return true; })) reclaim(*device);
    }

    // A closed device's leftovers, in an order that is safe for a device with work in flight:
    // streams first (their destructors wait for queued work, which may replay graphs and use
    // events and buffers), then graphs (which reference buffers), events, and buffers last.
    // Leftovers are host leaks (abi.h rule 7 allows them), so they are counted in the host's log.
    void reclaim(const DeviceNode& device) {
      auto mine = [&](const auto& node) { return node.device == &device; };
      const std::size_t n_streams = streams.erase_if(mine).size();
      const std::size_t n_graphs = graphs.erase_if(mine).size();
      const std::size_t n_events = events.erase_if(mine).size();
      const std::size_t n_buffers = buffers.erase_if(mine).size();
      if (n_streams + n_graphs + n_events + n_buffers > 0) {
        log(PLINTH_LOG_WARN, std::string(Impl::kName) + ": closing a device reclaimed objects the host left open: " +
                                 std::to_string(n_buffers) + " buffers, " + std::to_string(n_streams) + " streams, " +
                                 std::to_string(n_events) + " events, " + std::to_string(n_graphs) + " graphs");
      }
    }

    static HostLog with_host(const plinth_host_services_t* host) {
      HostLog log;
      log.set(host);
      return log;
    }
    static Impl make_impl(const HostLog& log) {
      if constexpr (std::is_constructible_v<Impl, const HostLog&>) {
        return Impl(log);
      } else {
        return Impl();
      }
    }
  };

  static std::unique_ptr<State>& slot() {
    // The single plugin-state object. No lock: abi.h rule 6 has the host call init and shutdown
    // while no other call is in progress, so entries only ever read it.
    static std::unique_ptr<State> state;
    return state;
  }
  static State& state() {
    const std::unique_ptr<State>& s = slot();
    if (!s) fail(PLINTH_ERROR_INVALID_STATE, std::string(Impl::kName) + " plugin is not initialized");
    return *s;
  }

  // sdk::guard, with the entry's name put in front of every message (abi.h rule 4 wants it named).
  template <class F>
  static plinth_status_t entry(const char* name, F&& body) noexcept {
    return guard([&] {
      try {
        body();
      } catch (const Error& e) {
        if (std::string_view(e.what()).starts_with(name)) throw;
        throw Error(e.status(), std::string(name) + ": " + e.what(), e.vendor_code());
      }
    });
  }

  static void check_loss([[maybe_unused]] const DeviceNode& d, [[maybe_unused]] const char* what) {
    if constexpr (kHasLoss) d.impl->loss().check(what);
  }

  // The stream an entry submits to next to `other` (an event or graph): live, of other's device
  // (rule 8), on a device that is not lost.
  template <class Other>
  static StreamNode& stream_beside(const Other& other, plinth_stream_t stream, const char* pair,
                                   const char* name) {
    StreamNode& s = state().streams.get(stream);
    detail::check_same_device(other.device, s.device, pair);
    check_loss(*s.device, name);
    return s;
  }

  // ---- lifetime and discovery ---------------------------------------------------------------------

  static plinth_status_t shutdown() {
    return entry("shutdown", [] { slot().reset(); });
  }

  static plinth_status_t probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
    return entry("probe", [&] {
      require(out_count != nullptr, "out_count is NULL");
      require(entries != nullptr || capacity == 0, "entries is NULL with capacity > 0");
      const std::vector<ProbeInfo> found = state().impl.probe();
      for (std::size_t i = 0; i < std::min<std::size_t>(capacity, found.size()); ++i) {
        plinth_probe_entry_t e{};
        e.struct_size = sizeof e;
        e.index = found[i].index;
        // abi.h: usable exactly when there is no reason, and a plugin-wide entry never is.
        e.usable = found[i].reason.empty() && found[i].index != UINT32_MAX ? 1 : 0;
        copy_string(e.name, found[i].name);
        copy_string(e.reason, found[i].reason);
        write_probe_entry(entries, static_cast<uint32_t>(i), e);  // at the host's stride
      }
      *out_count = static_cast<uint32_t>(found.size());
    });
  }

  static plinth_status_t device_open(uint32_t index, plinth_device_t* out_device) {
    return entry("device_open", [&] {
      require(out_device != nullptr, "out_device is NULL");
      State& s = state();
      // The probe list decides which indices exist, so open and probe cannot disagree.
      const std::vector<ProbeInfo> found = s.impl.probe();
      const auto it = std::find_if(found.begin(), found.end(), [&](const ProbeInfo& p) {
        return p.index == index && index != UINT32_MAX;
      });
      if (it == found.end()) {
        std::string message = "no device " + std::to_string(index);
        for (const ProbeInfo& p : found) {  // say why there is none ("CUDA driver not found")
          if (p.index == UINT32_MAX && !p.reason.empty()) message += ": " + p.reason;
        }
        fail(PLINTH_ERROR_OUT_OF_RANGE, message);
      }
      if (!it->reason.empty())
        fail(PLINTH_ERROR_UNSUPPORTED, "device " + std::to_string(index) + ": " + it->reason);
      auto node = std::make_unique<DeviceNode>();
      node->impl = s.impl.open(index);
      *out_device = s.devices.insert(std::move(node));
    });
  }

  static plinth_status_t device_close(plinth_device_t device) {
    return entry("device_close", [&] {
      State& s = state();
      const std::unique_ptr<DeviceNode> node = s.devices.erase(device);
      s.reclaim(*node);
    });
  }

  static plinth_status_t device_get_properties(plinth_device_t device, plinth_device_properties_t* props) {
    return entry("device_get_properties", [&] {
      DeviceNode& d = state().devices.get(device);
      require(props != nullptr, "props is NULL");
      plinth_device_properties_t p{};
      p.struct_size = sizeof p;
      d.impl->properties(p);
      write_struct(props, p, sizeof p, "props");
    });
  }

  static plinth_status_t device_memory_info(plinth_device_t device, uint64_t* out_free, uint64_t* out_total) {
    return entry("device_memory_info", [&] {
      DeviceNode& d = state().devices.get(device);
      require(out_free != nullptr && out_total != nullptr, "NULL output pointer");
      check_loss(d, "device_memory_info");
      const MemoryInfo info = d.impl->memory_info();
      *out_total = info.total;
      *out_free = std::min(info.free, info.total);
    });
  }

  // ---- buffers ------------------------------------------------------------------------------------

  static plinth_status_t buffer_alloc(plinth_device_t device, const plinth_buffer_desc_t* desc,
                                      plinth_buffer_t* out_buffer) {
    return entry("buffer_alloc", [&] {
      State& s = state();
      DeviceNode& d = s.devices.get(device);
      require(out_buffer != nullptr, "out_buffer is NULL");
      const auto in = read_struct(desc, plinth_buffer_desc_t{}, sizeof(plinth_buffer_desc_t), "desc");
      require(in.size > 0, "desc->size is 0");
      require((in.alignment & (in.alignment - 1)) == 0, "desc->alignment is not a power of two");
      if (in.memory_kind > PLINTH_MEMORY_SHARED) {
        fail(PLINTH_ERROR_UNSUPPORTED, "unknown memory kind " + std::to_string(in.memory_kind));
      }
      check_loss(d, "buffer_alloc");
      auto node = std::make_unique<BufferNode>(&d, d.impl->alloc(in), in.size);
      *out_buffer = s.buffers.insert(std::move(node));
    });
  }

  static plinth_status_t buffer_free(plinth_buffer_t buffer) {
    return entry("buffer_free", [&] {
      if constexpr (kHasBeforeFree) {
        BufferNode& b = state().buffers.get(buffer);
        b.device->impl->before_free(*b.impl);
      }
      state().buffers.erase(buffer);
    });
  }

  static plinth_status_t buffer_map(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr) {
    return entry("buffer_map", [&] {
      BufferNode& b = state().buffers.get(buffer);
      require(out_ptr != nullptr, "out_ptr is NULL");
      detail::check_range(offset, size, b.size, "buffer_map");
      check_loss(*b.device, "buffer_map");
      if (b.mapped.exchange(true)) fail(PLINTH_ERROR_INVALID_STATE, "the buffer is already mapped");
      try {
        *out_ptr = b.device->impl->map(*b.impl, offset, size);
      } catch (...) {
        b.mapped = false;  // a failed call has no effect (rule 4)
        throw;
      }
    });
  }

  static plinth_status_t buffer_unmap(plinth_buffer_t buffer) {
    return entry("buffer_unmap", [&] {
      BufferNode& b = state().buffers.get(buffer);
      if (!b.mapped.exchange(false)) fail(PLINTH_ERROR_INVALID_STATE, "the buffer is not mapped");
      if constexpr (kHasUnmap) b.device->impl->unmap(*b.impl);
    });
  }

  // ---- streams and copies -------------------------------------------------------------------------

  static plinth_status_t stream_create(plinth_device_t device, uint32_t flags, plinth_stream_t* out_stream) {
    return entry("stream_create", [&] {
      State& s = state();
      DeviceNode& d = s.devices.get(device);
      require(out_stream != nullptr, "out_stream is NULL");
      require(flags == 0, "flags must be 0 in ABI v1");
      check_loss(d, "stream_create");
      *out_stream = s.streams.insert(std::make_unique<StreamNode>(&d, d.impl->create_stream()));
    });
  }

  static plinth_status_t stream_destroy(plinth_stream_t stream) {
    return entry("stream_destroy", [&] { state().streams.erase(stream); });
  }

  static plinth_status_t stream_synchronize(plinth_stream_t stream) {
    return entry("stream_synchronize", [&] {
      StreamNode& s = state().streams.get(stream);
      check_loss(*s.device, "stream_synchronize");
      s.device->impl->synchronize(*s.impl);
    });
  }

  // What both host copies check before their hook: live handles of one device, a host pointer unless
  // size is 0, the range inside the buffer, and a device that is not lost.
  struct HostCopy {
    StreamNode& stream;
    BufferNode& buffer;
  };
  static HostCopy check_host_copy(const char* name, plinth_stream_t stream, plinth_buffer_t buffer,
                                  uint64_t offset, const void* host, uint64_t size, bool to_buffer) {
    State& st = state();
    StreamNode& s = st.streams.get(stream);
    BufferNode& b = st.buffers.get(buffer);
    detail::check_same_device(s.device, b.device, to_buffer ? "stream and dst" : "stream and src");
    require(host != nullptr || size == 0, to_buffer ? "src is NULL" : "dst is NULL");
    detail::check_range(offset, size, b.size, to_buffer ? "dst" : "src");
    check_loss(*s.device, name);
    return {s, b};
  }

  static plinth_status_t copy_host_to_buffer(plinth_stream_t stream, const void* src, plinth_buffer_t dst,
                                             uint64_t dst_offset, uint64_t size) {
    return entry("copy_host_to_buffer", [&] {
      const HostCopy c = check_host_copy("copy_host_to_buffer", stream, dst, dst_offset, src, size, true);
      if (size > 0)
        c.stream.device->impl->copy_to_buffer(*c.stream.impl, src, *c.buffer.impl, dst_offset, size);
    });
  }

  static plinth_status_t copy_buffer_to_host(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                             void* dst, uint64_t size) {
    return entry("copy_buffer_to_host", [&] {
      const HostCopy c = check_host_copy("copy_buffer_to_host", stream, src, src_offset, dst, size, false);
      if (size > 0)
        c.stream.device->impl->copy_to_host(*c.stream.impl, *c.buffer.impl, src_offset, dst, size);
    });
  }

  static plinth_status_t copy_buffer(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                     plinth_buffer_t dst, uint64_t dst_offset, uint64_t size) {
    return entry("copy_buffer", [&] {
      State& st = state();
      StreamNode& s = st.streams.get(stream);
      BufferNode& from = st.buffers.get(src);
      BufferNode& to = st.buffers.get(dst);
      detail::check_same_device(s.device, from.device, "stream and src");
      detail::check_same_device(s.device, to.device, "stream and dst");
      detail::check_range(src_offset, size, from.size, "src");
      detail::check_range(dst_offset, size, to.size, "dst");
      if (&from == &to && size > 0 && src_offset < dst_offset + size && dst_offset < src_offset + size) {
        fail(PLINTH_ERROR_INVALID_ARGUMENT, "source and destination regions of one buffer overlap");
      }
      check_loss(*s.device, "copy_buffer");
      if (size > 0) s.device->impl->copy_buffer(*s.impl, *from.impl, src_offset, *to.impl, dst_offset, size);
    });
  }

  // ---- events -------------------------------------------------------------------------------------

  static plinth_status_t event_create(plinth_device_t device, uint32_t flags, plinth_event_t* out_event) {
    return entry("event_create", [&] {
      State& s = state();
      DeviceNode& d = s.devices.get(device);
      require(out_event != nullptr, "out_event is NULL");
      require((flags & ~PLINTH_EVENT_FLAG_TIMING) == 0, "unknown flags");
      check_loss(d, "event_create");
      const bool timing = (flags & PLINTH_EVENT_FLAG_TIMING) != 0;
      *out_event = s.events.insert(std::make_unique<EventNode>(&d, d.impl->create_event(timing), timing));
    });
  }

  static plinth_status_t event_destroy(plinth_event_t event) {
    return entry("event_destroy", [&] { state().events.erase(event); });
  }

  static plinth_status_t event_record(plinth_event_t event, plinth_stream_t stream) {
    return entry("event_record", [&] {
      EventNode& e = state().events.get(event);
      StreamNode& s = stream_beside(e, stream, "event and stream", "event_record");
      s.device->impl->record(*e.impl, *s.impl);
      e.recorded = true;
    });
  }

  static plinth_status_t stream_wait_event(plinth_stream_t stream, plinth_event_t event) {
    return entry("stream_wait_event", [&] {
      EventNode& e = state().events.get(event);
      StreamNode& s = stream_beside(e, stream, "event and stream", "stream_wait_event");
      if (e.recorded) s.device->impl->wait(*s.impl, *e.impl);  // never recorded: no wait (abi.h)
    });
  }

  static plinth_status_t event_synchronize(plinth_event_t event) {
    return entry("event_synchronize", [&] {
      EventNode& e = state().events.get(event);
      check_loss(*e.device, "event_synchronize");
      if (e.recorded) e.device->impl->synchronize(*e.impl);
    });
  }

  static plinth_status_t event_query(plinth_event_t event) {
    bool complete = true;
    const plinth_status_t status = entry("event_query", [&] {
      EventNode& e = state().events.get(event);
      check_loss(*e.device, "event_query");
      if (e.recorded) complete = e.device->impl->query(*e.impl);
    });
    return status == PLINTH_OK && !complete ? PLINTH_ERROR_NOT_READY : status;  // NOT_READY: no message
  }

  static plinth_status_t event_elapsed_ms(plinth_event_t start, plinth_event_t end, float* out_ms) {
    return entry("event_elapsed_ms", [&] {
      State& st = state();
      EventNode& a = st.events.get(start);
      EventNode& b = st.events.get(end);
      require(out_ms != nullptr, "out_ms is NULL");
      detail::check_same_device(a.device, b.device, "start and end");
      require(a.timing && b.timing, "both events need PLINTH_EVENT_FLAG_TIMING");
      require(a.recorded && b.recorded, "an event was never recorded");
      check_loss(*a.device, "event_elapsed_ms");
      *out_ms = a.device->impl->elapsed_ms(*a.impl, *b.impl);
    });
  }

  // ---- graphs -------------------------------------------------------------------------------------

  static plinth_status_t graph_begin_capture(plinth_stream_t stream) {
    return entry("graph_begin_capture", [&] {
      StreamNode& s = state().streams.get(stream);
      check_loss(*s.device, "graph_begin_capture");
      s.device->impl->begin_capture(*s.impl);
    });
  }

  static plinth_status_t graph_end_capture(plinth_stream_t stream, plinth_graph_t* out_graph) {
    return entry("graph_end_capture", [&] {
      State& st = state();
      StreamNode& s = st.streams.get(stream);
      require(out_graph != nullptr, "out_graph is NULL");
      check_loss(*s.device, "graph_end_capture");
      *out_graph =
          st.graphs.insert(std::make_unique<GraphNode>(s.device, s.device->impl->end_capture(*s.impl)));
    });
  }

  static plinth_status_t graph_launch(plinth_graph_t graph, plinth_stream_t stream) {
    return entry("graph_launch", [&] {
      GraphNode& g = state().graphs.get(graph);
      StreamNode& s = stream_beside(g, stream, "graph and stream", "graph_launch");
      s.device->impl->launch_graph(*g.impl, *s.impl);
    });
  }

  static plinth_status_t graph_destroy(plinth_graph_t graph) {
    return entry("graph_destroy", [&] { state().graphs.erase(graph); });
  }

  // ---- ops ----------------------------------------------------------------------------------------

  static plinth_status_t op_supports(plinth_device_t device, const plinth_op_call_t* call,
                                     uint32_t* out_supported) {
    return entry("op_supports", [&] {
      DeviceNode& d = state().devices.get(device);
      require(out_supported != nullptr, "out_supported is NULL");
      std::string reason;
      try {
        // Buffers are not used by a query.
        reason = d.impl->supports(parse_op_call(call, {}, extensions_of(*d.impl)));
      } catch (const Error& e) {
        if (e.status() != PLINTH_ERROR_UNSUPPORTED) throw;  // a malformed call is an error
        reason = e.what();                                  // an unknown op id is "not supported"
      }
      *out_supported = reason.empty() ? 1 : 0;
      // Answering 0 is PLINTH_OK with the reason as the thread's message (abi.h rule 4).
      if (!reason.empty()) set_last_error(PLINTH_OK, reason);
    });
  }

  static plinth_status_t op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
    return entry("op_launch", [&] {
      State& st = state();
      StreamNode& s = st.streams.get(stream);
      check_loss(*s.device, "op_launch");
      // parse_op_call checks each tensor against its buffer; the lookup adds liveness and device.
      const OpCall parsed = parse_op_call(
          call,
          [&](plinth_buffer_t handle) {
            const BufferNode& b = st.buffers.get(handle);
            detail::check_same_device(s.device, b.device, "stream and a tensor's buffer");
            return b.size;
          },
          extensions_of(*s.device->impl));
      if (std::string reason = s.device->impl->supports(parsed); !reason.empty()) {
        fail(PLINTH_ERROR_UNSUPPORTED, reason);
      }
      OpBuffers<Buffer> buffers;
      auto lookup = [&](const TensorView& t) {
        require(t.buffer != nullptr, "a tensor's buffer is NULL");
        return st.buffers.get(t.buffer).impl.get();
      };
      for (int i = 0; i < parsed.num_inputs; ++i) {
        if (const TensorView* t = parsed.input(i)) buffers.inputs[static_cast<std::size_t>(i)] = lookup(*t);
      }
      for (int i = 0; i < parsed.num_outputs; ++i) {
        buffers.outputs[static_cast<std::size_t>(i)] = lookup(parsed.outputs[static_cast<std::size_t>(i)]);
      }
      if constexpr (kHasLoss) s.device->impl->loss().before_launch();  // counts valid launches only
      s.device->impl->launch(*s.impl, parsed, buffers);
    });
  }

  static plinth_status_t extension_op_get(plinth_device_t device, uint32_t index,
                                          plinth_extension_op_t* out_op) {
    return entry("extension_op_get", [&] {
      DeviceNode& d = state().devices.get(device);
      require(out_op != nullptr, "out_op is NULL");
      const std::span<const ExtensionSpec> list = extensions_of(*d.impl);
      if (index >= list.size()) {
        fail(PLINTH_ERROR_OUT_OF_RANGE, "index " + std::to_string(index) + ": the device has " +
                                            std::to_string(list.size()) + " extension ops");
      }
      const ExtensionSpec& x = list[index];
      plinth_extension_op_t e{};
      e.struct_size = sizeof e;
      e.op = static_cast<plinth_op_t>(PLINTH_OP_EXTENSION_FIRST + index);
      copy_string(e.name, x.name);
      e.version = x.version;
      e.params_size = x.params_size;
      e.min_inputs = static_cast<uint32_t>(x.min_inputs);
      e.max_inputs = static_cast<uint32_t>(x.max_inputs);
      e.num_outputs = static_cast<uint32_t>(x.num_outputs);
      copy_string(e.description, x.description);
      write_struct(out_op, e, sizeof e, "out_op");
    });
  }

  // Whether the backend has the hooks of an optional entry (entries of one abi.h group go together).
  static constexpr bool implements(std::string_view field) {
    if (field == "device_memory_info") return kHasMemoryInfo;
    if (field == "buffer_map" || field == "buffer_unmap") return kHasMap;
    if (field == "event_elapsed_ms") return kHasElapsed;
    if (field.starts_with("graph_")) return kHasGraphs;
    if (field == "extension_op_get") return kHasExtensions;
    return true;  // last_error_vendor_code: the SDK's
  }

  static const char* last_error_message() noexcept { return sdk::last_error_message(); }
  static int64_t last_error_vendor_code() noexcept { return sdk::last_error_vendor_code(); }

  static constexpr plinth_plugin_api_t make_table() {
    plinth_plugin_api_t t{};
    t.struct_size = sizeof t;
    t.abi_major = PLINTH_ABI_VERSION_MAJOR;
    t.abi_minor = PLINTH_ABI_VERSION_MINOR;
    t.name = Impl::kName;
    t.version = Impl::kVersion;
    // One assignment per entry of abi_lists.h, so a table entry appended to the ABI cannot be missed
    // here: a required one then fails to compile until the adapter has its function.
#define PLINTH_SDK_SET_ENTRY(field, requirement, group, since) \
  if constexpr (requirement == PLINTH_ENTRY_REQUIRED || implements(#field)) t.field = &field;
    PLINTH_API_ENTRIES(PLINTH_SDK_SET_ENTRY)
#undef PLINTH_SDK_SET_ENTRY
#ifdef PLINTH_SDK_TABLE_MINOR
    // Test builds only: the table as a plugin built against an older minor's headers presents it
    // (its struct_size ends at that minor's last entry), to test hosts against old plugins.
    t.abi_minor = PLINTH_SDK_TABLE_MINOR;
#define PLINTH_SDK_TABLE_END(field, requirement, group, since) \
  if (since <= PLINTH_SDK_TABLE_MINOR) t.struct_size = offsetof(plinth_plugin_api_t, field) + sizeof t.field;
    PLINTH_API_ENTRIES(PLINTH_SDK_TABLE_END)
#undef PLINTH_SDK_TABLE_END
#endif
    return t;
  }

 public:
  // The plugin's table: constant-initialized, so it is static and valid while the library is loaded.
  static const plinth_plugin_api_t& api() noexcept {
    static constexpr plinth_plugin_api_t table = make_table();
    return table;
  }

  // plinth_plugin_init. The table is returned even on a version mismatch so the host can name the
  // plugin. A second call without shutdown keeps the state and its handles and switches the log.
  static plinth_status_t init(const plinth_host_services_t* host,
                              const plinth_plugin_api_t** out_api) noexcept {
    if (out_api == nullptr) {
      set_last_error(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: out_api is NULL");
      return PLINTH_ERROR_INVALID_ARGUMENT;
    }
    *out_api = &api();
    if (const plinth_status_t status = check_host(host); status != PLINTH_OK) return status;
    return entry("plinth_plugin_init", [&] {
      std::unique_ptr<State>& s = slot();
      if (s) {
        s->log.set(host);
      } else {
        s = std::make_unique<State>(host);
      }
    });
  }
};

// The usual spelling of the two things a backend needs from the adapter.
template <class Impl>
const plinth_plugin_api_t& make_api() noexcept {
  return PluginAdapter<Impl>::api();
}
template <class Impl>
plinth_status_t plugin_init(const plinth_host_services_t* host,
                            const plinth_plugin_api_t** out_api) noexcept {
  return PluginAdapter<Impl>::init(host, out_api);
}

}  // namespace plinth::sdk
