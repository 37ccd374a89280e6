#include "plinth/models/weights.hpp"

#include <cstring>
#include <plinth/formats/dtype.hpp>
#include <stdexcept>
#include <string>

namespace plinth::models {

DType runtime_dtype(const formats::TensorView& view) {
  const auto abi = formats::to_plinth_dtype(view.dtype);
  if (!abi) {
    throw std::runtime_error("tensor '" + std::string(view.name) + "' has dtype " +
                             std::string(formats::dtype_name(view.dtype)) +
                             ", which the runtime does not support");
  }
  return static_cast<DType>(*abi);
}

std::vector<float> to_f32(const formats::TensorView& view) {
  const DType dtype = runtime_dtype(view);
  uint64_t count = 1;
  for (int64_t d : view.shape) count *= static_cast<uint64_t>(d);
  std::vector<float> out(count);
  const std::byte* src = view.data.data();
  switch (dtype) {
    case DType::f32: std::memcpy(out.data(), src, count * sizeof(float)); break;
    case DType::f16:
    case DType::bf16:
      for (uint64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = dtype == DType::f16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
      break;
    default:
      throw std::runtime_error("tensor '" + std::string(view.name) + "' is " +
                               std::string(dtype_name(dtype)) + ", not a float dtype");
  }
  return out;
}

DeviceTensor upload(Device& device, Stream& stream, const formats::TensorView& view,
                    std::optional<DType> as) {
  const DType source = runtime_dtype(view);
  const Shape shape{std::span<const int64_t>(view.shape)};
  if (!as || *as == source) {
    DeviceTensor out{device.allocate(view.data.size()), {}};
    out.tensor = Tensor::contiguous(out.buffer, source, shape);
    if (!view.data.empty()) stream.upload(view.data.data(), out.buffer, 0, view.data.size());
    return out;
  }
  if (!is_float(source) || !is_float(*as)) {
    throw std::runtime_error("tensor '" + std::string(view.name) + "': cannot convert " +
                             std::string(dtype_name(source)) + " to " + std::string(dtype_name(*as)));
  }
  const std::vector<float> values = to_f32(view);
  std::vector<std::byte> converted(dtype_bytes(*as, values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (*as == DType::f32) {
      std::memcpy(converted.data() + 4 * i, &values[i], 4);
    } else {
      const uint16_t h = *as == DType::f16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
      std::memcpy(converted.data() + 2 * i, &h, 2);
    }
  }
  DeviceTensor out{device.allocate(converted.size()), {}};
  out.tensor = Tensor::contiguous(out.buffer, *as, shape);
  if (!converted.empty()) {
    stream.upload(converted.data(), out.buffer, 0, converted.size());
    stream.synchronize();  // `converted` dies with this call
  }
  return out;
}

}  // namespace plinth::models
