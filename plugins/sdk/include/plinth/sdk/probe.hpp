// Writing probe results into the host's array (abi.h, probe): the host's element may be larger than
// this plugin's plinth_probe_entry_t, so element i is found by the host's stride, never &entries[i].
#pragma once

#include <cstddef>
#include <cstdint>

#include "plinth/abi.h"
#include "plinth/sdk/structs.hpp"

namespace plinth::sdk {

// Writes `entry` as element `i` of `entries`, whose stride is entries[0].struct_size (the host sets
// the same size in every element). Throws INVALID_ARGUMENT when that size is below the v1.0 size.
inline void write_probe_entry(plinth_probe_entry_t* entries, uint32_t i, const plinth_probe_entry_t& entry) {
  const std::size_t stride = entries[0].struct_size;
  if (stride < sizeof(plinth_probe_entry_t)) {
    fail(PLINTH_ERROR_INVALID_ARGUMENT, "entries[0].struct_size " + std::to_string(stride) +
                                            " is below the v1.0 size " +
                                            std::to_string(sizeof(plinth_probe_entry_t)));
  }
  auto* element = reinterpret_cast<plinth_probe_entry_t*>(reinterpret_cast<std::byte*>(entries) + i * stride);
  write_struct(element, entry, sizeof(plinth_probe_entry_t), "probe entry");
}

}  // namespace plinth::sdk
