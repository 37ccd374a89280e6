// Element types of tensors (the ABI's PLINTH_DTYPE_* as a C++ enum), their storage facts, and the
// f16/bf16 conversions.
#pragma once

#include <cstdint>
#include <string_view>

#include "plinth/abi.h"
#include "plinth/abi_lists.h"
#include "plinth/export.hpp"

namespace plinth {

// One enumerator per entry of plinth/abi_lists.h's dtype list: f32, f16, bf16, i32, q8_0, q4_0, q4_1.
#define PLINTH_CORE_DTYPE(ID, name, bytes, elems, kind) name = PLINTH_DTYPE_##ID,
enum class DType : int32_t { PLINTH_DTYPE_LIST(PLINTH_CORE_DTYPE) };
#undef PLINTH_CORE_DTYPE

// Storage of one block: 4/1 for f32, 34/32 for q8_0. Quantized types store 32 elements per block.
struct DTypeLayout {
  uint32_t block_bytes;
  uint32_t block_elems;
};

PLINTH_CORE_API DTypeLayout dtype_layout(DType dtype) noexcept;     // {0, 0} for an unknown value
PLINTH_CORE_API std::string_view dtype_name(DType dtype) noexcept;  // "f32", "q4_1", "?"
PLINTH_CORE_API bool is_quantized(DType dtype) noexcept;
PLINTH_CORE_API bool is_float(DType dtype) noexcept;  // f32, f16, bf16
// Bytes of `elems` elements stored contiguously (elems must be a multiple of 32 for quantized types).
PLINTH_CORE_API uint64_t dtype_bytes(DType dtype, uint64_t elems) noexcept;

// The scalar conversions everything above the ABI uses (weights, test data, host references).
// Round to nearest even; infinities are kept and NaN stays a quiet NaN. Plugins use the SDK's.
PLINTH_CORE_API float f16_to_f32(uint16_t h) noexcept;
PLINTH_CORE_API uint16_t f32_to_f16(float f) noexcept;
PLINTH_CORE_API float bf16_to_f32(uint16_t b) noexcept;
PLINTH_CORE_API uint16_t f32_to_bf16(float f) noexcept;

}  // namespace plinth
