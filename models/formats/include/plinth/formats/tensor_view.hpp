#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <plinth/formats/dtype.hpp>

namespace plinth::formats {

/// A tensor inside a mapped model file. shape is outermost-first (as plinth_tensor_t::dims), the
/// data is contiguous row-major in that order, and every view stays valid while its file object lives.
struct TensorView {
  std::string_view name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;
};

}  // namespace plinth::formats
