// Moving weights from a mapped model file onto a device.
#pragma once

#include <optional>

#include <plinth/buffer.hpp>
#include <plinth/device.hpp>
#include <plinth/dtype.hpp>
#include <plinth/formats/tensor_view.hpp>
#include <plinth/stream.hpp>
#include <plinth/tensor.hpp>

namespace plinth::models {

// A tensor with the buffer it owns.
struct DeviceTensor {
  Buffer buffer;
  Tensor tensor;
};

// The runtime dtype of a file dtype; throws std::runtime_error naming the tensor when there is none.
DType runtime_dtype(const formats::TensorView& view);

// Copies a mapped tensor into a new device buffer, contiguous, same shape. With `as`, float data
// (f32/f16/bf16) is converted on the host first (round to nearest even); quantized data cannot be
// converted. Without a conversion the upload reads the mapping directly, so the file must stay mapped
// until the stream's next synchronize.
DeviceTensor upload(Device& device, Stream& stream, const formats::TensorView& view,
                    std::optional<DType> as = std::nullopt);

// The elements of a float tensor as f32 on the host (for small tensors: norms, biases, configs).
std::vector<float> to_f32(const formats::TensorView& view);

}  // namespace plinth::models
