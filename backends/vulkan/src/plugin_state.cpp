#include "plugin_state.hpp"

namespace plinth::vulkan {

PluginState::PluginState(const plinth_host_services_t* host) { log_.set(host); }

PluginState::~PluginState() {
  // Objects before devices: each holds a pointer to its device.
  graphs.erase_if([](const Graph&) { return true; });
  events.erase_if([](const Event&) { return true; });
  streams.erase_if([](const Stream&) { return true; });
  buffers.erase_if([](const Buffer&) { return true; });
  devices.erase_if([](const Device&) { return true; });
}

const VulkanLibrary* PluginState::library(std::string& reason) {
  std::lock_guard lock(library_mutex_);
  if (!library_tried_) {
    library_tried_ = true;
    library_ = VulkanLibrary::open(library_reason_);
  }
  reason = library_reason_;
  return library_.get();
}

void PluginState::close_device(plinth_device_t handle) {
  Device& device = devices.get(handle);
  size_t leaked = 0;
  leaked += graphs.erase_if([&](const Graph& g) { return &g.device() == &device; }).size();
  leaked += events.erase_if([&](const Event& e) { return &e.device() == &device; }).size();
  leaked += streams.erase_if([&](const Stream& s) { return &s.device() == &device; }).size();
  leaked += buffers.erase_if([&](const Buffer& b) { return &b.device() == &device; }).size();
  if (leaked > 0)
    log_(PLINTH_LOG_WARN, "vulkan: device_close reclaimed " + std::to_string(leaked) + " leaked objects");
  devices.erase(handle);
}

}  // namespace plinth::vulkan
