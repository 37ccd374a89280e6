// Where a test tensor lives inside its device buffer: byte strides for each Layout, the offset after
// a guard margin, and the bytes its elements occupy (everything else is guard).
#pragma once

#include <cstdint>
#include <vector>

#include "op_cases.hpp"

namespace plinth::cts {

inline constexpr uint64_t kGuardMargin = 64;

struct PlacedTensor {
  Arg arg;
  std::vector<int64_t> strides;  // bytes, per dim
  uint64_t offset = 0;           // byte offset of element (0,..,0)
  uint64_t span_end = 0;         // one past the last byte any element touches (absolute)
  uint64_t buffer_size = 0;      // offset + span + margin

  int64_t numel() const noexcept;
  // Absolute byte offset of the element (float/I32) or of the block (quantized: `flat` is the
  // index of a 32-element block in row-major block order).
  uint64_t element_offset(int64_t flat) const noexcept;
  uint64_t element_bytes() const noexcept;  // bytes per element, or per block when quantized
  int64_t units() const noexcept;           // elements, or blocks when quantized
  plinth_tensor_t descriptor(plinth_buffer_t buffer) const noexcept;
  std::vector<bool> element_mask() const;  // buffer_size flags: byte belongs to an element
};

PlacedTensor place_tensor(const Arg& arg, uint64_t margin = kGuardMargin);

}  // namespace plinth::cts
