#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <plinth/formats/dtype.hpp>

namespace plinth::formats {

/// What the reader knows about a GGUF tensor type id: its name and storage layout, and the DType it
/// maps to where the reader hands such tensors out (nullopt: recognised but unsupported).
struct GgmlTypeInfo {
  std::uint32_t id;
  std::string_view name;
  std::uint32_t block_elements;
  std::uint32_t block_bytes;
  std::optional<DType> dtype;
};

/// nullptr for ids that are not (or no longer) GGUF tensor types.
[[nodiscard]] const GgmlTypeInfo* find_ggml_type(std::uint32_t id) noexcept;

}  // namespace plinth::formats
