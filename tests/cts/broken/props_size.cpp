// Defect: device_get_properties ignores the caller's struct_size and writes the whole v1 struct.
#include "broken_plugin.hpp"

namespace {

plinth_status_t get_properties(plinth_device_t device, plinth_device_properties_t* props) {
  if (props == nullptr) return plinth::broken::original().device_get_properties(device, props);
  const uint32_t callers = props->struct_size;
  props->struct_size = sizeof(plinth_device_properties_t);
  const plinth_status_t st = plinth::broken::original().device_get_properties(device, props);
  props->struct_size = callers;
  return st;
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) { t.device_get_properties = get_properties; });
}
