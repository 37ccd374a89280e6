// The paged KV-cache ops of ABI 1.2: SET_ROWS and PAGED_ATTENTION, written from plinth/ops.h as
// literally as possible (a key is found through the block table one position at a time).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "reference.hpp"

namespace plinth::cts::ref {
namespace {

int64_t as_index(double v) { return static_cast<int64_t>(v); }

}  // namespace

Tensor set_rows(const Tensor& dst, const Tensor& src, const std::vector<int64_t>& indices) {
  const int64_t r = dst.dim(0), w = dst.dim(1);
  if (src.dim(1) != w || static_cast<int64_t>(indices.size()) != src.dim(0))
    throw std::invalid_argument("reference: set_rows shapes");
  Tensor out = dst;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const int64_t row = indices[i];
    if (row < 0 || row >= r)
      throw std::invalid_argument("reference: set_rows index " + std::to_string(row) + " outside dst");
    for (int64_t c = 0; c < w; ++c) {
      out.data[static_cast<std::size_t>(row * w + c)] =
          src.data[static_cast<std::size_t>(static_cast<int64_t>(i) * w + c)];
    }
  }
  return out;
}

Tensor paged_attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache,
                       const Tensor& block_table, const Tensor& query_start, const Tensor& context_lens,
                       double scale, bool causal) {
  const int64_t t = q.dim(0), hq = q.dim(1), d = q.dim(2);
  const int64_t nb = k_cache.dim(0), bs = k_cache.dim(1), hkv = k_cache.dim(2), dv = v_cache.dim(3);
  const int64_t s_count = block_table.dim(0), mb = block_table.dim(1);
  if (hkv == 0 ? hq != 0 : hq % hkv != 0)
    throw std::invalid_argument("reference: paged_attention head counts");
  const double s = scale == 0.0 ? (d > 0 ? 1.0 / std::sqrt(static_cast<double>(d)) : 1.0) : scale;
  auto start = [&](int64_t i) { return as_index(query_start.data[static_cast<std::size_t>(i)]); };
  if (start(0) != 0 || start(s_count) != t)
    throw std::invalid_argument("reference: paged_attention query_start ends");
  Tensor o({t, hq, dv});
  for (int64_t seq = 0; seq < s_count; ++seq) {
    const int64_t first = start(seq), n = start(seq + 1) - first;
    const int64_t len = as_index(context_lens.data[static_cast<std::size_t>(seq)]);
    if (n < 0) throw std::invalid_argument("reference: paged_attention query_start decreases");
    if (len < n || len > mb * bs) throw std::invalid_argument("reference: paged_attention context length");
    // The cache element (key position j, kv head kh, channel c) of this sequence.
    auto cache_at = [&](const Tensor& cache, int64_t width, int64_t j, int64_t kh, int64_t c) {
      const int64_t block = as_index(block_table.data[static_cast<std::size_t>(seq * mb + j / bs)]);
      if (block < 0 || block >= nb) throw std::invalid_argument("reference: paged_attention block id");
      return cache.data[static_cast<std::size_t>(((block * bs + j % bs) * hkv + kh) * width + c)];
    };
    for (int64_t m = 0; m < (len + bs - 1) / bs; ++m) {  // every block of [0, L) must be valid
      const int64_t block = as_index(block_table.data[static_cast<std::size_t>(seq * mb + m)]);
      if (block < 0 || block >= nb) throw std::invalid_argument("reference: paged_attention block id");
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t visible = causal ? len - n + i + 1 : len;
      for (int64_t h = 0; h < hq; ++h) {
        const int64_t kh = h / (hq / hkv);
        std::vector<double> z(static_cast<std::size_t>(visible));
        double max = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < visible; ++j) {
          double dot = 0.0;
          for (int64_t c = 0; c < d; ++c) {
            dot += q.data[static_cast<std::size_t>(((first + i) * hq + h) * d + c)] *
                   cache_at(k_cache, d, j, kh, c);
          }
          z[static_cast<std::size_t>(j)] = s * dot;
          max = std::max(max, s * dot);
        }
        double sum = 0.0;
        for (double& v : z) sum += (v = std::exp(v - max));
        for (int64_t c = 0; c < dv; ++c) {
          double acc = 0.0;
          for (int64_t j = 0; j < visible; ++j)
            acc += z[static_cast<std::size_t>(j)] / sum * cache_at(v_cache, dv, j, kh, c);
          o.data[static_cast<std::size_t>(((first + i) * hq + h) * dv + c)] = acc;
        }
      }
    }
  }
  return o;
}

}  // namespace plinth::cts::ref
