#include <cmath>
#include <numeric>
#include <algorithm>

#include "reference.hpp"

namespace plinth::cts::ref {

Tensor rope(const Tensor& x, const Tensor& positions, int mode, int n_dims, double freq_base, double freq_scale) {
  const bool batched = x.shape.size() == 4;
  const int64_t b = batched ? x.dim(0) : 1;
  const int64_t s = x.dim(-3), h = x.dim(-2), d = x.dim(-1);
  const int64_t nd = n_dims == 0 ? d : n_dims;
  Tensor y = x;
  for (int64_t bi = 0; bi < b; ++bi) {
    for (int64_t si = 0; si < s; ++si) {
      const double p = positions.shape.size() == 2 ? positions.data[static_cast<std::size_t>(bi * s + si)]
                                                    : positions.data[static_cast<std::size_t>(si)];
      for (int64_t hi = 0; hi < h; ++hi) {
        const int64_t base = ((bi * s + si) * h + hi) * d;
        for (int64_t i = 0; i < nd / 2; ++i) {
          const double theta = p * freq_scale * std::pow(freq_base, -2.0 * static_cast<double>(i) / static_cast<double>(nd));
          const int64_t ia = mode == PLINTH_ROPE_NEOX ? i : 2 * i;
          const int64_t ib = mode == PLINTH_ROPE_NEOX ? i + nd / 2 : 2 * i + 1;
          const double a = x.data[static_cast<std::size_t>(base + ia)];
          const double bv = x.data[static_cast<std::size_t>(base + ib)];
          y.data[static_cast<std::size_t>(base + ia)] = a * std::cos(theta) - bv * std::sin(theta);
          y.data[static_cast<std::size_t>(base + ib)] = a * std::sin(theta) + bv * std::cos(theta);
        }
      }
    }
  }
  return y;
}

namespace {

// "a ranks before b": larger first, NaN above every number, ties to the lower index.
bool ranks_before(double a, int64_t ia, double b, int64_t ib) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) {
    if (na && nb) return ia < ib;
    return na;
  }
  if (a != b) return a > b;
  return ia < ib;
}

}  // namespace

std::pair<Tensor, Tensor> top_k(const Tensor& x, int k) {
  const int64_t n = x.dim(-1);
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  std::vector<int64_t> out_shape = x.shape;
  out_shape.back() = k;
  Tensor values(out_shape), indices(out_shape);
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = x.data.data() + r * n;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ranks_before(row[a], a, row[b], b); });
    for (int j = 0; j < k; ++j) {
      values.data[static_cast<std::size_t>(r * k + j)] = row[order[static_cast<std::size_t>(j)]];
      indices.data[static_cast<std::size_t>(r * k + j)] = static_cast<double>(order[static_cast<std::size_t>(j)]);
    }
  }
  return {values, indices};
}

Tensor argmax(const Tensor& x) {
  const int64_t n = x.dim(-1);
  const int64_t rows = x.shape.size() == 1 ? 1 : x.dim(0);
  Tensor y({rows});
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = x.data.data() + r * n;
    int64_t best = 0;
    for (int64_t j = 1; j < n; ++j) {
      if (ranks_before(row[j], j, row[best], best)) best = j;
    }
    y.data[static_cast<std::size_t>(r)] = static_cast<double>(best);
  }
  return y;
}

}  // namespace plinth::cts::ref
