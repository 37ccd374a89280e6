// Defect: ADD is subtly wrong. On outputs of 7 or more elements the last element is off by a
// relative 1e-3 (the kind of error a bad vector tail loop makes).
#include <cstring>

#include "broken_plugin.hpp"

namespace {

plinth_status_t op_launch(plinth_stream_t stream, const plinth_op_call_t* call) {
  const auto& api = plinth::broken::original();
  const plinth_status_t st = api.op_launch(stream, call);
  if (st != PLINTH_OK || call->op != PLINTH_OP_ADD) return st;
  const plinth_tensor_t& y = *call->outputs[0];
  if (y.dtype != PLINTH_DTYPE_F32 || plinth::broken::numel(y) < 7) return st;
  const uint64_t last = plinth::broken::end_offset(y) - 4;
  float v = 0;
  api.copy_buffer_to_host(stream, y.buffer, last, &v, 4);
  api.stream_synchronize(stream);
  v *= 1.001f;
  api.copy_host_to_buffer(stream, &v, y.buffer, last, 4);
  api.stream_synchronize(stream);
  return st;
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) { t.op_launch = op_launch; });
}
