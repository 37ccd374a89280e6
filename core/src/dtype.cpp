#include "plinth/dtype.hpp"

#include <bit>

namespace plinth {

namespace {

struct Facts {
  DTypeLayout layout;
  std::string_view name;
  int kind;
};
#define PLINTH_CORE_DTYPE_FACTS(ID, name, bytes, elems, kind) Facts{{bytes, elems}, #name, kind},
constexpr Facts kDTypes[] = {PLINTH_DTYPE_LIST(PLINTH_CORE_DTYPE_FACTS)};
#undef PLINTH_CORE_DTYPE_FACTS

const Facts* facts(DType dtype) noexcept {
  const auto i = static_cast<int32_t>(dtype);
  return i >= 0 && i < PLINTH_DTYPE_COUNT ? &kDTypes[i] : nullptr;
}

}  // namespace

DTypeLayout dtype_layout(DType dtype) noexcept {
  const Facts* f = facts(dtype);
  return f != nullptr ? f->layout : DTypeLayout{0, 0};
}

std::string_view dtype_name(DType dtype) noexcept {
  const Facts* f = facts(dtype);
  return f != nullptr ? f->name : "?";
}

bool is_quantized(DType dtype) noexcept {
  const Facts* f = facts(dtype);
  return f != nullptr && f->kind == PLINTH_DTYPE_KIND_QUANT;
}

bool is_float(DType dtype) noexcept {
  const Facts* f = facts(dtype);
  return f != nullptr && f->kind == PLINTH_DTYPE_KIND_FLOAT;
}

uint64_t dtype_bytes(DType dtype, uint64_t elems) noexcept {
  const auto layout = dtype_layout(dtype);
  if (layout.block_elems == 0) return 0;
  return (elems + layout.block_elems - 1) / layout.block_elems * layout.block_bytes;
}

float f16_to_f32(uint16_t h) noexcept {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  uint32_t bits = 0;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {  // subnormal: renormalise
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3FFu) << 13);
  } else {
    bits = sign;
  }
  return std::bit_cast<float>(bits);
}

uint16_t f32_to_f16(float f) noexcept {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) {  // inf or NaN (keep NaN quiet)
    return static_cast<uint16_t>(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to inf
  if (abs < 0x38800000u) {  // result is subnormal or zero: let the FPU round (exact add trick)
    const float magic = std::bit_cast<float>(0x3F000000u);  // 0.5: aligns the mantissa to 2^-24
    const float r = std::bit_cast<float>(abs) + magic;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(r) - 0x3F000000u));
  }
  const uint32_t odd = (abs >> 13) & 1u;
  const uint32_t rounded = abs + 0xC8000FFFu + odd;  // rebias exponent (-112 << 23) and round to even
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

float bf16_to_f32(uint16_t b) noexcept { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t f32_to_bf16(float f) noexcept {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace plinth
