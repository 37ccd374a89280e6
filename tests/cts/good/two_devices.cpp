// Not broken: the template with two probed devices (see broken/two_devices.hpp). The CTS must pass it,
// and it gives the multi-device suite and the probe-stride checks a plugin with several devices.
#include "two_devices.hpp"

namespace {
std::size_t host_stride(const plinth_probe_entry_t* entries) { return entries[0].struct_size; }
}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_two<host_stride>(host, out_api);
}
