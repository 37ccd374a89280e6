// The per-thread last error every plugin exposes through last_error_message/last_error_vendor_code.
#include "plinth/sdk/status.hpp"

namespace plinth::sdk {
namespace {

// One record per thread (abi.h rule 4: the message belongs to the calling thread). The message
// string is reused so that a failing call does not allocate more than once per thread.
struct LastError {
  std::string message;
  const char* fallback = nullptr;  // used when copying the message itself ran out of memory
  int64_t vendor_code = 0;
};

LastError& last_error() noexcept {
  thread_local LastError error;
  return error;
}

}  // namespace

void fail(plinth_status_t status, const std::string& message, int64_t vendor_code) {
  throw Error(status, message, vendor_code);
}

void set_last_error(plinth_status_t status, std::string_view message, int64_t vendor_code) noexcept {
  LastError& error = last_error();
  error.vendor_code = vendor_code;
  error.fallback = nullptr;
  try {
    error.message.assign(message);
  } catch (...) {
    error.message.clear();
    error.fallback = status == PLINTH_ERROR_OUT_OF_MEMORY ? "host out of memory"
                                                          : "error message lost: host out of memory";
  }
}

void clear_last_error() noexcept {
  LastError& error = last_error();
  error.message.clear();
  error.fallback = nullptr;
  error.vendor_code = 0;
}

const char* last_error_message() noexcept {
  const LastError& error = last_error();
  return error.fallback != nullptr ? error.fallback : error.message.c_str();
}

int64_t last_error_vendor_code() noexcept { return last_error().vendor_code; }

const char* status_name(plinth_status_t status) noexcept {
  switch (status) {
    case PLINTH_OK: return "PLINTH_OK";
    case PLINTH_ERROR_INVALID_ARGUMENT: return "PLINTH_ERROR_INVALID_ARGUMENT";
    case PLINTH_ERROR_UNSUPPORTED: return "PLINTH_ERROR_UNSUPPORTED";
    case PLINTH_ERROR_OUT_OF_MEMORY: return "PLINTH_ERROR_OUT_OF_MEMORY";
    case PLINTH_ERROR_DEVICE_LOST: return "PLINTH_ERROR_DEVICE_LOST";
    case PLINTH_ERROR_NOT_READY: return "PLINTH_ERROR_NOT_READY";
    case PLINTH_ERROR_INCOMPATIBLE_VERSION: return "PLINTH_ERROR_INCOMPATIBLE_VERSION";
    case PLINTH_ERROR_OUT_OF_RANGE: return "PLINTH_ERROR_OUT_OF_RANGE";
    case PLINTH_ERROR_INVALID_STATE: return "PLINTH_ERROR_INVALID_STATE";
    case PLINTH_ERROR_INTERNAL: return "PLINTH_ERROR_INTERNAL";
    default: return "PLINTH_ERROR_UNKNOWN";
  }
}

}  // namespace plinth::sdk
