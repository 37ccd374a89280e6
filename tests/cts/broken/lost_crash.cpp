// Defect: after a device loss, stream_destroy crashes, as a plugin does that submits a stream's
// recorded work to the lost device while the host has already freed the buffers it uses. The loss is
// the test hook PLINTH_PLUGIN_FAULT=device_lost:N, which this wrapper implements itself on top of the
// template: op launch N+1 and every later one fail with DEVICE_LOST; every other entry keeps working.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include "broken_plugin.hpp"
#include "plinth/sdk/status.hpp"

namespace {

// The hook's state, the one plugin-state object of this wrapper besides the patched table.
struct Loss {
  std::atomic<int64_t> lose_after{-1};  // -1: no hook
  std::atomic<int64_t> launches{0};
  std::atomic<bool> lost{false};
};

Loss& loss() {
  static Loss state;
  return state;
}

plinth_status_t device_open(uint32_t index, plinth_device_t* out_device) {
  const char* hook = std::getenv("PLINTH_PLUGIN_FAULT");
  const std::string prefix = "device_lost:";
  if (hook != nullptr && std::string(hook).rfind(prefix, 0) == 0) {
    loss().lose_after = std::atoll(hook + prefix.size());
    loss().launches = 0;
    loss().lost = false;
  }
  return plinth::broken::original().device_open(index, out_device);
}

plinth_status_t op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  Loss& l = loss();
  if (l.lost || (l.lose_after >= 0 && l.launches++ >= l.lose_after)) {
    l.lost = true;
    plinth::sdk::set_last_error(PLINTH_ERROR_DEVICE_LOST, "op_launch: the device was lost (simulated)");
    return PLINTH_ERROR_DEVICE_LOST;
  }
  return plinth::broken::original().op_launch(stream, call);
}

plinth_status_t stream_destroy(plinth_stream_t stream) {
  if (loss().lost) std::raise(SIGSEGV);
  return plinth::broken::original().stream_destroy(stream);
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) {
    t.device_open = device_open;
    t.op_launch = op_launch;
    t.stream_destroy = stream_destroy;
  });
}
