// Defect: SCALE writes four bytes past the end of its output tensor.
#include "broken_plugin.hpp"

namespace {

plinth_status_t op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  const auto& api = plinth::broken::original();
  const plinth_status_t st = api.op_launch(stream, call);
  if (st != PLINTH_OK || call->op != PLINTH_OP_SCALE) return st;
  const plinth_tensor_t& y = *call->outputs[0];
  if (plinth::broken::numel(y) == 0) return st;
  const unsigned char stray[4] = {0xDE, 0xAD, 0xBE, 0xEF};
  api.copy_host_to_buffer(stream, stray, y.buffer, plinth::broken::end_offset(y), sizeof stray);
  api.stream_synchronize(stream);
  return st;
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) { t.op_launch = op_launch; });
}
