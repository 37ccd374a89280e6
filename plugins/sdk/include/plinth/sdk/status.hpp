// Status and error plumbing for plugin authors: an exception type that carries a plinth_status_t,
// the per-thread "last error" every plugin must expose, and the exception barrier that keeps C++
// exceptions from crossing the C ABI.
#pragma once

#include <cstdint>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "plinth/abi.h"

namespace plinth::sdk {

// Thrown inside a plugin; turned into a status code plus thread-local message by guard().
class Error : public std::runtime_error {
 public:
  Error(plinth_status_t status, const std::string& message, int64_t vendor_code = 0)
      : std::runtime_error(message), status_(status), vendor_code_(vendor_code) {}
  plinth_status_t status() const noexcept { return status_; }
  int64_t vendor_code() const noexcept { return vendor_code_; }

 private:
  plinth_status_t status_;
  int64_t vendor_code_;
};

// Throws Error(status, message). Use for every failure path inside an entry.
[[noreturn]] void fail(plinth_status_t status, const std::string& message, int64_t vendor_code = 0);

// Throws Error(INVALID_ARGUMENT, message) unless `condition` holds.
inline void require(bool condition, const char* message) {
  if (!condition) fail(PLINTH_ERROR_INVALID_ARGUMENT, message);
}

// The calling thread's last error, as the ABI's last_error_message/last_error_vendor_code return it.
void set_last_error(plinth_status_t status, std::string_view message, int64_t vendor_code = 0) noexcept;
void clear_last_error() noexcept;
const char* last_error_message() noexcept;
int64_t last_error_vendor_code() noexcept;

// Human-readable name of a status code ("PLINTH_ERROR_OUT_OF_MEMORY").
const char* status_name(plinth_status_t status) noexcept;

// The exception barrier. Every ABI entry of a C++ plugin is written as
//   return sdk::guard([&] { ...; });
// It clears the thread's error, runs `body`, and maps any exception to a status + message.
template <class F>
plinth_status_t guard(F&& body) noexcept {
  clear_last_error();
  try {
    body();
    return PLINTH_OK;
  } catch (const Error& e) {
    set_last_error(e.status(), e.what(), e.vendor_code());
    return e.status();
  } catch (const std::bad_alloc&) {
    set_last_error(PLINTH_ERROR_OUT_OF_MEMORY, "host out of memory");
    return PLINTH_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(PLINTH_ERROR_INTERNAL, e.what());
    return PLINTH_ERROR_INTERNAL;
  } catch (...) {
    set_last_error(PLINTH_ERROR_INTERNAL, "unknown exception inside plugin");
    return PLINTH_ERROR_INTERNAL;
  }
}

}  // namespace plinth::sdk
