// Deterministic random operands in every dtype the benchmark uses: float values in [-1, 1] stored
// as f32/f16/bf16, and block-quantized weights whose scales are valid, finite f16 values (random bytes
// would produce NaN/Inf scales and could send a kernel down a slow path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "plinth/dtype.hpp"

namespace plinth::bench {

// Fills `out` with `elems` values of `dtype` (for quantized dtypes elems is a multiple of 32 and
// out holds dtype_bytes(dtype, elems) bytes).
void fill_random(DType dtype, uint64_t elems, std::span<std::byte> out, uint32_t seed);

}  // namespace plinth::bench
