// Defect: SCALE never returns.
#include <chrono>
#include <thread>

#include "broken_plugin.hpp"

namespace {

plinth_status_t op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  if (call != nullptr && call->op == PLINTH_OP_SCALE) {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  return plinth::broken::original().op_launch(stream, call);
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) { t.op_launch = op_launch; });
}
