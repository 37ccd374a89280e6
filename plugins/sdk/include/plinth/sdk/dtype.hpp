// Element-type facts and scalar conversions (f16, bf16, GGUF quant blocks) for plugin authors.
#pragma once

#include <cstdint>
#include <cstring>

#include "plinth/ops.h"

namespace plinth::sdk {

// Bytes per block and elements per block; 4/1 for f32, 34/32 for Q8_0, and so on. 0/0 if unknown.
struct DtypeLayout {
  uint32_t block_bytes;
  uint32_t block_elems;
};
DtypeLayout dtype_layout(plinth_dtype_t dtype) noexcept;
const char* dtype_name(plinth_dtype_t dtype) noexcept;  // "f32", "q4_1", "?" if unknown
bool is_float(plinth_dtype_t dtype) noexcept;            // F32, F16, BF16
bool is_quantized(plinth_dtype_t dtype) noexcept;        // Q8_0, Q4_0, Q4_1

// Round-to-nearest-even conversions; NaN and infinities are preserved.
float f16_to_f32(uint16_t h) noexcept;
uint16_t f32_to_f16(float f) noexcept;
inline float bf16_to_f32(uint16_t b) noexcept {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
uint16_t f32_to_bf16(float f) noexcept;

// GGUF block structs, byte-exact (static_asserts in dtype.cpp).
#pragma pack(push, 1)
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[16];
};
#pragma pack(pop)

// Dequantizes one block of 32 elements into out[32].
void dequantize_block(plinth_dtype_t dtype, const void* block, float* out) noexcept;

}  // namespace plinth::sdk
