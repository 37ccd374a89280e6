// Defect: every allocation fails with OUT_OF_MEMORY (and no message).
#include "broken_plugin.hpp"

namespace {

plinth_status_t buffer_alloc(plinth_device_t, const plinth_buffer_desc_t*, plinth_buffer_t*) {
  return PLINTH_ERROR_OUT_OF_MEMORY;
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) { t.buffer_alloc = buffer_alloc; });
}
