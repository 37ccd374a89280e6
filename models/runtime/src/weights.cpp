#include "plinth/models/weights.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>

#include <plinth/formats/dtype.hpp>

namespace plinth::models {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  uint32_t bits = 0;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {  // subnormal: renormalise
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3FFu) << 13);
  } else {
    bits = sign;
  }
  return std::bit_cast<float>(bits);
}

uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) {  // inf or NaN (keep NaN quiet)
    return static_cast<uint16_t>(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to inf
  if (abs < 0x38800000u) {  // result is subnormal or zero: let the FPU round (exact add trick)
    const float magic = std::bit_cast<float>(0x3F000000u);  // 0.5: aligns the mantissa to 2^-24
    const float r = std::bit_cast<float>(abs) + magic;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(r) - 0x3F000000u));
  }
  const uint32_t odd = (abs >> 13) & 1u;
  const uint32_t rounded = abs + 0xC8000FFFu + odd;  // rebias exponent (-112 << 23) and round to even
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

uint16_t float_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace

DType runtime_dtype(const formats::TensorView& view) {
  const auto abi = formats::to_plinth_dtype(view.dtype);
  if (!abi) {
    throw std::runtime_error("tensor '" + std::string(view.name) + "' has dtype " +
                             std::string(formats::dtype_name(view.dtype)) + ", which the runtime does not support");
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
    case DType::f32:
      std::memcpy(out.data(), src, count * sizeof(float));
      break;
    case DType::f16:
    case DType::bf16:
      for (uint64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = dtype == DType::f16 ? half_to_float(h) : std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
      }
      break;
    default:
      throw std::runtime_error("tensor '" + std::string(view.name) + "' is " + std::string(dtype_name(dtype)) +
                               ", not a float dtype");
  }
  return out;
}

DeviceTensor upload(Device& device, Stream& stream, const formats::TensorView& view, std::optional<DType> as) {
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
      const uint16_t h = *as == DType::f16 ? float_to_half(values[i]) : float_to_bf16(values[i]);
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
