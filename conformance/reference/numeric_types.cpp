#include "numeric_types.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace plinth::cts::ref {

float half_to_float(uint16_t h) noexcept {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  float magnitude;
  if (exp == 0) {
    magnitude = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    magnitude = mant == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
  } else {
    magnitude = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  }
  const uint32_t bits = std::bit_cast<uint32_t>(magnitude) | sign;
  return std::bit_cast<float>(bits);
}

uint16_t float_to_half(float f) noexcept {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<uint16_t>(sign | 0x7E00u);
  if (a >= 65520.0f) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to infinity
  if (a < std::ldexp(1.0f, -14)) {
    // Subnormal range: value / 2^-24 rounded to nearest even is the mantissa.
    const float scaled = a * std::ldexp(1.0f, 24);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(scaled)));
  }
  int e;
  const float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  // 11 significant bits: q in [1024, 2048].
  float q = std::nearbyint(std::ldexp(m, 11));
  if (q >= 2048.0f) {
    q = 1024.0f;
    ++e;
  }
  const uint32_t exp_field = static_cast<uint32_t>(e - 1 + 15);
  if (exp_field >= 31) return static_cast<uint16_t>(sign | 0x7C00u);
  return static_cast<uint16_t>(sign | (exp_field << 10) | (static_cast<uint32_t>(q) - 1024u));
}

float bfloat_to_float(uint16_t b) noexcept { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t float_to_bfloat(float f) noexcept {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

std::size_t dtype_block_bytes(plinth_dtype_t dtype) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32: return 4;
    case PLINTH_DTYPE_F16: return 2;
    case PLINTH_DTYPE_BF16: return 2;
    case PLINTH_DTYPE_I32: return 4;
    case PLINTH_DTYPE_Q8_0: return 34;
    case PLINTH_DTYPE_Q4_0: return 18;
    case PLINTH_DTYPE_Q4_1: return 20;
    default: return 0;
  }
}

int dtype_block_elems(plinth_dtype_t dtype) noexcept { return dtype_is_quantized(dtype) ? PLINTH_QUANT_BLOCK : 1; }

bool dtype_is_quantized(plinth_dtype_t dtype) noexcept {
  return dtype == PLINTH_DTYPE_Q8_0 || dtype == PLINTH_DTYPE_Q4_0 || dtype == PLINTH_DTYPE_Q4_1;
}

bool dtype_is_float(plinth_dtype_t dtype) noexcept {
  return dtype == PLINTH_DTYPE_F32 || dtype == PLINTH_DTYPE_F16 || dtype == PLINTH_DTYPE_BF16;
}

const char* dtype_label(plinth_dtype_t dtype) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32: return "f32";
    case PLINTH_DTYPE_F16: return "f16";
    case PLINTH_DTYPE_BF16: return "bf16";
    case PLINTH_DTYPE_I32: return "i32";
    case PLINTH_DTYPE_Q8_0: return "q8_0";
    case PLINTH_DTYPE_Q4_0: return "q4_0";
    case PLINTH_DTYPE_Q4_1: return "q4_1";
    default: return "?";
  }
}

double round_to_dtype(double v, plinth_dtype_t dtype) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32: return static_cast<float>(v);
    case PLINTH_DTYPE_F16: return half_to_float(float_to_half(static_cast<float>(v)));
    case PLINTH_DTYPE_BF16: return bfloat_to_float(float_to_bfloat(static_cast<float>(v)));
    case PLINTH_DTYPE_I32: return std::isfinite(v) ? std::trunc(v) : 0.0;
    default: return v;
  }
}

void store_element(plinth_dtype_t dtype, double v, std::byte* dst) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32: {
      const float f = static_cast<float>(v);
      std::memcpy(dst, &f, 4);
      break;
    }
    case PLINTH_DTYPE_F16: {
      const uint16_t h = float_to_half(static_cast<float>(v));
      std::memcpy(dst, &h, 2);
      break;
    }
    case PLINTH_DTYPE_BF16: {
      const uint16_t b = float_to_bfloat(static_cast<float>(v));
      std::memcpy(dst, &b, 2);
      break;
    }
    case PLINTH_DTYPE_I32: {
      const int32_t i = static_cast<int32_t>(std::isfinite(v) ? std::trunc(v) : 0.0);
      std::memcpy(dst, &i, 4);
      break;
    }
    default: break;
  }
}

double load_element(plinth_dtype_t dtype, const std::byte* src) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32: {
      float f;
      std::memcpy(&f, src, 4);
      return f;
    }
    case PLINTH_DTYPE_F16: {
      uint16_t h;
      std::memcpy(&h, src, 2);
      return half_to_float(h);
    }
    case PLINTH_DTYPE_BF16: {
      uint16_t b;
      std::memcpy(&b, src, 2);
      return bfloat_to_float(b);
    }
    case PLINTH_DTYPE_I32: {
      int32_t i;
      std::memcpy(&i, src, 4);
      return i;
    }
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

void dequantize_block(plinth_dtype_t dtype, const std::byte* block, std::span<double, 32> out) noexcept {
  auto u8 = [&](std::size_t i) { return std::to_integer<uint8_t>(block[i]); };
  auto half_at = [&](std::size_t i) {
    return static_cast<double>(half_to_float(static_cast<uint16_t>(u8(i) | (u8(i + 1) << 8))));
  };
  auto nibble = [&](std::size_t qs, int j) {
    return j < 16 ? (u8(qs + static_cast<std::size_t>(j)) & 0xF) : (u8(qs + static_cast<std::size_t>(j - 16)) >> 4);
  };
  switch (dtype) {
    case PLINTH_DTYPE_Q8_0: {
      const double d = half_at(0);
      for (int j = 0; j < 32; ++j) out[static_cast<std::size_t>(j)] = d * static_cast<int8_t>(u8(2 + static_cast<std::size_t>(j)));
      break;
    }
    case PLINTH_DTYPE_Q4_0: {
      const double d = half_at(0);
      for (int j = 0; j < 32; ++j) out[static_cast<std::size_t>(j)] = d * (nibble(2, j) - 8);
      break;
    }
    case PLINTH_DTYPE_Q4_1: {
      const double d = half_at(0);
      const double m = half_at(2);
      for (int j = 0; j < 32; ++j) out[static_cast<std::size_t>(j)] = d * nibble(4, j) + m;
      break;
    }
    default:
      for (auto& v : out) v = std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace plinth::cts::ref
