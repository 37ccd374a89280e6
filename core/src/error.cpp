#include "plinth/error.hpp"

#include <fmt/format.h>

namespace plinth {
namespace {

std::string compose(plinth_status_t status, const std::string& message, const std::string& call,
                    const std::string& device, int64_t vendor_code) {
  // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for `"literal" + std::string`.
  std::string out = call;
  if (!device.empty()) {
    if (!out.empty()) out += ' ';
    out += "on ";
    out += device;
  }
  if (!out.empty()) out += ": ";
  out += status_name(status);
  if (!message.empty()) out += ": " + message;
  if (vendor_code != 0) out += fmt::format(" (vendor code {})", vendor_code);
  return out;
}

}  // namespace

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
    default: return "PLINTH_STATUS_UNKNOWN";
  }
}

Error::Error(plinth_status_t status, std::string message, std::string call, std::string device, int64_t vendor_code)
    : std::runtime_error(compose(status, message, call, device, vendor_code)),
      status_(status),
      message_(std::move(message)),
      call_(std::move(call)),
      device_(std::move(device)),
      vendor_code_(vendor_code) {}

}  // namespace plinth
