#include <cmath>
#include <limits>
#include <stdexcept>

#include "reference.hpp"

namespace plinth::cts::ref {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Softmax of row z in place; a row that is entirely -inf becomes zeros.
void softmax_row(std::vector<double>& z) {
  double max = kNegInf;
  for (double v : z) max = std::max(max, v);
  if (max == kNegInf) {
    for (double& v : z) v = 0.0;
    return;
  }
  double sum = 0.0;
  for (double& v : z) {
    v = std::exp(v - max);
    sum += v;
  }
  for (double& v : z) v /= sum;
}

}  // namespace

Tensor softmax(const Tensor& x, const Tensor* mask, double scale, bool causal) {
  Tensor y = x;
  const int64_t sk = x.dim(-1);
  const int64_t sq = x.shape.size() >= 2 ? x.dim(-2) : 1;
  if (sk == 0) return y;
  const int64_t rows = x.numel() / sk;
  const double s = scale == 0.0 ? 1.0 : scale;
  std::vector<int64_t> index(x.shape.size());
  std::vector<double> z(static_cast<std::size_t>(sk));
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rest = r;
    for (std::size_t k = x.shape.size() - 1; k-- > 0;) {
      index[k] = rest % x.shape[k];
      rest /= x.shape[k];
    }
    const int64_t i = x.shape.size() >= 2 ? index[x.shape.size() - 2] : 0;
    for (int64_t j = 0; j < sk; ++j) {
      index.back() = j;
      double v = x.data[static_cast<std::size_t>(r * sk + j)] * s;
      if (mask != nullptr) v += broadcast_at(*mask, index);
      if (causal && j > i + (sk - sq)) v = kNegInf;
      z[static_cast<std::size_t>(j)] = v;
    }
    softmax_row(z);
    for (int64_t j = 0; j < sk; ++j) y.data[static_cast<std::size_t>(r * sk + j)] = z[static_cast<std::size_t>(j)];
  }
  return y;
}

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Tensor* kv_lens,
                 double scale, bool causal) {
  const int64_t b = q.dim(0), hq = q.dim(1), sq = q.dim(2), d = q.dim(3);
  const int64_t hkv = k.dim(1), skv = k.dim(2), dv = v.dim(3);
  if (hkv == 0 || hq % hkv != 0) throw std::invalid_argument("reference: attention head counts");
  const double s = scale == 0.0 ? 1.0 / std::sqrt(static_cast<double>(d)) : scale;
  Tensor o({b, hq, sq, dv});
  std::vector<double> z(static_cast<std::size_t>(skv));
  for (int64_t bi = 0; bi < b; ++bi) {
    const int64_t len = kv_lens ? static_cast<int64_t>(kv_lens->data[static_cast<std::size_t>(bi)]) : skv;
    for (int64_t h = 0; h < hq; ++h) {
      const int64_t kh = h / (hq / hkv);
      for (int64_t i = 0; i < sq; ++i) {
        for (int64_t j = 0; j < skv; ++j) {
          double val = kNegInf;
          const bool visible = j < len && !(causal && j > len - sq + i);
          if (visible) {
            double dot = 0.0;
            for (int64_t c = 0; c < d; ++c) {
              dot += q.data[static_cast<std::size_t>(((bi * hq + h) * sq + i) * d + c)] *
                     k.data[static_cast<std::size_t>(((bi * hkv + kh) * skv + j) * d + c)];
            }
            val = s * dot;
            if (mask != nullptr) val += broadcast_at(*mask, {bi, h, i, j});
          }
          z[static_cast<std::size_t>(j)] = val;
        }
        softmax_row(z);
        for (int64_t c = 0; c < dv; ++c) {
          double acc = 0.0;
          for (int64_t j = 0; j < skv; ++j) {
            if (z[static_cast<std::size_t>(j)] == 0.0) continue;
            acc += z[static_cast<std::size_t>(j)] * v.data[static_cast<std::size_t>(((bi * hkv + kh) * skv + j) * dv + c)];
          }
          o.data[static_cast<std::size_t>(((bi * hq + h) * sq + i) * dv + c)] = acc;
        }
      }
    }
  }
  return o;
}

}  // namespace plinth::cts::ref
