// Reading and writing size-versioned ABI structs (abi.h rule 2) without ever touching bytes beyond
// the peer's struct_size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

#include "plinth/sdk/status.hpp"

namespace plinth::sdk {

// Copies the caller's struct into a local one: fields inside in->struct_size come from the caller,
// the rest keep the values of `defaults`. Throws INVALID_ARGUMENT when in is NULL or smaller than
// `min_size` (the size of the struct's first version). `what` names the struct in messages.
template <class T>
T read_struct(const T* in, const T& defaults, std::size_t min_size, const char* what) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (in == nullptr) fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + " is NULL");
  const std::size_t size = in->struct_size;
  if (size < min_size) {
    fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + ".struct_size " + std::to_string(size) +
                                            " is smaller than its v1 size " + std::to_string(min_size));
  }
  T out = defaults;
  std::memcpy(static_cast<void*>(&out), in, std::min(size, sizeof(T)));
  out.struct_size = static_cast<uint32_t>(sizeof(T));
  return out;
}

// Writes `value` into the caller's [out] struct, only as far as out->struct_size reaches. The
// caller's struct_size and next are preserved.
template <class T>
void write_struct(T* out, const T& value, std::size_t min_size, const char* what) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (out == nullptr) fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + " is NULL");
  const std::size_t size = out->struct_size;
  if (size < min_size) {
    fail(PLINTH_ERROR_INVALID_ARGUMENT, std::string(what) + ".struct_size " + std::to_string(size) +
                                            " is smaller than its v1 size " + std::to_string(min_size));
  }
  const auto saved_size = out->struct_size;
  const void* saved_next = out->next;
  std::memcpy(static_cast<void*>(out), &value, std::min(size, sizeof(T)));
  out->struct_size = saved_size;
  out->next = saved_next;
}

// Copies a string into a fixed char array, truncating and always NUL-terminating.
template <std::size_t N>
void copy_string(char (&dst)[N], std::string_view src) {
  const std::size_t n = std::min(src.size(), N - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

}  // namespace plinth::sdk
