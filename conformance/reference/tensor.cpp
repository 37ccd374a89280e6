#include <algorithm>
#include <functional>
#include <numeric>

#include "reference.hpp"

namespace plinth::cts::ref {

Tensor::Tensor(std::vector<int64_t> s, double fill) : shape(std::move(s)) {
  data.assign(static_cast<std::size_t>(numel()), fill);
}

int64_t Tensor::numel() const noexcept {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

std::optional<std::vector<int64_t>> broadcast_shape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const std::size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

double broadcast_at(const Tensor& t, const std::vector<int64_t>& index) {
  const std::size_t lead = index.size() - t.shape.size();
  int64_t flat = 0;
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    const int64_t extent = t.shape[i];
    const int64_t idx = extent == 1 ? 0 : index[lead + i];
    flat = flat * extent + idx;
  }
  return t.data[static_cast<std::size_t>(flat)];
}

}  // namespace plinth::cts::ref
