// SET_ROWS: scatter src rows into dst (the paged KV-cache write). Every index is checked before any
// row is written, so a rejected call leaves dst untouched.
#include <cstring>
#include <string>

#include "ops.hpp"
#include "parallel.hpp"
#include "plinth/sdk/status.hpp"

namespace plinth::cpu {
namespace {

int32_t index_at(const Tensor& idx, int64_t i) noexcept {
  int32_t v;
  std::memcpy(&v, idx.data + i * idx.strides[3], sizeof v);
  return v;
}

void check_indices(const Tensor& idx, int64_t n, int64_t rows) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = index_at(idx, i);
    if (v < 0 || v >= rows) {
      sdk::fail(PLINTH_ERROR_INVALID_ARGUMENT, "set_rows: indices[" + std::to_string(i) +
                                                   "] = " + std::to_string(v) + " lies outside dst's " +
                                                   std::to_string(rows) + " rows");
    }
  }
}

}  // namespace

void op_set_rows(OpContext& ctx) {
  const KernelTable& k = ctx.k;
  const Tensor& src = ctx.in[0];
  const Tensor& idx = ctx.in[1];
  const Tensor& dst = ctx.out[0];
  const int64_t n = src.dims[2];
  const int64_t w = src.dims[3];
  check_indices(idx, n, dst.dims[2]);
  if (n == 0 || w == 0) return;
  parallel_for(n, grain_for(w), [&](int64_t i0, int64_t i1) {
    float* tmp = thread_scratch(0, w);
    for (int64_t i = i0; i < i1; ++i) {
      const float* row = row_as_f32(k, src, i, tmp);
      store_row(k, row, dst.at(0, 0, index_at(idx, i), 0), dst.dtype, dst.strides[3], w);
    }
  });
}

}  // namespace plinth::cpu
