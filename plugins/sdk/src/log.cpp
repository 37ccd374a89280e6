// Host logging and the host-services check every plinth_plugin_init starts with.
#include "plinth/sdk/log.hpp"

#include <cstddef>

#include "plinth/sdk/status.hpp"

namespace plinth::sdk {

void HostLog::set(const plinth_host_services_t* host) noexcept {
  log_ = nullptr;
  user_data_ = nullptr;
  if (host == nullptr) return;
  // Read only what the host's struct_size covers (abi.h rule 2).
  const std::size_t size = host->struct_size;
  if (size >= PLINTH_STRUCT_SIZE_THROUGH(plinth_host_services_t, log)) log_ = host->log;
  if (size >= PLINTH_STRUCT_SIZE_THROUGH(plinth_host_services_t, log_user_data)) user_data_ = host->log_user_data;
}

void HostLog::operator()(int32_t level, const std::string& message) const noexcept {
  if (log_ != nullptr) log_(user_data_, level, message.c_str());
}

plinth_status_t check_host(const plinth_host_services_t* host) noexcept {
  return guard([&] {
    if (host == nullptr) fail(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: host services are NULL");
    if (host->struct_size < sizeof(plinth_host_services_t)) {
      fail(PLINTH_ERROR_INVALID_ARGUMENT, "plinth_plugin_init: host services struct_size " +
                                              std::to_string(host->struct_size) + " is smaller than its v1 size " +
                                              std::to_string(sizeof(plinth_host_services_t)));
    }
    if (host->abi_major != PLINTH_ABI_VERSION_MAJOR) {
      fail(PLINTH_ERROR_INCOMPATIBLE_VERSION,
           "plinth_plugin_init: host speaks plugin ABI " + std::to_string(host->abi_major) + "." +
               std::to_string(host->abi_minor) + " but this plugin was built for ABI " +
               std::to_string(PLINTH_ABI_VERSION_MAJOR) + "." + std::to_string(PLINTH_ABI_VERSION_MINOR) +
               " (the major versions must match)");
    }
  });
}

}  // namespace plinth::sdk
