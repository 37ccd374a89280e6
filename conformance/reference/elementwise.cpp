#include <cmath>
#include <numbers>
#include <stdexcept>

#include "reference.hpp"

namespace plinth::cts::ref {
namespace {

std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> index(shape.size());
  for (std::size_t i = shape.size(); i-- > 0;) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return index;
}

template <class F>
Tensor binary(const Tensor& a, const Tensor& b, F f) {
  const auto shape = broadcast_shape(a.shape, b.shape);
  if (!shape) throw std::invalid_argument("reference: shapes do not broadcast");
  Tensor y(*shape);
  for (int64_t i = 0; i < y.numel(); ++i) {
    const auto index = unravel(i, y.shape);
    y.data[static_cast<std::size_t>(i)] = f(broadcast_at(a, index), broadcast_at(b, index));
  }
  return y;
}

template <class F>
Tensor unary(const Tensor& x, F f) {
  Tensor y = x;
  for (auto& v : y.data) v = f(v);
  return y;
}

double silu_value(double v) { return v / (1.0 + std::exp(-v)); }

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(a, b, [](double x, double y) { return x + y; }); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(a, b, [](double x, double y) { return x * y; }); }

Tensor scale(const Tensor& x, double s, double bias) {
  return unary(x, [&](double v) { return v * s + bias; });
}

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  if (tanh_approximation) {
    const double c = std::sqrt(2.0 / std::numbers::pi);
    return unary(x, [&](double v) { return 0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v))); });
  }
  return unary(x, [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::numbers::sqrt2)); });
}

Tensor silu(const Tensor& x) { return unary(x, silu_value); }

Tensor swiglu(const Tensor& gate, const Tensor& up) {
  if (gate.shape != up.shape) throw std::invalid_argument("reference: swiglu shapes differ");
  Tensor y = gate;
  for (std::size_t i = 0; i < y.data.size(); ++i) y.data[i] = silu_value(gate.data[i]) * up.data[i];
  return y;
}

}  // namespace plinth::cts::ref
