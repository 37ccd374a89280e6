#include "plinth/tensor.hpp"

#include <fmt/format.h>

#include "plinth/buffer.hpp"
#include "plinth/error.hpp"
#include "state.hpp"

namespace plinth {
namespace {

void check_ndim(std::size_t n) {
  if (n > PLINTH_MAX_DIMS) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, fmt::format("a tensor has at most {} dims, got {}", PLINTH_MAX_DIMS, n),
                "Shape");
  }
}

// Bytes of one innermost row (quantized rows are packed blocks; the innermost stride is ignored).
uint64_t quant_row_bytes(DType dtype, int64_t elems) {
  const auto layout = dtype_layout(dtype);
  return static_cast<uint64_t>(elems) / layout.block_elems * layout.block_bytes;
}

int normalize_dim(int dim, int ndim, const char* what) {
  const int d = dim < 0 ? dim + ndim : dim;
  if (d < 0 || d >= ndim) {
    throw Error(PLINTH_ERROR_OUT_OF_RANGE, fmt::format("dimension {} out of range for a {}-d tensor", dim, ndim), what);
  }
  return d;
}

}  // namespace

Shape::Shape(std::initializer_list<int64_t> dims) {
  check_ndim(dims.size());
  for (int64_t d : dims) dims_[static_cast<std::size_t>(ndim_++)] = d;
}

Shape::Shape(std::span<const int64_t> dims) {
  check_ndim(dims.size());
  for (int64_t d : dims) dims_[static_cast<std::size_t>(ndim_++)] = d;
}

int64_t Shape::numel() const noexcept {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

std::string Shape::to_string() const { return fmt::format("[{}]", fmt::join(dims(), ",")); }

bool Shape::operator==(const Shape& other) const noexcept {
  if (ndim_ != other.ndim_) return false;
  for (int i = 0; i < ndim_; ++i) {
    if (dims_[static_cast<std::size_t>(i)] != other.dims_[static_cast<std::size_t>(i)]) return false;
  }
  return true;
}

Tensor Tensor::descriptor(DType dtype, const Shape& shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  for (int i = 0; i < shape.ndim(); ++i) {
    if (shape[i] < 0) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "negative tensor dimension " + shape.to_string(), "Tensor");
  }
  const auto layout = dtype_layout(dtype);
  if (layout.block_elems == 0) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "unknown dtype", "Tensor");
  const int n = shape.ndim();
  if (n == 0) return t;
  int64_t stride = 0;
  if (is_quantized(dtype)) {
    if (shape[n - 1] % PLINTH_QUANT_BLOCK != 0) {
      throw Error(PLINTH_ERROR_INVALID_ARGUMENT,
                  fmt::format("{} tensor's innermost dimension {} is not a multiple of 32", dtype_name(dtype), shape[n - 1]),
                  "Tensor");
    }
    t.strides_[static_cast<std::size_t>(n - 1)] = layout.block_bytes;
    stride = static_cast<int64_t>(quant_row_bytes(dtype, shape[n - 1]));
  } else {
    t.strides_[static_cast<std::size_t>(n - 1)] = layout.block_bytes;
    stride = layout.block_bytes * shape[n - 1];
  }
  for (int i = n - 2; i >= 0; --i) {
    t.strides_[static_cast<std::size_t>(i)] = stride;
    stride *= shape[i];
  }
  return t;
}

Tensor Tensor::contiguous(const Buffer& buffer, DType dtype, const Shape& shape, uint64_t offset) {
  Tensor t = descriptor(dtype, shape);
  t.buffer_ = buffer.state();
  t.offset_ = offset;
  return t;
}

Tensor Tensor::strided(const Buffer& buffer, DType dtype, const Shape& shape, std::span<const int64_t> strides,
                       uint64_t offset) {
  if (strides.size() != static_cast<std::size_t>(shape.ndim())) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT,
                fmt::format("{} strides for a {}-d shape", strides.size(), shape.ndim()), "Tensor");
  }
  Tensor t = descriptor(dtype, shape);
  for (std::size_t i = 0; i < strides.size(); ++i) {
    if (strides[i] < 0) throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "negative stride", "Tensor");
    t.strides_[i] = strides[i];
  }
  t.buffer_ = buffer.state();
  t.offset_ = offset;
  return t;
}

int64_t Tensor::dim(int i) const noexcept {
  const int n = ndim();
  const int d = i < 0 ? i + n : i;
  return d >= 0 && d < n ? shape_[d] : 1;
}

int64_t Tensor::stride(int i) const noexcept {
  const int n = ndim();
  const int d = i < 0 ? i + n : i;
  return d >= 0 && d < n ? strides_[static_cast<std::size_t>(d)] : 0;
}

bool Tensor::is_contiguous() const noexcept {
  const Tensor dense = [&] {
    try {
      return descriptor(dtype_, shape_);
    } catch (...) {
      return Tensor();
    }
  }();
  for (int i = 0; i < ndim(); ++i) {
    if (shape_[i] == 1) continue;  // any stride is fine for an extent-1 dimension
    if (is_quantized(dtype_) && i == ndim() - 1) continue;
    if (strides_[static_cast<std::size_t>(i)] != dense.strides_[static_cast<std::size_t>(i)]) return false;
  }
  return true;
}

uint64_t Tensor::span_bytes() const noexcept {
  if (numel() == 0) return 0;
  const int n = ndim();
  if (n == 0) return dtype_layout(dtype_).block_bytes;
  uint64_t end = 0;
  const int outer = is_quantized(dtype_) ? n - 1 : n;
  for (int i = 0; i < outer; ++i) {
    end += static_cast<uint64_t>(shape_[i] - 1) * static_cast<uint64_t>(strides_[static_cast<std::size_t>(i)]);
  }
  end += is_quantized(dtype_) ? quant_row_bytes(dtype_, shape_[n - 1]) : dtype_layout(dtype_).block_bytes;
  return end;
}

uint64_t Tensor::contiguous_bytes() const noexcept { return dtype_bytes(dtype_, static_cast<uint64_t>(numel())); }

Tensor Tensor::slice(int dim, int64_t start, int64_t stop) const {
  const int d = normalize_dim(dim, ndim(), "Tensor::slice");
  if (start < 0 || stop < start || stop > shape_[d]) {
    throw Error(PLINTH_ERROR_OUT_OF_RANGE,
                fmt::format("slice [{}, {}) of dimension {} (extent {}) of {}", start, stop, d, shape_[d], to_string()),
                "Tensor::slice");
  }
  Tensor t = *this;
  if (is_quantized(dtype_) && d == ndim() - 1) {
    if (start % PLINTH_QUANT_BLOCK != 0 || stop % PLINTH_QUANT_BLOCK != 0) {
      throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "a quantized row can only be sliced at block boundaries (32)",
                  "Tensor::slice");
    }
    t.offset_ += quant_row_bytes(dtype_, start);
  } else {
    t.offset_ += static_cast<uint64_t>(start) * static_cast<uint64_t>(strides_[static_cast<std::size_t>(d)]);
  }
  std::array<int64_t, PLINTH_MAX_DIMS> dims{};
  for (int i = 0; i < ndim(); ++i) dims[static_cast<std::size_t>(i)] = shape_[i];
  dims[static_cast<std::size_t>(d)] = stop - start;
  t.shape_ = Shape(std::span<const int64_t>(dims.data(), static_cast<std::size_t>(ndim())));
  return t;
}

Tensor Tensor::select(int dim, int64_t index) const {
  const int d = normalize_dim(dim, ndim(), "Tensor::select");
  if (is_quantized(dtype_) && d == ndim() - 1) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "cannot select inside a quantized row", "Tensor::select");
  }
  Tensor t = slice(d, index, index + 1);
  std::array<int64_t, PLINTH_MAX_DIMS> dims{};
  std::array<int64_t, PLINTH_MAX_DIMS> strides{};
  int n = 0;
  for (int i = 0; i < ndim(); ++i) {
    if (i == d) continue;
    dims[static_cast<std::size_t>(n)] = t.shape_[i];
    strides[static_cast<std::size_t>(n)] = t.strides_[static_cast<std::size_t>(i)];
    ++n;
  }
  t.shape_ = Shape(std::span<const int64_t>(dims.data(), static_cast<std::size_t>(n)));
  t.strides_ = strides;
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (!is_contiguous()) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "reshape of a non-contiguous tensor " + to_string(), "Tensor::reshape");
  }
  if (shape.numel() != numel()) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT,
                fmt::format("reshape of {} to {}: element counts differ", to_string(), shape.to_string()),
                "Tensor::reshape");
  }
  Tensor t = descriptor(dtype_, shape);
  t.buffer_ = buffer_;
  t.offset_ = offset_;
  return t;
}

Tensor Tensor::transpose(int dim0, int dim1) const {
  const int a = normalize_dim(dim0, ndim(), "Tensor::transpose");
  const int b = normalize_dim(dim1, ndim(), "Tensor::transpose");
  if (is_quantized(dtype_) && (a == ndim() - 1 || b == ndim() - 1)) {
    throw Error(PLINTH_ERROR_INVALID_ARGUMENT, "cannot transpose the packed dimension of a quantized tensor",
                "Tensor::transpose");
  }
  Tensor t = *this;
  std::array<int64_t, PLINTH_MAX_DIMS> dims{};
  for (int i = 0; i < ndim(); ++i) dims[static_cast<std::size_t>(i)] = shape_[i];
  std::swap(dims[static_cast<std::size_t>(a)], dims[static_cast<std::size_t>(b)]);
  std::swap(t.strides_[static_cast<std::size_t>(a)], t.strides_[static_cast<std::size_t>(b)]);
  t.shape_ = Shape(std::span<const int64_t>(dims.data(), static_cast<std::size_t>(ndim())));
  return t;
}

plinth_tensor_t Tensor::to_abi() const noexcept {
  plinth_tensor_t t{};
  t.struct_size = sizeof(plinth_tensor_t);
  t.dtype = static_cast<plinth_dtype_t>(dtype_);
  t.next = nullptr;
  t.buffer = buffer_ ? buffer_->handle() : nullptr;
  t.offset = offset_;
  t.ndim = static_cast<uint32_t>(ndim());
  for (int i = 0; i < ndim(); ++i) {
    t.dims[i] = shape_[i];
    t.strides[i] = strides_[static_cast<std::size_t>(i)];
  }
  return t;
}

std::string Tensor::to_string() const {
  std::string s = fmt::format("{}{}", dtype_name(dtype_), shape_.to_string());
  if (!is_contiguous()) s += fmt::format("{{strides {}}}", fmt::join(strides(), ","));
  if (offset_ != 0) s += fmt::format("@{}", offset_);
  return s;
}

}  // namespace plinth
