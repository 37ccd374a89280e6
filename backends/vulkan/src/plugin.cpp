// The exported entry point and the ABI function table; every entry is an sdk::guard barrier around
// the plugin objects.
#include <cstring>
#include <string>

#include "op_encoder.hpp"
#include "plinth/sdk/op_call.hpp"
#include "plinth/sdk/probe.hpp"
#include "plinth/sdk/structs.hpp"
#include "plugin_state.hpp"
#include "vk_error.hpp"

namespace plinth::vulkan {
namespace {

constexpr const char* kPluginVersion = "0.1.0";

std::unique_ptr<PluginState>& state_slot() {
  static std::unique_ptr<PluginState> state;
  return state;
}

PluginState& state() {
  auto& s = state_slot();
  if (!s) sdk::fail(PLINTH_ERROR_INVALID_STATE, "vulkan plugin is not initialized");
  return *s;
}

void check_range(const Buffer& b, uint64_t offset, uint64_t size, const char* what) {
  if (offset > b.size() || size > b.size() - offset) {
    sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, std::string(what) + ": range [" + std::to_string(offset) + ", +" +
                                             std::to_string(size) + ") lies outside a buffer of " +
                                             std::to_string(b.size()) + " bytes");
  }
}

// Every entry that uses a device calls this first: after a loss only the destroys work.
void usable(Device& device, const char* call) { device.loss().check(call); }

// abi.h rule 8: objects of one call belong to the same opened device (the same handle, not the same
// index: two opens of one GPU are two devices).
void expect_same_device(const Device& a, const Device& b, const char* what) {
  if (&a != &b) sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + " belong to different devices");
}

struct ProbeRow {
  uint32_t index;
  bool usable;
  std::string name;
  std::string reason;
};

void fill_probe_entry(plinth_probe_entry_t* entries, uint32_t i, const ProbeRow& row) {
  plinth_probe_entry_t e{};
  e.struct_size = sizeof e;
  e.index = row.index;
  e.usable = row.usable ? 1 : 0;
  sdk::copy_string(e.name, row.name);
  sdk::copy_string(e.reason, row.reason);
  sdk::write_probe_entry(entries, i, e);
}

plinth_status_t api_shutdown() {
  return sdk::guard([] { state_slot().reset(); });
}

plinth_status_t api_probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  return sdk::guard([&] {
    sdk::require(out_count != nullptr, "out_count is NULL");
    sdk::require(entries != nullptr || capacity == 0, "entries is NULL with capacity > 0");
    std::vector<ProbeRow> rows;
    std::string reason;
    const VulkanLibrary* lib = state().library(reason);
    if (lib == nullptr) {
      rows.push_back({UINT32_MAX, false, "", reason});
    } else {
      try {
        Instance instance(*lib);
        auto infos = enumerate_physical_devices(*lib, instance);
        if (infos.empty())
          rows.push_back({UINT32_MAX, false, "", "no Vulkan physical device (no ICD or no device)"});
        for (uint32_t i = 0; i < infos.size(); ++i) {
          rows.push_back({i, infos[i].usable, infos[i].props.name, infos[i].reason});
        }
      } catch (const sdk::Error& e) {
        std::string why = e.what();
        if (e.vendor_code() == VK_ERROR_INCOMPATIBLE_DRIVER)
          why += " (no usable Vulkan driver/ICD installed)";
        rows.push_back({UINT32_MAX, false, "", why});
      }
    }
    for (uint32_t i = 0; i < rows.size() && i < capacity; ++i) {
      fill_probe_entry(entries, i, rows[i]);
    }
    *out_count = static_cast<uint32_t>(rows.size());
  });
}

plinth_status_t api_device_open(uint32_t index, plinth_device_t* out_device) {
  return sdk::guard([&] {
    sdk::require(out_device != nullptr, "out_device is NULL");
    std::string reason;
    const VulkanLibrary* lib = state().library(reason);
    // Without a loader probe lists no device index, so any index is out of range (abi.h).
    if (lib == nullptr)
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "no Vulkan device " + std::to_string(index) + ": " + reason);
    std::unique_ptr<Device> device;
    try {
      device = std::make_unique<Device>(*lib, index, sdk::DeviceLoss::hook_from_environment());
    } catch (const sdk::Error& e) {
      // No driver: probe lists no device index either.
      if (e.vendor_code() != VK_ERROR_INCOMPATIBLE_DRIVER) throw;
      sdk::fail(PLINTH_ERROR_OUT_OF_RANGE, "no Vulkan device " + std::to_string(index) + ": " + e.what(),
                e.vendor_code());
    }
    state().log()(PLINTH_LOG_INFO, "vulkan: opened " + device->info().summary);
    *out_device = state().devices.insert(std::move(device));
  });
}

plinth_status_t api_device_close(plinth_device_t device) {
  return sdk::guard([&] { state().close_device(device); });
}

plinth_status_t api_device_get_properties(plinth_device_t device, plinth_device_properties_t* props) {
  return sdk::guard([&] {
    const Device& d = state().devices.get(device);
    sdk::write_struct(props, d.info().props,
                      PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, reserved0),
                      "plinth_device_properties_t");
  });
}

plinth_status_t api_device_memory_info(plinth_device_t device, uint64_t* out_free, uint64_t* out_total) {
  return sdk::guard([&] {
    sdk::require(out_free != nullptr && out_total != nullptr, "out_free/out_total is NULL");
    Device& d = state().devices.get(device);
    usable(d, "device_memory_info");
    const uint64_t total = d.info().props.total_memory;
    const uint64_t used = d.device_local_used();
    *out_total = total;
    *out_free = used >= total ? 0 : total - used;
  });
}

plinth_status_t api_buffer_alloc(plinth_device_t device, const plinth_buffer_desc_t* desc,
                                 plinth_buffer_t* out) {
  return sdk::guard([&] {
    sdk::require(out != nullptr, "out_buffer is NULL");
    plinth_buffer_desc_t defaults{};
    const auto d = sdk::read_struct(
        desc, defaults, PLINTH_STRUCT_SIZE_THROUGH(plinth_buffer_desc_t, alignment), "plinth_buffer_desc_t");
    Device& dev = state().devices.get(device);
    usable(dev, "buffer_alloc");
    *out = state().buffers.insert(std::make_unique<Buffer>(dev, d.size, d.memory_kind, d.alignment));
  });
}

plinth_status_t api_buffer_free(plinth_buffer_t buffer) {
  return sdk::guard([&] { state().buffers.erase(buffer); });
}

plinth_status_t api_buffer_map(plinth_buffer_t buffer, uint64_t offset, uint64_t size, void** out_ptr) {
  return sdk::guard([&] {
    sdk::require(out_ptr != nullptr, "out_ptr is NULL");
    Buffer& b = state().buffers.get(buffer);
    usable(b.device(), "buffer_map");
    if (!b.host_visible()) sdk::fail(PLINTH_ERROR_UNSUPPORTED, "buffer is not host-visible");
    check_range(b, offset, size, "buffer_map");
    if (b.user_mapped) sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer is already mapped");
    b.user_mapped = true;
    *out_ptr = b.host() + offset;
  });
}

plinth_status_t api_buffer_unmap(plinth_buffer_t buffer) {
  return sdk::guard([&] {
    Buffer& b = state().buffers.get(buffer);
    if (!b.user_mapped) sdk::fail(PLINTH_ERROR_INVALID_STATE, "buffer is not mapped");
    b.user_mapped = false;
  });
}

plinth_status_t api_stream_create(plinth_device_t device, uint32_t flags, plinth_stream_t* out) {
  return sdk::guard([&] {
    sdk::require(out != nullptr, "out_stream is NULL");
    sdk::require(flags == 0, "stream flags must be 0 in v1");
    Device& dev = state().devices.get(device);
    usable(dev, "stream_create");
    *out = state().streams.insert(std::make_unique<Stream>(dev));
  });
}

plinth_status_t api_stream_destroy(plinth_stream_t stream) {
  return sdk::guard([&] { state().streams.erase(stream); });
}

plinth_status_t api_stream_synchronize(plinth_stream_t stream) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    usable(s.device(), "stream_synchronize");
    s.synchronize();
  });
}

plinth_status_t api_copy_host_to_buffer(plinth_stream_t stream, const void* src, plinth_buffer_t dst,
                                        uint64_t dst_offset, uint64_t size) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    const Buffer& b = state().buffers.get(dst);
    expect_same_device(s.device(), b.device(), "copy_host_to_buffer: stream and dst");
    usable(s.device(), "copy_host_to_buffer");
    sdk::require(src != nullptr || size == 0, "src is NULL");
    check_range(b, dst_offset, size, "copy_host_to_buffer");
    s.copy_from_host(src, b, dst_offset, size);
  });
}

plinth_status_t api_copy_buffer_to_host(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                        void* dst, uint64_t size) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    const Buffer& b = state().buffers.get(src);
    expect_same_device(s.device(), b.device(), "copy_buffer_to_host: stream and src");
    usable(s.device(), "copy_buffer_to_host");
    sdk::require(dst != nullptr || size == 0, "dst is NULL");
    check_range(b, src_offset, size, "copy_buffer_to_host");
    s.copy_to_host(b, src_offset, dst, size);
  });
}

plinth_status_t api_copy_buffer(plinth_stream_t stream, plinth_buffer_t src, uint64_t src_offset,
                                plinth_buffer_t dst, uint64_t dst_offset, uint64_t size) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    const Buffer& from = state().buffers.get(src);
    const Buffer& to = state().buffers.get(dst);
    usable(s.device(), "copy_buffer");
    check_range(from, src_offset, size, "copy_buffer source");
    check_range(to, dst_offset, size, "copy_buffer destination");
    if (&from == &to && size > 0 && src_offset < dst_offset + size && dst_offset < src_offset + size) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "copy_buffer: source and destination overlap");
    }
    expect_same_device(s.device(), from.device(), "copy_buffer: stream and src");
    expect_same_device(s.device(), to.device(), "copy_buffer: stream and dst");
    s.copy(from, src_offset, to, dst_offset, size);
  });
}

plinth_status_t api_event_create(plinth_device_t device, uint32_t flags, plinth_event_t* out) {
  return sdk::guard([&] {
    sdk::require(out != nullptr, "out_event is NULL");
    Device& dev = state().devices.get(device);
    usable(dev, "event_create");
    *out = state().events.insert(std::make_unique<Event>(dev, flags));
  });
}

plinth_status_t api_event_destroy(plinth_event_t event) {
  return sdk::guard([&] { state().events.erase(event); });
}

plinth_status_t api_event_record(plinth_event_t event, plinth_stream_t stream) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    usable(s.device(), "event_record");
    state().events.get(event).record(s);
  });
}

plinth_status_t api_stream_wait_event(plinth_stream_t stream, plinth_event_t event) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    usable(s.device(), "stream_wait_event");
    state().events.get(event).make_wait(s);
  });
}

plinth_status_t api_event_synchronize(plinth_event_t event) {
  return sdk::guard([&] {
    const Event& e = state().events.get(event);
    usable(e.device(), "event_synchronize");
    e.synchronize();
  });
}

plinth_status_t api_event_query(plinth_event_t event) {
  bool done = false;
  const plinth_status_t s = sdk::guard([&] {
    const Event& e = state().events.get(event);
    usable(e.device(), "event_query");
    done = e.query();
  });
  if (s != PLINTH_OK) return s;
  return done ? PLINTH_OK : PLINTH_ERROR_NOT_READY;
}

plinth_status_t api_event_elapsed_ms(plinth_event_t start, plinth_event_t end, float* out_ms) {
  return sdk::guard([&] {
    sdk::require(out_ms != nullptr, "out_ms is NULL");
    const Event& a = state().events.get(start);
    const Event& b = state().events.get(end);
    expect_same_device(a.device(), b.device(), "event_elapsed_ms: events");
    usable(a.device(), "event_elapsed_ms");
    *out_ms = static_cast<float>((b.timestamp_ns() - a.timestamp_ns()) / 1.0e6);
  });
}

plinth_status_t api_graph_begin_capture(plinth_stream_t stream) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    usable(s.device(), "graph_begin_capture");
    s.begin_capture();
  });
}

plinth_status_t api_graph_end_capture(plinth_stream_t stream, plinth_graph_t* out_graph) {
  return sdk::guard([&] {
    sdk::require(out_graph != nullptr, "out_graph is NULL");
    Stream& s = state().streams.get(stream);
    usable(s.device(), "graph_end_capture");
    auto graph = s.end_capture();
    *out_graph = state().graphs.insert(std::move(graph));
  });
}

plinth_status_t api_graph_launch(plinth_graph_t graph, plinth_stream_t stream) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    usable(s.device(), "graph_launch");
    s.launch(state().graphs.get(graph));
  });
}

plinth_status_t api_graph_destroy(plinth_graph_t graph) {
  return sdk::guard([&] { state().graphs.erase(graph); });
}

plinth_status_t api_op_supports(plinth_device_t device, const plinth_op_call_t* call,
                                uint32_t* out_supported) {
  return sdk::guard([&] {
    sdk::require(out_supported != nullptr, "out_supported is NULL");
    *out_supported = 0;
    const Device& dev = state().devices.get(device);
    sdk::OpCall parsed;
    try {
      parsed = sdk::parse_op_call(call, nullptr);
    } catch (const sdk::Error& e) {
      if (e.status() != PLINTH_ERROR_UNSUPPORTED) throw;
      sdk::set_last_error(PLINTH_ERROR_UNSUPPORTED, e.what());
      return;
    }
    const std::string reason = unsupported_reason(dev, parsed);
    if (!reason.empty()) {
      sdk::set_last_error(PLINTH_ERROR_UNSUPPORTED, reason);
      return;
    }
    *out_supported = 1;
  });
}

plinth_status_t api_op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  return sdk::guard([&] {
    Stream& s = state().streams.get(stream);
    usable(s.device(), "op_launch");
    PluginState& st = state();
    const sdk::OpCall parsed =
        sdk::parse_op_call(call, [&](plinth_buffer_t b) -> uint64_t { return st.buffers.get(b).size(); });
    const std::string reason = unsupported_reason(s.device(), parsed);
    if (!reason.empty()) sdk::fail(PLINTH_ERROR_UNSUPPORTED, reason);
    auto lookup = [&](plinth_buffer_t b) -> const Buffer& {
      const Buffer& buf = st.buffers.get(b);
      expect_same_device(s.device(), buf.device(), "op_launch: stream and tensor buffer");
      return buf;
    };
    s.device().loss().before_launch();  // counts valid launches only
    const auto op_lock = s.lock_ops();
    encode_op(s, parsed, lookup);
  });
}

const char* api_last_error_message() { return sdk::last_error_message(); }
int64_t api_last_error_vendor_code() { return sdk::last_error_vendor_code(); }

plinth_plugin_api_t make_api() {
  plinth_plugin_api_t api{};
  api.struct_size = sizeof api;
  api.abi_major = PLINTH_ABI_VERSION_MAJOR;
  api.abi_minor = PLINTH_ABI_VERSION_MINOR;
  api.name = "vulkan";
  api.version = kPluginVersion;
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

}  // namespace
}  // namespace plinth::vulkan

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  using namespace plinth;
  static const plinth_plugin_api_t kApi = vulkan::make_api();
  if (out_api == nullptr) {
    sdk::set_last_error(PLINTH_ERROR_INVALID_ARGUMENT, "out_api is NULL");
    return PLINTH_ERROR_INVALID_ARGUMENT;
  }
  *out_api = &kApi;
  const plinth_status_t status = sdk::check_host(host);
  if (status != PLINTH_OK) return status;
  return sdk::guard([&] {
    // A second init without shutdown keeps the live state (abi.h rule 6): handles stay valid.
    auto& slot = vulkan::state_slot();
    if (slot) {
      slot->attach_host(host);
    } else {
      slot = std::make_unique<vulkan::PluginState>(host);
    }
  });
}
