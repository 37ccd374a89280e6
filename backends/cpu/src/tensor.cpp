#include "tensor.hpp"

#include <cstring>

#include "plinth/sdk/dtype.hpp"

namespace plinth::cpu {

bool Tensor::f32_rows() const noexcept {
  return dtype == PLINTH_DTYPE_F32 && (strides[3] == 4 || dims[3] == 1) &&
         reinterpret_cast<uintptr_t>(data) % alignof(float) == 0 && strides[0] % 4 == 0 &&
         strides[1] % 4 == 0 && strides[2] % 4 == 0;
}

Tensor broadcast_to(const Tensor& t, const std::array<int64_t, 4>& shape) noexcept {
  Tensor out = t;
  for (int i = 0; i < 4; ++i) {
    if (t.dims[i] == 1 && shape[i] != 1) out.strides[i] = 0;
    out.dims[i] = shape[i];
  }
  return out;
}

int64_t element_size(plinth_dtype_t dtype) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32:
    case PLINTH_DTYPE_I32: return 4;
    case PLINTH_DTYPE_F16:
    case PLINTH_DTYPE_BF16: return 2;
    default: return 0;
  }
}

float load_f32(const std::byte* p, plinth_dtype_t dtype) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32: {
      float v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case PLINTH_DTYPE_F16: {
      uint16_t h;
      std::memcpy(&h, p, sizeof h);
      return sdk::f16_to_f32(h);
    }
    case PLINTH_DTYPE_BF16: {
      uint16_t h;
      std::memcpy(&h, p, sizeof h);
      return sdk::bf16_to_f32(h);
    }
    case PLINTH_DTYPE_I32: {
      int32_t v;
      std::memcpy(&v, p, sizeof v);
      return static_cast<float>(v);
    }
    default: return 0.0f;
  }
}

void store_f32(std::byte* p, plinth_dtype_t dtype, float v) noexcept {
  switch (dtype) {
    case PLINTH_DTYPE_F32: std::memcpy(p, &v, sizeof v); break;
    case PLINTH_DTYPE_F16: {
      const uint16_t h = sdk::f32_to_f16(v);
      std::memcpy(p, &h, sizeof h);
      break;
    }
    case PLINTH_DTYPE_BF16: {
      const uint16_t h = sdk::f32_to_bf16(v);
      std::memcpy(p, &h, sizeof h);
      break;
    }
    default: break;
  }
}

void load_row(const KernelTable& k, const std::byte* src, plinth_dtype_t dtype, int64_t stride, int64_t n,
              float* dst) noexcept {
  const int64_t es = element_size(dtype);
  if (stride == es && reinterpret_cast<uintptr_t>(src) % static_cast<uintptr_t>(es) == 0) {
    switch (dtype) {
      case PLINTH_DTYPE_F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
      case PLINTH_DTYPE_F16: k.f16_to_f32(reinterpret_cast<const uint16_t*>(src), dst, n); return;
      case PLINTH_DTYPE_BF16: k.bf16_to_f32(reinterpret_cast<const uint16_t*>(src), dst, n); return;
      default: break;
    }
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = load_f32(src + i * stride, dtype);
}

void store_row(const KernelTable& k, const float* src, std::byte* dst, plinth_dtype_t dtype, int64_t stride,
               int64_t n) noexcept {
  const int64_t es = element_size(dtype);
  if (stride == es && reinterpret_cast<uintptr_t>(dst) % static_cast<uintptr_t>(es) == 0) {
    switch (dtype) {
      case PLINTH_DTYPE_F32: std::memmove(dst, src, static_cast<size_t>(n) * 4); return;
      case PLINTH_DTYPE_F16: k.f32_to_f16(src, reinterpret_cast<uint16_t*>(dst), n); return;
      case PLINTH_DTYPE_BF16: k.f32_to_bf16(src, reinterpret_cast<uint16_t*>(dst), n); return;
      default: break;
    }
  }
  for (int64_t i = 0; i < n; ++i) store_f32(dst + i * stride, dtype, src[i]);
}

const float* row_as_f32(const KernelTable& k, const Tensor& t, int64_t r, float* scratch) noexcept {
  const std::byte* p = t.row(r);
  if (t.f32_rows()) return reinterpret_cast<const float*>(p);
  load_row(k, p, t.dtype, t.strides[3], t.dims[3], scratch);
  return scratch;
}

float* thread_scratch(int slot, int64_t count) {
  thread_local std::array<std::vector<float>, kScratchSlots> scratch;
  auto& v = scratch[static_cast<size_t>(slot)];
  // Padding lets vector kernels read a little past a short row without leaving the allocation.
  const auto need = static_cast<size_t>(count) + 16;
  if (v.size() < need) v.resize(need);
  return v.data();
}

}  // namespace plinth::cpu
