#include "test_data.hpp"

#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

namespace plinth::bench {

void fill_random(DType dtype, uint64_t elems, std::span<std::byte> out, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  const uint64_t need = dtype_bytes(dtype, elems);
  if (out.size() < need) throw std::logic_error("fill_random: buffer too small");
  auto put16 = [&](std::size_t at, uint16_t v) { std::memcpy(out.data() + at, &v, 2); };
  switch (dtype) {
    case DType::f32:
      for (uint64_t i = 0; i < elems; ++i) {
        const float v = value(rng);
        std::memcpy(out.data() + i * 4, &v, 4);
      }
      return;
    case DType::f16:
      for (uint64_t i = 0; i < elems; ++i) put16(i * 2, f32_to_f16(value(rng)));
      return;
    case DType::bf16:
      for (uint64_t i = 0; i < elems; ++i) put16(i * 2, f32_to_bf16(value(rng)));
      return;
    case DType::q8_0:
    case DType::q4_0:
    case DType::q4_1: {
      const DTypeLayout layout = dtype_layout(dtype);
      std::uniform_int_distribution<int> byte(0, 255);
      std::uniform_real_distribution<float> scale(0.001f, 0.01f);
      for (uint64_t b = 0; b < elems / layout.block_elems; ++b) {
        const std::size_t base = b * layout.block_bytes;
        for (uint32_t i = 0; i < layout.block_bytes; ++i) out[base + i] = static_cast<std::byte>(byte(rng));
        put16(base, f32_to_f16(scale(rng)));
        if (dtype == DType::q4_1) put16(base + 2, f32_to_f16(-8.0f * scale(rng)));
      }
      return;
    }
    case DType::i32: break;
  }
  throw std::logic_error("fill_random: unsupported dtype " + std::string(dtype_name(dtype)));
}

}  // namespace plinth::bench
