// Elementwise loops over tensors in host-addressable memory, for backends whose device memory the
// plugin can touch directly (the template, test plugins, a reference path). A tensor is padded to
// PLINTH_MAX_DIMS with leading 1s, and dims of extent 1 get stride 0, so one 4-deep loop over the
// output's shape reads every operand, broadcast ones included.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "plinth/sdk/op_call.hpp"

namespace plinth::sdk {

using HostIndex = std::array<int64_t, PLINTH_MAX_DIMS>;

// A tensor's first element and byte strides; f32 access by memcpy, since a tensor's offset need not
// be 4-byte aligned.
struct HostTensor {
  std::byte* base = nullptr;
  HostIndex strides{};

  std::byte* at(const HostIndex& i) const noexcept {
    int64_t off = 0;
    for (int k = 0; k < PLINTH_MAX_DIMS; ++k) off += i[k] * strides[k];
    return base + off;
  }
  float load(const HostIndex& i) const noexcept {
    float v;
    std::memcpy(&v, at(i), sizeof v);
    return v;
  }
  void store(const HostIndex& i, float v) const noexcept { std::memcpy(at(i), &v, sizeof v); }
};

// t's dims padded with leading 1s ([3, 4] -> [1, 1, 3, 4]).
inline HostIndex padded_dims(const TensorView& t) noexcept {
  HostIndex d;
  d.fill(1);
  for (int k = 0; k < t.ndim; ++k) d[PLINTH_MAX_DIMS - t.ndim + k] = t.dims[k];
  return d;
}

// t inside the memory starting at `buffer_base` (its buffer's first byte).
inline HostTensor host_tensor(const TensorView& t, std::byte* buffer_base) noexcept {
  HostTensor h{buffer_base + t.offset, {}};
  const HostIndex dims = padded_dims(t);
  for (int k = 0, j = PLINTH_MAX_DIMS - t.ndim; k < t.ndim; ++k, ++j) {
    h.strides[j] = dims[j] == 1 ? 0 : t.strides[k];  // extent 1 never steps (and broadcasts)
  }
  return h;
}

// Calls f(index) for every index of `dims`, innermost fastest.
template <class F>
void for_each_index(const HostIndex& dims, F&& f) {
  HostIndex i{};
  for (i[0] = 0; i[0] < dims[0]; ++i[0])
    for (i[1] = 0; i[1] < dims[1]; ++i[1])
      for (i[2] = 0; i[2] < dims[2]; ++i[2])
        for (i[3] = 0; i[3] < dims[3]; ++i[3]) f(i);
}

}  // namespace plinth::sdk
