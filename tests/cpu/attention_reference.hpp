// The double-precision ATTENTION reference shared by the CPU attention tests: dense [B, H, S, D]
// q/k/v, grouped-query heads, causal masking as in plinth/ops.h, an optional [Sq, Skv] additive mask
// and per-batch kv_lens. A query whose keys are all masked gives zeros.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace plinth::cpu_test {

// q [b, hq, sq, d], k [b, hkv, skv, d], v [b, hkv, skv, dv].
struct Shape {
  int64_t b, hq, hkv, sq, skv, d, dv;
};

inline std::vector<double> attention_reference(const Shape& s, const std::vector<double>& q,
                                               const std::vector<double>& k, const std::vector<double>& v,
                                               const std::vector<double>* mask, const std::vector<int64_t>& lens,
                                               bool causal, double scale) {
  std::vector<double> o(static_cast<size_t>(s.b * s.hq * s.sq * s.dv), 0.0);
  const int64_t group = s.hq / s.hkv;
  for (int64_t b = 0; b < s.b; ++b) {
    for (int64_t h = 0; h < s.hq; ++h) {
      const int64_t hk = h / group;
      for (int64_t i = 0; i < s.sq; ++i) {
        const int64_t len = lens[static_cast<size_t>(b)];
        std::vector<double> sc(static_cast<size_t>(s.skv), -std::numeric_limits<double>::infinity());
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < len; ++j) {
          if (causal && j > len - s.sq + i) continue;
          double dot = 0;
          for (int64_t x = 0; x < s.d; ++x) {
            dot += q[static_cast<size_t>(((b * s.hq + h) * s.sq + i) * s.d + x)] *
                   k[static_cast<size_t>(((b * s.hkv + hk) * s.skv + j) * s.d + x)];
          }
          double z = scale * dot;
          if (mask != nullptr) z += (*mask)[static_cast<size_t>(i * s.skv + j)];  // mask is [Sq, Skv]
          sc[static_cast<size_t>(j)] = z;
          mx = std::max(mx, z);
        }
        if (mx == -std::numeric_limits<double>::infinity()) continue;
        double sum = 0;
        for (auto& z : sc) sum += (z = std::exp(z - mx));
        for (int64_t j = 0; j < s.skv; ++j) {
          for (int64_t c = 0; c < s.dv; ++c) {
            o[static_cast<size_t>(((b * s.hq + h) * s.sq + i) * s.dv + c)] +=
                sc[static_cast<size_t>(j)] / sum *
                v[static_cast<size_t>(((b * s.hkv + hk) * s.skv + j) * s.dv + c)];
          }
        }
      }
    }
  }
  return o;
}

}  // namespace plinth::cpu_test
