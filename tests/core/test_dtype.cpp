// The core's element-type table and f16/bf16 conversions: derived from plinth/abi_lists.h and equal,
// bit for bit, to the plugin SDK's (plugins convert with the SDK, everything above the ABI with the
// core, and a value must not change on the way across).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

#include "plinth/dtype.hpp"
#include "plinth/sdk/dtype.hpp"

namespace {

TEST(DType, TableMatchesTheSdkForEveryAbiDtype) {
  for (int32_t id = 0; id < PLINTH_DTYPE_COUNT; ++id) {
    const auto dtype = static_cast<plinth::DType>(id);
    EXPECT_EQ(plinth::dtype_name(dtype), std::string(plinth::sdk::dtype_name(id))) << id;
    EXPECT_EQ(plinth::dtype_layout(dtype).block_bytes, plinth::sdk::dtype_layout(id).block_bytes) << id;
    EXPECT_EQ(plinth::dtype_layout(dtype).block_elems, plinth::sdk::dtype_layout(id).block_elems) << id;
    EXPECT_EQ(plinth::is_float(dtype), plinth::sdk::is_float(id)) << id;
    EXPECT_EQ(plinth::is_quantized(dtype), plinth::sdk::is_quantized(id)) << id;
  }
  EXPECT_EQ(plinth::dtype_name(static_cast<plinth::DType>(PLINTH_DTYPE_COUNT)), "?");
  EXPECT_EQ(plinth::dtype_bytes(plinth::DType::q4_1, 64), 40u);
}

TEST(DType, HalfToFloatMatchesTheSdkForEveryValue) {
  for (uint32_t h = 0; h <= 0xFFFFu; ++h) {
    const float core = plinth::f16_to_f32(static_cast<uint16_t>(h));
    const float sdk = plinth::sdk::f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(sdk)) {
      EXPECT_TRUE(std::isnan(core)) << h;
      continue;
    }
    ASSERT_EQ(std::bit_cast<uint32_t>(core), std::bit_cast<uint32_t>(sdk)) << "f16 bits " << h;
    EXPECT_EQ(plinth::f32_to_f16(core), h) << "f16 -> f32 -> f16 is exact";
    const float b = plinth::bf16_to_f32(static_cast<uint16_t>(h));
    EXPECT_EQ(std::bit_cast<uint32_t>(b),
              std::bit_cast<uint32_t>(plinth::sdk::bf16_to_f32(static_cast<uint16_t>(h))));
  }
}

TEST(DType, FloatToHalfAndBfloatRoundLikeTheSdk) {
  // A stride through every f32 bit pattern (both signs, subnormals, ties, overflow, NaN).
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 4099) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(bits));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(plinth::f16_to_f32(plinth::f32_to_f16(f))));
      EXPECT_TRUE(std::isnan(plinth::bf16_to_f32(plinth::f32_to_bf16(f))));
      continue;
    }
    ASSERT_EQ(plinth::f32_to_f16(f), plinth::sdk::f32_to_f16(f)) << "f32 bits " << bits;
    ASSERT_EQ(plinth::f32_to_bf16(f), plinth::sdk::f32_to_bf16(f)) << "f32 bits " << bits;
  }
  EXPECT_EQ(plinth::f32_to_f16(1.0f + 0x1p-11f), 0x3C00u) << "a tie rounds to even (down)";
  EXPECT_EQ(plinth::f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3C02u) << "a tie rounds to even (up)";
  EXPECT_EQ(plinth::f32_to_f16(65520.0f), 0x7C00u) << "rounds to infinity";
  EXPECT_EQ(plinth::f32_to_bf16(1.0f + 0x1p-8f), 0x3F80u) << "a bf16 tie rounds to even";
}

}  // namespace
