// The plugin entry point: the Vulkan device's hooks for the SDK adapter (plinth/sdk/plugin.hpp), which
// builds the function table and does the handle, argument, range, same-device, map and record-state
// and device-loss checks. What is left here is Vulkan's: probing through the loader, and forwarding
// each hook to the Device, Buffer, Stream, Event and Graph objects (which do their own locking).
#include "plinth/sdk/plugin.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "event.hpp"
#include "op_encoder.hpp"

namespace plinth::vulkan {
namespace {

// One opened device as the adapter sees it. Every object its hooks return keeps a pointer to `vk_`;
// the adapter destroys them all before this.
class OpenedDevice {
 public:
  explicit OpenedDevice(std::unique_ptr<Device> device) : vk_(std::move(device)) {}

  sdk::DeviceLoss& loss() { return vk_->loss(); }
  void properties(plinth_device_properties_t& p) const { p = vk_->info().props; }
  sdk::MemoryInfo memory_info() const {
    // Vulkan core has no free-memory query: free is what this plugin has not allocated itself.
    const uint64_t total = vk_->info().props.total_memory;
    return {total - std::min(vk_->device_local_used(), total), total};
  }

  std::unique_ptr<Buffer> alloc(const plinth_buffer_desc_t& d) {
    return std::make_unique<Buffer>(*vk_, d.size, d.memory_kind, d.alignment);
  }
  // Host-visible memory stays mapped for the buffer's life, so a map only hands out its address.
  void* map(Buffer& b, uint64_t offset, uint64_t) {
    if (!b.host_visible()) sdk::fail(PLINTH_ERROR_UNSUPPORTED, "the buffer is not host-visible");
    return b.host() + offset;
  }

  std::unique_ptr<Stream> create_stream() { return std::make_unique<Stream>(*vk_); }
  std::unique_ptr<Event> create_event(bool timing) { return std::make_unique<Event>(*vk_, timing); }

  void copy_to_buffer(Stream& s, const void* src, Buffer& dst, uint64_t offset, uint64_t size) {
    s.copy_from_host(src, dst, offset, size);
  }
  void copy_to_host(Stream& s, Buffer& src, uint64_t offset, void* dst, uint64_t size) {
    s.copy_to_host(src, offset, dst, size);
  }
  void copy_buffer(Stream& s, Buffer& src, uint64_t src_offset, Buffer& dst, uint64_t dst_offset,
                   uint64_t size) {
    s.copy(src, src_offset, dst, dst_offset, size);
  }

  void synchronize(Stream& s) { s.synchronize(); }
  void record(Event& e, Stream& s) { e.record(s); }
  void wait(Stream& s, Event& e) { e.make_wait(s); }
  void synchronize(Event& e) { e.synchronize(); }
  bool query(Event& e) { return e.query(); }
  float elapsed_ms(Event& start, Event& end) {
    return static_cast<float>((end.timestamp_ns() - start.timestamp_ns()) / 1.0e6);
  }

  void begin_capture(Stream& s) { s.begin_capture(); }
  std::unique_ptr<Graph> end_capture(Stream& s) { return s.end_capture(); }
  void launch_graph(Graph& g, Stream& s) { s.launch(g); }

  std::string supports(const sdk::OpCall& call) const { return unsupported_reason(*vk_, call); }
  void launch(Stream& s, const sdk::OpCall& call, const sdk::OpBuffers<Buffer>& buffers) {
    const auto op_lock = s.lock_ops();  // the op's commands share the stream's scratch
    encode_op(s, call, buffers);
  }

 private:
  std::unique_ptr<Device> vk_;
};

struct VulkanPlugin {
  static constexpr const char* kName = "vulkan";
  static constexpr const char* kVersion = "0.1.0";
  using Device = OpenedDevice;

  explicit VulkanPlugin(const sdk::HostLog& host_log) : log(host_log) {}

  // Without a loader or a driver there is one plugin-wide entry with the reason and no device index,
  // so device_open answers OUT_OF_RANGE (with that reason) for every index, as abi.h asks, instead of
  // failing inside Vulkan.
  std::vector<sdk::ProbeInfo> probe() {
    const VulkanLibrary* lib = library();
    if (lib == nullptr) return {{UINT32_MAX, "", library_reason}};
    try {
      Instance instance(*lib);
      const std::vector<PhysicalInfo> infos = enumerate_physical_devices(*lib, instance);
      if (infos.empty()) return {{UINT32_MAX, "", "no Vulkan physical device (no ICD or no device)"}};
      std::vector<sdk::ProbeInfo> found;
      for (uint32_t i = 0; i < infos.size(); ++i) found.push_back({i, infos[i].props.name, infos[i].reason});
      return found;
    } catch (const sdk::Error& e) {
      std::string why = e.what();
      if (e.vendor_code() == VK_ERROR_INCOMPATIBLE_DRIVER) why += " (no usable Vulkan driver/ICD installed)";
      return {{UINT32_MAX, "", why}};
    }
  }

  // Only for an index probe listed as usable, so the loader is open.
  std::unique_ptr<OpenedDevice> open(uint32_t index) {
    auto device =
        std::make_unique<vulkan::Device>(*library(), index, sdk::DeviceLoss::hook_from_environment());
    log(PLINTH_LOG_INFO, "vulkan: opened " + device->info().summary);
    return std::make_unique<OpenedDevice>(std::move(device));
  }

  // The loader, opened once at the first probe (nullptr, with library_reason, where it is missing).
  // The adapter destroys every device before this plugin object, so it outlives every Instance.
  const VulkanLibrary* library() {
    std::call_once(library_once, [this] { loader = VulkanLibrary::open(library_reason); });
    return loader.get();
  }

  const sdk::HostLog& log;
  std::once_flag library_once;
  std::unique_ptr<VulkanLibrary> loader;
  std::string library_reason;
};

}  // namespace
}  // namespace plinth::vulkan

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::sdk::plugin_init<plinth::vulkan::VulkanPlugin>(host, out_api);
}
