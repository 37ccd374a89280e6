// The one plugin-state object behind the entry point: the Vulkan loader (opened lazily, on first
// probe or open) and the handle tables of every live object.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "event.hpp"
#include "plinth/sdk/handles.hpp"
#include "plinth/sdk/log.hpp"

namespace plinth::vulkan {

class PluginState {
 public:
  explicit PluginState(const plinth_host_services_t* host);
  ~PluginState();

  // The loader, or nullptr with `reason` set when it cannot be opened.
  const VulkanLibrary* library(std::string& reason);
  const sdk::HostLog& log() const noexcept { return log_; }
  // A repeated plinth_plugin_init: log through the services it passes from now on.
  void attach_host(const plinth_host_services_t* host) noexcept { log_.set(host); }
  // Reclaims every object of `device` the host leaked, then the device itself.
  void close_device(plinth_device_t handle);

  sdk::HandleTable<plinth_device_t, Device> devices{"device"};
  sdk::HandleTable<plinth_buffer_t, Buffer> buffers{"buffer"};
  sdk::HandleTable<plinth_stream_t, Stream> streams{"stream"};
  sdk::HandleTable<plinth_event_t, Event> events{"event"};
  sdk::HandleTable<plinth_graph_t, Graph> graphs{"graph"};

 private:
  sdk::HostLog log_;
  std::mutex library_mutex_;
  bool library_tried_ = false;
  std::string library_reason_;
  std::unique_ptr<VulkanLibrary> library_;
};

}  // namespace plinth::vulkan
