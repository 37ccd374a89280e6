// Defect: probe with two devices steps through the array by sizeof(plinth_probe_entry_t), not by the
// host's struct_size, so a newer host's larger entries are overwritten from the second one on.
#include "two_devices.hpp"

namespace {
std::size_t own_stride(const plinth_probe_entry_t*) { return sizeof(plinth_probe_entry_t); }
}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_two<own_stride>(host, out_api);
}
