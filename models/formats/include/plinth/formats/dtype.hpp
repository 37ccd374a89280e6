#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <plinth/abi.h>

namespace plinth::formats {

/// Element types a reader can hand out. Quantized types are stored in blocks (see DTypeInfo).
enum class DType : std::uint8_t {
  kF64, kF32, kF16, kBF16, kF8E4M3, kF8E5M2,
  kI64, kI32, kI16, kI8, kU64, kU32, kU16, kU8, kBool,
  kQ8_0, kQ4_0, kQ4_1,
};

/// Storage layout: block_elements elements occupy block_bytes bytes (1 and sizeof(T) when unquantized).
struct DTypeInfo {
  std::string_view name;
  std::uint32_t block_elements;
  std::uint32_t block_bytes;
};

[[nodiscard]] DTypeInfo dtype_info(DType dtype) noexcept;
[[nodiscard]] inline std::string_view dtype_name(DType dtype) noexcept { return dtype_info(dtype).name; }

/// The ABI dtype id for this element type, or nullopt where the runtime has no such dtype.
[[nodiscard]] std::optional<plinth_dtype_t> to_plinth_dtype(DType dtype) noexcept;

}  // namespace plinth::formats
