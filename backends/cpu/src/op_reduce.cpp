// MEAN_POOL, TOP_K and ARGMAX.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops.hpp"
#include "parallel.hpp"

namespace plinth::cpu {
namespace {

// The catalogue's order: NaN above every number, equal values (and NaNs) by lower index first.
inline bool ranks_before(float a, int32_t ia, float b, int32_t ib) {
  const bool na = std::isnan(a);
  const bool nb = std::isnan(b);
  if (na || nb) {
    if (na && nb) return ia < ib;
    return na;
  }
  if (a != b) return a > b;
  return ia < ib;
}

void store_i32(std::byte* p, int32_t v) { std::memcpy(p, &v, sizeof v); }

}  // namespace

void op_mean_pool(OpContext& ctx) {
  const KernelTable& k = ctx.k;
  const Tensor& x = ctx.in[0];        // [B, S, D] -> dims[1..3]
  const Tensor* mask = ctx.input(1);  // [B, S] -> dims[2..3]
  const Tensor& y = ctx.out[0];       // [B, D] -> dims[2..3]
  const int64_t batch = x.dims[1];
  const int64_t seq = x.dims[2];
  const int64_t d = x.dims[3];
  if (y.numel() == 0) return;
  parallel_for(batch, 1, [&](int64_t b0, int64_t b1) {
    float* acc = thread_scratch(0, d);
    float* row = thread_scratch(1, d);
    for (int64_t b = b0; b < b1; ++b) {
      std::fill(acc, acc + d, 0.0f);
      int64_t count = 0;
      for (int64_t s = 0; s < seq; ++s) {
        if (mask != nullptr) {
          const std::byte* mp = mask->at(0, 0, b, s);
          bool keep;
          if (mask->dtype == PLINTH_DTYPE_I32) {
            int32_t v;
            std::memcpy(&v, mp, sizeof v);
            keep = v != 0;
          } else {
            keep = load_f32(mp, mask->dtype) != 0.0f;
          }
          if (!keep) continue;
        }
        ++count;
        const float* px = row_as_f32(k, x, b * seq + s, row);
        k.add(acc, acc, px, d);
      }
      k.affine(acc, acc, 1.0f / static_cast<float>(std::max<int64_t>(1, count)), 0.0f, d);
      store_row(k, acc, y.at(0, 0, b, 0), y.dtype, y.strides[3], d);
    }
  });
}

void op_top_k(OpContext& ctx) {
  const KernelTable& k = ctx.k;
  const Tensor& x = ctx.in[0];
  const Tensor& values = ctx.out[0];
  const Tensor& indices = ctx.out[1];
  const int64_t n = x.cols();
  const int64_t top = values.cols();
  if (values.numel() == 0) return;
  parallel_for(x.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    float* row = thread_scratch(0, n);
    float* out = thread_scratch(1, top);
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      const float* px = row_as_f32(k, x, r, row);
      for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = static_cast<int32_t>(i);
      std::partial_sort(order.begin(), order.begin() + top, order.end(),
                        [&](int32_t a, int32_t b) { return ranks_before(px[a], a, px[b], b); });
      for (int64_t j = 0; j < top; ++j) {
        out[j] = px[order[static_cast<size_t>(j)]];
        store_i32(indices.row(r) + j * indices.strides[3], order[static_cast<size_t>(j)]);
      }
      store_row(k, out, values.row(r), values.dtype, values.strides[3], top);
    }
  });
}

void op_argmax(OpContext& ctx) {
  const KernelTable& k = ctx.k;
  const Tensor& x = ctx.in[0];
  const Tensor& y = ctx.out[0];
  const int64_t n = x.cols();
  if (x.rows() == 0) return;
  parallel_for(x.rows(), grain_for(n), [&](int64_t r0, int64_t r1) {
    float* row = thread_scratch(0, n);
    for (int64_t r = r0; r < r1; ++r) {
      const float* px = row_as_f32(k, x, r, row);
      int32_t best = 0;
      for (int64_t i = 1; i < n; ++i) {
        if (ranks_before(px[i], static_cast<int32_t>(i), px[best], best)) best = static_cast<int32_t>(i);
      }
      store_i32(y.data + r * y.strides[3], best);
    }
  });
}

}  // namespace plinth::cpu
