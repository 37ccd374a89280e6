// Defect: lenient where abi.h is exact. device_get_properties and probe accept a struct_size below
// v1.0 with PLINTH_OK (and write nothing), and buffer_alloc rejects an unknown memory kind with
// INVALID_ARGUMENT instead of UNSUPPORTED. The CTS used to accept all three.
#include "broken_plugin.hpp"
#include "plinth/sdk/status.hpp"

namespace {

constexpr uint32_t kPropsV1 = PLINTH_STRUCT_SIZE_THROUGH(plinth_device_properties_t, reserved0);
constexpr uint32_t kProbeV1 = PLINTH_STRUCT_SIZE_THROUGH(plinth_probe_entry_t, reason);

plinth_status_t get_properties(plinth_device_t device, plinth_device_properties_t* props) {
  if (props != nullptr && props->struct_size < kPropsV1) {
    plinth::sdk::clear_last_error();
    return PLINTH_OK;
  }
  return plinth::broken::original().device_get_properties(device, props);
}

plinth_status_t probe(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  if (entries != nullptr && capacity > 0 && out_count != nullptr && entries[0].struct_size < kProbeV1) {
    *out_count = 1;
    plinth::sdk::clear_last_error();
    return PLINTH_OK;
  }
  return plinth::broken::original().probe(entries, capacity, out_count);
}

plinth_status_t buffer_alloc(plinth_device_t device, const plinth_buffer_desc_t* desc, plinth_buffer_t* out) {
  if (desc != nullptr && desc->struct_size >= sizeof(plinth_buffer_desc_t) &&
      desc->memory_kind > PLINTH_MEMORY_SHARED) {
    plinth::sdk::set_last_error(PLINTH_ERROR_INVALID_ARGUMENT, "buffer_alloc: bad memory kind");
    return PLINTH_ERROR_INVALID_ARGUMENT;
  }
  return plinth::broken::original().buffer_alloc(device, desc, out);
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(host, out_api, [](plinth_plugin_api_t& t) {
    t.device_get_properties = get_properties;
    t.probe = probe;
    t.buffer_alloc = buffer_alloc;
  });
}
