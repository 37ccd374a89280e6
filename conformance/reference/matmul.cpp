#include <stdexcept>

#include "reference.hpp"

namespace plinth::cts::ref {

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b, double alpha) {
  if (a.shape.size() < 2 || b.shape.size() < 2) throw std::invalid_argument("reference: matmul needs 2 dims");
  const int64_t m = transpose_a ? a.dim(-1) : a.dim(-2);
  const int64_t k = transpose_a ? a.dim(-2) : a.dim(-1);
  const int64_t n = transpose_b ? b.dim(-2) : b.dim(-1);
  const std::vector<int64_t> a_batch(a.shape.begin(), a.shape.end() - 2);
  const std::vector<int64_t> b_batch(b.shape.begin(), b.shape.end() - 2);
  const auto batch = broadcast_shape(a_batch, b_batch);
  if (!batch) throw std::invalid_argument("reference: matmul batch dims do not broadcast");
  std::vector<int64_t> out_shape = *batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor c(out_shape);
  int64_t batches = 1;
  for (auto d : *batch) batches *= d;
  // Flat offset of a batch index in an operand whose batch dims broadcast against `batch`.
  auto batch_offset = [&](const std::vector<int64_t>& own, int64_t flat) {
    std::vector<int64_t> index(batch->size());
    for (std::size_t i = batch->size(); i-- > 0;) {
      index[i] = flat % (*batch)[i];
      flat /= (*batch)[i];
    }
    const std::size_t lead = batch->size() - own.size();
    int64_t off = 0;
    for (std::size_t i = 0; i < own.size(); ++i) off = off * own[i] + (own[i] == 1 ? 0 : index[lead + i]);
    return off;
  };
  const int64_t a_rows = a.dim(-2), a_cols = a.dim(-1), b_rows = b.dim(-2), b_cols = b.dim(-1);
  for (int64_t bi = 0; bi < batches; ++bi) {
    const double* pa = a.data.data() + batch_offset(a_batch, bi) * a_rows * a_cols;
    const double* pb = b.data.data() + batch_offset(b_batch, bi) * b_rows * b_cols;
    double* pc = c.data.data() + bi * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          const double av = transpose_a ? pa[p * a_cols + i] : pa[i * a_cols + p];
          const double bv = transpose_b ? pb[j * b_cols + p] : pb[p * b_cols + j];
          acc += av * bv;
        }
        pc[i * n + j] = alpha * acc;
      }
    }
  }
  return c;
}

Tensor get_rows(const Tensor& table, const std::vector<int64_t>& indices) {
  const int64_t d = table.dim(-1);
  Tensor y({static_cast<int64_t>(indices.size()), d});
  for (std::size_t i = 0; i < indices.size(); ++i) {
    for (int64_t j = 0; j < d; ++j) {
      y.data[i * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)] =
          table.data[static_cast<std::size_t>(indices[i] * d + j)];
    }
  }
  return y;
}

}  // namespace plinth::cts::ref
