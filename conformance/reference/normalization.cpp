#include <algorithm>
#include <cmath>

#include "reference.hpp"

namespace plinth::cts::ref {
namespace {

// Applies f(row_in, row_out, d) to every row of the last dimension.
template <class F>
Tensor per_row(const Tensor& x, F f) {
  Tensor y = x;
  const int64_t d = x.shape.empty() ? 1 : x.dim(-1);
  if (d == 0) return y;
  const int64_t rows = x.numel() / d;
  for (int64_t r = 0; r < rows; ++r) f(x.data.data() + r * d, y.data.data() + r * d, d);
  return y;
}

}  // namespace

Tensor rms_norm(const Tensor& x, const Tensor* weight, double eps) {
  return per_row(x, [&](const double* in, double* out, int64_t d) {
    double sum_sq = 0.0;
    for (int64_t i = 0; i < d; ++i) sum_sq += in[i] * in[i];
    const double inv = 1.0 / std::sqrt(sum_sq / static_cast<double>(d) + eps);
    for (int64_t i = 0; i < d; ++i) out[i] = in[i] * inv * (weight ? weight->data[static_cast<std::size_t>(i)] : 1.0);
  });
}

Tensor layer_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, double eps) {
  return per_row(x, [&](const double* in, double* out, int64_t d) {
    double mean = 0.0;
    for (int64_t i = 0; i < d; ++i) mean += in[i];
    mean /= static_cast<double>(d);
    double var = 0.0;
    for (int64_t i = 0; i < d; ++i) var += (in[i] - mean) * (in[i] - mean);
    var /= static_cast<double>(d);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < d; ++i) {
      const auto k = static_cast<std::size_t>(i);
      out[i] = (in[i] - mean) * inv * (gamma ? gamma->data[k] : 1.0) + (beta ? beta->data[k] : 0.0);
    }
  });
}

Tensor l2_normalize(const Tensor& x, double eps) {
  return per_row(x, [&](const double* in, double* out, int64_t d) {
    double sum_sq = 0.0;
    for (int64_t i = 0; i < d; ++i) sum_sq += in[i] * in[i];
    const double denom = std::max(std::sqrt(sum_sq), eps);
    for (int64_t i = 0; i < d; ++i) out[i] = in[i] / denom;
  });
}

Tensor mean_pool(const Tensor& x, const Tensor* mask) {
  const int64_t b = x.dim(0), s = x.dim(1), d = x.dim(2);
  Tensor y({b, d});
  for (int64_t bi = 0; bi < b; ++bi) {
    int64_t count = 0;
    for (int64_t si = 0; si < s; ++si) {
      const bool keep = mask == nullptr || mask->data[static_cast<std::size_t>(bi * s + si)] != 0.0;
      if (!keep) continue;
      ++count;
      for (int64_t j = 0; j < d; ++j) y.data[static_cast<std::size_t>(bi * d + j)] += x.data[static_cast<std::size_t>((bi * s + si) * d + j)];
    }
    for (int64_t j = 0; j < d; ++j) y.data[static_cast<std::size_t>(bi * d + j)] /= static_cast<double>(std::max<int64_t>(1, count));
  }
  return y;
}

}  // namespace plinth::cts::ref
