// Element types of tensors (the ABI's PLINTH_DTYPE_* as a C++ enum) and their storage facts.
#pragma once

#include <cstdint>
#include <string_view>

#include "plinth/abi.h"
#include "plinth/export.hpp"

namespace plinth {

enum class DType : int32_t {
  f32 = PLINTH_DTYPE_F32,
  f16 = PLINTH_DTYPE_F16,
  bf16 = PLINTH_DTYPE_BF16,
  i32 = PLINTH_DTYPE_I32,
  q8_0 = PLINTH_DTYPE_Q8_0,
  q4_0 = PLINTH_DTYPE_Q4_0,
  q4_1 = PLINTH_DTYPE_Q4_1,
};

// Storage of one block: 4/1 for f32, 34/32 for q8_0. Quantized types store 32 elements per block.
struct DTypeLayout {
  uint32_t block_bytes;
  uint32_t block_elems;
};

PLINTH_CORE_API DTypeLayout dtype_layout(DType dtype) noexcept;  // {0, 0} for an unknown value
PLINTH_CORE_API std::string_view dtype_name(DType dtype) noexcept;  // "f32", "q4_1", "?"
PLINTH_CORE_API bool is_quantized(DType dtype) noexcept;
PLINTH_CORE_API bool is_float(DType dtype) noexcept;  // f32, f16, bf16
// Bytes of `elems` elements stored contiguously (elems must be a multiple of 32 for quantized types).
PLINTH_CORE_API uint64_t dtype_bytes(DType dtype, uint64_t elems) noexcept;

}  // namespace plinth
