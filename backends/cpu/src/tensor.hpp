// A resolved tensor: a host pointer plus shape and byte strides, right-aligned to 4 dimensions so
// every op indexes the same way (dims[3] is the innermost; missing leading dims are 1 with stride 0).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "kernels.hpp"
#include "plinth/ops.h"

namespace plinth::cpu {

struct Tensor {
  std::byte* data = nullptr;  // element (0,0,0,0)
  plinth_dtype_t dtype = PLINTH_DTYPE_F32;
  int ndim = 0;  // as given by the caller (0..4)
  std::array<int64_t, 4> dims{1, 1, 1, 1};
  std::array<int64_t, 4> strides{0, 0, 0, 0};

  int64_t numel() const noexcept { return dims[0] * dims[1] * dims[2] * dims[3]; }
  int64_t rows() const noexcept { return dims[0] * dims[1] * dims[2]; }
  int64_t cols() const noexcept { return dims[3]; }
  std::byte* at(int64_t i0, int64_t i1, int64_t i2, int64_t i3) const noexcept {
    return data + i0 * strides[0] + i1 * strides[1] + i2 * strides[2] + i3 * strides[3];
  }
  // Start of row r, rows counted over dims 0..2 in row-major order.
  std::byte* row(int64_t r) const noexcept {
    const int64_t i2 = r % dims[2];
    const int64_t i1 = (r / dims[2]) % dims[1];
    const int64_t i0 = r / (dims[2] * dims[1]);
    return at(i0, i1, i2, 0);
  }
  // True when the innermost dimension is dense f32 at a 4-byte aligned address (usable in place).
  bool f32_rows() const noexcept;
};

// Views `t` with `shape`'s dims: every extent-1 dimension of t that `shape` extends gets stride 0.
Tensor broadcast_to(const Tensor& t, const std::array<int64_t, 4>& shape) noexcept;

// Element size in bytes for non-quantized dtypes (4 or 2), 0 for quantized ones.
int64_t element_size(plinth_dtype_t dtype) noexcept;

float load_f32(const std::byte* p, plinth_dtype_t dtype) noexcept;
void store_f32(std::byte* p, plinth_dtype_t dtype, float v) noexcept;

// Reads n elements (byte stride `stride`, possibly 0) of any float dtype into dst as f32.
void load_row(const KernelTable& k, const std::byte* src, plinth_dtype_t dtype, int64_t stride, int64_t n,
              float* dst) noexcept;
// Writes n f32 values to elements of a float dtype with byte stride `stride`.
void store_row(const KernelTable& k, const float* src, std::byte* dst, plinth_dtype_t dtype, int64_t stride,
               int64_t n) noexcept;

// Returns row r of a float tensor as contiguous f32: a pointer into the tensor when it already is,
// otherwise converted into `scratch`.
const float* row_as_f32(const KernelTable& k, const Tensor& t, int64_t r, float* scratch) noexcept;

// Per-thread scratch memory that only grows (no allocation on the steady-state launch path).
// slot selects one of several independent arrays. Throws std::bad_alloc when it cannot grow.
float* thread_scratch(int slot, int64_t count);
inline constexpr int kScratchSlots = 6;

}  // namespace plinth::cpu
