// f16/bf16 conversions against known bit patterns and GGUF block dequantization.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "plinth/sdk/dtype.hpp"

namespace plinth::sdk {
namespace {

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

TEST(Dtype, LayoutsAndNames) {
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_F32).block_bytes, 4u);
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_BF16).block_bytes, 2u);
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_I32).block_elems, 1u);
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_Q8_0).block_bytes, 34u);
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_Q4_0).block_bytes, 18u);
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_Q4_1).block_bytes, 20u);
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_Q4_1).block_elems, 32u);
  EXPECT_EQ(dtype_layout(PLINTH_DTYPE_COUNT).block_bytes, 0u);
  EXPECT_STREQ(dtype_name(PLINTH_DTYPE_Q4_1), "q4_1");
  EXPECT_STREQ(dtype_name(PLINTH_DTYPE_BF16), "bf16");
  EXPECT_STREQ(dtype_name(-3), "?");
  EXPECT_TRUE(is_float(PLINTH_DTYPE_F16));
  EXPECT_FALSE(is_float(PLINTH_DTYPE_I32));
  EXPECT_TRUE(is_quantized(PLINTH_DTYPE_Q8_0));
  EXPECT_FALSE(is_quantized(PLINTH_DTYPE_BF16));
}

TEST(Dtype, F16KnownValues) {
  struct Pair {
    uint16_t h;
    float f;
  };
  const Pair pairs[] = {
      {0x0000, 0.0f},      {0x3c00, 1.0f},        {0xc000, -2.0f},       {0x3555, 0.333251953125f},
      {0x7bff, 65504.0f},  {0x0400, 0x1p-14f},    {0x0001, 0x1p-24f},    {0x03ff, 1023 * 0x1p-24f},
      {0x3bff, 0.99951171875f},                   {0x7c00, INFINITY},    {0xfc00, -INFINITY},
  };
  for (const Pair& p : pairs) {
    SCOPED_TRACE(p.h);
    EXPECT_EQ(f16_to_f32(p.h), p.f);
    EXPECT_EQ(f32_to_f16(p.f), p.h);
  }
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
  // Every finite half survives a round trip through f32.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    ASSERT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h);
  }
}

TEST(Dtype, F16RoundsToNearestEven) {
  // 1 + 2^-11 lies exactly between 1 (even mantissa) and 1 + 2^-10: ties to even -> 1.
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
  // 1 + 3*2^-11 lies between 1+2^-10 (odd) and 1+2^-9 (even): ties to even -> up.
  EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
  // Just above a tie rounds up, just below rounds down.
  EXPECT_EQ(f32_to_f16(std::nextafter(1.0f + 0x1p-11f, 2.0f)), 0x3c01);
  EXPECT_EQ(f32_to_f16(std::nextafter(1.0f + 0x1p-11f, 0.0f)), 0x3c00);
  // Overflow: 65519 rounds to 65504, 65520 (a tie with an odd mantissa) to infinity.
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(f32_to_f16(-1e10f), 0xfc00);
  // Subnormals: 2^-25 ties to 0; a hair above rounds to the smallest subnormal; 3*2^-25 ties to even (2).
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);
  EXPECT_EQ(f32_to_f16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(f32_to_f16(3 * 0x1p-25f), 0x0002);
  EXPECT_EQ(f32_to_f16(5 * 0x1p-25f), 0x0002);
  EXPECT_EQ(f32_to_f16(1e-10f), 0x0000);
  // The largest subnormal rounding up becomes the smallest normal.
  EXPECT_EQ(f32_to_f16(0x1p-14f - 0x1p-26f), 0x0400);
}

TEST(Dtype, F16NanAndInfinity) {
  const uint16_t nan = f32_to_f16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  // A NaN whose payload lives only in the low bits must not turn into infinity.
  const uint16_t low_payload = f32_to_f16(from_bits(0x7f800001u));
  EXPECT_NE(low_payload & 0x03ff, 0);
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0xfd01)));
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
}

TEST(Dtype, Bf16) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc0a0), -5.0f);
  EXPECT_EQ(f32_to_bf16(-5.0f), 0xc0a0);
  // Ties to even: 1 + 2^-8 sits between 0x3f80 (even) and 0x3f81.
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
  EXPECT_EQ(f32_to_bf16(std::nextafter(1.0f + 0x1p-8f, 2.0f)), 0x3f81);
  // Rounding past the largest finite value gives infinity; infinities stay.
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(f32_to_bf16(-INFINITY), 0xff80);
  // NaN stays NaN even when only low payload bits are set.
  const uint16_t nan = f32_to_bf16(from_bits(0x7f800001u));
  EXPECT_TRUE(std::isnan(bf16_to_f32(nan)));
  EXPECT_EQ(bits(bf16_to_f32(0x0001)), 0x00010000u);  // subnormals pass through bit-exactly
  EXPECT_EQ(f32_to_bf16(from_bits(0x00010000u)), 0x0001);
}

TEST(Dtype, DequantizeQ8_0) {
  BlockQ8_0 b{};
  b.d = f32_to_f16(0.5f);
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j - 16);
  b.qs[0] = -128;
  b.qs[31] = 127;
  float out[32];
  dequantize_block(PLINTH_DTYPE_Q8_0, &b, out);
  EXPECT_EQ(out[0], -64.0f);
  EXPECT_EQ(out[1], -7.5f);
  EXPECT_EQ(out[16], 0.0f);
  EXPECT_EQ(out[31], 63.5f);
}

TEST(Dtype, DequantizeQ4_0) {
  BlockQ4_0 b{};
  b.d = f32_to_f16(2.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  dequantize_block(PLINTH_DTYPE_Q4_0, &b, out);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * static_cast<float>(j - 8)) << j;             // low nibbles first
    EXPECT_EQ(out[j + 16], 2.0f * static_cast<float>(7 - j)) << j + 16;  // then high nibbles
  }
}

TEST(Dtype, DequantizeQ4_1) {
  BlockQ4_1 b{};
  b.d = f32_to_f16(0.25f);
  b.m = f32_to_f16(-1.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(15 | (j << 4));
  float out[32];
  dequantize_block(PLINTH_DTYPE_Q4_1, &b, out);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 0.25f * 15.0f - 1.0f);
    EXPECT_EQ(out[j + 16], 0.25f * static_cast<float>(j) - 1.0f);
  }
  // Unaligned block addresses are fine: GGUF tensors pack blocks at any byte offset.
  unsigned char raw[sizeof b + 1];
  std::memcpy(raw + 1, &b, sizeof b);
  float again[32];
  dequantize_block(PLINTH_DTYPE_Q4_1, raw + 1, again);
  EXPECT_EQ(std::memcmp(out, again, sizeof out), 0);
}

TEST(Dtype, DequantizeNonBlockDtypeYieldsNaN) {
  float out[32] = {};
  const float src[32] = {};
  dequantize_block(PLINTH_DTYPE_F32, src, out);
  for (float v : out) EXPECT_TRUE(std::isnan(v));
}

}  // namespace
}  // namespace plinth::sdk
