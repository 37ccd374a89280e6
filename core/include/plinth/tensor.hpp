// Tensor: a view of part of a Buffer, described by dtype, shape (outermost first) and byte strides,
// exactly what the ABI's plinth_tensor_t carries. A Tensor does not own memory: it refers to the
// buffer's state, so using a tensor after its buffer was freed is detected by the validation layer
// instead of touching reused memory.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>

#include "plinth/abi.h"
#include "plinth/dtype.hpp"
#include "plinth/export.hpp"

namespace plinth {

class Buffer;
namespace detail {
struct BufferState;
}

// Up to PLINTH_MAX_DIMS extents, outermost first. Constructible from a braced list: {2, 3, 4}.
class PLINTH_CORE_API Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);

  int ndim() const noexcept { return ndim_; }
  int64_t operator[](int i) const noexcept { return dims_[static_cast<std::size_t>(i)]; }
  std::span<const int64_t> dims() const noexcept { return {dims_.data(), static_cast<std::size_t>(ndim_)}; }
  int64_t numel() const noexcept;  // 1 for ndim 0
  std::string to_string() const;   // "[2,3,4]"
  bool operator==(const Shape& other) const noexcept;

 private:
  std::array<int64_t, PLINTH_MAX_DIMS> dims_{};
  int ndim_ = 0;
};

class PLINTH_CORE_API Tensor {
 public:
  Tensor() = default;

  // A dense row-major tensor at `offset` bytes into `buffer` (quantized: rows of blocks back to back).
  static Tensor contiguous(const Buffer& buffer, DType dtype, const Shape& shape, uint64_t offset = 0);
  // Any view. strides are bytes, >= 0 (0 broadcasts); as many as shape.ndim().
  static Tensor strided(const Buffer& buffer, DType dtype, const Shape& shape,
                        std::span<const int64_t> strides, uint64_t offset = 0);
  // A descriptor with no buffer, for Device::supports queries.
  static Tensor descriptor(DType dtype, const Shape& shape);

  bool has_buffer() const noexcept { return buffer_ != nullptr; }
  DType dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  int ndim() const noexcept { return shape_.ndim(); }
  int64_t dim(int i) const noexcept;     // negative counts from the innermost: dim(-1)
  int64_t stride(int i) const noexcept;  // bytes; negative i as for dim
  std::span<const int64_t> strides() const noexcept {
    return {strides_.data(), static_cast<std::size_t>(shape_.ndim())};
  }
  uint64_t offset() const noexcept { return offset_; }
  int64_t numel() const noexcept { return shape_.numel(); }
  bool is_contiguous() const noexcept;
  // Bytes from offset() to one past the last byte any element touches (0 when empty).
  uint64_t span_bytes() const noexcept;
  // Bytes a contiguous tensor of this dtype and shape occupies.
  uint64_t contiguous_bytes() const noexcept;

  // Elements [start, stop) of dimension `dim` (same ndim). Throws Error(OUT_OF_RANGE) when outside.
  Tensor slice(int dim, int64_t start, int64_t stop) const;
  // Index `index` of dimension `dim`, which is removed.
  Tensor select(int dim, int64_t index) const;
  // Same elements, new shape; only for contiguous tensors with the same element count.
  Tensor reshape(const Shape& shape) const;
  // Swaps two dimensions (a strided view).
  Tensor transpose(int dim0, int dim1) const;

  // The ABI descriptor (buffer handle NULL for descriptors or freed buffers).
  plinth_tensor_t to_abi() const noexcept;
  std::string to_string() const;  // "f32[2,3]" (plus "@offset" and strides when not contiguous)

  const std::shared_ptr<detail::BufferState>& buffer_state() const noexcept { return buffer_; }

 private:
  std::shared_ptr<detail::BufferState> buffer_;
  DType dtype_ = DType::f32;
  Shape shape_;
  std::array<int64_t, PLINTH_MAX_DIMS> strides_{};
  uint64_t offset_ = 0;
};

}  // namespace plinth
