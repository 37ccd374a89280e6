#include "tensor_layout.hpp"

#include "../reference/numeric_types.hpp"
#include "harness.hpp"

namespace plinth::cts {

int64_t PlacedTensor::numel() const noexcept {
  int64_t n = 1;
  for (auto d : arg.shape) n *= d;
  return n;
}

uint64_t PlacedTensor::element_bytes() const noexcept { return ref::dtype_block_bytes(arg.dtype); }

int64_t PlacedTensor::units() const noexcept { return numel() / ref::dtype_block_elems(arg.dtype); }

uint64_t PlacedTensor::element_offset(int64_t flat) const noexcept {
  const std::size_t n = arg.shape.size();
  uint64_t off = offset;
  if (n == 0) return off;
  const bool quant = ref::dtype_is_quantized(arg.dtype);
  // Quantized: the innermost "dim" is counted in blocks and packed.
  const int64_t inner = quant ? arg.shape[n - 1] / PLINTH_QUANT_BLOCK : arg.shape[n - 1];
  const int64_t inner_stride = quant ? static_cast<int64_t>(element_bytes()) : strides[n - 1];
  off += static_cast<uint64_t>((flat % inner) * inner_stride);
  flat /= inner;
  for (std::size_t k = n - 1; k-- > 0;) {
    off += static_cast<uint64_t>((flat % arg.shape[k]) * strides[k]);
    flat /= arg.shape[k];
  }
  return off;
}

plinth_tensor_t PlacedTensor::descriptor(plinth_buffer_t buffer) const noexcept {
  auto t = sized<plinth_tensor_t>();
  t.dtype = arg.dtype;
  t.buffer = buffer;
  t.offset = offset;
  t.ndim = static_cast<uint32_t>(arg.shape.size());
  for (std::size_t k = 0; k < arg.shape.size(); ++k) {
    t.dims[k] = arg.shape[k];
    t.strides[k] = strides[k];
  }
  return t;
}

std::vector<bool> PlacedTensor::element_mask() const {
  std::vector<bool> mask(buffer_size, false);
  const uint64_t size = element_bytes();
  for (int64_t i = 0; i < units(); ++i) {
    const uint64_t at = element_offset(i);
    for (uint64_t b = 0; b < size; ++b) mask[at + b] = true;
  }
  return mask;
}

PlacedTensor place_tensor(const Arg& arg, uint64_t margin) {
  PlacedTensor p;
  p.arg = arg;
  const std::size_t n = arg.shape.size();
  p.strides.assign(n, 0);
  const auto es = static_cast<int64_t>(ref::dtype_block_bytes(arg.dtype));
  const bool quant = ref::dtype_is_quantized(arg.dtype);
  if (n > 0) {
    if (quant) {
      const int64_t row = arg.shape[n - 1] / PLINTH_QUANT_BLOCK * es;
      p.strides[n - 1] = es;
      int64_t below = row + (arg.layout == Layout::kPadded ? 2 * es : 0);
      for (std::size_t k = n - 1; k-- > 0;) {
        p.strides[k] = below;
        below = below * arg.shape[k];
      }
    } else if (arg.layout == Layout::kTransposed && n >= 2) {
      p.strides[n - 2] = es;
      p.strides[n - 1] = es * arg.shape[n - 2];
      int64_t below = es * arg.shape[n - 2] * arg.shape[n - 1];
      for (std::size_t k = n - 2; k-- > 0;) {
        p.strides[k] = below;
        below *= arg.shape[k];
      }
    } else {
      const int64_t pad = arg.layout == Layout::kContiguous ? 0 : 3 * es;
      p.strides[n - 1] = arg.layout == Layout::kGapped ? 2 * es : es;
      for (std::size_t k = n - 1; k-- > 0;) p.strides[k] = p.strides[k + 1] * arg.shape[k + 1] + pad;
    }
    for (std::size_t k = 0; k < n; ++k) {
      if (arg.zero_stride_mask & (1u << k)) p.strides[k] = 0;
    }
  }
  p.offset = margin;
  uint64_t span = 0;
  if (p.numel() > 0) {
    if (quant) {
      span = static_cast<uint64_t>(arg.shape[n - 1] / PLINTH_QUANT_BLOCK * es);
      for (std::size_t k = 0; k + 1 < n; ++k) span += static_cast<uint64_t>((arg.shape[k] - 1) * p.strides[k]);
    } else {
      span = static_cast<uint64_t>(es);
      for (std::size_t k = 0; k < n; ++k) span += static_cast<uint64_t>((arg.shape[k] - 1) * p.strides[k]);
    }
  }
  p.span_end = p.offset + span;
  p.buffer_size = p.span_end + margin;
  return p;
}

}  // namespace plinth::cts
