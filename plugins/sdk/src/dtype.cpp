// Element-type facts, IEEE half / bfloat16 conversions and GGUF block dequantization.
#include "plinth/sdk/dtype.hpp"

#include <limits>

#include "plinth/abi_lists.h"

namespace plinth::sdk {

static_assert(sizeof(BlockQ8_0) == 34, "GGUF Q8_0 block is 34 bytes");
static_assert(sizeof(BlockQ4_0) == 18, "GGUF Q4_0 block is 18 bytes");
static_assert(sizeof(BlockQ4_1) == 20, "GGUF Q4_1 block is 20 bytes");
static_assert(PLINTH_QUANT_BLOCK == 32);

namespace {

uint32_t float_bits(float f) noexcept {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

float bits_float(uint32_t bits) noexcept {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

namespace {

// Layouts, names and kinds come from plinth/abi_lists.h; the block structs above must agree.
#define PLINTH_SDK_DTYPE(ID, name, bytes, elems, kind) {bytes, elems, #name, kind},
struct DtypeFacts {
  uint32_t block_bytes;
  uint32_t block_elems;
  const char* name;
  int kind;
};
constexpr DtypeFacts kDtypes[PLINTH_DTYPE_COUNT] = {PLINTH_DTYPE_LIST(PLINTH_SDK_DTYPE)};
#undef PLINTH_SDK_DTYPE
static_assert(kDtypes[PLINTH_DTYPE_Q8_0].block_bytes == sizeof(BlockQ8_0));
static_assert(kDtypes[PLINTH_DTYPE_Q4_0].block_bytes == sizeof(BlockQ4_0));
static_assert(kDtypes[PLINTH_DTYPE_Q4_1].block_bytes == sizeof(BlockQ4_1));

const DtypeFacts* facts(plinth_dtype_t dtype) noexcept {
  return dtype >= 0 && dtype < PLINTH_DTYPE_COUNT ? &kDtypes[dtype] : nullptr;
}

}  // namespace

DtypeLayout dtype_layout(plinth_dtype_t dtype) noexcept {
  const DtypeFacts* f = facts(dtype);
  return f != nullptr ? DtypeLayout{f->block_bytes, f->block_elems} : DtypeLayout{0, 0};
}

const char* dtype_name(plinth_dtype_t dtype) noexcept {
  const DtypeFacts* f = facts(dtype);
  return f != nullptr ? f->name : "?";
}

bool is_float(plinth_dtype_t dtype) noexcept {
  const DtypeFacts* f = facts(dtype);
  return f != nullptr && f->kind == PLINTH_DTYPE_KIND_FLOAT;
}

bool is_quantized(plinth_dtype_t dtype) noexcept {
  const DtypeFacts* f = facts(dtype);
  return f != nullptr && f->kind == PLINTH_DTYPE_KIND_QUANT;
}

float f16_to_f32(uint16_t h) noexcept {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (mant << 13));  // inf, NaN keeps its payload
  if (exp != 0) return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
  // Zero or subnormal: mant * 2^-24 is exact in f32.
  const float magnitude = static_cast<float>(mant) * 0x1p-24f;
  return sign != 0 ? -magnitude : magnitude;
}

uint16_t f32_to_f16(float f) noexcept {
  const uint32_t bits = float_bits(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) {
    // NaN: keep the top payload bits and force the quiet bit so the result never becomes infinity.
    return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  // 65520 is halfway between the largest half (65504, odd mantissa) and 2^16: ties go up to inf.
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (abs >= 0x38800000u) {
    // Normal half: rebias the exponent, round the 13 dropped mantissa bits to nearest even. A carry
    // out of the mantissa correctly bumps the exponent.
    uint32_t h = ((abs >> 23) - 112u) << 10 | ((abs >> 13) & 0x3ffu);
    const uint32_t rest = abs & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  // Subnormal half (or zero): value / 2^-24 rounded to nearest even. 2^-25 itself ties to 0.
  if (abs <= 0x33000000u) return sign;
  const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - (abs >> 23);  // 14..24 for exponents 2^-15 .. 2^-25
  uint32_t h = mant >> shift;
  const uint32_t rest = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

uint16_t f32_to_bf16(float f) noexcept {
  const uint32_t bits = float_bits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // quiet NaN; truncating could yield inf
  }
  const uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(rounded >> 16);
}

void dequantize_block(plinth_dtype_t dtype, const void* block, float* out) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_Q8_0: {
      BlockQ8_0 b;
      std::memcpy(&b, block, sizeof b);
      const float d = f16_to_f32(b.d);
      for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(b.qs[j]);
      return;
    }
    case PLINTH_DTYPE_Q4_0: {
      BlockQ4_0 b;
      std::memcpy(&b, block, sizeof b);
      const float d = f16_to_f32(b.d);
      for (int j = 0; j < 16; ++j) {
        out[j] = d * static_cast<float>((b.qs[j] & 0xf) - 8);
        out[j + 16] = d * static_cast<float>((b.qs[j] >> 4) - 8);
      }
      return;
    }
    case PLINTH_DTYPE_Q4_1: {
      BlockQ4_1 b;
      std::memcpy(&b, block, sizeof b);
      const float d = f16_to_f32(b.d);
      const float m = f16_to_f32(b.m);
      for (int j = 0; j < 16; ++j) {
        out[j] = d * static_cast<float>(b.qs[j] & 0xf) + m;
        out[j + 16] = d * static_cast<float>(b.qs[j] >> 4) + m;
      }
      return;
    }
    default:
      // Not a block dtype: NaNs make the caller's mistake visible instead of plausible.
      for (int j = 0; j < 32; ++j) out[j] = std::numeric_limits<float>::quiet_NaN();
      return;
  }
}

}  // namespace plinth::sdk
