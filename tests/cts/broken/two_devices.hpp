// A template plugin that probes two devices: index 1 opens the template's one device again (two
// opens are different devices anyway, abi.h rule 8). Shared by a correct plugin (good/two_devices)
// and a broken one whose probe steps by sizeof instead of the host's struct_size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "broken_plugin.hpp"

namespace plinth::broken {

// Writes entry `i` of a probe array whose elements are `stride` bytes apart.
inline void write_probe_entry(plinth_probe_entry_t* entries, std::size_t stride, uint32_t i,
                              const char* name) {
  auto* e = reinterpret_cast<unsigned char*>(entries) + i * stride;
  const uint32_t size = entries[0].struct_size;  // the host's, the same in every element
  plinth_probe_entry_t value{};
  value.index = i;
  value.usable = 1;
  std::strncpy(value.name, name, sizeof value.name - 1);
  const auto* src = reinterpret_cast<const unsigned char*>(&value);
  // Every [out] field inside the host's size; struct_size and next are the host's.
  std::memcpy(e + offsetof(plinth_probe_entry_t, index), src + offsetof(plinth_probe_entry_t, index),
              sizeof value.index);
  const std::size_t end = std::min<std::size_t>(size, sizeof value);
  const std::size_t from = offsetof(plinth_probe_entry_t, usable);
  if (end > from) std::memcpy(e + from, src + from, end - from);
}

// probe with two devices; `stride_of` gives the element stride the plugin uses.
template <std::size_t (*StrideOf)(const plinth_probe_entry_t*)>
plinth_status_t probe_two(plinth_probe_entry_t* entries, uint32_t capacity, uint32_t* out_count) {
  // The template's probe checks the arguments (NULL out_count, NULL entries, a too-small entry)
  // and leaves the thread's message; it fills entry 0, which is then overwritten.
  const plinth_status_t st = original().probe(entries, capacity == 0 ? 0 : 1, out_count);
  if (st != PLINTH_OK) return st;
  *out_count = 2;
  for (uint32_t i = 0; i < capacity && i < 2; ++i) {
    write_probe_entry(entries, StrideOf(entries), i,
                      i == 0 ? "template host device" : "template host device (second)");
  }
  return PLINTH_OK;
}

inline plinth_status_t open_two(uint32_t index, plinth_device_t* out_device) {
  return original().device_open(index == 1 ? 0 : index, out_device);
}

// plinth_plugin_init of a two-device plugin whose probe steps by StrideOf.
template <std::size_t (*StrideOf)(const plinth_probe_entry_t*)>
plinth_status_t init_two(const plinth_host_services_t* host, const plinth_plugin_api_t** out_api) {
  return init_patched(host, out_api, [](plinth_plugin_api_t& t) {
    t.probe = probe_two<StrideOf>;
    t.device_open = open_two;
  });
}

}  // namespace plinth::broken
