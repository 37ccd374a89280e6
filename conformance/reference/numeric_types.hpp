// Storage conversions the CTS needs to build inputs and decode outputs (f16, bf16, GGUF blocks).
// Written independently of the plugin SDK on purpose: a conversion bug shared by the SDK and the
// CTS would make both agree and hide it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "plinth/ops.h"

namespace plinth::cts::ref {

float half_to_float(uint16_t h) noexcept;
uint16_t float_to_half(float f) noexcept;  // round to nearest even; NaN/inf kept
float bfloat_to_float(uint16_t b) noexcept;
uint16_t float_to_bfloat(float f) noexcept;  // round to nearest even; NaN kept

// Bytes of one element (float/i32) or one 32-element block (quantized); 0 for an unknown dtype.
std::size_t dtype_block_bytes(plinth_dtype_t dtype) noexcept;
int dtype_block_elems(plinth_dtype_t dtype) noexcept;  // 1, or 32 for quantized dtypes
bool dtype_is_quantized(plinth_dtype_t dtype) noexcept;
bool dtype_is_float(plinth_dtype_t dtype) noexcept;
const char* dtype_label(plinth_dtype_t dtype) noexcept;  // "f32", "q4_1"

// The value `v` becomes when stored as `dtype` (float dtypes via f32, I32 truncated toward zero).
double round_to_dtype(double v, plinth_dtype_t dtype) noexcept;
// Stores / loads one float or I32 element.
void store_element(plinth_dtype_t dtype, double v, std::byte* dst) noexcept;
double load_element(plinth_dtype_t dtype, const std::byte* src) noexcept;
// Decodes one quantized block into 32 values.
void dequantize_block(plinth_dtype_t dtype, const std::byte* block, std::span<double, 32> out) noexcept;

}  // namespace plinth::cts::ref
