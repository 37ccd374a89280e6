// Logging through the host's log callback (abi.h plinth_host_services_t::log).
#pragma once

#include <string>

#include "plinth/abi.h"

namespace plinth::sdk {

// Holds a copy of the host services given to plinth_plugin_init. Thread-safe after set().
class HostLog {
 public:
  void set(const plinth_host_services_t* host) noexcept;
  void operator()(int32_t level, const std::string& message) const noexcept;

 private:
  void (*log_)(void*, int32_t, const char*) = nullptr;
  void* user_data_ = nullptr;
};

// Checks host services passed to plinth_plugin_init: returns PLINTH_OK, INVALID_ARGUMENT (NULL or
// too small), or INCOMPATIBLE_VERSION (major differs). Also sets the thread's last error.
plinth_status_t check_host(const plinth_host_services_t* host) noexcept;

}  // namespace plinth::sdk
