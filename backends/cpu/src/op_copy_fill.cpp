// COPY (strided convert) and FILL.
#include <cmath>
#include <cstring>
#include <limits>

#include "ops.hpp"
#include "parallel.hpp"
#include "plinth/sdk/dtype.hpp"

namespace plinth::cpu {
namespace {

bool dense(const Tensor& t) {
  int64_t expect = element_size(t.dtype);
  for (int d = 3; d >= 0; --d) {
    if (t.dims[static_cast<size_t>(d)] != 1 && t.strides[static_cast<size_t>(d)] != expect) return false;
    expect *= t.dims[static_cast<size_t>(d)];
  }
  return true;
}

}  // namespace

void op_copy(OpContext& ctx) {
  const Tensor& x = ctx.in[0];
  const Tensor& y = ctx.out[0];
  const int64_t n = y.cols();
  if (y.numel() == 0) return;
  if (x.dtype == y.dtype && dense(x) && dense(y)) {
    std::memcpy(y.data, x.data, static_cast<size_t>(y.numel() * element_size(y.dtype)));
    return;
  }
  const KernelTable& k = ctx.k;
  parallel_for(y.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    if (x.dtype == PLINTH_DTYPE_I32) {
      for (int64_t r = r0; r < r1; ++r) {
        const std::byte* src = x.row(r);
        std::byte* dst = y.row(r);
        for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * y.strides[3], src + i * x.strides[3], 4);
      }
      return;
    }
    float* tmp = thread_scratch(0, n);
    for (int64_t r = r0; r < r1; ++r) {
      load_row(k, x.row(r), x.dtype, x.strides[3], n, tmp);
      store_row(k, tmp, y.row(r), y.dtype, y.strides[3], n);
    }
  });
}

void op_fill(OpContext& ctx) {
  const Tensor& y = ctx.out[0];
  const double value = ctx.call.params.fill.value;
  const int64_t n = y.cols();
  if (y.numel() == 0) return;
  std::byte pattern[4] = {};
  int64_t es = element_size(y.dtype);
  if (y.dtype == PLINTH_DTYPE_I32) {
    // Truncation toward zero, saturated so out-of-range values are defined.
    double t = std::trunc(value);
    if (std::isnan(t)) t = 0.0;
    t = std::fmin(std::fmax(t, static_cast<double>(std::numeric_limits<int32_t>::min())),
                  static_cast<double>(std::numeric_limits<int32_t>::max()));
    const auto v = static_cast<int32_t>(t);
    std::memcpy(pattern, &v, 4);
  } else {
    store_f32(pattern, y.dtype, static_cast<float>(value));
  }
  parallel_for(y.rows(), grain_for(n, 65536), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      std::byte* dst = y.row(r);
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * y.strides[3], pattern, static_cast<size_t>(es));
    }
  });
}

}  // namespace plinth::cpu
