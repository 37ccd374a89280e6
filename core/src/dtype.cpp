#include "plinth/dtype.hpp"

namespace plinth {

DTypeLayout dtype_layout(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32: return {4, 1};
    case DType::f16: return {2, 1};
    case DType::bf16: return {2, 1};
    case DType::i32: return {4, 1};
    case DType::q8_0: return {34, 32};
    case DType::q4_0: return {18, 32};
    case DType::q4_1: return {20, 32};
  }
  return {0, 0};
}

std::string_view dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::i32: return "i32";
    case DType::q8_0: return "q8_0";
    case DType::q4_0: return "q4_0";
    case DType::q4_1: return "q4_1";
  }
  return "?";
}

bool is_quantized(DType dtype) noexcept {
  return dtype == DType::q8_0 || dtype == DType::q4_0 || dtype == DType::q4_1;
}

bool is_float(DType dtype) noexcept { return dtype == DType::f32 || dtype == DType::f16 || dtype == DType::bf16; }

uint64_t dtype_bytes(DType dtype, uint64_t elems) noexcept {
  const auto layout = dtype_layout(dtype);
  if (layout.block_elems == 0) return 0;
  return (elems + layout.block_elems - 1) / layout.block_elems * layout.block_bytes;
}

}  // namespace plinth
