// plinth::Error: the one exception type of the core. Plugin status codes (plinth/abi.h) become Errors
// that carry the status, the plugin's own message for the failed call, its vendor code, and which call
// on which device failed, so a log line alone is enough to act on.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "plinth/abi.h"
#include "plinth/export.hpp"

namespace plinth {

// "PLINTH_ERROR_OUT_OF_MEMORY"; "PLINTH_OK"; "PLINTH_STATUS_<n>" for an unknown code.
PLINTH_CORE_API const char* status_name(plinth_status_t status) noexcept;

class PLINTH_CORE_API Error : public std::runtime_error {
 public:
  // what() reads "<call> on <device>: <STATUS>: <message>" (parts that are empty are left out).
  Error(plinth_status_t status, std::string message, std::string call = {}, std::string device = {},
        int64_t vendor_code = 0);

  plinth_status_t status() const noexcept { return status_; }
  // The plugin's (or the core's) own message, without the call and device prefix.
  const std::string& message() const noexcept { return message_; }
  const std::string& call() const noexcept { return call_; }      // "buffer_alloc", "op_launch(matmul)"
  const std::string& device() const noexcept { return device_; }  // "cpu:0", or "" when none applies
  int64_t vendor_code() const noexcept { return vendor_code_; }

 private:
  plinth_status_t status_;
  std::string message_;
  std::string call_;
  std::string device_;
  int64_t vendor_code_;
};

}  // namespace plinth
