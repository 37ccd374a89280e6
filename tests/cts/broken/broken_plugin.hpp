// Scaffolding for the deliberately broken plugins: each wraps the template plugin (compiled with
// its entry renamed to plinth_template_plugin_init), copies its function table and replaces a few
// entries to inject exactly one defect the CTS must catch.
#pragma once

#include <cstdint>

#include "plinth/abi.h"
#include "plinth/ops.h"

extern "C" plinth_status_t plinth_template_plugin_init(const plinth_host_services_t* host,
                                                        const plinth_plugin_api_t** out_api);

namespace plinth::broken {

// The one plugin-state object: the template's table and the patched copy handed to the host.
struct Patched {
  const plinth_plugin_api_t* original = nullptr;
  plinth_plugin_api_t table{};
};

inline Patched& patched() {
  static Patched state;
  return state;
}

inline const plinth_plugin_api_t& original() { return *patched().original; }

// Initializes the template, then lets `patch` edit a copy of its table.
template <class F>
plinth_status_t init_patched(const plinth_host_services_t* host, const plinth_plugin_api_t** out_api, F patch) {
  if (out_api == nullptr) return plinth_template_plugin_init(host, nullptr);
  const plinth_plugin_api_t* api = nullptr;
  const plinth_status_t st = plinth_template_plugin_init(host, &api);
  if (api == nullptr) {
    *out_api = nullptr;
    return st;
  }
  Patched& p = patched();
  p.original = api;
  p.table = *api;
  patch(p.table);
  *out_api = &p.table;
  return st;
}

// Byte offset one past the last element of a dense-or-strided f32 tensor.
inline uint64_t end_offset(const plinth_tensor_t& t) {
  uint64_t end = t.offset;
  for (uint32_t k = 0; k < t.ndim; ++k) {
    if (t.dims[k] == 0) return t.offset;
    end += static_cast<uint64_t>((t.dims[k] - 1) * t.strides[k]);
  }
  return end + 4;
}

inline int64_t numel(const plinth_tensor_t& t) {
  int64_t n = 1;
  for (uint32_t k = 0; k < t.ndim; ++k) n *= t.dims[k];
  return n;
}

}  // namespace plinth::broken
