// Defect: copy_host_to_buffer does not check that the stream and the buffer belong to one device
// (the template's check is swallowed: the call returns OK and copies nothing).
#include <cstring>

#include "broken_plugin.hpp"

namespace {

plinth_status_t copy_host_to_buffer(plinth_stream_t stream, const void* src, plinth_buffer_t dst,
                                    uint64_t offset, uint64_t size) {
  const auto& api = plinth::broken::original();
  const plinth_status_t st = api.copy_host_to_buffer(stream, src, dst, offset, size);
  if (st == PLINTH_ERROR_INVALID_ARGUMENT &&
      std::strstr(api.last_error_message(), "different devices") != nullptr) {
    uint32_t count = 0;
    api.probe(nullptr, 0, &count);  // a successful call clears the thread's message
    return PLINTH_OK;
  }
  return st;
}

}  // namespace

extern "C" PLINTH_PLUGIN_EXPORT plinth_status_t plinth_plugin_init(const plinth_host_services_t* host,
                                                                   const plinth_plugin_api_t** out_api) {
  return plinth::broken::init_patched(
      host, out_api, [](plinth_plugin_api_t& t) { t.copy_host_to_buffer = copy_host_to_buffer; });
}
