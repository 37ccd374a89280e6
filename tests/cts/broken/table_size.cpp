// Defect: the function table claims to be 64 bytes larger than its ABI minor's table, so a
// host would read entries that do not exist.
#include "broken_plugin.hpp"

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) { t.struct_size += 64; });
}
